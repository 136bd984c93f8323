"""Hostile strangers' text through every pane that shows comment text or names.

Markup is shown literally and never runs an action, escape sequences never
reach the terminal, bidi overrides and zero-width characters are dropped, and a
megabyte of text neither crashes the app nor breaks the layout.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui.app import CrisisApp
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.screens.room import RoomScreen
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.editor import ResponseEditor
from crisis_tui.widgets.stream import CommentStream
from tests.room_support import loaded, make_app, wait_for

HOSTILE = {
    "markup": "[bold]x[/]",
    "click": "[@click=app.quit]x[/]",
    "broken": "[/bold] [red",
    "ansi": "\x1b[31mred\x1b[0m \x1b[2J",
    "osc52": "\x1b]52;c;ZXZpbA==\x07copy",
    "bidi": "\u202eevil\u202c txt",
    "zero_width": "a\u200bb\u200dc\ufeff",
    "nul": "a\x00b\x07c\x9bd",
}
BAD_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
MEGABYTE = ("[red]" + "A" * 90 + "\x1b[5m\n") * 10_000


def hostile_comments() -> list[NewComment]:
    out = [
        NewComment(source="x", external_id=f"h-{name}", author=f"@{payload}", text=f"{payload} said {payload}",
                   priority=0.5 + i / 100)
        for i, (name, payload) in enumerate(HOSTILE.items())
    ]
    out.append(NewComment(source="tiktok", external_id="h-mb", author="@megabyte", text=MEGABYTE, priority=0.99))
    return out


def assert_clean_screen(app: CrisisApp) -> str:
    """No control, escape, bidi or zero-width character in anything the terminal is sent."""
    lines = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            assert not BAD_CHARS.search(segment.text), repr(segment.text)
        lines.append(strip.text)
    assert len(lines) == app.size.height
    return "\n".join(lines)


@pytest.fixture
async def hostile(tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[SqliteStore, str]]:
    store = await SqliteStore.open(tmp_path / "hostile.db", playbook=book)
    try:
        inc = (await store.create_incident("[bold]Refund[/] \x1b]52;c;eA==\x07 delays", actor="Luis")).id
        await store.ingest(inc, hostile_comments())
        await store.heartbeat(inc, actor="[@click=app.quit]Mallory", role="cm", focus="[/bold] replying \x1b[31m")
        await store.propose_decision(inc, "[@click=app.quit]publish[/] \u202eit", actor="[red]Eve",
                                     rationale="[b]because[/b]")
        await store.add_note(inc, "[/bold] [red \x1b]52;c;bm90ZQ==\x07", actor="Luis")
        yield store, inc
    finally:
        await store.close()


async def test_stream_header_committee_and_timeline_show_hostile_text_literally(
    hostile: tuple[SqliteStore, str], book: Playbook
) -> None:
    store, inc = hostile
    app = make_app(store, inc, book)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await loaded(pilot)
        text = assert_clean_screen(app)
        assert "[bold]Refund[/]" in text  # the incident title, in the header
        assert "[bold]x[/] said" in text and "[/bold] [red said" in text  # stream text column
        assert "@[@click=app.qu" in text and "@[/bold] [red" in text  # stream author column
        assert "[@click=app.quit]Mallory" in text and "[/bold] replying" in text  # committee presence
        assert "[@click=app.quit]publish[/]" in text  # committee decision
        assert "noted: [/bold] [red" in text  # timeline
        assert "evil txt" in text and "abc" in text


async def test_clicking_hostile_markup_runs_nothing(hostile: tuple[SqliteStore, str], book: Playbook) -> None:
    store, inc = hostile
    app = make_app(store, inc, book)
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot)
        stream = app.room.query_one(CommentStream)
        for y in range(len(app.room.state)):
            await pilot.click(CommentStream, offset=(40, y + 1))
            await pilot.click(CommentStream, offset=(70, y + 1))
        await pilot.click("#committee", offset=(5, 2))
        await pilot.click("#committee", offset=(15, 5))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, RoomScreen)
        assert stream.cursor_id is not None
        assert_clean_screen(app)


async def test_detail_and_editor_show_each_hostile_comment_safely(
    hostile: tuple[SqliteStore, str], book: Playbook
) -> None:
    store, inc = hostile
    app = make_app(store, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        for row in list(app.room.state.visible):
            app.room.query_one(CommentStream).select_id(row.id)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
            await pilot.pause()
            text = assert_clean_screen(app)
            if row.author == "@megabyte":
                assert "shown: the first 20,000 of" in text
                assert "[red]AAAA" in text
            else:
                assert row.author.replace("\x1b", "")[:3] in text or "@" in text
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RoomScreen))
            await pilot.press("r")
            editor = app.room.query_one(ResponseEditor)
            # awaited within this iteration, so the loop variables cannot move under it
            await wait_for(pilot, lambda: editor.target is not None and editor.target.comment_id == row.id)  # noqa: B023
            await pilot.pause()
            assert_clean_screen(app)
            await pilot.press("escape", "u")
            await pilot.pause()
        assert app.is_running


async def test_toasts_carry_hostile_text_as_plain_text(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "toast.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, [NewComment(source="x", external_id="calm", author="@calm", text="hello", priority=0.1)])
        app = make_app(store, inc, book)
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await loaded(pilot)
            for name, payload in HOSTILE.items():
                await store.ingest(inc, [NewComment(source="x", external_id=f"t-{name}", author=f"@{payload}",
                                                    text=payload, priority=0.9)])
            await store.alert(inc, "alert.sla", {"detail": "[/bold] [red \x1b]52;c;eA==\x07"})
            await wait_for(pilot, lambda: len(app._notifications) >= 3)
            await pilot.pause(0.2)
            for note in app._notifications:
                assert not note.markup
                assert not BAD_CHARS.search(str(note.message)), repr(note.message)
            assert_clean_screen(app)
            assert app.is_running
    finally:
        await store.close()


def test_a_megabyte_row_is_trimmed_before_it_reaches_the_stream() -> None:
    from crisis_tui.events import ArrivedComment
    from crisis_tui.room_state import ROW_AUTHOR, ROW_TEXT, RoomState

    state = RoomState("inc")
    state.add_comment(ArrivedComment(id=1, source="x", external_id="e", author="@" + "W" * 100_000, text=MEGABYTE,
                                     received_at=1000.0))
    row = state.rows[1]
    assert len(row.text) == ROW_TEXT and len(row.author) == ROW_AUTHOR
