"""Sending an approved reply to a Mastodon comment posts it on a Mastodon-shaped server on
loopback: once, as a reply to the comment's status, with exactly the approved text; a failure
leaves the draft approved with the error on the timeline, and a retry never posts twice."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.errors import PublishFailed
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook, Publisher
from crisis_tui.publish import deliver
from crisis_tui.publish.reply import Reply
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture

TOKEN_ENV = "CRISIS_TUI_TEST_MASTODON_TOKEN"
COMMENT = NewComment(
    source="mastodon", external_id="https://social.example/users/marta/statuses/110000000000000042",
    author="@marta@social.example", lang="es", url="https://social.example/@marta/110000000000000042",
    text="Llevo TRES semanas esperando el reembolso y nadie contesta. Vergüenza de servicio.",
    extra={"mastodon_id": "110000000000000042"},
)
#: Accents, an emoji, a line break and "&<>": the platform must receive these bytes and no others.
GOOD = ("Hola Marta, lo sentimos mucho: tres semanas sin reembolso es demasiado. 🙏\n"
        "Escríbenos por privado y hoy lo revisamos <equipo & soporte>.")


def closed_port() -> int:
    """A loopback port nobody listens on: the connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publishing(book: Playbook, url: str, timeout: float = 5.0) -> Playbook:
    return msgspec.structs.replace(book, publish={"mastodon": Publisher(
        base_url=url, token_env=TOKEN_ENV, timeout_seconds=timeout)})


