"""The search comparisons' metrics and tables (embedded_search_*, search_quality_report), no model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.embedded_search_report import START, load, majority_test, pool, table
from benchmarks.search_vs_dspy import pick_label

LABELS = ["Yes", "No"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No, it cannot.", "No"),
        ("I do not know. Yes", "Yes"),  # "no" inside "not" and "know" is no answer
        ("[[ ## answer ## ]]\nyes", "Yes"),
        ("Yes or no? No.", "Yes"),  # the first label named
        ("nothing here", None),
    ],
)
def test_pick_label_reads_the_first_whole_word_label(text, expected):
    assert pick_label(text, tuple(LABELS)) == expected


def test_pick_label_prefers_the_longer_label_at_the_same_place():
    labels = ("entailment", "non-entailment")
    assert pick_label("non-entailment", labels) == "non-entailment"
    assert pick_label("entailment, not non-entailment", labels) == "entailment"


def _test(gold, predicted, probs=None, ids=None):
    probs = probs or [[0.9, 0.1] if p == "Yes" else [0.1, 0.9] for p in predicted]
    ids = ids or [f"example {i}" for i in range(len(gold))]
    return {"labels": LABELS, "gold": gold, "predicted": predicted, "probs": probs, "ids": ids}


def test_batch_calibration_turns_a_constant_answer_into_one_that_follows_the_input():
    # Always "Yes" raw, but "Yes" is less likely on the examples whose answer is "No".
    probs = [[0.9, 0.1], [0.6, 0.4], [0.9, 0.1], [0.6, 0.4]]
    pooled = pool([_test(["Yes", "No", "Yes", "No"], ["Yes"] * 4, probs)])
    assert pooled.raw.tolist() == [0, 0, 0, 0]
    assert pooled.calibrated.tolist() == [0, 1, 0, 1]


def test_majority_class_answers_the_most_frequent_gold_label():
    test = majority_test(_test(["No", "No", "Yes"], ["Yes", "Yes", "Yes"]))
    assert test["predicted"] == ["No", "No", "No"]
    assert pool([test]).metric("balanced_accuracy")(np.arange(3)) == 0.5


def _run(tool, budget, seed, predicted, gold, calls=0):
    return {
        "tool": tool,
        "budget": budget,
        "seed": seed,
        "instruction": tool,
        "calls": calls,
        "completion_tokens": 2 * calls,
        "wall_s": 1.0,
        "error": None,
        "notes": [],
        # Each seed's own examples (its gold labels are drawn afresh).
        "test": _test(gold, predicted, ids=[f"seed {seed} example {i}" for i in range(len(gold))]),
    }


def test_table_pools_seeds_and_pairs_each_tool_with_the_starting_instruction(tmp_path):
    rng = np.random.default_rng(0)
    runs = []
    for seed in (0, 1):
        gold = [LABELS[i] for i in rng.integers(0, 2, size=60)]
        runs.append(_run(START, 0, seed, ["Yes"] * 60, gold))
        runs.append(_run("perfect", 100, seed, gold, gold, calls=98 + 2 * seed))
        runs.append(_run("same", 100, seed, ["Yes"] * 60, gold, calls=90))
    path, other = tmp_path / "results.jsonl", tmp_path / "more.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"header": "h"}, *runs]) + "\n")
    other.write_text(json.dumps({"header": "h2"}) + "\n" + json.dumps(runs[0]) + "\n")  # a copied start
    headers, loaded = load(path, other)
    assert headers == ["h", "h2"] and len(loaded) == 6
    rows = {line.split(" | ")[1]: line.split(" | ") for line in table(loaded).splitlines()[2:]}
    assert list(rows) == ["majority class", START, "perfect", "same"]
    perfect, same = rows["perfect"], rows["same"]
    assert perfect[3] == "120" and perfect[4].startswith("1.000 [1.000, 1.000]")
    low = float(perfect[9].split("[")[1].split(",")[0])
    assert low > 0  # a perfect instruction is clear of a constant one on balanced accuracy
    assert same[9] == "+0.000 [+0.000, +0.000]"
    assert perfect[10] == "99 (98-100)"
    assert same[5].startswith("0.500")  # a constant answer: chance balanced accuracy


def test_head_to_head_pairs_ours_with_each_tool_on_the_seeds_both_ran():
    from benchmarks.embedded_search_report import head_to_head

    rng = np.random.default_rng(1)
    runs = []
    for seed in (0, 1):
        gold = [LABELS[i] for i in rng.integers(0, 2, size=80)]
        runs.append(_run("promptfusion", 100, seed, gold, gold, calls=90))  # always right
        runs.append(_run("constant", 100, seed, ["Yes"] * 80, gold, calls=90))
        runs.append(_run("twin", 100, seed, gold, gold, calls=90))
    runs.append(_run("constant", 200, 0, ["Yes"] * 80, gold, calls=180))  # no ours at 200: no row
    rows = {line.split(" | ")[1]: line for line in head_to_head(runs).splitlines()[2:]}
    assert set(rows) == {"constant", "twin"}
    assert "ours better" in rows["constant"] and "| 2 | 160 |" in rows["constant"]
    assert "+0.000 [+0.000, +0.000]" in rows["twin"] and "no difference shown" in rows["twin"]


def test_search_quality_report_pairs_seeds_and_compares_copro_at_twice_the_calls(tmp_path):
    from benchmarks.search_quality_report import paired_rows, read_runs

    lines = []
    for seed in range(12):
        lines.append(
            f"seed {seed} budget 100 promptfusion ours (minibatch_size 10): quality 0.860, 96 calls, 0.5 s"
        )
        lines.append(f"seed {seed} budget 100 DSPy GEPA: quality 0.860, 88 calls, 0.5 s")
        lines.append(f"seed {seed} budget 100 DSPy COPRO: quality 0.500, 87 calls, 0.5 s")
        lines.append(f"seed {seed} budget 200 DSPy COPRO: quality 0.620, 167 calls, 0.5 s")
    log = tmp_path / "run.log"
    log.write_text("noise\n" + "\n".join(lines) + "\n")
    rows = paired_rows(read_runs([log]))
    assert len(rows) == 3  # COPRO and GEPA at 100, COPRO at 200 against ours at 100
    by = {row.split(" | ")[1]: row for row in rows}
    assert "+0.360 [+0.360, +0.360]" in by["DSPy COPRO at 100"] and "ours better" in by["DSPy COPRO at 100"]
    assert "12/0/0" in by["DSPy COPRO at 200"]
    assert "0/12/0" in by["DSPy GEPA at 100"] and "no difference shown" in by["DSPy GEPA at 100"]


def test_dual_stage_and_demo_campaigns_split_the_same_budget(tmp_path):
    """Issue 21's Transfer-Prompting contenders: the dual-stage campaign searches its sources in stage 1
    and the task in stage 2, the target-only one the task alone, both under the same call budget, with
    the demo's raw scores; the load-time estimate accepts both at 100 calls."""
    from types import SimpleNamespace

    from benchmarks.embedded_search_quality import OURS_CAMPAIGN, OURS_TOOLS
    from benchmarks.search_quality import OURS_VARIANTS
    from benchmarks.search_vs_dspy import _campaign
    from orchestrator.estimate import estimate_campaign

    server = SimpleNamespace(url="http://127.0.0.1:9")
    settings = dict(OURS_VARIANTS["ours"])
    dev_size = settings.pop("dev_size")
    built = {}
    for tool in ("ours-demo", "ours-dual"):
        search = {
            "stage1_iterations": 100,
            "patience": 100,
            "promote_top_k": 1,
            **settings,
            **OURS_TOOLS[tool][1],
        }
        built[tool] = _campaign(
            server,
            "multiemo_en_polarity",
            "Classify the sentiment of the review.",
            "local",
            1,
            tmp_path,
            dev_size=dev_size,
            search=search,
            budget={"max_calls": 100},
            extra=OURS_CAMPAIGN[tool],
            sources=["irony_identification"] if tool == "ours-dual" else None,
        )
    demo, dual = built["ours-demo"], built["ours-dual"]
    assert [t.name for t in demo.tasks.source] == ["multiemo_en_polarity"]
    assert [t.name for t in dual.tasks.source] == ["irony_identification"]
    assert (demo.search.stage2_iterations, dual.search.stage1_iterations, dual.search.stage2_iterations) == (
        0,
        1,
        1,
    )
    for campaign in built.values():
        assert campaign.scoring.calibration == "none"
        assert campaign.search.edits == 1.0
        assert campaign.budget.max_calls == 100
        notes = estimate_campaign(campaign).notes
        assert not [note for note in notes if "below the" in note], notes  # 100 calls reach a tested winner


