"""Sending an approved reply to a Bluesky comment writes an `app.bsky.feed.post` record with
reply references on an AT-Protocol-shaped PDS on loopback: the exact text, once, even when
the PDS stored the post but its answer was lost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.errors import PublishFailed
from crisis_tui.model import Comment, NewComment
from crisis_tui.playbook import Playbook, Publisher
from crisis_tui.publish.bluesky import record_key
from crisis_tui.publish.reply import Reply
from crisis_tui.store.sqlite import SqliteStore
from tests.atproto_loopback import APP_PASSWORD, DID, HANDLE, FakePds, pds  # noqa: F401 - the fixture
from tests.test_publish_mastodon import GOOD

PASSWORD_ENV = "CRISIS_TUI_TEST_BLUESKY_PASSWORD"
PARENT = {"uri": "at://did:plc:marta000/app.bsky.feed.post/3kabc", "cid": "bafyreiparent"}
ROOT = {"uri": "at://did:plc:news0000/app.bsky.feed.post/3kroot", "cid": "bafyreiroot"}
COMMENT = NewComment(
    source="bluesky", external_id=PARENT["uri"], author="@marta.bsky.social", lang="es",
    url="https://bsky.app/profile/marta.bsky.social/post/3kabc",
    text="Llevo TRES semanas esperando el reembolso y nadie contesta. Vergüenza de servicio.",
    extra={"bluesky_cid": PARENT["cid"], "bluesky_root_uri": ROOT["uri"], "bluesky_root_cid": ROOT["cid"]},
)


@pytest.fixture
async def approved(
    tmp_path: Path, book: Playbook, pds: FakePds, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> AsyncIterator[tuple[SqliteStore, str, int]]:
    monkeypatch.setenv(PASSWORD_ENV, APP_PASSWORD)
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=msgspec.structs.replace(book, publish={
        "bluesky": Publisher(base_url=pds.url, token_env=PASSWORD_ENV, identifier=HANDLE, timeout_seconds=5)}))
    try:
        incident = (await store.create_incident("Refunds", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(incident, actor="Luis", role="gm")
        comment_id = (await store.ingest(incident, [COMMENT])).ids[0]
        draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
        await approval.submit(store, incident, draft.id, actor="Ana")
        await approval.approve(store, None, incident, draft.id, actor="Luis")
        yield store, incident, draft.id
    finally:
        await store.close()


def _published(bodies: list[ev.EventBody]) -> list[ev.ReplyPublished]:
    return [b for b in bodies if isinstance(b, ev.ReplyPublished)]


async def test_the_reply_is_a_post_record_with_the_exact_text_and_its_reply_references(
    approved: tuple[SqliteStore, str, int], pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    assert (await approval.send(store, incident, draft_id, actor="Ana")).status == "sent"
    [raw] = pds.writes
    written = json.loads(raw)
    assert (written["repo"], written["collection"]) == (DID, "app.bsky.feed.post")
    record = written["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"].encode() == GOOD.encode()
    assert record["reply"] == {"root": ROOT, "parent": PARENT}
    uri = f"at://{DID}/app.bsky.feed.post/{written['rkey']}"
    assert [(p.platform, p.post_id, p.url) for p in _published([e.body for e in await store.events_after(incident)])] \
        == [("bluesky", uri, f"https://bsky.app/profile/{DID}/post/{written['rkey']}")]


async def test_a_post_stored_whose_answer_was_lost_is_found_and_not_posted_again(
    approved: tuple[SqliteStore, str, int], pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    pds.lose_next_answer = 500
    with pytest.raises(PublishFailed, match="createRecord answered HTTP 500"):
        await approval.send(store, incident, draft_id, actor="Ana")
    assert (await store.get_draft(incident, draft_id)).status == "approved"
    assert (await approval.send(store, incident, draft_id, actor="Ana")).status == "sent"
    assert len(pds.writes) == 1 and len(pds.records) == 1
    [uri] = pds.records
    assert [p.post_id for p in _published([e.body for e in await store.events_after(incident)])] == [uri]


async def test_a_wrong_app_password_leaves_the_draft_approved_with_the_error_on_the_record(
    approved: tuple[SqliteStore, str, int], pds: FakePds, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    monkeypatch.setenv(PASSWORD_ENV, "wrong-pass-word-xxxx")
    with pytest.raises(PublishFailed, match="sign-in answered HTTP 401: Invalid identifier or password"):
        await approval.send(store, incident, draft_id, actor="Ana")
    assert pds.writes == []
    bodies = [e.body for e in await store.events_after(incident)]
    assert [b.platform for b in bodies if isinstance(b, ev.ReplyPublishFailed)] == ["bluesky"]
    assert (await store.get_draft(incident, draft_id)).status == "approved"


def test_the_record_key_is_a_valid_tid_and_the_same_for_every_attempt() -> None:
    comment = Comment(**msgspec.structs.asdict(COMMENT), id=1, incident_id="i", received_at=0.0)
    keys = {record_key(Reply(incident_id="i", draft_id=1, version=v, text="t", comment=comment)) for v in (1, 1, 2)}
    assert len(keys) == 2
    for key in keys:
        assert len(key) == 13 and key[0] in "234567abcdefghij" and set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")
