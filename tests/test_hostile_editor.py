"""Hostile text outside comments: another client's draft, the playbook's strings, every toast.

A draft stored by any client (another operator, a raw HTTP client) and a
playbook snippet can hold an OSC 52 clipboard write or a clear-screen sequence;
Textual's TextArea would draw them as they are. The editor's document holds the
display form, the stored body stays intact until the operator edits, and every
screen and picker that shows a playbook string sends the terminal no escape;
a hostile paste lands in the editor and in a form's input as its display form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Checkbox, Input, OptionList

from crisis_tui.app import CrisisApp
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import display_text, storable
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.screens.forms import ProposeDecision
from crisis_tui.screens.pickers import RolePicker, SnippetPicker
from crisis_tui.screens.room import RoomScreen
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.wallboard.app import WallboardApp
from crisis_tui.wallboard.boards import DecisionsBoard
from crisis_tui.widgets.editor import ResponseEditor
from tests.hostile_playbook import CLEAR, OSC52, SNIPPET_TEXT, hostile_playbook
from tests.room_support import loaded, make_app, wait_for
from tests.test_untrusted_text_ui import BAD_CHARS, assert_clean_screen

DRAFT = f"Hola Marta,{OSC52} lo sentimos{CLEAR}\r\n[@click=app.quit]mañana[/]\t\u202eok\x9b31m\x00"
PASTED = f"{OSC52}pegado{CLEAR}\x1b]8;;http://x\x1b\\"


@pytest.fixture
def evil_book() -> Playbook:
    return hostile_playbook()


@pytest.fixture
async def held(tmp_path: Path, evil_book: Playbook) -> AsyncIterator[tuple[SqliteStore, str]]:
    """Ana holds Marta's comment; a raw client stored a hostile draft of her reply."""
    store = await SqliteStore.open(tmp_path / "editor.db", playbook=evil_book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, [NewComment(source="x", external_id="m", author="@marta_viaja",
                                            text="¿Dónde está mi reembolso?", priority=0.9)])
        await store.claim(inc, 1, actor="Ana")
        await store.save_draft(inc, DRAFT, actor="Ana", comment_id=1, kind="reply")
        yield store, inc
    finally:
        await store.close()


def editor(app: CrisisApp) -> ResponseEditor:
    return app.room.query_one(ResponseEditor)


async def stored_bodies(store: SqliteStore, inc: str) -> list[str]:
    return [d.body for d in await store.drafts(inc, comment_id=1)]


async def test_a_hostile_draft_opens_as_its_display_form_and_stays_stored_until_edited(
    held: tuple[SqliteStore, str], evil_book: Playbook
) -> None:
    store, inc = held
    app = make_app(store, inc, evil_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: editor(app).target is not None and not editor(app).text_area.read_only)
        shown = editor(app).text
        assert shown == display_text(storable(DRAFT), None)  # a NUL is kept as U+FFFD
        assert "lo sentimos" in shown and "\n[@click=app.quit]mañana[/]" in shown
        assert not BAD_CHARS.search(shown)
        screen = assert_clean_screen(app)
        assert "Hola Marta, lo sentimos" in screen and "Reply to @marta_viaja" in screen
        await pilot.pause(1.0)  # longer than the autosave wait: only reading saves nothing
        assert not editor(app).dirty
        assert await stored_bodies(store, inc) == [storable(DRAFT)]

        await pilot.press("end", "!")
        await wait_for(pilot, lambda: not editor(app).dirty)
        assert await stored_bodies(store, inc) == [editor(app).text]
        assert not BAD_CHARS.search(editor(app).text) and editor(app).text.endswith("!")


async def test_a_hostile_snippet_and_a_hostile_paste_land_as_their_display_form(
    held: tuple[SqliteStore, str], evil_book: Playbook
) -> None:
    store, inc = held
    app = make_app(store, inc, evil_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("r")
        await wait_for(pilot, lambda: editor(app).target is not None and not editor(app).text_area.read_only)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, SnippetPicker))
        await pilot.pause()
        assert "A refund page" in assert_clean_screen(app)
        picker = app.screen
        assert isinstance(picker, SnippetPicker)
        picker.query_one(OptionList).highlighted = [s.id for s in picker.snippets].index("hostile")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RoomScreen))
        await wait_for(pilot, lambda: display_text(SNIPPET_TEXT, None) in editor(app).text)

        editor(app).text_area.post_message(events.Paste(PASTED))
        await wait_for(pilot, lambda: "pegado" in editor(app).text)
        await wait_for(pilot, lambda: not editor(app).dirty)
        text = editor(app).text
        assert not BAD_CHARS.search(text), repr(text)
        assert (await stored_bodies(store, inc)) == [text]
        assert_clean_screen(app)


async def test_every_screen_shows_the_hostile_playbook_without_an_escape(
    held: tuple[SqliteStore, str], evil_book: Playbook
) -> None:
    store, inc = held
    await store.propose_decision(inc, f"Publish{OSC52} it", actor=f"Eve{CLEAR}",
                                 rationale=f"because{CLEAR}")
    app = CrisisApp(store, inc, evil_book, me="Ana", role=None, seats=["cm", "client"], watch_playbook_file=False)
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, RolePicker))
        await pilot.pause()
        assert "Community manager" in assert_clean_screen(app)
        await pilot.press("down", "enter")  # the client's seat: owner and decision power
        await loaded(pilot)
        screen = assert_clean_screen(app)
        assert "SEV2" in screen and "Publish it" in screen  # the header's severity name, the committee's decision

        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ProposeDecision))
        await pilot.pause()
        assert "Not ours to take: the Client contact" in assert_clean_screen(app)
        assert "Client contact (agency)" in str(app.screen.query_one(Checkbox).label)
        title = app.screen.query_one("#decision-title", Input)
        title.post_message(events.Paste(PASTED))
        await wait_for(pilot, lambda: "pegado" in title.value)
        assert not BAD_CHARS.search(title.value), repr(title.value)
        assert_clean_screen(app)
        await pilot.press("escape")

        await wait_for(pilot, lambda: isinstance(app.screen, RoomScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentDetail))
        await pilot.pause()
        assert_clean_screen(app)
        await pilot.press("escape")

        app.notify(f"refused: {DRAFT}", title=f"by {OSC52}Eve")
        await pilot.pause()
        for note in app._notifications:
            assert not note.markup
            assert not BAD_CHARS.search(str(note.message)) and not BAD_CHARS.search(note.title), repr(note)
        assert_clean_screen(app)


async def test_the_wallboard_shows_the_hostile_playbook_and_names_without_an_escape(
    held: tuple[SqliteStore, str], evil_book: Playbook, tmp_path: Path
) -> None:
    store, inc = held
    await store.heartbeat(inc, actor=f"Eve{OSC52}", role="gm", focus=f"reading{CLEAR}")
    await store.propose_decision(inc, f"Publish{OSC52} it", actor=f"Eve{OSC52}",
                                 rationale=f"because{OSC52}")
    viewer = await SqliteStore.open(tmp_path / "editor.db", read_only=True, playbook=evil_book)
    try:
        app = WallboardApp(viewer, inc, playbook=evil_book)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for(pilot, lambda: "Publish it" in "\n".join(str(line) for line in
                                                                     app.query_one(DecisionsBoard).lines()))
            await pilot.pause(0.2)
            screen = assert_clean_screen(app)  # type: ignore[arg-type]
            assert "SEV2" in screen and "General manager" in screen
    finally:
        await viewer.close()