def test_table_pairs_calibrated_predictions_with_the_start_it_is_told():
    """``--predictions calibrated`` and ``--start``: a tool whose raw answers are constant but whose
    calibrated ones follow the input is better than a start only on calibrated predictions, and the
    rows are paired with the named start row (a user-turn start, say)."""
    gold = ["Yes", "No"] * 30
    follows = [[0.9, 0.1] if g == "Yes" else [0.6, 0.4] for g in gold]  # raw: always "Yes"
    flat = [[0.7, 0.3]] * len(gold)
    start = _run(START, 0, 0, ["Yes"] * 60, gold)
    start["test"]["probs"] = flat
    other_start = _run("start (user turn)", 0, 0, ["Yes"] * 60, gold)
    other_start["test"]["probs"] = flat
    tool = _run("tool", 100, 0, ["Yes"] * 60, gold, calls=90)
    tool["test"]["probs"] = follows
    runs = [start, other_start, tool]
    raw = {line.split(" | ")[1]: line.split(" | ") for line in table(runs).splitlines()[2:]}
    calibrated = {
        line.split(" | ")[1]: line.split(" | ") for line in table(runs, which="calibrated").splitlines()[2:]
    }
    assert raw["tool"][9] == "+0.000 [+0.000, +0.000]"
    assert calibrated["tool"][5].startswith("1.000") and calibrated["tool"][9].startswith("+0.500")
    paired = {
        line.split(" | ")[1]: line.split(" | ")
        for line in table(runs, which="calibrated", start="start (user turn)").splitlines()[2:]
    }
    assert paired["start (user turn)"][9] == "-" and paired[START][9] == "+0.000 [+0.000, +0.000]"


