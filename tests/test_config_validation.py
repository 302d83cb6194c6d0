"""Every mistake a run would stumble on is refused when the campaign loads, as the one line users see.

Each case writes a campaign (and its task files) in a temporary folder, runs ``promptfusion check``
through the CLI's entry point and ``load_campaign``, and compares the exact line and the exit code.
The models point at the loopback fake server, which must receive no request at all: nothing here may
reach an LLM.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli.app import main
from orchestrator.errors import ConfigError, DataWarning
from orchestrator.loading import load_campaign

REPO = Path(__file__).resolve().parents[1]
# Line numbers are fixed: 3 reference, 4 scorer, 5 judge, 7 source, 8 target, 9 a tasks option, 10+ extra.
TEMPLATE = """\
name: t
models:
  reference: {reference}
  scorer: {scorer}
  {judge}
tasks:
  source: {source}
  target: {target}
  {tasks_extra}
{extra}
"""
NO_JUDGE = "# no judge"
JUDGE = 'judge: {model: openai/sim, api_base: "http://127.0.0.1:9/v1"}'
ANTHROPIC = "{model: anthropic/claude-3-5-haiku-latest}"


def _rows(n: int, label=lambda i: "yes" if i % 2 else "no") -> str:
    return "".join(json.dumps({"input": f"claim {i}", "label": label(i)}) + "\n" for i in range(n))


def _write_data(folder: Path) -> None:
    (folder / "a.jsonl").write_text(_rows(12))
    (folder / "b.jsonl").write_text(_rows(12))
    (folder / "one_label.jsonl").write_text(_rows(6, lambda i: "yes"))
    (folder / "case_labels.jsonl").write_text(_rows(6) + json.dumps({"input": "x", "label": "Yes"}) + "\n")
    (folder / "tiny1.jsonl").write_text(_rows(1))
    (folder / "tiny2.jsonl").write_text(_rows(2))
    (folder / "big.jsonl").write_text(_rows(5) + json.dumps({"input": "x" * 30_000, "label": "no"}) + "\n")
    (folder / "dupes.jsonl").write_text(_rows(6) * 3)


def _campaign(folder: Path, base: str, **parts: str) -> Path:
    values = {
        "reference": f'{{model: openai/sim, api_base: "{base}"}}',
        "scorer": f'{{model: openai/sim, api_base: "{base}"}}',
        "judge": NO_JUDGE,
        "source": "[{name: a, path: a.jsonl}]",
        "target": "{name: b, path: b.jsonl}",
        "tasks_extra": "# -",
        "extra": "",
        **parts,
    }
    path = folder / "c.yaml"
    path.write_text(TEMPLATE.format(**values))
    return path


def _check(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(["check", "-q", *args])
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


_SCORER = "{model: openai/sim, %s}"
# id -> (template parts, the line users see after "error: "); {dir} is the campaign's folder.
CASES = {
    # -- objective names: checked against what this campaign can measure ---------------------------
    "weight misspelt": (
        {"extra": "objective:\n  weights: {acuracy: 1.0}"},
        "c.yaml:11: objective.weights.acuracy: unknown dimension 'acuracy' (did you mean 'accuracy'?)",
    ),
    "weight names the judge without its prefix": (
        {
            "judge": JUDGE,
            "extra": "objective:\n  weights: {accuracy: 1, clarity: 0.5}\n  judge_dimensions: [clarity]",
        },
        "c.yaml:11: objective.weights.clarity: unknown dimension 'clarity' (did you mean 'judge_clarity'?)",
    ),
    "ece with a scorer without log-probabilities": (
        {"scorer": ANTHROPIC, "extra": "objective:\n  weights: {accuracy: 1.0, ece: 1.0}"},
        "c.yaml:11: objective.weights.ece: 'ece' cannot be measured in this campaign: it needs label "
        "probabilities, and the scorer anthropic/claude-3-5-haiku-latest gives none (the Anthropic API "
        "has no log-probabilities)",
    ),
    "judge dimension weighted but not judged": (
        {"extra": "objective:\n  weights: {accuracy: 1.0, judge_clarity: 0.2}"},
        "c.yaml:11: objective.weights.judge_clarity: 'judge_clarity' cannot be measured in this campaign: "
        "it is measured only with objective.judge_dimensions: [clarity]",
    ),
    "exact_match on labelled tasks": (
        {"extra": "objective:\n  weights: {exact_match: 1.0}"},
        "c.yaml:11: objective.weights.exact_match: 'exact_match' cannot be measured in this campaign: it is "
        "measured on free_form tasks only; these tasks have label sets (use accuracy)",
    ),
    "negative weight": (
        {"extra": "objective:\n  weights: {accuracy: -1.0}"},
        "c.yaml:11: objective.weights.accuracy: weight must be a finite number >= 0 (got -1.0)",
    ),
    "NaN weight": (
        {"extra": "objective:\n  weights: {accuracy: .nan}"},
        "c.yaml:11: objective.weights.accuracy: weight must be a finite number >= 0 (got nan)",
    ),
    "empty weights": (
        {"extra": "objective:\n  weights: {}"},
        "c.yaml:11: objective.weights: at least one weight must be positive",
    ),
    "all weights zero": (
        {"extra": "objective:\n  weights: {accuracy: 0}"},
        "c.yaml:11: objective.weights: at least one weight must be positive",
    ),
    "lexicographic order misspelt": (
        {"extra": "objective:\n  acceptance: lexicographic\n  lexicographic_order: [accuracy, eec]"},
        "c.yaml:12: objective.lexicographic_order[1]: unknown dimension 'eec' (did you mean 'ece'?)",
    ),
    "lexicographic order repeats": (
        {"extra": "objective:\n  acceptance: lexicographic\n  lexicographic_order: [accuracy, accuracy]"},
        "c.yaml:12: objective.lexicographic_order[1]: 'accuracy' is listed twice",
    ),
    "unknown judge dimension": (
        {"judge": JUDGE, "extra": "objective:\n  judge_dimensions: [clarty]"},
        "c.yaml:11: objective.judge_dimensions[0]: unknown judge dimension 'clarty' "
        "(did you mean 'clarity'?)",
    ),
    # -- YAML --------------------------------------------------------------------------------------
    "section twice": (
        {"extra": "search:\n  patience: 2\nbudget: {max_calls: 10}\nsearch:\n  patience: 3"},
        "c.yaml:13: search: duplicate key (also at line 10; YAML would keep only the last: "
        "merge them into one)",
    ),
    "key twice inside a section": (
        {"extra": "search:\n  patience: 2\n  exemplars: 1\n  patience: 3"},
        "c.yaml:13: search.patience: duplicate key (also at line 11; YAML would keep only the last: merge "
        "them into one)",
    ),
    # -- typed provider options ----------------------------------------------------------------------
    "extra_headers as a list": (
        {"scorer": _SCORER % "options: {extra_headers: [X-Team, eval]}"},
        "c.yaml:4: models.scorer.options.extra_headers: Input should be a valid dictionary",
    ),
    "price as one number": (
        {"scorer": _SCORER % "options: {price_usd_per_mtok: 5}"},
        "c.yaml:4: models.scorer.options.price_usd_per_mtok: must be [input, output]: two non-negative USD "
        "prices per million tokens, e.g. [0.15, 0.6]",
    ),
    "negative price": (
        {"scorer": _SCORER % "options: {price_usd_per_mtok: [-1, 2]}"},
        "c.yaml:4: models.scorer.options.price_usd_per_mtok: must be [input, output]: two non-negative USD "
        "prices per million tokens, e.g. [0.15, 0.6]",
    ),
    "openai option misspelt": (
        {"scorer": _SCORER % "options: {extra_header: {X-Team: eval}}"},
        "c.yaml:4: models.scorer.options.extra_header: unknown option (did you mean 'extra_headers'?)",
    ),
    "openai option value outside its choices": (
        {"scorer": _SCORER % "options: {max_tokens_param: max_completion}"},
        "c.yaml:4: models.scorer.options.max_tokens_param: Input should be 'max_tokens' or "
        "'max_completion_tokens' (got 'max_completion')",
    ),
    "anthropic option misspelt": (
        {"scorer": "{model: anthropic/claude-3-5-haiku-latest, options: {send_temprature: false}}"},
        "c.yaml:4: models.scorer.options.send_temprature: unknown option (did you mean 'send_temperature'?)",
    ),
    "local option misspelt": (
        {"scorer": "{model: local/smollm2-135m-instruct, options: {devise: cpu}}"},
        "c.yaml:4: models.scorer.options.devise: unknown option (did you mean 'device'?)",
    ),
    "local option out of range": (
        {"scorer": "{model: local/smollm2-135m-instruct, options: {threads: 0}}"},
        "c.yaml:4: models.scorer.options.threads: Input should be greater than or equal to 1 (got 0)",
    ),
    "local dtype unknown": (
        {"scorer": "{model: local/smollm2-135m-instruct, options: {dtype: float8}}"},
        "c.yaml:4: models.scorer.options.dtype: unknown dtype 'float8'; use one of ['bf16', 'bfloat16', "
        "'float16', 'float32', 'fp16', 'fp32']",
    ),
    # -- secrets ------------------------------------------------------------------------------------
    "Authorization header written in the file": (
        {"scorer": _SCORER % "options: {extra_headers: {Authorization: Bearer planted-123}}"},
        "c.yaml:4: models.scorer.options.extra_headers: header 'Authorization' looks like a secret and the "
        "campaign file is saved with every run; put its value in an environment variable and name it in "
        "options.extra_headers_env: {Authorization: MY_VARIABLE}",
    ),
    "token-named header written in the file": (
        {"scorer": _SCORER % "options: {extra_headers: {X-Token: planted-123}}"},
        "c.yaml:4: models.scorer.options.extra_headers: header 'X-Token' looks like a secret and the "
        "campaign file is saved with every run; put its value in an environment variable and name it in "
        "options.extra_headers_env: {X-Token: MY_VARIABLE}",
    ),
    "key-looking header value": (
        {"scorer": _SCORER % "options: {extra_headers: {X-Team: sk-proj-planted123}}"},
        "c.yaml:4: models.scorer.options.extra_headers: header 'X-Team' looks like a secret and the "
        "campaign file is saved with every run; put its value in an environment variable and name it in "
        "options.extra_headers_env: {X-Team: MY_VARIABLE}",
    ),
    "credentials in api_base": (
        {"scorer": _SCORER % "api_base: 'https://user:planted-123@example.com/v1'"},
        "c.yaml:4: models.scorer.api_base: credentials in the URL (user:password@) are refused: put the key "
        "in an environment variable named by api_key_env (and headers in extra_headers_env)",
    ),
    "key in the api_base query": (
        {"scorer": _SCORER % "api_base: 'https://example.com/v1?api_key=planted-123'"},
        "c.yaml:4: models.scorer.api_base: a secret-looking query parameter in the URL is refused: put the "
        "key in an environment variable named by api_key_env (and headers in extra_headers_env)",
    ),
    "extra_headers_env holding a value": (
        {"scorer": _SCORER % "options: {extra_headers_env: {X-Token: planted-123}}"},
        "c.yaml:4: models.scorer.options.extra_headers_env: header 'X-Token': must name an environment "
        "variable (e.g. MY_TOKEN), never hold the value",
    ),
    "extra_headers_env variable unset": (
        {"scorer": "\n    model: openai/sim\n    options:\n      extra_headers_env: {X-Token: PF_UNSET_VAR}"},
        "c.yaml:7: models.scorer.options.extra_headers_env.X-Token: environment variable PF_UNSET_VAR is "
        "not set",
    ),
    "secret in litellm_params": (
        {"scorer": "{model: litellm/ollama/llama3, options: {litellm_params: {aws_secret_access_key: x}}}"},
        "c.yaml:4: models.scorer.options.litellm_params: 'aws_secret_access_key' looks like a secret and the "
        "campaign file is saved with every run; set the environment variable litellm reads for it instead "
        "(e.g. AWS_SECRET_ACCESS_KEY)",
    ),
    "api_base without a scheme": (
        {"scorer": _SCORER % "api_base: 'localhost:8000/v1'"},
        "c.yaml:4: models.scorer.api_base: must be an http:// or https:// URL with a host",
    ),
    "header value not text": (
        {"scorer": _SCORER % "options: {extra_headers: {X-Team: [a, b]}}"},
        "c.yaml:4: models.scorer.options.extra_headers.X-Team: Input should be a valid string",
    ),
    # -- models resolvable --------------------------------------------------------------------------
    "provider misspelt": (
        {"scorer": "{model: anthropik/claude-3-5-haiku-latest}"},
        "c.yaml:4: models.scorer.model: unknown provider 'anthropik' in 'anthropik/claude-3-5-haiku-latest' "
        "(did you mean 'anthropic'?)",
    ),
    "local gguf file absent": (
        {"scorer": "{model: local/./absent.gguf}"},
        "c.yaml:4: models.scorer.model: GGUF file not found: absent.gguf",
    ),
    "local directory absent": (
        {"scorer": "{model: local/./absent_dir}"},
        "c.yaml:4: models.scorer.model: model directory not found: absent_dir",
    ),
    "local embedded name misspelt": (
        {"scorer": "{model: local/smolm2-135m}"},
        "c.yaml:4: models.scorer.model: no local model 'smolm2-135m': did you mean "
        "'local/smollm2-135m-instruct'? use an embedded name (smollm2-135m-instruct), a .gguf file, a model "
        "directory or a Hugging Face id 'org/name'",
    ),
    "litellm provider unknown": (
        {"scorer": "{model: litellm/olama/llama3.1}"},
        "c.yaml:4: models.scorer.model: litellm knows no provider for 'olama/llama3.1' "
        "(did you mean 'ollama'?)",
    ),
    "soft.model absent": (
        {"extra": "soft:\n  enabled: true\n  model: local/./absent.gguf"},
        "c.yaml:12: soft.model: GGUF file not found: absent.gguf",
    ),
    "soft.model hosted": (
        {"extra": "soft:\n  enabled: true\n  model: openai/gpt-4o-mini"},
        "c.yaml:12: soft.model: 'openai/gpt-4o-mini' is not a local model: the soft stage tunes an "
        "in-process model, write local/<name, .gguf file or directory>",
    ),
    # -- spend --------------------------------------------------------------------------------------
    "max_usd with an unpriced model": (
        {"extra": "budget: {max_usd: 1.0}"},
        "c.yaml:3: models.reference.model: openai/sim has no known price, so budget.max_usd cannot limit its "
        "spend: set models.reference.options.price_usd_per_mtok: [input, output] (USD per million tokens), "
        "or pass --allow-unpriced (budget.allow_unpriced: true) to count its calls as $0",
    ),
    # -- tasks --------------------------------------------------------------------------------------
    "target named like a source task": (
        {"target": "{name: a, path: b.jsonl}"},
        "c.yaml:8: tasks.target.name: task name 'a' is already used by tasks.source[0]; every task needs its "
        "own name (set name: for a task file)",
    ),
    "two source tasks with one name": (
        {"source": "[{name: a, path: a.jsonl}, {name: a, path: b.jsonl}]"},
        "c.yaml:7: tasks.source[1].name: task name 'a' is already used by tasks.source[0]; every task needs "
        "its own name (set name: for a task file)",
    ),
    "task file missing": (
        {"target": "{name: b, path: nothere.jsonl}"},
        "c.yaml:8: tasks.target.path: {dir}/nothere.jsonl: no such file",
    ),
    "unknown built-in task": (
        {"target": "epistemic_reasonin"},
        "c.yaml:8: tasks.target.name: unknown built-in task 'epistemic_reasonin' (did you mean "
        "'epistemic_reasoning'?); `promptfusion tasks` lists them",
    ),
    "input field absent": (
        {"target": "{name: b, path: b.jsonl, input_fields: [question]}"},
        "c.yaml:8: tasks.target.path: {dir}/b.jsonl:1: missing field 'question' (fields present: "
        "['input', 'label'])",
    ),
    "target field absent": (
        {"target": "{name: b, path: b.jsonl, target_field: answer}"},
        "c.yaml:8: tasks.target.path: {dir}/b.jsonl:1: missing field 'answer' (fields present: "
        "['input', 'label'])",
    ),
    "one label in the config": (
        {"target": "{name: b, path: b.jsonl, labels: ['yes']}"},
        "c.yaml:8: tasks.target.labels: a label set needs two or more labels, got ['yes']",
    ),
    "repeated label in the config": (
        {"target": "{name: b, path: b.jsonl, labels: ['yes', 'no', 'yes']}"},
        "c.yaml:8: tasks.target.labels[2]: label 'yes' repeats label 'yes'",
    ),
    "labels differing in case in the config": (
        {"target": "{name: b, path: b.jsonl, labels: ['yes', 'no', 'Yes ']}"},
        "c.yaml:8: tasks.target.labels[2]: label 'Yes ' differs only in case or spaces from label 'yes'",
    ),
    "unquoted yes/no labels": (
        {"target": "{name: b, path: b.jsonl, labels: [yes, no]}"},
        "c.yaml:8: tasks.target.labels: YAML reads unquoted yes/no/true/false as booleans: quote the labels "
        "('yes')",
    ),
    "one label in the data": (
        {"target": "{name: b, path: one_label.jsonl}"},
        "c.yaml:8: tasks.target.path: {dir}/one_label.jsonl: only one distinct label ['yes']; a "
        "classification task needs two or more",
    ),
    "labels differing in case in the data": (
        {"target": "{name: b, path: case_labels.jsonl}"},
        "c.yaml:8: tasks.target.path: {dir}/case_labels.jsonl:7: label 'Yes' differs from label 'yes' "
        "({dir}/case_labels.jsonl:2) only in case or spaces; write them the same way (or give the task's "
        "labels)",
    ),
    "data label differing in case from the configured set": (
        {"target": "{name: b, path: case_labels.jsonl, labels: ['yes', 'no']}"},
        "c.yaml:8: tasks.target.path: {dir}/case_labels.jsonl:7: label 'Yes' is not one of ['yes', 'no'] "
        "(it differs from 'yes' only in case or spaces)",
    ),
    "one-example target": (
        {"target": "{name: b, path: tiny1.jsonl, labels: ['yes', 'no']}"},
        "c.yaml:8: tasks.target: task 'b' has 1 distinct example, too few for its splits (train 0, dev 1, "
        "test 0): the search scores on dev and the result is measured on test; add examples",
    ),
    "two-example target": (
        {"target": "{name: b, path: tiny2.jsonl}"},
        "c.yaml:8: tasks.target: task 'b' has 2 distinct examples, too few for its splits (train 1, dev 1, "
        "test 0): the search scores on dev and the result is measured on test; add examples",
    ),
    "oversized example": (
        {"target": "{name: b, path: big.jsonl}"},
        "c.yaml:8: tasks.target.path: {dir}/big.jsonl:6: example is 30002 characters, over the limit of "
        "20000 (tasks.max_example_chars): shorten or remove it, or raise the limit",
    ),
    "size limit set in the campaign": (
        {"tasks_extra": "max_example_chars: 10"},
        "c.yaml:7: tasks.source[0].path: {dir}/a.jsonl:12: example is 11 characters, over the limit of 10 "
        "(tasks.max_example_chars): shorten or remove it, or raise the limit",
    ),
}


@pytest.fixture
def folder(tmp_path, monkeypatch, fake_server):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PF_UNSET_VAR", raising=False)
    _write_data(tmp_path)
    yield tmp_path
    assert fake_server.requests == []  # nothing reached an LLM


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_campaign_fails_check_and_load_with_one_line(case, folder, fake_server, capsys):
    parts, expected = CASES[case]
    _campaign(folder, fake_server.openai_base, **parts)
    expected = expected.replace("{dir}", str(folder.resolve()))
    code, out, err = _check(capsys, "c.yaml")
    assert (code, err) == (1, f"error: {expected}\n")
    with pytest.raises(ConfigError) as raised:
        load_campaign("c.yaml", env={})
    assert str(raised.value) == expected
    assert "planted-123" not in err + out


def test_max_usd_given_on_the_command_line_is_checked_too(folder, fake_server, capsys):
    _campaign(folder, fake_server.openai_base)
    with pytest.raises(SystemExit) as exited:
        main(["run", "c.yaml", "--dry-run", "--max-usd", "1"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        "error: --max-usd: openai/sim has no known price, so budget.max_usd cannot limit its spend: set "
        "models.reference.options.price_usd_per_mtok: [input, output] (USD per million tokens), or pass "
        "--allow-unpriced (budget.allow_unpriced: true) to count its calls as $0\n"
    )
    with pytest.raises(SystemExit) as exited:
        main(["run", "c.yaml", "--dry-run", "--max-usd", "1", "--allow-unpriced"])
    assert exited.value.code in (0, None)


def test_the_valid_base_campaign_passes(folder, fake_server, capsys):
    _campaign(folder, fake_server.openai_base)
    assert _check(capsys, "c.yaml") == (0, "ok c.yaml\n", "")


def test_the_target_may_be_the_source_task_itself(folder, fake_server, capsys):
    # A search on the target alone (the DSPy comparisons of benchmarks/): the same entry twice is one
    # task, not two tasks with one name.
    _campaign(folder, fake_server.openai_base, target="{name: a, path: a.jsonl}")
    assert _check(capsys, "c.yaml") == (0, "ok c.yaml\n", "")
    assert load_campaign("c.yaml", env={}).tasks.target.name == "a"


def test_allow_unpriced_accepts_max_usd_and_is_saved_in_the_config(folder, fake_server, capsys):
    _campaign(folder, fake_server.openai_base, extra="budget: {max_usd: 1.0}")
    code, out, err = _check(capsys, "c.yaml", "--allow-unpriced")
    assert (code, err) == (0, "")
    assert load_campaign("c.yaml", env={}, allow_unpriced=True).budget.allow_unpriced is True
    _campaign(folder, fake_server.openai_base, extra="budget: {max_usd: 1.0, allow_unpriced: true}")
    assert load_campaign("c.yaml", env={}).budget.allow_unpriced is True


def test_a_price_option_makes_max_usd_enforceable(folder, fake_server, capsys):
    base = fake_server.openai_base
    priced = f'{{model: openai/sim, api_base: "{base}", options: {{price_usd_per_mtok: [0, 1]}}}}'
    free = "{model: local/smollm2-135m-instruct}"
    _campaign(folder, fake_server.openai_base, reference=free, scorer=priced, extra="budget: {max_usd: 1.0}")
    assert _check(capsys, "c.yaml") == (0, "ok c.yaml\n", "")


def test_duplicate_inputs_are_dropped_with_a_warning_naming_file_and_line(folder, fake_server, capsys):
    _campaign(folder, fake_server.openai_base, target="{name: b, path: dupes.jsonl}")
    code, out, err = _check(capsys, "c.yaml")
    assert code == 0
    assert err == (
        f"warning: c.yaml:8: tasks.target: task 'b': dropped 12 examples whose input repeats an earlier one, "
        f"before splitting (e.g. {folder.resolve()}/dupes.jsonl:7 repeats line 1)\n"
    )
    with pytest.warns(DataWarning, match="dropped 12 examples"):
        load_campaign("c.yaml", env={})


def test_default_weights_may_name_what_the_scorer_cannot_measure(folder, fake_server, capsys):
    # The defaults ({accuracy: 1, ece: 0.25}) stay usable with any scorer: ECE is then left out.
    _campaign(folder, fake_server.openai_base, scorer=ANTHROPIC)
    assert _check(capsys, "c.yaml")[0] == 0


@pytest.mark.parametrize("example", sorted((REPO / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_examples_pass_check(example, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "dummy")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "dummy")
    code, out, err = _check(capsys, str(example))
    assert (code, err) == (0, ""), err


def test_a_campaign_built_in_python_gets_the_same_checks_from_optimize(folder, fake_server):
    from orchestrator import optimize
    from orchestrator.config import Campaign

    model = {"model": "openai/sim", "api_base": fake_server.openai_base}
    campaign = Campaign.model_validate(
        {
            "models": {"reference": model, "scorer": model},
            "tasks": {
                "source": [{"name": "a", "path": "a.jsonl"}],
                "target": {"name": "a", "path": "b.jsonl"},
            },
        }
    )
    with pytest.raises(ConfigError) as raised:
        optimize(campaign, environ={})
    assert str(raised.value) == (
        "<campaign>: tasks.target.name: task name 'a' is already used by tasks.source[0]; every task "
        "needs its own name (set name: for a task file)"
    )
