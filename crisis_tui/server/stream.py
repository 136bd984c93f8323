"""`GET /incidents/ID/events`: the log after a seq, as JSON or as a live SSE stream.

Sync is "give me the events after seq N". With `Accept: text/event-stream` the
answer stays open: every event goes out as `id: SEQ` + `data: EVENT-JSON`, as
soon as it is committed (SqliteStore.subscribe on the read-only connection).
A reconnecting client sends `Last-Event-ID` (or `?after=`) and gets exactly
the events after it. A subscription task feeds a bounded queue; the response
drains it in chunks, so 20 clients under a burst cost a few sends per batch,
not one per event, and a slow client holds at most the queue, never the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from crisis_tui.errors import CrisisError, InvalidInput
from crisis_tui.server import responses
from crisis_tui.server.auth import Caller
from crisis_tui.server.routes import I, endpoint, query_int
from crisis_tui.server.state import ServerState
from crisis_tui.wire import sse

log = logging.getLogger("crisis_tui.server")
QUEUE_EVENTS = 1024
CHUNK_EVENTS = 512
_encode = msgspec.json.Encoder().encode
_END = b""


def _after(request: Request) -> int:
    after = query_int(request, "after", 0) or 0
    last = request.headers.get("last-event-id", "").strip()
    if last:
        if not last.isdigit():
            raise InvalidInput("Last-Event-ID", f"must be an event seq, got {last[:20]!r}")
        after = max(after, int(last))
    return after


async def _pump(state: ServerState, incident_id: str, after: int, queue: asyncio.Queue[bytes]) -> None:
    """Feed the queue from the subscription; an empty chunk says it ended."""
    try:
        async for event in state.reader.subscribe(incident_id, after):
            await queue.put(sse.event(event.seq, _encode(event)))
    except CrisisError as exc:
        log.warning("event stream of %s ended: %s", incident_id, exc)
    except Exception:
        log.exception("event stream of %s failed", incident_id)
    await queue.put(_END)


async def _sse(state: ServerState, incident_id: str, after: int) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_EVENTS)
    pump = asyncio.create_task(_pump(state, incident_id, after, queue))
    ping = state.settings.ping_interval
    closing = asyncio.ensure_future(state.closing.wait())
    try:
        yield sse.OPEN
        while not closing.done():  # stopping: end cleanly, the client resumes from its last seq
            if queue.empty():
                getter = asyncio.ensure_future(queue.get())
                await asyncio.wait((getter, closing), timeout=ping, return_when=asyncio.FIRST_COMPLETED)
                if not getter.done():
                    getter.cancel()
                    if closing.done():
                        return
                    yield sse.PING
                    continue
                first = getter.result()
            else:
                first = queue.get_nowait()
            chunk = [first]
            while first and len(chunk) < CHUNK_EVENTS and not queue.empty():
                chunk.append(queue.get_nowait())
            ended = _END in chunk
            yield b"".join(chunk)
            if ended:
                return
    finally:
        closing.cancel()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


async def events(request: Request, caller: Caller, state: ServerState) -> Response:
    incident_id = str(request.path_params["incident_id"])
    after = _after(request)
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(
            _sse(state, incident_id, after),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    page = state.settings.page_max
    limit = query_int(request, "limit", 1000, low=1, high=page) or 1000
    return responses.ok(await state.reader.events_after(incident_id, after, limit))


def routes() -> list[Route]:
    return [Route(I + "/events", endpoint("viewer", "read", events), methods=["GET"])]