def test_median_check_compares_our_median_with_the_best_rival_median_per_budget():
    from benchmarks.embedded_search_report import median_check

    gold = ["Yes", "No"] * 10  # balanced: balanced accuracy = accuracy

    def right(k):  # a run with the first k of 20 examples right
        return [g if i < k else ("No" if g == "Yes" else "Yes") for i, g in enumerate(gold)]

    runs = []
    for seed, (mine, a, b) in enumerate([(14, 15, 10), (16, 12, 10), (12, 13, 11)]):
        runs.append(_run("ours", 100, seed, right(mine), gold, calls=100))
        runs.append(_run("DSPy A", 100, seed, right(a), gold, calls=100))
        runs.append(_run("DSPy B", 100, seed, right(b), gold, calls=100))
    runs.append(_run("ours", 200, 0, right(10), gold, calls=200))
    runs.append(_run("DSPy A", 200, 0, right(12), gold, calls=200))
    runs.append(_run("ours", 200, 1, right(18), gold, calls=200))
    runs.append(_run("ours", 400, 0, right(18), gold, calls=400))
    runs.append(_run("other", 400, 0, right(20), gold, calls=400))  # not a rival
    lines = median_check(runs, "ours").splitlines()
    # 100: ours median of 0.70, 0.80, 0.60 = 0.70; DSPy A of 0.75, 0.60, 0.65 = 0.65; B 0.50 -> met.
    assert lines[2].startswith("| 100 | 0.700 (3) | 0.650 (DSPy A, 3) |") and lines[2].endswith("| yes |")
    # 200: ours median 0.70 over 2 seeds, DSPy A 0.60 over 1: met, but on fewer rival seeds.
    assert lines[3].startswith("| 200 | 0.700 (2) | 0.600 (DSPy A, 1) |")
    assert lines[3].endswith("| yes (a rival ran fewer seeds) |")
    assert lines[4] == "| 400 | 0.900 (1) | no rival run | - | - |"
    swapped = {"ours": "DSPy B", "DSPy B": "ours"}  # ours now 0.50 at every seed, the best rival 0.70
    at_100 = [dict(r, tool=swapped.get(r["tool"], r["tool"])) for r in runs if r["budget"] == 100]
    assert (
        median_check(at_100, "ours")
        .splitlines()[2]
        .endswith("| 0.700 (DSPy B, 3) | DSPy A 0.650 (3), DSPy B 0.700 (3) | no |")
    )
    assert (
        median_check(at_100, "ours", "DSPy X").splitlines()[2] == "| 100 | 0.500 (3) | no rival run | - | - |"
    )


