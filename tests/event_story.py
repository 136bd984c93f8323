"""One small incident that writes every event kind the store writes, for the vocabulary's tests."""

from __future__ import annotations

import os

import msgspec

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import DraftConflict, PublishFailed
from crisis_tui.playbook import Playbook, Publisher
from crisis_tui.server.background import BackgroundServer
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.triage.spikes import Spike
from tests.mastodon_loopback import TOKEN, FakeMastodon

STORY_TOKEN_ENV = "CRISIS_TUI_STORY_MASTODON_TOKEN"

#: A kind a newer crisis-tui might write: this version must keep it, not choke on it.
NEWER_KIND = "alert.sentiment_flip"
NEWER_PAYLOAD = {"from": "negative", "to": "positive", "share": 0.61}
#: A known kind whose payload does not fit its shape (a hand-rolled client, a bug elsewhere).
BROKEN_PAYLOAD = {"per_minute": "lots", "baseline": None}


async def _published_and_failed(store: SqliteStore, book: Playbook, inc: str) -> None:
    """A reply to a Mastodon comment: the first send meets a 500, the second posts it.

    Only a local store publishes with a playbook handed to it (a server uses its own)."""
    fake = FakeMastodon(fail_next=[500])
    server = BackgroundServer(fake.app())
    fake.url = server.start()
    previous = os.environ.get(STORY_TOKEN_ENV)
    os.environ[STORY_TOKEN_ENV] = TOKEN
    try:
        store.use_playbook(msgspec.structs.replace(book, publish={
            "mastodon": Publisher(base_url=fake.url, token_env=STORY_TOKEN_ENV)}))
        [toot] = (await store.ingest(inc, [parse_comment({
            "source": "mastodon", "id": "https://social.example/statuses/7", "author": "@ana@social.example",
            "text": "Still no refund", "mastodon_id": "7"})])).ids
        reply = await store.save_draft(inc, "Sorry, Ana: a DM is on its way.", actor="Ana", comment_id=toot)
        await store.set_draft_status(inc, reply.id, "in_review", actor="Ana")
        await store.set_draft_status(inc, reply.id, "approved", actor="Luis", override_reason="a DM follows")
        try:
            await store.set_draft_status(inc, reply.id, "sent", actor="Ana")
        except PublishFailed:
            pass
        await store.set_draft_status(inc, reply.id, "sent", actor="Ana")
    finally:
        store.use_playbook(book)
        if previous is None:
            os.environ.pop(STORY_TOKEN_ENV, None)
        else:
            os.environ[STORY_TOKEN_ENV] = previous
        server.stop()


