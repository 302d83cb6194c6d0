"""LLM-judged dimensions: a rubric file, a judge LLM and a robust verdict.

A judge renders its rubric from ``prompts/templates/judge_<name>.txt`` with the judged text inserted
as delimited data (see ``evaluators.delimiting``), asks the judge LLM for strict JSON, re-asks once
when the reply is malformed, and otherwise gives up with the dimension's ``failure_score`` and a
``failed`` verdict that the caller counts toward ``max_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from evaluators.delimiting import DATA_TAGS, check_delimited_template, neutralize
from evaluators.dimensions import Dimension, judge_dimension
from evaluators.judge_reply import MalformedJudgeReply, parse_judge_reply
from evaluators.protocol import ChatLLM
from evaluators.usage import UsageCallback, usage_from_completion
from prompts import load_template, render

__all__ = ["DEFAULT_JUDGES", "JudgeSpec", "JudgeVerdict", "LLMJudge"]

_CONTROL_VARIABLES = frozenset({"low", "high"})


@dataclass(frozen=True)
class JudgeSpec:
    """One LLM-judged dimension.

    Attributes:
        name: the quality judged, e.g. ``"clarity"``; reported as dimension ``"judge_<name>"``.
        template: rubric template name in ``prompts/templates`` (its data variables must be delimited).
        subject: ``"prompt"`` (judged once per candidate prompt) or ``"output"`` (judged per example).
        low: lowest score of the rubric.
        high: highest score of the rubric.
        failure_score: score recorded when judging fails; defaults to ``low``.
    """

    name: str
    template: str
    subject: Literal["prompt", "output"]
    low: int = 1
    high: int = 5
    failure_score: float | None = None

    def __post_init__(self) -> None:
        if self.subject not in ("prompt", "output"):
            raise ValueError(f"JudgeSpec {self.name!r}: subject must be 'prompt' or 'output'")
        if self.low >= self.high:
            raise ValueError(f"JudgeSpec {self.name!r}: need low < high, got {self.low}, {self.high}")

    @property
    def dimension(self) -> Dimension:
        return judge_dimension(self.name, low=self.low, high=self.high, failure_score=self.failure_score)


#: The shipped judges, by name.
DEFAULT_JUDGES: Mapping[str, JudgeSpec] = MappingProxyType(
    {
        "coherence": JudgeSpec("coherence", "judge_coherence", "output"),
        "relevance": JudgeSpec("relevance", "judge_relevance", "output"),
        "fluency": JudgeSpec("fluency", "judge_fluency", "output"),
        "clarity": JudgeSpec("clarity", "judge_clarity", "prompt"),
        "specificity": JudgeSpec("specificity", "judge_specificity", "prompt"),
    }
)


@dataclass(frozen=True)
class JudgeVerdict:
    """The outcome of judging one text.

    Attributes:
        dimension: the dimension name (``"judge_<name>"``).
        score: the judge's score, or the failure score when ``failed``.
        reason: the judge's reason, or why judging failed.
        failed: no usable verdict (LLM error, or malformed twice).
        failure_kind: ``"judge_error"`` (the call raised) or ``"judge_malformed"``; ``None`` when not failed.
        attempts: judge calls made (1, or 2 after a re-ask).
        raw: the judge's last raw reply ("" when the call itself failed).
    """

    dimension: str
    score: float
    reason: str
    failed: bool
    attempts: int
    raw: str = ""
    failure_kind: str | None = None


class LLMJudge:
    """Judges one dimension with an injected chat LLM.

    Args:
        llm: any object with the ``ChatLLM`` shape.
        spec: which dimension and rubric.
        temperature: judge sampling temperature (0 for repeatable verdicts).
        max_tokens: reply length limit.
        on_usage: ledger callback, called once per judge call.
        reraise: exception types that must propagate instead of counting as a failure (for example the
            orchestrator's ``BudgetExceeded``); cancellation always propagates.

    Raises:
        TemplateError: the rubric template does not exist.
        ValueError: the template inserts data outside its data tags.
    """

    def __init__(
        self,
        llm: ChatLLM,
        spec: JudgeSpec,
        *,
        temperature: float = 0.0,
        max_tokens: int = 200,
        on_usage: UsageCallback | None = None,
        reraise: tuple[type[BaseException], ...] = (),
    ):
        self.llm = llm
        self.spec = spec
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.on_usage = on_usage
        self.reraise = reraise
        self._template = load_template(spec.template)
        check_delimited_template(self._template, _CONTROL_VARIABLES)
        self.data_fields = frozenset(self._template.variables & set(DATA_TAGS))

    @property
    def dimension(self) -> Dimension:
        return self.spec.dimension

    def messages(self, data: Mapping[str, str]) -> list[dict[str, str]]:
        """The judge conversation for ``data`` (extra keys the rubric does not use are ignored).

        Raises:
            TemplateError: ``data`` lacks a field the rubric needs.
        """
        bounds = {"low": self.spec.low, "high": self.spec.high}
        fields = {name: neutralize(str(data[name])) for name in self.data_fields if name in data}
        return [
            {"role": "system", "content": render("judge_system", **bounds)},
            {"role": "user", "content": self._template.render(**fields, **bounds)},
        ]

    async def _ask(self, messages: list[dict[str, str]]) -> str:
        completion = await self.llm.chat(messages, temperature=self.temperature, max_tokens=self.max_tokens)
        if self.on_usage is not None:
            self.on_usage(usage_from_completion(completion, "judge", self.dimension.name))
        return completion.text

    def _failed(self, kind: str, reason: str, attempts: int, raw: str) -> JudgeVerdict:
        score = self.dimension.failure_score
        assert score is not None  # judge dimensions always declare one
        return JudgeVerdict(self.dimension.name, score, reason, True, attempts, raw, failure_kind=kind)

    async def judge(self, data: Mapping[str, str]) -> JudgeVerdict:
        """Judge one text: ask, re-ask once if malformed, else fail with the failure score.

        Args:
            data: the judged text and its context, keyed by data tag (``candidate_prompt``,
                ``candidate_output``, ``task_input``, ``task_description``, ...).

        Returns:
            The verdict; ``failed`` is set when no usable score was obtained.

        Raises:
            TemplateError: ``data`` lacks a field the rubric needs.
            BaseException: any type listed in ``reraise``.
        """
        messages = self.messages(data)
        raw = ""
        for attempt in (1, 2):
            try:
                raw = await self._ask(messages)
            except self.reraise:
                raise
            except Exception as exc:  # an outage is a counted failure, never a silent score
                return self._failed(
                    "judge_error", f"judge call failed: {type(exc).__name__}: {exc}", attempt, raw
                )
            try:
                reply = parse_judge_reply(raw, self.spec.low, self.spec.high)
            except MalformedJudgeReply as exc:
                if attempt == 2:
                    return self._failed(
                        "judge_malformed", f"malformed judge reply after a re-ask: {exc}", attempt, raw
                    )
                problem = render("judge_reask", problem=str(exc), low=self.spec.low, high=self.spec.high)
                messages = [
                    *messages,
                    {"role": "assistant", "content": raw},
                    {"role": "user", "content": problem},
                ]
                continue
            return JudgeVerdict(self.dimension.name, reply.score, reply.reason, False, attempt, raw)
        raise AssertionError("unreachable")
