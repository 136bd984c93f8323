"""Over `crisis-tui serve`: the server publishes (its playbook, its environment's token) when any
client sends an approved reply, the room's HttpStore and a raw HTTP client alike."""

from __future__ import annotations

import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.errors import PublishFailed
from crisis_tui.playbook import Playbook, shipped_path
from crisis_tui.playbook import load as load_playbook
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture
from tests.test_publish_mastodon import COMMENT, GOOD, TOKEN_ENV, publishing
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


@pytest.fixture
def book(mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch) -> Playbook:  # noqa: F811
    """The server's playbook publishes Mastodon replies to the loopback server."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return publishing(load_playbook(shipped_path()), mastodon.url)


async def test_a_raw_client_sending_a_reply_publishes_it_through_the_server_and_a_failure_is_502(
    serve: ServeFactory, mastodon: FakeMastodon  # noqa: F811
) -> None:
    served = await serve(triage=False)
    luis = await served.store("Luis", "lead")
    inc = (await luis.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
    await luis.heartbeat(inc, actor="Luis", role="gm")
    comment_id = (await luis.ingest(inc, [COMMENT])).ids[0]
    ana = await served.store("Ana", "lead")
    draft = await ana.save_draft(inc, GOOD, actor="Ana", comment_id=comment_id)
    await approval.submit(ana, inc, draft.id, actor="Ana")
    await approval.approve(luis, None, inc, draft.id, actor="Luis")

    mastodon.fail_next = [500]
    with pytest.raises(PublishFailed, match="Mastodon answered HTTP 500"):
        await approval.send(ana, inc, draft.id, actor="Ana")
    assert (await ana.get_draft(inc, draft.id)).status == "approved"

    raw = served.raw(await served.token("Ana", "lead"))
    mastodon.fail_next = [503]
    failed = await raw.post(f"/incidents/{inc}/drafts/{draft.id}/status", json={"status": "sent", "version": 1})
    assert failed.status_code == 502 and failed.json()["error"] == "publish_failed"
    answer = await raw.post(f"/incidents/{inc}/drafts/{draft.id}/status", json={"status": "sent", "version": 1})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "sent"
    [post] = mastodon.posts
    assert [r.form for r in mastodon.received][-1] == {"status": GOOD, "in_reply_to_id": "110000000000000042"}
    assert len({r.key for r in mastodon.received}) == 1
    bodies = [e.body for e in await luis.events_after(inc)]
    assert [b.error.split(":")[0] for b in bodies if isinstance(b, ev.ReplyPublishFailed)] == [
        "Mastodon answered HTTP 500", "Mastodon answered HTTP 503"]
    assert [(b.post_id, b.url) for b in bodies if isinstance(b, ev.ReplyPublished)] == [
        (post["id"], post["url"])]
