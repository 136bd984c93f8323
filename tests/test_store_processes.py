"""Operators sharing one SQLite file: real OS processes, real concurrency, kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.eventlog import verify_chain
from crisis_tui.store.sqlite import SqliteStore

WORKER = str(Path(__file__).with_name("proc_worker.py"))
pytestmark = pytest.mark.slow


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, WORKER, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )


async def read_json(proc: asyncio.subprocess.Process, timeout: float = 60) -> dict:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    if not line:
        err = await proc.stderr.read() if proc.stderr else b""
        raise AssertionError(f"worker said nothing: {err.decode()[-2000:]}")
    return json.loads(line)


async def new_incident(db: Path, comments: int = 0) -> str:
    store = await SqliteStore.open(db)
    incident = await store.create_incident("Shared file", actor="Luis")
    if comments:
        batch = [parse_comment({"source": "x", "id": f"c{i}", "author": f"@u{i}", "text": "refund?"}) for i in range(comments)]
        await store.ingest(incident.id, batch)
    await store.close()
    return incident.id


async def test_two_processes_claim_the_same_1000_comments_each_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = await new_incident(db, 1000)
    go = tmp_path / "go"
    ana = await spawn("claim", str(db), inc, "Ana", "1000", str(go))
    luis = await spawn("claim", str(db), inc, "Luis", "1000", str(go))
    await read_json(ana), await read_json(luis)
    go.touch()
    a, b = await read_json(ana, 120), await read_json(luis, 120)
    await ana.wait(), await luis.wait()
    assert not set(a["won"]) & set(b["won"])
    assert sorted(a["won"] + b["won"]) == list(range(1, 1001))
    assert a["lost"] + b["lost"] == 1000
    store = await SqliteStore.open(db)
    holders = {c.id: c.holder for c in await store.comments(inc)}
    claims = [e for e in await store.events_after(inc, 0, 100_000) if e.kind == "comment.claimed"]
    await store.close()
    assert len(claims) == 1000
    assert {cid for cid, h in holders.items() if h == "Ana"} == set(a["won"])


async def test_two_processes_save_the_same_draft_the_loser_gets_the_conflict(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = await new_incident(db, 1)
    store = await SqliteStore.open(db)
    draft = await store.save_draft(inc, "first words", actor="Ana", comment_id=1)
    await store.close()
    go = tmp_path / "go"
    procs = [await spawn("save", str(db), inc, str(draft.id), name, "1", str(go)) for name in ("Ana", "Bea")]
    for p in procs:
        await read_json(p)
    go.touch()
    answers = [await read_json(p) for p in procs]
    for p in procs:
        await p.wait()
    saved = [a for a in answers if "saved" in a]
    refused = [a for a in answers if "conflict" in a]
    assert len(saved) == 1 and len(refused) == 1
    assert refused[0]["conflict"] == 2
    store = await SqliteStore.open(db)
    final = await store.get_draft(inc, draft.id)
    conflicts = [e for e in await store.events_after(inc, 0, 1000) if e.kind == "draft.conflict"]
    await store.close()
    assert final.version == 2 and final.body == refused[0]["current_body"]
    assert len(conflicts) == 1 and conflicts[0].payload["body"] != final.body


async def test_kill_9_in_the_middle_of_a_batch_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = await new_incident(db)
    writer = await spawn("ingest-forever", str(db), inc)
    committed = 0
    while committed < 3000:
        committed = (await read_json(writer))["committed"]
    await asyncio.sleep(0.05)  # let it be inside the next batch
    os.kill(writer.pid, signal.SIGKILL)
    await writer.wait()
    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = await SqliteStore.open(db)
    comments = await store.comments(inc)
    rows = await store.raw_events(inc)
    await store.close()
    ingested = sum(1 for r in rows if r[4] == "comment.ingested")
    assert len(comments) >= committed
    assert len(comments) % 200 == 0, "a batch is all or nothing"
    assert ingested == len(comments)
    checked, broken = verify_chain(rows)
    assert broken is None and checked == len(rows)


async def test_a_subscriber_in_another_process_sees_1000_events_in_order(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    inc = await new_incident(db)
    store = await SqliteStore.open(db)
    start = (await store.latest_events(inc, 1))[-1].seq
    listener = await spawn("subscribe", str(db), inc, "1000", str(start))
    await read_json(listener)
    written: list[int] = []
    for i in range(1000):
        note = await store.add_note(inc, f"note {i}", actor="Ana")
        assert note.id == i + 1
        if i % 100 == 0:
            await asyncio.sleep(0.01)
    written = [e.seq for e in await store.events_after(inc, start, 5000)]
    await store.close()
    got = (await read_json(listener, 60))["seqs"]
    await listener.wait()
    assert got == written and len(got) == 1000