@pytest.fixture
async def approved(
    tmp_path: Path, book: Playbook, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> AsyncIterator[tuple[SqliteStore, str, int]]:
    """Ana's reply to a Mastodon comment, approved by Luis, on a playbook that publishes there."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=publishing(book, mastodon.url))
    try:
        incident = await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)
        await store.heartbeat(incident.id, actor="Ana", role="cm")
        await store.heartbeat(incident.id, actor="Luis", role="gm")
        comment_id = (await store.ingest(incident.id, [COMMENT])).ids[0]
        await store.claim(incident.id, comment_id, actor="Ana")
        draft = await store.save_draft(incident.id, GOOD, actor="Ana", comment_id=comment_id)
        await approval.submit(store, incident.id, draft.id, actor="Ana")
        await approval.approve(store, None, incident.id, draft.id, actor="Luis")
        yield store, incident.id, draft.id
    finally:
        await store.close()


async def _events(store: SqliteStore, incident: str) -> list[ev.EventBody]:
    return [e.body for e in await store.events_after(incident)]


async def test_sending_posts_the_approved_text_once_as_a_reply_and_records_the_post(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    sent = await approval.send(store, incident, draft_id, actor="Ana")
    assert sent.status == "sent"
    [request] = mastodon.received
    assert parse_qs(request.raw.decode())["status"] == [GOOD]
    assert request.form == {"status": GOOD, "in_reply_to_id": "110000000000000042"}
    assert request.key
    [post] = mastodon.posts
    bodies = await _events(store, incident)
    published = [b for b in bodies if isinstance(b, ev.ReplyPublished)]
    assert published == [ev.ReplyPublished(draft_id=draft_id, version=1, platform="mastodon", post_id=post["id"],
                                           url=post["url"], comment_id=sent.comment_id)]
    moved = [b for b in bodies if isinstance(b, ev.DraftMoved)]
    assert moved[-1].status == "sent"
    assert bodies.index(published[0]) < bodies.index(moved[-1])
    lines = human_lines(await store.events_after(incident))
    assert any(f"Ana published reply draft {draft_id} v1 on mastodon: {post['url']}" in line for line in lines)


async def test_a_retry_after_a_crash_between_posted_and_recorded_does_not_post_twice(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    draft = await store.get_draft(incident, draft_id)
    comment = await store.get_comment(incident, draft.comment_id or 0)
    publisher = deliver.publisher_for(store.playbook, "mastodon")
    assert publisher is not None
    # The first attempt reached Mastodon, then the process died before recording anything.
    first = await deliver.publish(publisher, Reply(incident_id=incident, draft_id=draft_id, version=draft.version,
                                                   text=draft.body, comment=comment))
    assert isinstance(first, ev.ReplyPublished)
    assert (await store.get_draft(incident, draft_id)).status == "approved"
    await approval.send(store, incident, draft_id, actor="Ana")
    assert len(mastodon.received) == 2
    assert mastodon.received[0].key == mastodon.received[1].key
    assert len(mastodon.posts) == 1
    published = [b for b in await _events(store, incident) if isinstance(b, ev.ReplyPublished)]
    assert [p.post_id for p in published] == [first.post_id]


@pytest.mark.parametrize("answer", [500, 401, 429, "timeout", "refused"])
async def test_a_failed_publish_leaves_the_draft_approved_with_the_error_on_the_timeline(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, answer: int | str,  # noqa: F811
    book: Playbook, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, incident, draft_id = approved
    if answer == "timeout":
        mastodon.delay_seconds = 1.0
        store.use_playbook(publishing(book, mastodon.url, timeout=0.2))
    elif answer == 401:
        monkeypatch.setenv(TOKEN_ENV, "revoked")
    elif answer == "refused":
        store.use_playbook(publishing(book, f"http://127.0.0.1:{closed_port()}"))
    elif answer == 429:
        mastodon.fail_next = [429]
    else:
        mastodon.fail_next = [500]
    with pytest.raises(PublishFailed) as failed:
        await approval.send(store, incident, draft_id, actor="Ana")
    expected = {500: "HTTP 500", 401: "check the access token", 429: "rate limited, retry after 30s",
                "timeout": "did not answer within 0.2s", "refused": "Mastodon could not be reached"}[answer]
    assert expected in str(failed.value) and "stays approved" in str(failed.value)
    draft = await store.get_draft(incident, draft_id)
    assert draft.status == "approved"
    assert (await store.get_comment(incident, draft.comment_id or 0)).status != "answered"
    bodies = await _events(store, incident)
    [failure] = [b for b in bodies if isinstance(b, ev.ReplyPublishFailed)]
    assert expected in failure.error
    assert not any(isinstance(b, ev.ReplyPublished) for b in bodies)
    assert not any(isinstance(b, ev.DraftMoved) and b.status == "sent" for b in bodies)
    assert any("publish failed on mastodon: " in line and expected in line and "stays approved" in line
               for line in human_lines(await store.events_after(incident)))
    # Sending again, once the platform answers, posts it exactly once.
    mastodon.delay_seconds = 0.0
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    store.use_playbook(publishing(book, mastodon.url))
    assert (await approval.send(store, incident, draft_id, actor="Ana")).status == "sent"
    assert len(mastodon.posts) == 1
    assert mastodon.posts[0]["content"] == f"<p>{GOOD}</p>"


async def test_a_missing_token_is_a_clear_error_and_nothing_is_posted(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(PublishFailed, match=f"set the environment variable {TOKEN_ENV}"):
        await approval.send(store, incident, draft_id, actor="Ana")
    assert mastodon.received == []
    assert (await store.get_draft(incident, draft_id)).status == "approved"


@pytest.mark.parametrize("comment", [
    msgspec.structs.replace(COMMENT, source="x"),  # no publisher for X
    msgspec.structs.replace(COMMENT, extra={}),  # a Mastodon comment without its status id
], ids=["other platform", "no status id"])
async def test_a_platform_without_a_publisher_keeps_the_manual_path(
    tmp_path: Path, book: Playbook, mastodon: FakeMastodon, comment: NewComment  # noqa: F811
) -> None:
    store = await SqliteStore.open(tmp_path / "manual.db", playbook=publishing(book, mastodon.url))
    try:
        incident = (await store.create_incident("Refunds", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(incident, actor="Luis", role="gm")
        comment_id = (await store.ingest(incident, [comment])).ids[0]
        draft = await store.save_draft(incident, GOOD, actor="Ana", comment_id=comment_id)
        await approval.submit(store, incident, draft.id, actor="Ana")
        await approval.approve(store, None, incident, draft.id, actor="Luis")
        assert (await approval.send(store, incident, draft.id, actor="Luis")).status == "sent"
    finally:
        await store.close()
    assert mastodon.received == []


async def test_two_sends_at_once_post_once_and_record_once(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    mastodon.delay_seconds = 0.2  # both are on the way before either is answered
    results = await asyncio.gather(*(approval.send(store, incident, draft_id, actor="Ana") for _ in range(2)),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["Draft", "InvalidInput"]
    assert len(mastodon.posts) == 1
    bodies = await _events(store, incident)
    assert len([b for b in bodies if isinstance(b, ev.ReplyPublished)]) == 1
    assert len([b for b in bodies if isinstance(b, ev.DraftMoved) and b.status == "sent"]) == 1
