"""A drop folder: files put there are taken once and moved to done/ or rejected/."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crisis_tui.intake.folder import DropFolder
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.intake.runner import Runner
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore

CLI = [sys.executable, "-m", "crisis_tui"]


def comments(prefix: str, count: int) -> str:
    return "".join(json.dumps({"source": "instagram", "id": f"{prefix}{i}", "author": f"ig_{i}",
                               "text": f"Ordine annullato, rimborso sparito ({i})"}) + "\n" for i in range(count))


def stored(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return sorted(r[0] for r in con.execute("SELECT external_id FROM comments"))


async def test_files_are_taken_once_and_moved(tmp_path: Path, book: Playbook) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "morning.jsonl").write_text(comments("m", 5), encoding="utf-8")
    (drop / "broken.jsonl").write_text("not json\n{}\n", encoding="utf-8")
    (drop / "mixed.jsonl").write_text(comments("x", 2) + '{"source": "x", "id": "bad"}\n', encoding="utf-8")
    (drop / ".hidden.jsonl").write_text(comments("h", 1), encoding="utf-8")
    (drop / "notes.txt").write_text("not for us", encoding="utf-8")

    db = tmp_path / "room.db"
    store = await SqliteStore.open(db, playbook=book)
    incident = (await store.create_incident("Refund delays", actor="Luis")).id
    stop = asyncio.Event()
    messages: list[str] = []
    folder = DropFolder(drop, stop, report=messages.append, settle=0.05)
    runner = Runner(store, incident, Pipeline(book), RejectLog(None, messages.append), report=messages.append, stop=stop)
    task = asyncio.create_task(runner.run(folder.chunks()))
    try:
        deadline = time.monotonic() + 15
        while not (drop / "done" / "mixed.jsonl").exists() or not (drop / "rejected" / "broken.jsonl").exists():
            assert time.monotonic() < deadline, messages
            await asyncio.sleep(0.05)

        # a new file appears while watching, then another one under a name already used
        (drop / "noon.json.tmp").write_text(json.dumps([json.loads(x) for x in comments("n", 3).splitlines()]))
        (drop / "noon.json.tmp").rename(drop / "noon.json")
        (drop / "morning.jsonl").write_text(comments("m", 7), encoding="utf-8")
        while not ((drop / "done" / "noon.json").exists() and (drop / "done" / "morning-1.jsonl").exists()):
            assert time.monotonic() < deadline + 15, messages
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        tally = await asyncio.wait_for(task, 10)
        await store.close()

    assert stored(db) == sorted([f"m{i}" for i in range(7)] + ["x0", "x1"] + [f"n{i}" for i in range(3)])
    assert (tally.ingested, tally.duplicates, tally.rejected) == (12, 5, 3)
    assert sorted(p.name for p in (drop / "done").iterdir()) == ["mixed.jsonl", "morning-1.jsonl", "morning.jsonl", "noon.json"]
    assert sorted(p.name for p in drop.iterdir() if p.is_file()) == [".hidden.jsonl", "notes.txt"]
    broken = [json.loads(x) for x in (drop / "rejected" / "broken.jsonl.rejected.jsonl").read_text().splitlines()]
    assert [b["where"] for b in broken] == ["broken.jsonl:1", "broken.jsonl:2"]
    assert broken[0]["reason"].startswith("not valid JSON") and broken[1]["reason"] == "source: is required"
    mixed = json.loads((drop / "rejected" / "mixed.jsonl.rejected.jsonl").read_text())
    assert mixed["where"] == "mixed.jsonl:3" and mixed["raw"] == '{"source": "x", "id": "bad"}'
    assert "broken.jsonl: nothing could be taken; moved to rejected/broken.jsonl" in messages


@pytest.mark.slow
def test_the_cli_watches_a_folder_until_stopped(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.jsonl").write_text(comments("a", 4), encoding="utf-8")
    proc = subprocess.Popen([*CLI, "ingest", str(db), str(drop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (drop / "done" / "a.jsonl").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (drop / "b.jsonl").write_text(comments("b", 2), encoding="utf-8")
        while not (drop / "done" / "b.jsonl").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out.strip() == "ingested 6, duplicates 0, rejected 0"


def test_once_takes_what_is_there_and_exits(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "a.jsonl").write_text(comments("a", 3), encoding="utf-8")
    done = subprocess.run([*CLI, "ingest", str(db), str(drop), "--once"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 3, duplicates 0, rejected 0"
    assert (drop / "done" / "a.jsonl").exists()
