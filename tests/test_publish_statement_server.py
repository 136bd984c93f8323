"""Over `crisis-tui serve`: a statement sent from a client is published by the server (its
playbook, its environment's tokens) on both platforms, as new posts with the exact text."""

from __future__ import annotations

import json

import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.playbook import Playbook, shipped_path
from crisis_tui.playbook import load as load_playbook
from tests.atproto_loopback import APP_PASSWORD, FakePds, pds  # noqa: F401 - the fixture
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture
from tests.test_publish_statement import PASSWORD_ENV, REPLY_TOKEN_ENV, STATEMENT, STATEMENT_TOKEN_ENV, statements_to
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


@pytest.fixture
def book(mastodon: FakeMastodon, pds: FakePds, monkeypatch: pytest.MonkeyPatch) -> Playbook:  # noqa: F811
    monkeypatch.setenv(REPLY_TOKEN_ENV, "not-the-statement-account")
    monkeypatch.setenv(STATEMENT_TOKEN_ENV, TOKEN)
    monkeypatch.setenv(PASSWORD_ENV, APP_PASSWORD)
    return statements_to(load_playbook(shipped_path()), mastodon.url, pds.url)


async def test_a_client_sending_a_statement_has_the_server_publish_it_on_both_platforms(
    serve: ServeFactory, mastodon: FakeMastodon, pds: FakePds  # noqa: F811
) -> None:
    served = await serve(triage=False)
    luis = await served.store("Luis", "lead")
    inc = (await luis.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
    await luis.heartbeat(inc, actor="Luis", role="gm")
    draft = await luis.save_draft(inc, STATEMENT, actor="Luis", kind="statement")
    await approval.submit(luis, inc, draft.id, actor="Luis")
    await approval.approve(luis, None, inc, draft.id, actor="Luis", override_reason="holding line")
    mastodon.fail_next = [500]
    raw = served.raw(await served.token("Luis", "lead"))
    failed = await raw.post(f"/incidents/{inc}/drafts/{draft.id}/status", json={"status": "sent", "version": 1})
    assert failed.status_code == 502 and failed.json()["error"] == "publish_failed"
    assert "published on bluesky" in failed.json()["detail"]
    sent = await approval.send(luis, inc, draft.id, actor="Luis")
    assert sent.status == "sent"
    assert [r.form for r in mastodon.received][-1] == {"status": STATEMENT, "visibility": "public"}
    assert len(mastodon.posts) == 1 and len(pds.writes) == 1
    assert json.loads(pds.writes[0])["record"]["text"] == STATEMENT
    bodies = [e.body for e in await luis.events_after(inc)]
    assert sorted(b.platform for b in bodies if isinstance(b, ev.ReplyPublished)) == ["bluesky", "mastodon"]
