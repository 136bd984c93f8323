"""The room's loader process (crisis_tui.loader_process): a large incident's older pages read and
packed in a process of its own, taken in by the room exactly as the pages it reads itself."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from crisis_tui import sync
from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import Comment, NewComment
from crisis_tui.packed_keys import decoded, frame, length_of, pack, pick
from crisis_tui.playbook import Playbook
from crisis_tui.room_state import Filter, RoomState
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import loaded, make_app, screen_text, sqlite, wait_for  # noqa: F401 - the fixtures
from tests.test_room_index import comment, keys_of


def hostile(n: int, nul: str = " ") -> NewComment:
    """Texts that casefold to other lengths, escapes (and, where the store keeps one, a NUL): the
    packed fold must be the room's own."""
    text = ["Straße refund", "İstanbul LATE", f"nul{nul}inside", "\x1b[31mred\x1b[0m", "ÉCLAIR"][n % 5]
    c = parse_comment({"source": ["x", "instagram"][n % 2], "id": f"c{n}", "author": f"@p{n % 9}",
                       "text": f"{text} {n}"})
    c.priority = (n * 7919 % 101) / 100
    return c


def ids(state: RoomState) -> list[int]:
    """The stream's ids, in its order."""
    return [cid for cid in (state.id_at(i) for i in range(len(state))) if cid is not None]


def packed_states(comments: list[Comment], page: int) -> tuple[RoomState, RoomState]:
    """The same pages taken in as the store's columns and as the loader packs them."""
    plain, packed = RoomState("inc"), RoomState("inc")
    for end in range(len(comments), 0, -page):
        keys = keys_of(comments[max(0, end - page):end])
        plain.load_keys(keys)
        packed.load_keys(decoded(frame(pack(keys))[8:]))
    return plain, packed


def test_a_packed_page_gives_the_index_the_columns_gives() -> None:
    rng = random.Random(11)
    comments = [comment(cid, rng) for cid in range(1, 2001) if cid % 13]  # ids with gaps
    plain, packed = packed_states(comments, 300)
    assert [packed.id_at(i) for i in range(len(packed))] == [plain.id_at(i) for i in range(len(plain))]
    assert packed.counts == plain.counts and packed.per_minute == plain.per_minute
    assert packed.held_by("Ana") == plain.held_by("Ana") and packed.cluster_ids(2) == plain.cluster_ids(2)
    for flt in (Filter(text="strasse"), Filter(text="ÉCLAIR", sources=frozenset({"x"})),
                Filter(statuses=frozenset({"answered"})), Filter(text="@user3\nrefund")):
        plain.set_filter(flt)
        packed.set_filter(flt)
        assert [packed.id_at(i) for i in range(len(packed))] == [plain.id_at(i) for i in range(len(plain))], flt
    plain_oldest, packed_oldest = plain.oldest_unanswered(), packed.oldest_unanswered()
    assert plain_oldest is not None and packed_oldest is not None and plain_oldest.id == packed_oldest.id


def test_a_packed_page_of_comments_already_known_only_moves_their_status() -> None:
    rng = random.Random(4)
    comments = [comment(cid, rng) for cid in range(1, 101)]
    state = RoomState("inc")
    state.load_comments(comments[40:60])
    page = pack(keys_of([c if not 40 < c.id <= 60 else msgspec.structs.replace(c, status="answered")
                         for c in comments]))
    state.load_keys(page)
    assert state.total == 100 and all(state.status_of(cid) == "answered" for cid in range(41, 61))
    assert pick(page, [0, 5])  # a page picked again is a page
    state.set_filter(Filter(text="number 7"))
    assert sorted(ids(state)) == [7, *range(70, 80)]


def test_what_is_not_a_page_is_refused_in_words() -> None:
    rng = random.Random(1)
    good = frame(pack(keys_of([comment(cid, rng) for cid in range(1, 11)])))
    with pytest.raises(ValueError, match="not a loader's page"):
        decoded(good[8:-3])
    with pytest.raises(ValueError, match="not a loader's page"):
        length_of(b"\xff" * 8)
    backwards = pack(keys_of([comment(cid, rng) for cid in (3, 2, 1)]))
    with pytest.raises(ValueError, match="not ascending"):
        decoded(frame(backwards)[8:])


def test_the_loader_process_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    for given, said in ((b"{not json", "loader: "), (b'{"database": "x", "incident_id": "i", "upper": 5, "page": 0}',
                                                     "nothing to read"),
                        (f'{{"database": "{tmp_path / "gone.db"}", "incident_id": "i", "upper": 5, "page": 2}}'.encode(),
                         "no incident file")):
        done = subprocess.run([sys.executable, "-m", "crisis_tui.loader_process"], input=given, capture_output=True,
                              timeout=60)
        assert done.returncode == 1 and done.stdout == b""
        lines = done.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and said in lines[0], lines


