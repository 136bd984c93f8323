"""Following a file the monitoring tool appends to: through truncation, rotation and restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crisis_tui.intake.follow import FollowedFile
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.intake.runner import Runner, Tally
from crisis_tui.intake.state import StateFile
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.intake_support import room  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "crisis_tui"]


def line(number: int, prefix: str = "f") -> str:
    return json.dumps({"source": "x", "id": f"{prefix}{number}", "author": f"@u{number % 50}",
                       "text": f"Sigo sin reembolso, día {number}", "lang": "es"}) + "\n"


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as out:
        out.write(text)
        out.flush()


def count(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT count(*) FROM comments").fetchone()[0])


def ids(db: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return [r[0] for r in con.execute("SELECT external_id FROM comments ORDER BY id")]


async def wait_for(db: Path, expected: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while count(db) < expected:
        assert time.monotonic() < deadline, f"only {count(db)} of {expected} comments arrived"
        await asyncio.sleep(0.02)


class Following:
    """A follow running in this process against a real SqliteStore file."""

    def __init__(self, store: SqliteStore, incident: str, path: Path, state: Path, book: Playbook) -> None:
        self.stop = asyncio.Event()
        self.messages: list[str] = []
        source = FollowedFile(path, StateFile(state), self.stop, report=self.messages.append, poll=0.02)
        runner = Runner(store, incident, Pipeline(book), RejectLog(path.with_suffix(".rejected"), self.messages.append),
                        report=self.messages.append, stop=self.stop)
        self.task: asyncio.Task[Tally] = asyncio.create_task(runner.run(source.chunks()))

    async def finish(self) -> Tally:
        self.stop.set()
        return await asyncio.wait_for(self.task, 10)


async def test_new_lines_arrive_and_a_half_written_line_waits_for_its_newline(
    room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook
) -> None:
    store, incident, db = room
    path = tmp_path / "stream.jsonl"
    append(path, line(1) + line(2))
    follow = Following(store, incident, path, tmp_path / "state.json", book)
    await wait_for(db, 2)
    half = line(3)
    append(path, half[:20])
    await asyncio.sleep(0.3)
    assert count(db) == 2  # not a line yet
    append(path, half[20:] + line(4))
    await wait_for(db, 4)
    append(path, "{broken\n" + line(5))
    await wait_for(db, 5)
    tally = await follow.finish()
    assert (tally.ingested, tally.duplicates, tally.rejected) == (5, 0, 1)
    assert "stream.jsonl:5: not valid JSON" in " ".join(follow.messages)
    assert ids(db) == ["f1", "f2", "f3", "f4", "f5"]


async def test_truncation_and_rotation_lose_nothing(room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook) -> None:
    store, incident, db = room
    path = tmp_path / "stream.jsonl"
    append(path, "".join(line(i) for i in range(1, 4)))
    follow = Following(store, incident, path, tmp_path / "state.json", book)
    await wait_for(db, 3)

    path.write_text(line(10), encoding="utf-8")  # copytruncate-style: same file, shorter
    await wait_for(db, 4)

    append(path, line(11))
    await wait_for(db, 5)
    os.rename(path, tmp_path / "stream.jsonl.1")  # logrotate-style: renamed, then a new file
    append(tmp_path / "stream.jsonl.1", line(12))  # the writer still had the old file open
    append(path, line(20) + line(21))
    await wait_for(db, 8)
    tally = await follow.finish()
    assert sorted(ids(db)) == sorted(["f1", "f2", "f3", "f10", "f11", "f12", "f20", "f21"])
    assert tally.duplicates == 0
    said = " ".join(follow.messages)
    assert "truncated" in said and "rotated" in said


async def test_a_restart_resumes_after_the_last_stored_line(
    room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook
) -> None:
    store, incident, db = room
    path = tmp_path / "stream.jsonl"
    state = tmp_path / "state.json"
    append(path, "".join(line(i) for i in range(1, 101)))
    first = Following(store, incident, path, state, book)
    await wait_for(db, 100)
    assert (await first.finish()).ingested == 100

    append(path, "".join(line(i) for i in range(101, 151)))  # written while we were stopped
    os.rename(path, tmp_path / "stream.jsonl.1")  # ...and rotated while we were stopped
    append(path, "".join(line(i) for i in range(151, 171)))
    second = Following(store, incident, path, state, book)
    await wait_for(db, 170)
    tally = await second.finish()
    assert (tally.ingested, tally.duplicates) == (70, 0)
    assert ids(db) == [f"f{i}" for i in range(1, 171)]
    assert json.loads(state.read_text())["line"] == 20


def _start(db: Path, path: Path, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "ingest", str(db), str(path), "--follow", "--poll", "0.02", "--state", str(state)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


async def _write_slowly(path: Path, numbers: range) -> None:
    for start in range(numbers.start, numbers.stop, 10):
        append(path, "".join(line(i) for i in range(start, min(start + 10, numbers.stop))))
        await asyncio.sleep(0.01)


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
async def test_a_follow_restarted_halfway_takes_every_line_once(tmp_path: Path, how: signal.Signals) -> None:
    db = tmp_path / "room.db"
    made = subprocess.run([*CLI, "new", str(db), "--title", "Refund delays"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    path = tmp_path / "stream.jsonl"
    state = tmp_path / "follow-state.json"
    path.touch()

    first = _start(db, path, state)
    await _write_slowly(path, range(1, 1001))
    await wait_for(db, 400, timeout=60)
    first.send_signal(how)
    out, err = first.communicate(timeout=30)
    stored_before = count(db)
    if how == signal.SIGTERM:
        assert first.returncode == 0, err
        assert out.strip().splitlines() == [f"ingested {stored_before}, duplicates 0, rejected 0"]

    await _write_slowly(path, range(1001, 1501))  # lines written while the intake is down
    second = _start(db, path, state)
    await _write_slowly(path, range(1501, 2001))
    await wait_for(db, 2000, timeout=60)
    second.send_signal(signal.SIGTERM)
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err

    assert ids(db) == [f"f{i}" for i in range(1, 2001)]  # none skipped, none twice, in order
    ingested, duplicates, _ = (int(part.split()[1]) for part in out.strip().split(", "))
    assert ingested == 2000 - stored_before
    if how == signal.SIGTERM:
        assert duplicates == 0  # a clean stop saved the exact position
    else:
        assert duplicates <= 1000  # at most the chunks in flight at the kill are read again
