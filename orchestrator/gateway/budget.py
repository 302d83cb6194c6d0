"""Hard budgets on calls, tokens and USD, checked before a call is sent.

A call first reserves its worst case (one call, its estimated tokens, its estimated cost) against
what is used plus what is already reserved by calls in flight; if that would cross a limit,
``BudgetExceeded`` is raised and nothing is sent. So a campaign stops at the limit with every answer
it paid for recorded and cached, and in-flight calls cannot overshoot together. When the real usage
arrives the reservation is replaced by it. One ``Budget`` can be shared by several gateways.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from orchestrator.backends.base import BudgetExceeded

__all__ = ["Budget", "Reservation"]

log = logging.getLogger(__name__)


@dataclass
class Reservation:
    """What one call holds until it settles."""

    tokens: int
    usd: float
    open: bool = True


class Budget:
    """Limits for one campaign (None: unlimited).

    Args:
        max_calls: calls sent to backends (a call is counted once, however many retries it took;
            cache hits are free).
        max_tokens: prompt + completion tokens.
        max_usd: cost in USD; calls to models with unknown prices cost 0 here (a warning says so).
    """

    def __init__(
        self, *, max_calls: int | None = None, max_tokens: int | None = None, max_usd: float | None = None
    ):
        for name, value in (("max_calls", max_calls), ("max_tokens", max_tokens), ("max_usd", max_usd)):
            if value is not None and value < 0:
                raise ValueError(f"budget.{name} must be >= 0 or None, got {value}")
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self.used_calls = 0
        self.used_tokens = 0
        self.used_usd = 0.0
        self._reserved_calls = 0
        self._reserved_tokens = 0
        self._reserved_usd = 0.0
        self._warned_unpriced = False

    @property
    def tracks_usd(self) -> bool:
        return self.max_usd is not None

    def reserve(self, tokens: int, usd: float = 0.0) -> Reservation:
        """Reserve one call's worst case, or refuse.

        Args:
            tokens: estimated prompt tokens + ``max_tokens``.
            usd: estimated cost (0 when unknown).

        Returns:
            A ``Reservation`` to pass to ``settle`` or ``release``.

        Raises:
            BudgetExceeded: the call would cross ``max_calls``, ``max_tokens`` or ``max_usd``;
                ``budget`` is ``"calls"``, ``"tokens"`` or ``"usd"``.
        """
        if self.max_calls is not None and self.used_calls + self._reserved_calls + 1 > self.max_calls:
            raise BudgetExceeded(
                f"call budget exhausted: {self.used_calls} calls made and {self._reserved_calls} in flight"
                f" of budget.max_calls={self.max_calls}",
                budget="calls",
            )
        if (
            self.max_tokens is not None
            and self.used_tokens + self._reserved_tokens + tokens > self.max_tokens
        ):
            raise BudgetExceeded(
                f"token budget exhausted: {self.used_tokens} tokens used, {self._reserved_tokens} reserved in"
                f" flight, the next call may need {tokens}, budget.max_tokens={self.max_tokens}",
                budget="tokens",
            )
        if self.max_usd is not None and self.used_usd + self._reserved_usd + usd > self.max_usd:
            raise BudgetExceeded(
                f"USD budget exhausted: ${self.used_usd:.4f} spent, ${self._reserved_usd:.4f} reserved in"
                f" flight, the next call may cost ${usd:.4f}, budget.max_usd={self.max_usd}",
                budget="usd",
            )
        self._reserved_calls += 1
        self._reserved_tokens += tokens
        self._reserved_usd += usd
        return Reservation(tokens=tokens, usd=usd)

    def settle(self, reservation: Reservation, tokens: int, usd: float | None) -> None:
        """Replace a reservation by the call's real usage (the call was sent).

        Args:
            reservation: from ``reserve``.
            tokens: real prompt + completion tokens (0 for a failed call).
            usd: real cost, None when unknown (counted as 0, with a one-time warning).

        Raises:
            RuntimeError: the reservation was already settled or released.
        """
        if not reservation.open:
            raise RuntimeError("budget reservation already settled or released")
        self._drop(reservation)
        self.used_calls += 1
        self.used_tokens += tokens
        if usd is None:
            if self.max_usd is not None and tokens and not self._warned_unpriced:
                self._warned_unpriced = True
                log.warning("budget.max_usd is set but a model has no known price: its calls count as $0")
            return
        self.used_usd += usd

    def release(self, reservation: Reservation) -> None:
        """Give a reservation back unused (the call was never sent)."""
        self._drop(reservation)

    def _drop(self, reservation: Reservation) -> None:
        if not reservation.open:
            return
        reservation.open = False
        self._reserved_calls -= 1
        self._reserved_tokens -= reservation.tokens
        self._reserved_usd -= reservation.usd

    def remaining(self) -> dict[str, float | None]:
        """What is left of each limit (None: unlimited), reservations deducted."""
        return {
            "calls": None
            if self.max_calls is None
            else self.max_calls - self.used_calls - self._reserved_calls,
            "tokens": None
            if self.max_tokens is None
            else self.max_tokens - self.used_tokens - self._reserved_tokens,
            "usd": None if self.max_usd is None else self.max_usd - self.used_usd - self._reserved_usd,
        }
