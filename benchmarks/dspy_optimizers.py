"""DSPy's COPRO, MIPROv2 (instructions only) and GEPA, set up one way for every search benchmark.

``benchmarks/search_quality.py`` (simulated LLM) and ``benchmarks/embedded_search_quality.py``
(SmolLM2) differ only in the program, the data, the metric and the language models they pass; how
each optimizer is sized per call budget (``DSPY_SETTINGS``) and compiled lives here once.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DSPY_SETTINGS", "compile_instruction", "mipro_sizes"]

# Each optimizer's sizes per call budget, chosen so that it lands near the budget on the simulated
# LLM: copro (examples, breadth, depth), mipro (examples, candidates, trials, minibatch), gepa
# (examples, max metric calls). MIPROv2 and GEPA also take as many validation examples.
DSPY_SETTINGS: dict[int, dict[str, Any]] = {
    100: {"copro": (10, 4, 2), "mipro": (10, 4, 6, 5), "gepa": (8, 80)},
    200: {"copro": (20, 4, 2), "mipro": (15, 6, 12, 8), "gepa": (12, 170)},
    400: {"copro": (20, 6, 3), "mipro": (20, 8, 24, 10), "gepa": (16, 350)},
    800: {"copro": (20, 8, 5)},  # COPRO at twice our largest budget only
}


def mipro_sizes(n: int, minibatch: int, available: int) -> tuple[int, int]:
    """MIPROv2's (train size, minibatch size) on ``available`` dev examples.

    MIPROv2 validates on ``data[n : 2 * n]`` and refuses a minibatch larger than that valset. Only
    then (a small dev split at a large budget) the dev examples are halved between train and
    validation, and the minibatch is capped at the valset; every other case keeps the sizes of
    ``DSPY_SETTINGS``, so runs already recorded repeat.

    Raises:
        ValueError: fewer than 2 dev examples, or a minibatch below 1.
    """
    if available < 2 or minibatch < 1:
        raise ValueError(
            f"MIPROv2 needs at least 2 dev examples and a minibatch >= 1, not {available}, {minibatch}"
        )
    if len(range(n, min(2 * n, available))) >= minibatch:
        return n, minibatch
    half = available // 2
    return half, min(minibatch, half)


def compile_instruction(
    tool: str,
    budget: int,
    program: Any,
    data: list[Any],
    metric: Any,
    *,
    seed: int,
    task_lm: Any,
    prompt_lm: Any,
    threads: int,
    instruction_proposer: Any = None,
) -> str:
    """The instruction DSPy's ``tool`` returns for ``program`` at ``budget`` calls.

    Args:
        tool: ``"copro"``, ``"mipro"`` or ``"gepa"``.
        budget: a key of ``DSPY_SETTINGS`` holding ``tool``.
        program: a one-predictor ``dspy.Predict``.
        data: dev examples; the first n train, the next n validate (n from ``DSPY_SETTINGS``).
        metric: DSPy metric (GEPA's feedback form when called with ``pred_name``).
        seed: the optimizer's seed (MIPROv2, GEPA; COPRO takes none).
        task_lm: the model that answers (the caller's ``dspy.context`` should also hold it).
        prompt_lm: the model that proposes (GEPA: reflects).
        threads: evaluation threads.
        instruction_proposer: GEPA's proposer (None: its default).

    Returns:
        The optimized program's instruction.
    """
    settings = DSPY_SETTINGS[budget][tool]
    if tool == "copro":
        from dspy.teleprompt import COPRO

        n, breadth, depth = settings
        optimizer = COPRO(prompt_model=prompt_lm, metric=metric, breadth=breadth, depth=depth)
        eval_kwargs = {"num_threads": threads, "display_progress": False}
        best = optimizer.compile(program, trainset=data[:n], eval_kwargs=eval_kwargs)
    elif tool == "mipro":
        from dspy.teleprompt import MIPROv2

        n, candidates, trials, minibatch = settings
        n, minibatch = mipro_sizes(n, minibatch, len(data))
        optimizer = MIPROv2(
            metric=metric,
            prompt_model=prompt_lm,
            task_model=task_lm,
            auto=None,
            num_candidates=candidates,
            max_bootstrapped_demos=0,
            max_labeled_demos=0,
            num_threads=threads,
            seed=seed,
            verbose=False,
        )
        best = optimizer.compile(
            program,
            trainset=data[:n],
            valset=data[n : 2 * n],
            num_trials=trials,
            minibatch_size=minibatch,
            minibatch_full_eval_steps=max(2, trials // 2),
        )
    elif tool == "gepa":
        from dspy.teleprompt import GEPA

        n, max_metric_calls = settings
        optional = {"instruction_proposer": instruction_proposer} if instruction_proposer else {}
        optimizer = GEPA(
            metric=metric,
            max_metric_calls=max_metric_calls,
            reflection_lm=prompt_lm,
            num_threads=threads,
            seed=seed,
            track_stats=False,
            **optional,
        )
        best = optimizer.compile(program, trainset=data[:n], valset=data[n : 2 * n])
    else:
        raise ValueError(f"unknown DSPy optimizer {tool!r}: copro, mipro or gepa")
    return best.predictors()[0].signature.instructions
