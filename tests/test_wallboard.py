"""The wallboard: the room's big screen reads the incident, follows it live, and cannot write."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.widget import Widget
from textual.widgets import Digits, Static

from crisis_tui import demo_script
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import Forbidden
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.wallboard.app import WallboardApp
from crisis_tui.wallboard.banner import SeverityBanner
from crisis_tui.wallboard.boards import DecisionsBoard, PresenceBoard, TimelineTail
from crisis_tui.wallboard.figure import BigFigure
from crisis_tui.wallboard.numeral import Numeral, draw
from crisis_tui.wallboard.trend import Trend

HOSTILE_TITLE = "[bold red]PWNED[/] [@click=app.quit]x \x1b]52;c;aGk=\x07 refunds"


@pytest.fixture
async def room(tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[SqliteStore, SqliteStore, str]]:
    """(writer, read-only viewer, incident id) on the played demo crisis."""
    db = tmp_path / "room.db"
    writer = await SqliteStore.open(db, playbook=book)
    inc = await demo_script.create_demo_incident(writer)
    await demo_script.play(writer, inc, speed=0)
    viewer = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        yield writer, viewer, inc
    finally:
        await viewer.close()
        await writer.close()


async def until(pilot: object, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `check()` holds (the board refreshes on its own timers)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the wallboard did not get there in time"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def visible(app: WallboardApp, widget: Widget) -> bool:
    region = widget.region
    return region.width > 0 and region.height > 0 and app.screen.region.contains_region(region)


def figure(app: WallboardApp, figure_id: str) -> BigFigure:
    return app.query_one(f"#{figure_id}", BigFigure)


async def test_a_writable_store_is_refused(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "w.db", playbook=book)
    try:
        inc = (await store.create_incident("Refunds", actor="Luis")).id
        with pytest.raises(Forbidden, match="read-only"):
            WallboardApp(store, inc, playbook=book)
    finally:
        await store.close()


async def test_the_wallboard_cannot_write(room: tuple[SqliteStore, SqliteStore, str], book: Playbook) -> None:
    writer, viewer, inc = room
    before = len(await writer.raw_events(inc))
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.state.events_seen == before)
        # Every key a room operator would use does nothing here (only q quits, t changes theme).
        await pilot.press(*"cranbdeisx/", "enter", "space", "ctrl+p", "ctrl+s", "escape", "tab", "delete")
        await pilot.pause(0.3)
        assert app.is_running
        # The store the app holds refuses every command...
        attempts = [
            app.store.add_note(inc, "from the wallboard", actor="Wall"),
            app.store.claim(inc, 2, actor="Wall"),
            app.store.mark(inc, 3, "ignored", actor="Wall"),
            app.store.heartbeat(inc, actor="Wall", role="cm"),
            app.store.propose_decision(inc, "Take the post down", actor="Wall", rationale="x"),
            app.store.update_incident(inc, actor="Wall", severity="sev1"),
            app.store.ingest(inc, [parse_comment({"source": "x", "id": "w-1", "author": "@w", "text": "hi"})]),
            app.store.save_draft(inc, "hello", actor="Wall", kind="statement"),
        ]
        for attempt in attempts:
            with pytest.raises(Forbidden, match="read-only"):
                await attempt
        # ...and underneath, the SQLite connection itself is read-only.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await viewer._db.execute("INSERT INTO notes (id, incident_id, author, text, at) VALUES (99, ?, 'x', 'y', 0)",
                                     (inc,))
    assert len(await writer.raw_events(inc)) == before
    assert [p.name for p in await writer.presence(inc)] == ["Luis", "Ana", "Giulia", "Sam"]


async def test_at_80x24_every_pane_shows_and_the_figures_are_right(
    room: tuple[SqliteStore, SqliteStore, str], book: Playbook
) -> None:
    writer, viewer, inc = room
    counts = await writer.counts(inc)
    total = len(await writer.raw_events(inc))
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=(80, 24)) as pilot:
        # the demo's 151 comments all arrived within the last minute
        await until(pilot, lambda: app.state.events_seen == total and figure(app, "rate").value == str(counts.total))
        assert figure(app, "unanswered").value == str(counts.unanswered)
        for widget_type in (SeverityBanner, BigFigure, Trend, PresenceBoard, DecisionsBoard, TimelineTail):
            for widget in app.query(widget_type):
                assert visible(app, widget), widget
        assert not app.screen.has_class("-large") and not app.screen.has_class("-medium")
        assert all(d.region.height == 3 for d in app.query(Digits)) and not any(n.display for n in app.query(Numeral))
        assert figure(app, "oldest").status.startswith("✓ within SLA")
        assert figure(app, "oldest").has_class("-ok")
        assert ":" in figure(app, "oldest").value
        assert figure(app, "rate").status.startswith("▲ rising")
        banner = str(app.query_one(SeverityBanner).content)
        assert banner.startswith("▲▲ SEV2 │ Refund delays after the app update")
        decisions = app.query_one(DecisionsBoard).lines()
        assert str(decisions[0]).startswith("✓ APPROVED") and "holding statement" in str(decisions[0])
        people = [str(line) for line in app.query_one(PresenceBoard).lines()]
        assert any(line.startswith("● Luis General manager  ★") for line in people)
        volume = app.query_one("#volume", Trend)
        assert f"now {counts.total}/min" in volume.label
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "Giulia marked @user84721" in screen
        assert "q quit" in screen and "t theme" in screen


@pytest.mark.parametrize("size", [(200, 60), (240, 70)])
async def test_on_a_big_screen_the_board_grows(
    room: tuple[SqliteStore, SqliteStore, str], book: Playbook, size: tuple[int, int]
) -> None:
    writer, viewer, inc = room
    total = len(await writer.raw_events(inc))
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.state.events_seen == total)
        await pilot.pause(0.3)
        assert app.screen.has_class("-large")
        assert app.query_one("#banner").region.height == 3
        assert app.query_one("#volume", Trend).region.height == 6
        assert app.query_one("#volume").region.width > 150  # stacked, full width
        timeline = app.query_one(TimelineTail)
        assert timeline.region.width > app.query_one(PresenceBoard).region.width
        for widget in app.query(Widget):
            if widget.display and widget.region.height:
                assert app.screen.region.contains_region(widget.region), widget
        # block numerals, five rows high, replace the three-row digits on a big screen
        numerals = list(app.query(Numeral))
        assert len(numerals) == 3 and all(n.region.height == 5 and n.value for n in numerals)
        assert not any(d.display for d in app.query(Digits))
        assert figure(app, "rate").query_one(Numeral).value == figure(app, "rate").value
        # the panes repaint on the board's own timer, after the state has the events
        opened = "Luis opened the incident: Refund delays after the app update"
        await until(pilot, lambda: opened in app.export_screenshot().replace("&#160;", " "))


async def test_it_follows_the_room_live(room: tuple[SqliteStore, SqliteStore, str], book: Playbook) -> None:
    writer, viewer, inc = room
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=(120, 40)) as pilot:
        start = (await writer.counts(inc)).unanswered
        await until(pilot, lambda: figure(app, "unanswered").value == str(start))
        await writer.ingest(inc, [parse_comment({"source": "x", "id": f"live-{i}", "author": f"@n{i}",
                                                 "text": "still waiting"}) for i in range(7)])
        await until(pilot, lambda: figure(app, "unanswered").value == str(start + 7))
        decision = await writer.propose_decision(inc, "Escalate to the client", actor="Sam", rationale="their bug")
        await until(pilot, lambda: str(app.query_one(DecisionsBoard).lines()[0]).startswith("? PROPOSED"))
        await writer.vote_decision(inc, decision.id, False, actor="Luis")
        await until(pilot, lambda: str(app.query_one(DecisionsBoard).lines()[0]).startswith("✗ REJECTED"))
        await writer.update_incident(inc, actor="Luis", severity="sev1")
        await until(pilot, lambda: str(app.query_one(SeverityBanner).content).startswith("▲▲▲ SEV1"))
        assert app.query_one(SeverityBanner).has_class("-rank-0")
        await writer.leave(inc, actor="Giulia")
        await until(pilot, lambda: any("1 left the room" in str(x) for x in app.query_one(PresenceBoard).lines()))
        await writer.add_note(inc, "client called back", actor="Ana")
        await until(pilot, lambda: "Ana noted: client called back" in app.state.timeline(5)[-1])


async def test_hostile_text_is_shown_literally(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "hostile.db"
    writer = await SqliteStore.open(db, playbook=book)
    inc = (await writer.create_incident(HOSTILE_TITLE, actor="[link=http://x]Mallory[/link]")).id
    await writer.heartbeat(inc, actor="[b]Eve[/b]", role="gm", focus="[@click=app.quit]click me")
    await writer.propose_decision(inc, "[/bold] [red broken markup", actor="[b]Eve[/b]", rationale="[i]why")
    viewer = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        app = WallboardApp(viewer, inc, playbook=book)
        async with app.run_test(size=(160, 40)) as pilot:
            await until(pilot, lambda: app.incident is not None and len(app.decisions) == 1)
            await pilot.pause(0.3)
            banner = str(app.query_one(SeverityBanner).content)
            assert "[bold red]PWNED[/] [@click=app.quit]x" in banner
            assert "\x1b" not in banner and "\x07" not in banner
            assert "[b]Eve[/b]" in str(app.query_one(PresenceBoard).lines()[0])
            assert "[/bold] [red broken markup" in str(app.query_one(DecisionsBoard).lines()[0])
            await pilot.click(SeverityBanner)
            await pilot.click(PresenceBoard)
            assert app.is_running  # the [@click=app.quit] in the focus did not become a link
    finally:
        await viewer.close()
        await writer.close()


async def test_theme_cycles_and_q_quits(room: tuple[SqliteStore, SqliteStore, str], book: Playbook) -> None:
    _, viewer, inc = room
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=(80, 24)) as pilot:
        first = app.theme
        await pilot.press("t")
        assert app.theme != first
        await pilot.press("t", "t")
        assert app.theme == first
        await pilot.press("q")
        await asyncio.sleep(0)
    assert not app.is_running


def test_block_numerals_draw_every_figure_character() -> None:
    rows = draw("12:05")
    assert len(rows) == 5 and len({len(r) for r in rows}) == 1
    assert rows[2].count("█") > 0
    assert draw("-", scale=1) == ["   ", "   ", "███", "   ", "   "]


async def test_the_board_says_when_the_last_situation_report_went_out(
    room: tuple[SqliteStore, SqliteStore, str], book: Playbook
) -> None:
    writer, viewer, inc = room
    app = WallboardApp(viewer, inc, playbook=book)
    async with app.run_test(size=(160, 50)) as pilot:
        keys = app.query_one("#keys", Static)
        await until(pilot, lambda: "no sitrep yet" in str(keys.content))
        event = await writer.record_sitrep(inc, "Situation report · all calm", actor="Luis", delivered=["leadership"])
        at = time.strftime("%H:%M", time.localtime(event.ts))
        await until(pilot, lambda: f"last sitrep {at}" in str(keys.content))
