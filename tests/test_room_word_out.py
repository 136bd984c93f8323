"""The room's word-out keys: S issues a situation report on demand (sent through Apprise to a real
JSON receiver on loopback, a target without its URL said in the toast, the report on the timeline
and shown), O shows the outbound log with the approved text as it went out, literally."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.playbook import NotifyTarget, Playbook
from crisis_tui.screens.word_out_forms import TextPage
from crisis_tui.store.sqlite import SqliteStore
from tests.notify_receiver import Receiver, receiver  # noqa: F401 - the fixture
from tests.room_support import loaded, make_app, screen_text, wait_for

pytestmark = pytest.mark.timeout(60)
#: Markup and an escape sequence in an approved statement: the outbound view shows them as text.
STATEMENT = "We are sorry [b]truly[/b]: every refund is paid within 48 hours \x1b[31m."


async def test_s_issues_a_sitrep_now_and_says_where_it_went(
    tmp_path: Path, book: Playbook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEAD_URL", receiver.url("ok/leadership"))
    monkeypatch.delenv("LEGAL_URL", raising=False)
    book = msgspec.structs.replace(book, notify=[
        NotifyTarget(name="leadership", url_env="LEAD_URL", events=["sitrep"], timeout_seconds=5),
        NotifyTarget(name="legal", url_env="LEGAL_URL", events=["sitrep"], timeout_seconds=5)])
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2")).id
        app = make_app(store, inc, book)
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await loaded(pilot)
            await pilot.press("S")
            await wait_for(pilot, lambda: isinstance(app.screen, TextPage), timeout=15)
            assert "Situation report · Refund delays · SEV2" in screen_text(app)
            assert any("situation report issued: sent to leadership; not to legal ($LEGAL_URL is not set"
                       in str(n.message) for n in app._notifications)
            await pilot.press("escape")
            await wait_for(pilot, lambda: "Ana issued a situation report" in screen_text(app))
        [issued] = [e for e in await store.events_after(inc) if isinstance(e.body, ev.SitrepIssued)]
        body = issued.body
        assert isinstance(body, ev.SitrepIssued)
        assert issued.actor == "Ana" and body.delivered == ["leadership"] and list(body.failed) == ["legal"]
        assert receiver.got["leadership"][0]["message"] == body.text
    finally:
        await store.close()


async def test_o_shows_everything_that_left_the_room_literally(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2", our_fault=True)).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        app = make_app(store, inc, book)
        async with app.run_test(size=(140, 36), notifications=True) as pilot:
            await loaded(pilot)
            await pilot.press("O")
            await wait_for(pilot, lambda: "Nothing has left the room yet." in screen_text(app))
            await pilot.press("escape")
            draft = await store.save_draft(inc, STATEMENT, actor="Luis", kind="statement")
            await approval.submit(store, inc, draft.id, actor="Luis")
            await approval.approve(store, None, inc, draft.id, actor="Luis", override_reason="holding line")
            await approval.send(store, inc, draft.id, actor="Luis")
            await pilot.press("O")
            await wait_for(pilot, lambda: "statement; approved by Luis, sent by Luis: by hand" in screen_text(app))
            text = screen_text(app)
            assert f"draft {draft.id} v1" in text
            assert "We are sorry [b]truly[/b]: every refund" in text and "\x1b" not in text
    finally:
        await store.close()