async def every_kind(store: IncidentStore, book: Playbook) -> str:
    """Create an incident and walk it through every kind of event; return its id."""
    inc = (await store.create_incident("Refund delays", actor="Luis", brand="Lumo")).id
    await store.update_incident(inc, actor="Luis", role="gm", severity="sev1", our_fault=True,
                                reason="the app update broke refunds")
    first, second = (await store.ingest(inc, [
        parse_comment({"source": "x", "id": "x-1", "author": "@marta", "text": "Where is my refund?", "lang": "es",
                       "author_followers": 1500, "likes": 12}),
        parse_comment({"source": "instagram", "id": "ig-1", "author": "gio", "text": "Rimborso sparito"}),
    ])).ids
    await store.heartbeat(inc, actor="Ana", role="cm")
    await store.heartbeat(inc, actor="Luis", role="gm")
    await store.heartbeat(inc, actor="Ana", role="cm", focus="replying to @marta")
    await store.claim(inc, first, actor="Ana")
    await store.release(inc, first, actor="Ana")
    await store.claim(inc, first, actor="Ana")
    await store.tag(inc, second, ["refund", "app"], actor="Ana")
    await store.mark(inc, second, "escalated", actor="Ana", reason="needs care", to="Legal")
    draft = await store.save_draft(inc, "We are on it.", actor="Ana", comment_id=first)
    draft = await store.save_draft(inc, "We are on it, Marta: a DM is on its way.", actor="Ana",
                                   draft_id=draft.id, base_version=draft.version)
    try:
        await store.save_draft(inc, "stale", actor="Luis", draft_id=draft.id, base_version=1)
    except DraftConflict:
        pass
    await store.tick(inc, draft.id, book.tone.rules[0].id, True, actor="Ana")
    await store.set_draft_status(inc, draft.id, "in_review", actor="Ana")
    await store.set_draft_status(inc, draft.id, "approved", actor="Luis",
                                 override_reason="apology sent by DM")
    await store.set_draft_status(inc, draft.id, "sent", actor="Ana")
    statement = await store.save_draft(inc, "We are sorry: refunds are delayed.", actor="Luis", kind="statement")
    await store.set_draft_status(inc, statement.id, "in_review", actor="Luis")
    await store.set_draft_status(inc, statement.id, "approved", actor="Luis", override_reason="a holding line")
    await store.set_draft_status(inc, statement.id, "draft", actor="Luis")
    await store.set_draft_status(inc, statement.id, "withdrawn", actor="Luis")
    old = await store.propose_decision(inc, "Pause the ads", actor="Ana", rationale="tone-deaf now")
    await store.propose_decision(inc, "Pause all ads", actor="Ana", rationale="every ad, not only X",
                                 supersedes=old.id)
    owners = await store.propose_decision(inc, "Refund everyone", actor="Ana", rationale="the client pays",
                                          owner_decides=True)
    await store.vote_decision(inc, old.id + 1, True, actor="Luis")
    await store.heartbeat(inc, actor="Carla", role="client")
    await store.vote_decision(inc, owners.id, False, actor="Carla")
    await store.add_note(inc, "Care has 40 refunds in the queue", actor="Luis")
    spike = Spike(per_minute=120, baseline=30.0, factor=4.0, sources={"x": 80, "instagram": 40})
    await store.alert(inc, "alert.spike", spike.payload(book.triage.spike.baseline_minutes))
    await store.alert(inc, "alert.spike", {"per_minute": 90, "baseline": 30, "factor": 3})
    await store.alert(inc, "alert.sla", {"detail": "3 comments waited over 15 minutes"})
    await store.claim(inc, second, actor="Ana")
    await store.take_over(inc, second, actor="Luis", reason="the client asked me to answer")
    await store.reassign(inc, second, "Ana", actor="Luis", reason="Ana speaks Italian")
    if isinstance(store, SqliteStore):
        await _published_and_failed(store, book, inc)
    await store.record_sitrep(inc, "Situation report · Refund delays", actor="Luis", delivered=["leadership"],
                              failed={"legal": "no answer within 10 s"})
    await store.claim_notification(inc, 2, actor="notify", runner="host:42:abc123", lease_seconds=30)
    await store.record_notification(inc, 2, "escalation", "Ana escalates comment 2 to Legal", actor="notify",
                                    delivered=["legal"])
    await store.answer_escalation(inc, second, "Legal: no admission of fault; offer the refund", actor="Luis")
    await store.update_incident(inc, actor="Luis", status="closed")
    await store.leave(inc, actor="Carla")
    await store.leave(inc, actor="Ana", reason="timeout")  # the shape expire_presence writes
    if isinstance(store, SqliteStore):
        # Only a local store can be handed a playbook whose claims lapse at once; a server
        # judges with its own (120 s), so over HTTP this story ends without a lapse.
        store.use_playbook(msgspec.structs.replace(
            book, presence=msgspec.structs.replace(book.presence, release_claims_after_seconds=0.0)))
        await store.expire_presence(inc, 1e-6)  # Ana is gone: her claim on the second comment lapses
    return inc


async def newer_and_broken(store: IncidentStore, inc: str) -> None:
    """An event of a kind from a newer version, and one whose payload does not fit its kind."""
    await store.alert(inc, NEWER_KIND, dict(NEWER_PAYLOAD), actor="triage")
    await store.alert(inc, "alert.spike", dict(BROKEN_PAYLOAD), actor="triage")
