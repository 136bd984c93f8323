"""How long a poller waits after an error: exponential backoff with jitter, and the
server's own Retry-After (seconds or an HTTP date) when it gives one.

A feed that is down must not be hammered, and many intakes restarted at once
must not retry in lockstep (the jitter). A success resets the delay.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


class Backoff:
    def __init__(self, base: float = 1.0, cap: float = 300.0, rng: Callable[[], float] = random.random) -> None:
        self.base = base
        self.cap = cap
        self.rng = rng
        self.failures = 0

    def next(self, server_says: float | None = None) -> float:
        """The delay before the next try (and count one more failure)."""
        delay = min(self.cap, self.base * 2**self.failures) * (0.8 + 0.4 * self.rng())
        self.failures += 1
        if server_says is not None:
            delay = max(delay, min(server_says, 3600.0))
        return delay

    def reset(self) -> None:
        self.failures = 0
