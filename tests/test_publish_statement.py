"""Sending an approved public statement posts it as a new post (not a reply) on every platform
whose publisher takes statements: a public Mastodon status and an `app.bsky.feed.post` record
without reply references, both on loopback servers that record the exact bytes they receive.
A platform that fails is retried alone; the other is never posted twice."""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import msgspec
import pytest

from crisis_tui import approval
from crisis_tui import events as ev
from crisis_tui.errors import PlaybookError, PublishFailed
from crisis_tui.playbook import Playbook, Publisher, parse, shipped_path
from crisis_tui.publish import deliver
from crisis_tui.publish.outbound import BY_HAND, outbound
from crisis_tui.publish.reply import Outgoing
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import human_lines
from tests.atproto_loopback import APP_PASSWORD, HANDLE, FakePds, pds  # noqa: F401 - the fixture
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture
from tests.room_support import loaded, make_app, screen_text, wait_for

REPLY_TOKEN_ENV = "CRISIS_TUI_TEST_MASTODON_TOKEN"
STATEMENT_TOKEN_ENV = "CRISIS_TUI_TEST_MASTODON_STATEMENT_TOKEN"
PASSWORD_ENV = "CRISIS_TUI_TEST_BLUESKY_PASSWORD"
#: Accents, an emoji, a line break and "&<>" : each platform must receive exactly these characters.
STATEMENT = ("We are sorry: every delayed refund will be paid within 48 hours. 🙏\n"
             "Lo sentimos: escríbenos a soporte@brand.example <equipo & pagos>.")


def statements_to(book: Playbook, mastodon_url: str, pds_url: str) -> Playbook:
    """Statements on both platforms; Mastodon's from an account of their own (its own token variable)."""
    return msgspec.structs.replace(book, publish={
        "mastodon": Publisher(base_url=mastodon_url, token_env=REPLY_TOKEN_ENV, statements=True,
                              statement_token_env=STATEMENT_TOKEN_ENV, timeout_seconds=5),
        "bluesky": Publisher(base_url=pds_url, token_env=PASSWORD_ENV, identifier=HANDLE, statements=True,
                             timeout_seconds=5),
    })


