"""A Jetstream stand-in on 127.0.0.1: a real WebSocket server (websockets) that replays events.

It speaks the part of Jetstream's protocol the intake uses: `GET /subscribe`
with `wantedCollections` and `cursor` (a time_us; events from that time on are
replayed), JSON text frames. Like a relay it does not filter collections, so
likes and follows reach the client. Once the recording is replayed it sends
one live identity event stamped with the current time, as Jetstream's live
tail would, and then stays open. `drop_after` closes the first connection
after that many events, to make the client reconnect with its cursor.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve


@dataclass
class Replay:
    events: list[dict[str, Any]]
    drop_after: int | None = None
    #: The query of every connection, in order ({"cursor": [...], "wantedCollections": [...]}).
    connections: list[dict[str, list[str]]] = field(default_factory=list)
    url: str = ""

    async def handler(self, ws: ServerConnection) -> None:
        query = parse_qs(urlsplit(ws.request.path if ws.request else "").query)
        self.connections.append(query)
        cursor = int(query["cursor"][0]) if "cursor" in query else 0
        first = len(self.connections) == 1
        sent = 0
        for event in sorted(self.events, key=lambda e: int(e["time_us"])):
            if int(event["time_us"]) < cursor:
                continue
            await ws.send(json.dumps(event))
            sent += 1
            if first and self.drop_after is not None and sent >= self.drop_after:
                await ws.close(1011, "relay restarting")
                return
        live = {"did": "did:plc:livelivelive", "time_us": int(time.time() * 1_000_000), "kind": "identity",
                "identity": {"did": "did:plc:livelivelive", "handle": "live.example", "seq": 1,
                             "time": "2026-12-02T00:00:00Z"}}
        await ws.send(json.dumps(live))
        await ws.wait_closed()


@contextmanager
def replaying(replay: Replay) -> Iterator[Replay]:
    """Run the replay server in a thread with its own loop; `replay.url` is its ws:// subscribe URL."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stopped: asyncio.Future[None] | None = None

    async def main() -> None:
        nonlocal stopped
        stopped = loop.create_future()
        async with serve(replay.handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            replay.url = f"ws://127.0.0.1:{port}/subscribe"
            ready.set()
            await stopped

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the replay server did not start")
    try:
        yield replay
    finally:
        def finish() -> None:
            if stopped is not None and not stopped.done():
                stopped.set_result(None)

        loop.call_soon_threadsafe(finish)
        thread.join(10)
        loop.close()
