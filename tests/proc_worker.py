"""A second (third...) OS process for the cross-process store tests.

Run as `python tests/proc_worker.py COMMAND DB INCIDENT ...`; prints JSON lines
the test reads. Kept apart from the tests so each process is a real, separate
interpreter with its own SQLite connection.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import ClaimConflict, DraftConflict
from crisis_tui.store.sqlite import SqliteStore


def say(obj: object) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def wait_for(go: Path) -> None:
    while not go.exists():
        await asyncio.sleep(0.005)


async def claim(db: str, inc: str, name: str, count: str, go: str) -> None:
    store = await SqliteStore.open(db, create=False)
    say({"ready": True})
    await wait_for(Path(go))
    won: list[int] = []
    lost = 0
    for cid in range(1, int(count) + 1):
        try:
            await store.claim(inc, cid, actor=name)
            won.append(cid)
        except ClaimConflict:
            lost += 1
    await store.close()
    say({"won": won, "lost": lost})


async def save(db: str, inc: str, draft_id: str, name: str, base: str, go: str) -> None:
    store = await SqliteStore.open(db, create=False)
    say({"ready": True})
    await wait_for(Path(go))
    try:
        draft = await store.save_draft(inc, f"text by {name}", actor=name, draft_id=int(draft_id), base_version=int(base))
        say({"saved": draft.version})
    except DraftConflict as conflict:
        say({"conflict": conflict.current.version, "current_body": conflict.current.body})
    await store.close()


async def ingest_forever(db: str, inc: str) -> None:
    store = await SqliteStore.open(db, create=False)
    n = 0
    while True:
        batch = [
            parse_comment({"source": "x", "id": f"k{n + i}", "author": f"@u{n + i}", "text": "refund? " * 40})
            for i in range(200)
        ]
        await store.ingest(inc, batch)
        n += len(batch)
        say({"committed": n})


async def subscribe(db: str, inc: str, count: str, after: str) -> None:
    store = await SqliteStore.open(db, create=False)
    got: list[int] = []
    say({"ready": True})
    async for event in store.subscribe(inc, int(after)):
        got.append(event.seq)
        if len(got) >= int(count):
            break
    await store.close()
    say({"seqs": got})


async def latency(db: str, inc: str, count: str, after: str) -> None:
    """For the bench: print how late each note arrived (its payload carries the send time)."""
    store = await SqliteStore.open(db, create=False)
    say({"ready": True})
    lags: list[float] = []
    async for event in store.subscribe(inc, int(after)):
        if event.kind == "note.added":
            lags.append(time.time() - float(event.payload["text"]))
            if len(lags) >= int(count):
                break
    await store.close()
    say({"lags": lags})


COMMANDS: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
    "claim": claim, "save": save, "ingest-forever": ingest_forever, "subscribe": subscribe, "latency": latency,
}

if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(COMMANDS[sys.argv[1]](*sys.argv[2:]))
