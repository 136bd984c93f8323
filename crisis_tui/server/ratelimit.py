"""Per-token request rate: a token bucket per token id.

A committee member clicks a few times a second; a runaway script or a leaked
token floods. The bucket lets a burst through, then refuses with 429 and says
how long to wait. Memory is one small entry per token that has been used.
"""

from __future__ import annotations

import time

from crisis_tui.errors import RateLimited


class RateLimiter:
    """`rate` requests per second sustained, `burst` at once; rate <= 0 turns it off."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[int, tuple[float, float]] = {}

    def check(self, key: int, who: str, now: float | None = None) -> None:
        """Spend one request of `key`'s bucket, or raise RateLimited."""
        if self.rate <= 0:
            return
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
            raise RateLimited(
                f"{who} is over the limit of {self.rate:g} requests/s (burst {self.burst}); retry in {wait:.2f}s",
                retry_after=wait,
            )
        self._buckets[key] = (tokens - 1.0, now)
