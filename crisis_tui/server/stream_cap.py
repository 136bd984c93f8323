"""The cap on open event streams per token.

Each live stream holds a buffer and a connection; a leaked or runaway token
opening streams by the hundred would pin the server's memory and sockets. A
room or a wallboard opens one; past `cap` the next is 429 naming the cap
(HttpStore waits and retries, as for any 429).
"""

from __future__ import annotations

from collections.abc import Callable

from crisis_tui.errors import RateLimited
from crisis_tui.server.auth import Caller


class StreamCounter:
    """Open event streams per token, refused past `cap` (a leaked token cannot pin the server's memory)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: dict[int, int] = {}

    def open(self, caller: Caller) -> Callable[[], None]:
        held = self._open.get(caller.token_id, 0)
        if held >= self.cap:
            raise RateLimited(
                f"{caller.name}'s token already holds {held} open event streams, the most one token may hold "
                f"(serve --max-streams {self.cap}); close one, or retry in a few seconds",
                retry_after=5.0,
            )
        self._open[caller.token_id] = held + 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            left = self._open.get(caller.token_id, 1) - 1
            if left > 0:
                self._open[caller.token_id] = left
            else:
                self._open.pop(caller.token_id, None)

        return release

    def held(self, token_id: int) -> int:
        return self._open.get(token_id, 0)
