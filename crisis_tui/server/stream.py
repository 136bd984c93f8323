"""`GET /incidents/ID/events`: the log after a seq, as JSON or as a live SSE stream.

Sync is "give me the events after seq N". With `Accept: text/event-stream` the
answer stays open: every event goes out as `id: SEQ` + `data: EVENT-JSON`, as
soon as it is committed (SqliteStore.subscribe on the read-only connection).
A reconnecting client sends `Last-Event-ID` (or `?after=`) and gets exactly
the events after it.

A slow or stalled reader must cost the server a bounded amount, whatever the
events weigh (one comment may carry 128 KiB). So each stream holds at most
`stream_buffer` bytes of frames not yet sent: when its buffer is full the
subscription is closed (no batch of events stays in memory) and taken up again
from the last seq once the reader has drained it. A reader that takes nothing
for `stream_stall` seconds is dropped; it resumes with Last-Event-ID, so it
misses nothing. A token may hold at most `max_streams` open streams.

A reader that hangs up ends its stream at once, not at the next frame or ping:
until then its subscription would still wake on every commit of the file and
read the log (bench/http.py, on a busy 2-core machine: the propagation test's
closed reader added roughly 5 us to every webhook comment for the seconds
after it left).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from crisis_tui.errors import CrisisError
from crisis_tui.model import Event
from crisis_tui.server import responses
from crisis_tui.server.auth import Caller
from crisis_tui.server.route_doc import PAGE, ApiRoute, Doc, Query
from crisis_tui.server.routes import I, endpoint, query_int, whole_number
from crisis_tui.server.state import ServerState
from crisis_tui.wire import sse

log = logging.getLogger("crisis_tui.server")
#: Most bytes one send carries (the transport holds about this much beyond the buffer).
CHUNK_BYTES = 64 * 1024
_encode = msgspec.json.Encoder().encode


def _after(request: Request) -> int:
    after = query_int(request, "after", 0) or 0
    last = request.headers.get("last-event-id", "").strip()
    if last:
        after = max(after, whole_number(last, "Last-Event-ID"))
    return after


class _Buffer:
    """Frames not yet sent, at most `limit` bytes (one frame larger than that still fits alone)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.frames: deque[bytes] = deque()
        self.ended = False
        self.changed = asyncio.Event()

    def full(self) -> bool:
        return self.size >= self.limit

    def put(self, frame: bytes) -> None:
        self.frames.append(frame)
        self.size += len(frame)
        self.changed.set()

    def end(self) -> None:
        self.ended = True
        self.changed.set()

    def take(self) -> bytes:
        """Up to CHUNK_BYTES of frames (at least one), or b"" when there are none."""
        out: list[bytes] = []
        size = 0
        while self.frames and (not out or size + len(self.frames[0]) <= CHUNK_BYTES):
            frame = self.frames.popleft()
            out.append(frame)
            size += len(frame)
        self.size -= size
        self.changed.set()
        return b"".join(out)

    def waiter(self) -> Coroutine[Any, Any, bool]:
        """A wait for the next change, armed now (a change before it is awaited still counts)."""
        self.changed.clear()
        return self.changed.wait()


async def _pump(state: ServerState, incident_id: str, after: int, buffer: _Buffer) -> None:
    """Fill the buffer from the subscription; while it is full, hold no subscription at all."""
    try:
        while True:
            events = state.reader.subscribe(incident_id, after)
            try:
                async for event in events:
                    after = event.seq
                    buffer.put(sse.event(event.seq, _encode(event)))
                    if buffer.full():
                        break
            finally:
                close = getattr(events, "aclose", None)  # frees the batch it read ahead
                if close is not None:
                    await close()
            while buffer.full():
                await buffer.waiter()
    except CrisisError as exc:
        log.warning("event stream of %s ended: %s", incident_id, exc)
    except Exception:
        log.exception("event stream of %s failed", incident_id)
    buffer.end()


async def _frames(state: ServerState, incident_id: str, after: int, buffer: _Buffer) -> AsyncGenerator[bytes, None]:
    pump = asyncio.create_task(_pump(state, incident_id, after, buffer))
    ping = state.settings.ping_interval
    closing = asyncio.ensure_future(state.closing.wait())
    try:
        yield sse.OPEN
        while not closing.done():  # stopping: end cleanly, the client resumes from its last seq
            chunk = buffer.take()
            if chunk:
                yield chunk
                continue
            if buffer.ended:
                return
            waiting = asyncio.ensure_future(buffer.waiter())
            await asyncio.wait((waiting, closing), timeout=ping, return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():
                waiting.cancel()
                if not closing.done():
                    yield sse.PING
    finally:
        closing.cancel()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


async def _gone(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


class EventStreamResponse(StreamingResponse):
    """A StreamingResponse that gives up on a reader taking nothing for `stall` seconds.

    uvicorn waits before writing while the socket's buffer is full, so a send
    that does not finish within `stall` wrote nothing: the stream returns, the
    connection is closed, and the reader reconnects with Last-Event-ID.
    """

    def __init__(self, frames: AsyncGenerator[bytes, None], *, stall: float, name: str,
                 release: Callable[[], None], hung_up: Callable[[], None]) -> None:
        """`hung_up`: called as soon as the reader is gone, so `frames` ends even while it waits."""
        super().__init__(frames, media_type="text/event-stream",
                         headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self._frames = frames
        self._stall = stall
        self._name = name
        self._release = release
        self._hung_up = hung_up

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.ensure_future(_gone(receive))
        gone.add_done_callback(lambda _: self._hung_up())
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self._frames:
                if not await self._send(send, gone, {"type": "http.response.body", "body": chunk, "more_body": True}):
                    return
            await self._send(send, gone, {"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            self._release()
            with contextlib.suppress(Exception):
                await self._frames.aclose()

    async def _send(self, send: Send, gone: asyncio.Future[None], message: Message) -> bool:
        sending = asyncio.ensure_future(send(message))
        await asyncio.wait((sending, gone), timeout=self._stall, return_when=asyncio.FIRST_COMPLETED)
        if sending.done():
            sending.result()
            return True
        sending.cancel()
        if not gone.done():
            log.warning("dropped %s's event stream: it read nothing for %.0f s (it resumes with Last-Event-ID)",
                        self._name, self._stall)
        return False


async def events(request: Request, caller: Caller, state: ServerState) -> Response:
    incident_id = str(request.path_params["incident_id"])
    after = _after(request)
    if "text/event-stream" in request.headers.get("accept", ""):
        # A database that is away is a 503 now, not a stream that ends at once (its client would
        # flap between live and reconnecting): the client keeps retrying until it is back.
        await state.reader.ping()
        release = state.streams.open(caller)
        buffer = _Buffer(state.settings.stream_buffer)
        return EventStreamResponse(_frames(state, incident_id, after, buffer), stall=state.settings.stream_stall,
                                   name=caller.name, release=release, hung_up=buffer.end)
    page = state.settings.page_max
    limit = query_int(request, "limit", 1000, low=1, high=page) or 1000
    return responses.ok(await state.reader.events_after(incident_id, after, limit))


def routes() -> list[Route]:
    doc = Doc(summary="read", answer=list[Event], stream=True,
              query=(Query("after", "only events after this seq"), Query("limit", "most events in the answer", low=1,
                                                                         high=PAGE)),
              headers=(Query("Last-Event-ID", "resume after this seq (the larger of it and `after` wins)"),))
    return [ApiRoute(I + "/events", endpoint("viewer", "read", events), method="GET", doc=doc)]