@pytest.mark.parametrize("page", [15, 7])
async def test_the_room_takes_the_older_pages_from_the_loader_process_where_it_can(
        store: IncidentStore, incident: str, book: Playbook, monkeypatch: pytest.MonkeyPatch, page: int) -> None:
    monkeypatch.setattr(sync, "FIRST_PAGE", 10)
    monkeypatch.setattr(sync, "PAGE", page)
    monkeypatch.setattr(sync, "LOADER_FROM", 0)
    await store.ingest(incident, [hostile(n) for n in range(1, 81)])
    app = make_app(store, incident, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        state, worker = app.room.state, app.room.sync
        assert (worker.pages_from_loader > 0) == (store.shared_at is not None)  # a server's client reads itself
        assert state.total == 80
        best = sorted(range(1, 81), key=lambda n: (-hostile(n).priority, -n))
        assert [state.id_at(i) for i in range(80)] == best
        state.set_filter(Filter(text="STRASSE"))
        assert sorted(ids(state)) == [n for n in range(1, 81) if n % 5 == 0]
        state.set_filter(Filter(text="nul inside"))
        assert len(state) == 16
        state.set_filter(Filter())
        await pilot.press("home")
        await wait_for(pilot, lambda: state.rows[best[0]].complete)
        assert "\x1b" not in screen_text(app)


async def test_a_loader_that_fails_leaves_the_rest_to_the_room_and_says_so(
        sqlite: SqliteStore, book: Playbook, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sync, "FIRST_PAGE", 10)
    monkeypatch.setattr(sync, "PAGE", 15)
    monkeypatch.setattr(sync, "LOADER_FROM", 0)
    incident = (await sqlite.create_incident("Refunds", actor="Ana")).id
    await sqlite.ingest(incident, [hostile(n) for n in range(1, 61)])
    sqlite.shared_at = str(tmp_path / "moved-away.db")  # the loader finds no file there
    app = make_app(sqlite, incident, book)
    said: list[str] = []
    async with app.run_test(size=(120, 30)) as pilot:
        real_notify = app.room.notify

        def notify(message: str, **kw: Any) -> None:
            said.append(message)
            real_notify(message, **kw)

        monkeypatch.setattr(app.room, "notify", notify)
        await loaded(pilot)
        assert app.room.state.total == 60 and app.room.sync.pages_from_loader == 0
        app.room.state.set_filter(Filter(text="nul inside"))
        assert len(app.room.state) == 12
        await wait_for(pilot, lambda: any("loader" in s for s in said))
        assert any("no incident file" in s and "loading the older comments here" in s for s in said), said


async def test_a_nul_in_an_older_files_text_hides_none_of_its_words_from_the_loaders_pages(
        sqlite: SqliteStore, book: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake keeps a NUL as U+FFFD now; a file written before holds the NUL itself, and SQLite's
    substr() ends a text there: the compact read takes such a text whole."""
    monkeypatch.setattr(sync, "FIRST_PAGE", 10)
    monkeypatch.setattr(sync, "PAGE", 15)
    monkeypatch.setattr(sync, "LOADER_FROM", 0)
    incident = (await sqlite.create_incident("Refunds", actor="Ana")).id
    await sqlite.ingest(incident, [hostile(n) for n in range(1, 61)])
    with sqlite3.connect(sqlite.path) as older:
        older.execute("UPDATE comments SET text = ? || id WHERE id % 5 = 2", ("nul\x00inside ",))
    app = make_app(sqlite, incident, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert app.room.sync.pages_from_loader > 0
        app.room.state.set_filter(Filter(text="nul inside"))  # the NUL reads as a space, as the room folds it
        assert len(app.room.state) == 12


def _loaders_of(pid: int) -> list[int]:
    """This process's children that are loader processes (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"crisis_tui.loader_process" in cmdline:
            found.append(int(entry.name))
    return found


async def test_a_room_closed_while_it_loads_leaves_no_loader_behind(
        sqlite: SqliteStore, book: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync, "FIRST_PAGE", 10)
    monkeypatch.setattr(sync, "PAGE", 50)
    monkeypatch.setattr(sync, "LOADER_FROM", 0)
    incident = (await sqlite.create_incident("Refunds", actor="Ana")).id
    # pages enough to fill the pipe: the loader waits on the room
    await sqlite.ingest(incident, [hostile(n) for n in range(1, 3001)])
    for wait in (0.0, 0.3):  # closed before its first screen, and while the pages come
        app = make_app(sqlite, incident, book)
        async with app.run_test(size=(120, 30)) as pilot:
            await pilot.pause(wait)
        assert _loaders_of(os.getpid()) == []
