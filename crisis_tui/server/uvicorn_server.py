"""uvicorn, taught to end the live event streams when it is asked to stop.

uvicorn's shutdown asks every connection to finish its response and waits
(the graceful timeout) before it cancels what is still running. An SSE stream
never finishes on its own, so a plain stop waited out the timeout and then
cancelled the stream mid-flight, and a client could be left on a half-open
socket until its read timeout (45 s) noticed. Here the server first tells the
streams it is closing: each sends what it has, ends its response cleanly, and
the clients see the end at once and start reconnecting.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette


class CrisisServer(uvicorn.Server):
    """A uvicorn.Server for the app from `create_app`."""

    def __init__(self, config: uvicorn.Config, app: Starlette) -> None:
        super().__init__(config)
        self._crisis_app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state = getattr(self._crisis_app.state, "crisis", None)
        if state is not None:
            state.closing.set()
        await super().shutdown(sockets)
