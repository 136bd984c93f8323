"""The room's send key (m) on a reply to a Mastodon comment: a failure is a toast and the draft
stays approved; the next m publishes it once, and the timeline says where it went."""

from __future__ import annotations

from pathlib import Path

import pytest

from crisis_tui import approval
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture
from tests.room_support import loaded, make_app, screen_text, wait_for
from tests.test_publish_mastodon import COMMENT, GOOD, TOKEN_ENV, publishing


async def test_m_publishes_and_a_failure_is_a_toast_with_the_draft_still_approved(
    tmp_path: Path, book: Playbook, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    book = publishing(book, mastodon.url)
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        comment_id = (await store.ingest(inc, [COMMENT])).ids[0]
        await store.claim(inc, comment_id, actor="Ana")
        draft = await store.save_draft(inc, GOOD, actor="Ana", comment_id=comment_id)
        await approval.submit(store, inc, draft.id, actor="Ana")
        await approval.approve(store, None, inc, draft.id, actor="Luis")
        mastodon.fail_next = [500]
        app = make_app(store, inc, book)
        async with app.run_test(size=(120, 36)) as pilot:
            await loaded(pilot)
            await pilot.press("m")
            await wait_for(pilot, lambda: any("Mastodon answered HTTP 500" in str(n.message)
                                              for n in app._notifications))
            assert (await store.get_draft(inc, draft.id)).status == "approved"
            await wait_for(pilot, lambda: "publish failed on mastodon" in screen_text(app))
            await pilot.press("m")
            await wait_for(pilot, lambda: app.room.state.rows[comment_id].status == "answered")
            await wait_for(pilot, lambda: "Ana published reply draft 1 v1 on" in screen_text(app))
            await wait_for(pilot, lambda: any(str(n.message).startswith("draft 1 v1 published on mastodon")
                                              for n in app._notifications))  # not "marked sent"
        assert [r.form["status"] for r in mastodon.received] == [GOOD, GOOD]
        assert len(mastodon.posts) == 1
    finally:
        await store.close()