def test_held_out_scores_are_reused_only_under_the_same_task_split_and_model(tmp_path):
    from benchmarks.embedded_search_quality import _records, _scored, _setting

    head = "10:00 UTC | Linux | load 1.0 | task t | split [0.2, 0.8] | start 'a' | model m (threads 1)"
    other = head.replace("split [0.2, 0.8]", "split [0.5, 0.5]")
    run = _run(START, 0, 3, ["Yes"] * 4, ["Yes", "No"] * 2)
    moved = dict(run, test=_test(["No"] * 4, ["No"] * 4))
    path = tmp_path / "r.jsonl"
    path.write_text(
        "\n".join(json.dumps(r) for r in [{"header": head}, run, {"header": other}, moved]) + "\n"
    )
    assert _setting(head) == "task t | split [0.2, 0.8] | model m (threads 1)"
    assert _scored(_records(path), _setting(head)) == {(START, 3, "system"): run["test"]}
    assert _scored(_records(path), _setting(other)) == {(START, 3, "system"): moved["test"]}
    assert _scored(_records(path), "task u | split [0.2, 0.8] | model m (threads 1)") == {}
    assert _scored(_records(tmp_path / "missing.jsonl"), _setting(head)) == {}


def test_a_misspelt_ours_stops_the_report_naming_the_tools(tmp_path, capsys):
    from benchmarks.embedded_search_report import main

    gold = ["Yes", "No"]
    path = tmp_path / "r.jsonl"
    runs = [_run(START, 0, 0, gold, gold), _run("ours-demo", 100, 0, gold, gold, calls=100)]
    path.write_text("\n".join(json.dumps(r) for r in [{"header": "h"}, *runs]) + "\n")
    with pytest.raises(SystemExit) as stopped:
        main([str(path), "--ours", "ours-dem"])
    assert stopped.value.code == 2
    assert (
        "--ours: no run of 'ours-dem' in the results; their tools are ['ours-demo', "
        in capsys.readouterr().err
    )


def test_a_failed_run_is_retried_on_resume_and_its_success_counts(tmp_path):
    from benchmarks.embedded_search_quality import _done, _records

    gold = ["Yes", "No"] * 2
    failed = dict(_run("tool", 400, 0, [None] * 4, gold), error="ValueError: Minibatch size")
    retried = _run("tool", 400, 0, gold, gold)
    again = dict(_run("tool", 400, 0, ["Yes"] * 4, gold), error="later failure")
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [{"header": "h"}, failed]) + "\n")
    assert _done(_records(path)) == set()  # the failure does not count as done: a resume re-runs it
    path.write_text("\n".join(json.dumps(r) for r in [{"header": "h"}, failed, retried, again]) + "\n")
    assert _done(_records(path)) == {("tool", 400, 0)}
    _, runs = load(path)
    assert runs == [retried]  # the first success replaces the failure; a later failure is ignored
    path.write_text("\n".join(json.dumps(r) for r in [{"header": "h"}, failed]) + "\n")
    assert load(path)[1] == [failed]  # a failure never retried is still shown as failed


def test_a_failed_run_is_shown_as_failed_never_scored_as_its_fallback():
    from benchmarks.embedded_search_report import head_to_head, median_check

    gold = ["Yes", "No"] * 10
    worse = ["Yes"] * 20  # the start: one label for everything
    runs = [
        _run(START, 0, 0, worse, gold),
        _run("ours", 400, 0, gold[:10] + worse[10:], gold),
        # a DSPy run that raised keeps the start's answers in its record; it must not be compared
        dict(_run("DSPy MIPROv2", 400, 0, worse, gold), error="ValueError: Minibatch size"),
        dict(_run("DSPy COPRO", 400, 0, worse, gold), error="ValueError: x"),
        _run("DSPy COPRO", 400, 1, gold, gold),  # seed 1 has no start: not in the table
    ]
    rows = {line.split(" | ")[1]: line for line in table(runs).splitlines()[2:]}
    assert "not run: failed at every seed (ValueError: Minibatch size)" in rows["DSPy MIPROv2"]
    assert rows["DSPy MIPROv2"].startswith("| 400 | DSPy MIPROv2 | 0 (1) |")
    assert rows["DSPy COPRO"].startswith("| 400 | DSPy COPRO | 0 (1) |")
    versus = head_to_head(runs, ours="ours")
    assert "MIPROv2" not in versus and "| 400 | DSPy COPRO | 1 |" not in versus
    check = median_check(runs, ours="ours").splitlines()[-1]
    assert "MIPROv2" not in check
    assert "DSPy COPRO 1.000 (1)" in check and check.endswith("| no |")


