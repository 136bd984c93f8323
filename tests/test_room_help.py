"""Stories of help and overlays: `?` and F1 show the keys of the pane in focus, Esc closes every overlay."""

from __future__ import annotations

import pytest
from textual.screen import ModalScreen

from crisis_tui.playbook import Playbook
from crisis_tui.screens.help import HelpScreen
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.timeline import NoteInput, TimelineLines
from tests.room_support import comments, inc, loaded, make_app, screen_text, sqlite, wait_for  # noqa: F401 - the fixtures


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_lists_the_stream_s_keys_and_the_room_s(sqlite: SqliteStore, inc: str, book: Playbook,
                                                           key: str) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        text = screen_text(app)
        assert "Comments" in text  # the focused pane's own section, by its title
        assert "Show the whole comment" in text  # the stream's Enter, from its binding's tooltip
        assert "Claim the selected comment" in text  # the room's c
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen.sections[-1].title == "Everywhere"  # the app's own keys, below the scroll
        assert any(k.does.startswith("Leave the room") for k in help_screen.sections[-1].keys)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.screen is app.room


async def test_help_follows_the_focus_and_the_keymap(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    book.keys["room.claim"] = "ctrl+k"
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        app.room.query_one(TimelineLines).focus()
        await pilot.pause()
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        titles = [s.title for s in help_screen.sections]
        assert titles[0] == "Timeline"
        assert "Comments (priority)" not in titles
        claim = [k for s in help_screen.sections for k in s.keys if k.name == "Claim"]
        assert claim and claim[0].keys == ["^k"]


async def test_a_question_mark_typed_into_a_note_is_text(sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        await pilot.press("n")
        box = app.room.query_one(NoteInput)
        await wait_for(pilot, lambda: box.has_focus)
        await pilot.press("w", "h", "y", "question_mark")
        assert box.value == "why?"
        assert app.screen is app.room


@pytest.mark.parametrize("key", ["enter", "slash", "d", "g", "x", "ctrl+t", "question_mark"])
async def test_escape_closes_every_overlay(sqlite: SqliteStore, inc: str, book: Playbook, key: str) -> None:
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot)
        if key == "ctrl+t":
            await pilot.press("r")
            await pilot.pause(0.2)
        await pilot.press(key)
        await wait_for(pilot, lambda: isinstance(app.screen, ModalScreen))
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModalScreen))
        assert app.screen is app.room
        assert "Traceback" not in screen_text(app)
