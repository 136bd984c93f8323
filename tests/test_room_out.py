"""Out of the room: the approved text to the clipboard, the comment's page in the browser (never
from a seat's confined room), and marking sent asks nothing more."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui.playbook import Playbook
from crisis_tui.screens.room import RoomScreen
from crisis_tui.screens.room_draft_desk import link_opens
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import comments, loaded, make_app, wait_for

STATEMENT = ("We're sorry: since Tuesday's app update some refunds are stuck as 'processing'. The error is ours. "
             "Every affected refund will be paid within 48 hours; we will reply to each of you personally.")
URL = "https://x.example/marta_viaja/status/1001"


@pytest.fixture
async def sqlite(tmp_path: Path, book: Playbook) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def inc(sqlite: SqliteStore) -> str:
    incident = await sqlite.create_incident("Refund delays", actor="Luis", brand="Lumo")
    raw: list[dict[str, object]] = [{"source": "x", "id": "x-1", "author": "@marta_viaja", "lang": "es", "url": URL,
            "text": "Llevo tres semanas esperando el reembolso y nadie contesta."}]
    await sqlite.ingest(incident.id, comments(raw))
    return incident.id


async def test_y_copies_the_approved_statement_and_m_marks_it_sent_without_asking(
        sqlite: SqliteStore, inc: str, book: Playbook) -> None:
    draft = await sqlite.save_draft(inc, STATEMENT, actor="Sam", kind="statement")
    await sqlite.set_draft_status(inc, draft.id, "in_review", actor="Sam")
    app = make_app(sqlite, inc, book, me="Luis", role="gm")
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == ""  # in review: not approved words yet
        await sqlite.set_draft_status(inc, draft.id, "approved", actor="Luis")
        await wait_for(pilot, lambda: app.room.state.drafts[draft.id].status == "approved")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == STATEMENT
        await pilot.press("m")
        await wait_for(pilot, lambda: app.room.state.drafts[draft.id].status == "sent")
        assert isinstance(app.screen, RoomScreen)  # no dialog asked anything
    assert (await sqlite.get_draft(inc, draft.id)).status == "sent"


async def test_o_opens_the_comments_page_in_the_browser(
        sqlite: SqliteStore, inc: str, book: Playbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    import webbrowser  # noqa: PLC0415 - reads BROWSER once, on first use
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    app = make_app(sqlite, inc, book, me="Ana", role="cm")
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("o")
        deadline = time.monotonic() + 5
        while not (opened.exists() and opened.read_text()):
            assert time.monotonic() < deadline, "the browser was never started"
            await pilot.pause(0.05)
    assert opened.read_text() == URL


async def test_a_confined_room_opens_no_link_and_does_not_offer_it(
        sqlite: SqliteStore, inc: str, book: Playbook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    import webbrowser  # noqa: PLC0415
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    app = make_app(sqlite, inc, book, role="cm", seats=("cm",), confined=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        assert "open_link" not in {b.action for b in app.room.command_bindings()}
        await pilot.press("o")
        await wait_for(pilot, lambda: any(n.message == "links are not opened from the room"
                                          for n in app._notifications))
    assert not opened.exists()


def test_only_a_plain_web_address_is_handed_to_a_browser() -> None:
    assert link_opens(URL)
    assert not link_opens("javascript:alert(1)")
    assert not link_opens("file:///etc/passwd")
    assert not link_opens("https://x.example/\x1b]52;c;ZXZpbA==\x07")
    assert not link_opens("")