def _cell(table_text, tool, column):
    header, _, *rows = table_text.splitlines()
    names = [c.strip() for c in header.strip("|").split("|")]
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if cells[1] == tool:
            return cells[names.index(column)]
    raise AssertionError(f"no row for {tool}")


def test_an_example_repeated_over_seeds_is_resampled_once_not_once_per_seed():
    # Two seeds whose test splits are the same 60 examples, answered alike: pooled, they are still 60
    # examples, and the intervals must be those of one seed, not of 120 independent rows.
    rng = np.random.default_rng(2)
    gold = [LABELS[i] for i in rng.integers(0, 2, size=60)]
    noisy = [g if rng.random() < 0.75 else ("No" if g == "Yes" else "Yes") for g in gold]
    same_examples = [f"example {i}" for i in range(60)]

    def runs_on(seeds, ids_of):
        runs = []
        for seed in seeds:
            for tool, budget, predicted in ((START, 0, ["Yes"] * 60), ("tool", 100, noisy)):
                run = _run(tool, budget, seed, predicted, gold, calls=budget)
                run["test"]["ids"] = ids_of(seed)
                runs.append(run)
        return runs

    one_seed = table(runs_on([0], lambda seed: same_examples))
    two_alike = table(runs_on([0, 1], lambda seed: same_examples))
    two_apart = table(runs_on([0, 1], lambda seed: [f"seed {seed} {i}" for i in range(60)]))
    for column in ("balanced acc. [95% CI]", "vs start: bal. acc."):
        assert _cell(two_alike, "tool", column) == _cell(one_seed, "tool", column)
        # Read as 120 different examples, the same answers give a narrower interval.
        assert _cell(two_apart, "tool", column) != _cell(one_seed, "tool", column)


def test_load_rebuilds_each_runs_example_ids_from_the_header_and_checks_the_gold(tmp_path):
    import dataclasses

    from benchmarks.embedded_search_report import example_id
    from orchestrator.tasks import load_builtin_task

    task = dataclasses.replace(load_builtin_task("multiemo_en_polarity"), split_fractions=(0.2, 0.15, 0.65))
    header = (
        "2026-12-07 10:00 UTC | linux | 2 cpus | task multiemo_en_polarity | split [0.2, 0.15, 0.65] "
        "(test n 151 at seed 0) | model local/smollm2-135m-instruct served (threads 1)"
    )
    examples = task.splits(3).test
    gold = [e.target for e in examples]
    run = _run(START, 0, 3, gold, gold)
    del run["test"]["ids"]
    run["test"]["labels"] = list(task.labels)
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"header": header}) + "\n" + json.dumps(run) + "\n")
    _, runs = load(path)
    assert runs[0]["test"]["ids"] == [example_id(e.inputs) for e in examples]
    assert len(set(runs[0]["test"]["ids"])) == len(examples)
    # The same run filed under another seed: its split would differ, so its gold no longer matches.
    path.write_text(json.dumps({"header": header}) + "\n" + json.dumps(dict(run, seed=4)) + "\n")
    with pytest.raises(ValueError, match="does not match the recorded gold labels"):
        load(path)


def test_a_failed_run_is_recorded_with_its_error_and_never_scored(tmp_path, capsys):
    from argparse import Namespace

    from benchmarks.embedded_search_quality import GridRun, _record

    args = Namespace(results=tmp_path / "results.jsonl", threads=1)
    ids = ["seed 0 example 0", "seed 0 example 1"]  # as _run names seed 0's examples
    scored = {("Is it?", 0, "system"): _test(["Yes", "No"], ["Yes", "Yes"], ids=ids)}
    # task=None: scoring would fail loudly, so neither call below may score anything anew.
    failed = GridRun("DSPy MIPROv2 (0-shot)", 400, 0, "Is it?", error="ValueError: valset too small")
    _record(args, None, failed, scored)
    done = GridRun("DSPy COPRO", 400, 0, "Is it?")
    _record(args, None, done, scored)
    first, second = (json.loads(line) for line in args.results.read_text().splitlines())
    assert first["error"] and first["test"] == {}
    assert second["test"]["predicted"] == ["Yes", "Yes"] and second["error"] is None
    out = capsys.readouterr().out
    assert "FAILED ValueError: valset too small" in out and "test 1/2" in out
    _, runs = load(args.results)  # the report shows the failure without scoring it
    assert "not run: failed at every seed (ValueError: valset too small)" in table(
        [*runs, _run(START, 0, 0, ["Yes", "Yes"], ["Yes", "No"])]
    )
