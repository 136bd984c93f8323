"""A full disk, for real: a small tmpfs filled to its last byte under the incident file.

Each write is refused with one clear line and keeps nothing of itself; what was written
before stays, verify still passes, and writing goes on once space is freed. In the room,
the note or draft that was refused stays where it was typed.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crisis_tui.errors import DiskFull
from crisis_tui.playbook import Playbook
from crisis_tui.server.app import create_app
from crisis_tui.server.background import BackgroundServer
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook
from crisis_tui.widgets.editor import ResponseEditor
from crisis_tui.widgets.timeline import NoteInput
from tests.disk_support import SmallDisk, cli, comments_jsonl, small_disk  # noqa: F401 - the fixture
from tests.room_support import comments, loaded, make_app, wait_for

pytestmark = pytest.mark.timeout(240)


def full_line(db: Path) -> str:
    return f"the disk holding {db} is full: nothing was written; free space and try again"


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        return int(raw.execute(sql).fetchone()[0])


def notes(db: Path) -> list[str]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as raw:
        return [str(r[0]) for r in raw.execute("SELECT text FROM notes ORDER BY id")]


async def test_the_store_refuses_on_a_full_disk_and_writes_again_once_space_is_freed(
        small_disk: SmallDisk, book: Playbook) -> None:
    db = small_disk.root / "room.db"
    store = await SqliteStore.open(db, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, comments())
        before = len(await store.events_after(inc, 0, 1000))
        small_disk.fill()
        with pytest.raises(DiskFull) as refused:
            await store.add_note(inc, "Refunds paused until 18:00 " * 140, actor="Ana")
        assert str(refused.value) == full_line(db)
        with pytest.raises(DiskFull):
            await store.ingest(inc, comments([{"source": "x", "id": f"late-{n}", "author": "@a", "text": "x" * 900}
                                              for n in range(50)]))
        assert len(await store.events_after(inc, 0, 1000)) == before, "nothing of a refused write is kept"
        small_disk.free()
        await store.add_note(inc, "Refunds paused until 18:00", actor="Ana")
        assert notes(db) == ["Refunds paused until 18:00"]
    finally:
        await store.close()
    assert cli("verify", str(db)).returncode == 0


async def test_a_note_and_a_draft_refused_by_a_full_disk_stay_typed_and_go_in_later(
        small_disk: SmallDisk, book: Playbook) -> None:
    db = small_disk.root / "room.db"
    store = await SqliteStore.open(db, playbook=book)
    inc = (await store.create_incident("Refund delays", actor="Luis")).id
    await store.ingest(inc, comments())
    app = make_app(store, inc, book)
    try:
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await loaded(pilot)
            reply = app.room.query_one(ResponseEditor)
            await pilot.press("r", *"Sorry Dan")
            await wait_for(pilot, lambda: reply.target is not None and reply.target.draft_id is not None
                           and not reply.dirty, timeout=10)
            small_disk.fill()

            await pilot.press(*", we are on it")
            await wait_for(pilot, lambda: any("not saved, still in the editor" in str(n.message)
                                              for n in app._notifications), timeout=15)
            assert reply.text == "Sorry Dan, we are on it" and reply.dirty

            await pilot.press("escape", "n", *"Refunds paused until 18:00", "enter")
            box = app.room.query_one(NoteInput)
            await wait_for(pilot, lambda: box.value == "Refunds paused until 18:00" and box.has_class("-open"),
                           timeout=15)
            said = [str(n.message) for n in app._notifications]
            assert full_line(db) in said
            assert notes(db) == []

            small_disk.free()
            box.focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: not box.value, timeout=10)
            await wait_for(pilot, lambda: notes(db) == ["Refunds paused until 18:00"], timeout=10)

            reply.text_area.focus()
            await pilot.press("end", "!")
            # 20 s: once on two test workers the autosave after the disk came back took over 10
            await wait_for(pilot, lambda: not reply.dirty, timeout=20)
            assert [d.body for d in await store.drafts(inc, comment_id=3)] == ["Sorry Dan, we are on it!"]
    finally:
        await store.close()
    assert cli("verify", str(db)).returncode == 0


def test_ingest_on_a_full_disk_says_one_line_exits_non_zero_and_a_rerun_takes_the_rest(
        small_disk: SmallDisk, tmp_path: Path) -> None:
    db = small_disk.root / "room.db"
    assert cli("new", str(db), "--title", "Refund delays", "--as", "Luis").returncode == 0
    source = comments_jsonl(tmp_path / "backlog.jsonl", 5_000, text_size=400)
    small_disk.fill()
    small_disk.free(5 * 1024 * 1024)

    first = cli("ingest", str(db), str(source))
    assert first.returncode == 1, first.stderr
    assert first.stderr.splitlines() == [f"crisis-tui: {full_line(db)}"]
    stored = int(first.stdout.split()[1].rstrip(","))
    assert first.stdout.splitlines() == [f"ingested {stored}, duplicates 0, rejected 0"]
    assert 0 < stored < 5_000
    assert count(db, "SELECT count(*) FROM comments") == stored
    assert cli("verify", str(db)).returncode == 0, "what was acknowledged is intact"

    small_disk.free()
    again = cli("ingest", str(db), str(source))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [f"ingested {5_000 - stored}, duplicates {stored}, rejected 0"]
    assert count(db, "SELECT count(DISTINCT external_id) FROM comments") == 5_000
    assert cli("verify", str(db)).returncode == 0


def test_a_followed_file_keeps_its_position_on_a_full_disk_and_a_rerun_resumes_there(
        small_disk: SmallDisk, tmp_path: Path) -> None:
    db = small_disk.root / "room.db"
    assert cli("new", str(db), "--title", "Refund delays", "--as", "Luis").returncode == 0
    source = comments_jsonl(tmp_path / "live.jsonl", 5_000, text_size=400)
    small_disk.fill()
    small_disk.free(5 * 1024 * 1024)

    first = cli("ingest", str(db), str(source), "--follow")
    assert first.returncode == 1
    said = [line for line in first.stderr.splitlines() if not line.startswith("spike: ")]  # a burst is a spike
    assert len(said) == 1 and "Traceback" not in first.stderr
    line = said[0]
    assert line == f"crisis-tui: {full_line(db)}" or (
        line.startswith(f"crisis-tui: cannot save the intake position in {db}.intake/")
        and line.endswith("(No space left on device): what was read so far is stored, and a rerun takes the rest"))
    stored = count(db, "SELECT count(*) FROM comments")
    assert stored > 0

    small_disk.free()
    with source.open("a", encoding="utf-8") as handle:  # and the file goes on growing meanwhile
        handle.write('{"source": "x", "id": "c-new", "author": "@late", "text": "still waiting"}\n')
    proc = subprocess.Popen([sys.executable, "-m", "crisis_tui", "ingest", str(db), str(source), "--follow"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while count(db, "SELECT count(*) FROM comments") < 5_001 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert count(db, "SELECT count(DISTINCT external_id) FROM comments") == 5_001
    ingested, duplicates = (int(part.split()[-1]) for part in out.strip().split(",")[:2])
    assert ingested == 5_001 - stored
    if line == f"crisis-tui: {full_line(db)}":
        assert duplicates == 0, "the rerun resumed right after the last stored chunk"
    assert cli("verify", str(db)).returncode == 0


async def test_a_server_on_a_full_disk_answers_503_naming_it_and_takes_the_write_once_space_is_back(
        small_disk: SmallDisk, book: Playbook) -> None:
    """The same StorageFault crosses the wire: a raw client meets what the room meets."""
    db = small_disk.root / "served.db"
    store = await SqliteStore.open(db, playbook=book)
    inc = (await store.create_incident("Refund delays", actor="Luis")).id
    await store.close()
    tokens = await TokenBook.open(db)
    secret = (await tokens.create("Ana", "operator"))[1]
    server = BackgroundServer(create_app(db, playbook=book))
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {secret}"},
                                     timeout=30) as ana:
            small_disk.fill()
            refused = await ana.post(f"/incidents/{inc}/notes", json={"text": "Refunds paused until 18:00 " * 100})
            assert refused.status_code == 503, refused.text
            assert refused.json()["detail"] == full_line(db)
            assert (await ana.get(f"/incidents/{inc}")).status_code == 200, "reads go on"
            small_disk.free()
            taken = await ana.post(f"/incidents/{inc}/notes", json={"text": "Refunds paused until 18:00"})
            assert taken.status_code in (200, 201), taken.text
    finally:
        server.stop()
        await tokens.close()
    assert notes(db) == ["Refunds paused until 18:00"]