@pytest.fixture
async def approved(
    tmp_path: Path, book: Playbook, mastodon: FakeMastodon, pds: FakePds,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[SqliteStore, str, int]]:
    """Luis's statement, approved by Marta (both with decision power), on a playbook that publishes statements."""
    monkeypatch.setenv(REPLY_TOKEN_ENV, "the-reply-account-token-is-not-this-one")
    monkeypatch.setenv(STATEMENT_TOKEN_ENV, TOKEN)
    monkeypatch.setenv(PASSWORD_ENV, APP_PASSWORD)
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=statements_to(book, mastodon.url, pds.url))
    try:
        incident = (await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(incident, actor="Luis", role="gm")
        await store.heartbeat(incident, actor="Marta", role="gm")
        draft = await store.save_draft(incident, STATEMENT, actor="Luis", kind="statement")
        await approval.submit(store, incident, draft.id, actor="Luis")
        await approval.approve(store, None, incident, draft.id, actor="Marta")
        yield store, incident, draft.id
    finally:
        await store.close()


async def test_a_statement_is_a_new_post_with_the_exact_text_on_each_platform(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    sent = await approval.send(store, incident, draft_id, actor="Luis")
    assert sent.status == "sent"

    [request] = mastodon.received
    assert request.raw == urlencode({"status": STATEMENT, "visibility": "public"}).encode()
    assert parse_qs(request.raw.decode())["status"] == [STATEMENT]
    assert "in_reply_to_id" not in request.form
    [raw] = pds.writes
    record = json.loads(raw)["record"]
    assert record["text"] == STATEMENT and record["text"].encode() == STATEMENT.encode()
    assert "reply" not in record and record["$type"] == "app.bsky.feed.post"

    [toot] = mastodon.posts
    [skeet] = pds.records.values()
    bodies = [e.body for e in await store.events_after(incident)]
    published = {b.platform: b for b in bodies if isinstance(b, ev.ReplyPublished)}
    assert published["mastodon"] == ev.ReplyPublished(draft_id=draft_id, version=1, platform="mastodon",
                                                      post_id=toot["id"], url=toot["url"], comment_id=None)
    assert published["bluesky"].post_id == skeet["uri"] and published["bluesky"].comment_id is None
    lines = human_lines(await store.events_after(incident))
    assert any(f"published statement draft {draft_id} v1 on mastodon: {toot['url']}" in line for line in lines)

    gone = outbound(await store.events_after(incident))
    assert sorted((o.how, o.post_id) for o in gone) == sorted([("mastodon", toot["id"]), ("bluesky", skeet["uri"])])
    assert {(o.where, o.approved_by, o.sent_by, o.text) for o in gone} == {("statement", "Marta", "Luis", STATEMENT)}


async def test_a_platform_that_fails_is_retried_alone_and_the_other_is_not_posted_twice(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    mastodon.fail_next = [429]
    with pytest.raises(PublishFailed, match=r"was not published on mastodon: Mastodon answered HTTP 429.*retry after 30s"
                                            r".*\(published on bluesky\); it stays approved"):
        await approval.send(store, incident, draft_id, actor="Luis")
    assert (await store.get_draft(incident, draft_id)).status == "approved"
    assert len(pds.writes) == 1

    await approval.send(store, incident, draft_id, actor="Luis")
    assert (await store.get_draft(incident, draft_id)).status == "sent"
    assert len(pds.writes) == 1, "Bluesky already had the statement: not written again"
    assert len(mastodon.posts) == 1 and len({r.key for r in mastodon.received}) == 1
    bodies = [e.body for e in await store.events_after(incident)]
    assert [b.platform for b in bodies if isinstance(b, ev.ReplyPublishFailed)] == ["mastodon"]
    assert sorted(b.platform for b in bodies if isinstance(b, ev.ReplyPublished)) == ["bluesky", "mastodon"]


async def test_a_statement_account_without_its_token_is_said_and_nothing_is_sent(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, incident, draft_id = approved
    monkeypatch.delenv(STATEMENT_TOKEN_ENV)
    with pytest.raises(PublishFailed, match=f"set the environment variable {STATEMENT_TOKEN_ENV} "
                                            r"\(named by the playbook's publish.mastodon.statement_token_env\)"):
        await approval.send(store, incident, draft_id, actor="Luis")
    assert mastodon.received == []
    assert (await store.get_draft(incident, draft_id)).status == "approved"


async def test_without_a_statement_publisher_a_statement_goes_out_by_hand(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds, book: Playbook,  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    store.use_playbook(msgspec.structs.replace(book, publish={
        "mastodon": Publisher(base_url=mastodon.url, token_env=REPLY_TOKEN_ENV)}))
    await approval.send(store, incident, draft_id, actor="Luis")
    assert mastodon.received == [] and pds.writes == []
    [item] = outbound(await store.events_after(incident))
    assert (item.how, item.where, item.text) == (BY_HAND, "statement", STATEMENT)


def test_a_bluesky_statement_account_needs_its_identifier() -> None:
    data = tomllib.loads(shipped_path().read_text())
    data.update(tomllib.loads('[publish.bluesky]\nbase_url = "https://bsky.social"\nidentifier = "care.brand.example"\n'
                              'token_env = "CARE_PASSWORD"\nstatements = true\nstatement_token_env = "BRAND_PASSWORD"\n'))
    with pytest.raises(PlaybookError, match="pb.toml: publish.bluesky.statement_identifier: names the account"):
        parse(data, "pb.toml")


async def test_m_in_the_room_publishes_the_approved_statement_on_both_platforms(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    app = make_app(store, incident, store.playbook, me="Luis", role="gm")
    async with app.run_test(size=(120, 36), notifications=True) as pilot:
        await loaded(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: any(
            str(n.message) == f"draft {draft_id} v1 published as a statement on mastodon, bluesky (the links are on "
                              "the timeline)" for n in app._notifications))
        await wait_for(pilot, lambda: "published statement draft" in screen_text(app))
    assert (await store.get_draft(incident, draft_id)).status == "sent"
    assert [r.form["status"] for r in mastodon.received] == [STATEMENT]
    assert [json.loads(w)["record"]["text"] for w in pds.writes] == [STATEMENT]


async def test_a_retry_after_a_crash_between_posted_and_recorded_posts_the_statement_once(
    approved: tuple[SqliteStore, str, int], mastodon: FakeMastodon, pds: FakePds  # noqa: F811
) -> None:
    store, incident, draft_id = approved
    draft = await store.get_draft(incident, draft_id)
    outgoing = Outgoing(incident_id=incident, draft_id=draft_id, version=draft.version, text=draft.body)
    # Both platforms got the statement, then the process died before anything was recorded.
    for publisher in deliver.statement_publishers(store.playbook):
        assert isinstance(await deliver.publish(publisher, outgoing), ev.ReplyPublished)
    assert (await store.get_draft(incident, draft_id)).status == "approved"
    await approval.send(store, incident, draft_id, actor="Luis")
    assert len(mastodon.posts) == 1 and len({r.key for r in mastodon.received}) == 1
    assert len(pds.writes) == 1, "the PDS already held our record: found with getRecord, not written again"
    published = [e.body for e in await store.events_after(incident) if isinstance(e.body, ev.ReplyPublished)]
    assert sorted(b.platform for b in published) == ["bluesky", "mastodon"]
