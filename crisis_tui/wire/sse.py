"""The event log as server-sent events: the frames the server writes and the client reads.

`GET /incidents/ID/events` with `Accept: text/event-stream` opens with `OPEN`,
then sends one `event` frame per committed event (its seq as the SSE id, so a
reconnect's `Last-Event-ID` resumes right after it) and `PING` when nothing
happened for a ping interval, so a dead link shows on the client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

OPEN = b"retry: 1000\n: live\n\n"
PING = b": ping\n\n"


def event(seq: int, data: bytes) -> bytes:
    """One event's frame: `data` is the event's JSON."""
    return b"id: %d\ndata: %s\n\n" % (seq, data)


async def messages(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(id, data) per message of an event stream, from its lines (comments skipped)."""
    data: list[str] = []
    last_id = ""
    async for line in lines:
        if not line:
            if data:
                yield last_id, "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "id":
            last_id = value
