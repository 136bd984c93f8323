"""An event of a kind a newer crisis-tui wrote, and one whose payload does not fit its kind:
kept in the file, exported in every format, shown in the room, replayed by import, never a crash."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import msgspec

from crisis_tui import events
from crisis_tui.importer import import_file
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.event_story import (
    BROKEN_PAYLOAD,
    NEWER_KIND,
    NEWER_PAYLOAD,
    every_kind,
    newer_and_broken,
)
from tests.room_support import loaded, make_app, wait_for
from tests.test_export import export

NEWER_LINE = f"unknown event kind {NEWER_KIND}"
BROKEN_LINE = "unreadable alert.spike event"


async def story(path: Path, book: Playbook) -> str:
    store = await SqliteStore.open(path, playbook=book)
    try:
        inc = await every_kind(store, book)
        await newer_and_broken(store, inc)
    finally:
        await store.close()
    return inc


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={**os.environ}, check=False)


async def test_they_are_stored_as_written_and_the_chain_verifies(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "incident.db"
    inc = await story(db, book)
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        *_, newer, broken = await store.events_after(inc, 0, 1000)
        assert (newer.kind, newer.payload) == (NEWER_KIND, NEWER_PAYLOAD)
        assert newer.body == events.UnknownEvent(kind=NEWER_KIND, payload=NEWER_PAYLOAD)
        assert (broken.kind, broken.payload) == ("alert.spike", BROKEN_PAYLOAD)
        assert isinstance(broken.body, events.BrokenEvent)
        assert (await store.get_incident(inc)).status == "closed"  # the projections went on around them
    finally:
        await store.close()
    checked = cli("verify", f"{db}#{inc}", cwd=tmp_path)
    assert checked.returncode == 0 and "chain intact" in checked.stdout, checked.stdout + checked.stderr


async def test_every_export_keeps_them_and_names_them(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "incident.db"
    inc = await story(db, book)

    (json_file,) = await export(db, inc, "json", tmp_path / "eval.json", book)
    document = msgspec.json.decode(json_file.read_bytes())
    by_kind = [(e["kind"], e["payload"]) for e in document["events"]]
    assert by_kind[-2:] == [(NEWER_KIND, NEWER_PAYLOAD), ("alert.spike", BROKEN_PAYLOAD)]
    assert document["metrics"]["events"] == len(document["events"])

    files = await export(db, inc, "csv", f"{tmp_path}/csv/", book)
    with next(f for f in files if f.name == "events.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    newer, broken = rows[-2:]
    assert newer["kind"] == NEWER_KIND and NEWER_LINE in newer["summary"]
    assert msgspec.json.decode(newer["payload"]) == NEWER_PAYLOAD
    assert broken["kind"] == "alert.spike" and BROKEN_LINE in broken["summary"]
    assert msgspec.json.decode(broken["payload"]) == BROKEN_PAYLOAD

    (md_file,) = await export(db, inc, "md", tmp_path / "eval.md", book)
    md = md_file.read_text(encoding="utf-8")
    assert NEWER_LINE.replace("_", "\\_") in md and BROKEN_LINE in md

    (html_file,) = await export(db, inc, "html", tmp_path / "eval.html", book)
    html = html_file.read_text(encoding="utf-8")
    assert NEWER_LINE in html and BROKEN_LINE in html


async def test_import_replays_them_byte_for_byte(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "incident.db"
    inc = await story(db, book)
    (exported,) = await export(db, inc, "json", tmp_path / "eval.json", book)
    copy = tmp_path / "copy.db"
    result = await import_file(exported, str(copy), playbook=book)
    stores = [await SqliteStore.open(p, read_only=True, playbook=book) for p in (db, copy)]
    try:
        original, imported = [[row[1:] for row in await s.raw_events(inc)] for s in stores]
        assert imported == original  # the newer and the broken event too: same bytes, same hashes
        assert result.events == len(original)
        assert await stores[1].get_incident(inc) == await stores[0].get_incident(inc)
        for read in ("comments", "drafts", "decisions", "counts"):  # every kind, projected again by type
            assert await getattr(stores[1], read)(inc) == await getattr(stores[0], read)(inc), read
        seats = [[(p.name, p.role, p.joined_at, p.focus, p.left_at) for p in await s.presence(inc)] for s in stores]
        assert seats[1] == seats[0]
    finally:
        for s in stores:
            await s.close()


async def test_the_room_shows_them_on_its_timeline_and_keeps_going(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "incident.db"
    inc = await story(db, book)
    store = await SqliteStore.open(db, playbook=book)
    try:
        app = make_app(store, inc, book)
        async with app.run_test(size=(120, 40)) as pilot:
            await loaded(pilot)
            lines = [e.text for e in app.room.state.timeline]
            assert any(NEWER_LINE in line for line in lines), lines
            assert any(BROKEN_LINE in line for line in lines), lines
            # live: another one arrives while the room is open, and the room goes on
            await store.alert(inc, "alert.from_the_future", {"x": [1, 2]})
            await wait_for(pilot, lambda: any("alert.from_the_future" in e.text for e in app.room.state.timeline))
            entry = app.room.state.timeline[-1]
            assert entry.look == "alert"
            await store.add_note(inc, "still here", actor="Luis")
            await wait_for(pilot, lambda: app.room.state.timeline[-1].text.endswith("noted: still here"))
            assert app.is_running
    finally:
        await store.close()
