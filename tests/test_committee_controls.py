"""Stories of the committee's controls, over every transport: changing the incident takes
decision power and records who and why; a member with decision power takes over or reassigns
a held comment; the claims of someone gone are freed after the playbook's delay, their draft
kept; a decision without its rationale is refused. A raw HTTP client meets the same refusals."""

from __future__ import annotations

import asyncio

import pytest

from crisis_tui import events as ev
from crisis_tui.errors import Forbidden, InvalidInput
from crisis_tui.model import Event
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.timeline_text import describe
from tests.room_support import comments
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

RELEASE_AFTER = 0.6


@pytest.fixture
def book(book: Playbook) -> Playbook:
    """The shipped playbook with claims freed soon after their holder is gone (the test waits for it)."""
    book.presence.release_claims_after_seconds = RELEASE_AFTER
    return book


async def last_event(store: IncidentStore, incident: str) -> Event:
    return (await store.latest_events(incident, 1))[-1]


async def test_only_decision_power_changes_the_incident_and_the_timeline_says_who_and_why(
    store: IncidentStore, incident: str
) -> None:
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Luis", role="gm")
    with pytest.raises(Forbidden, match=r"only a member with decision power \(gm, marketing, client\).*Ana is cm"):
        await store.update_incident(incident, actor="Ana", severity="sev1")
    with pytest.raises(Forbidden, match="Ana is cm"):  # naming another role does not beat the seat taken
        await store.update_incident(incident, actor="Ana", role="gm", severity="sev1")
    changed = await store.update_incident(incident, actor="Luis", severity="sev1", our_fault=True,
                                          reason="the app update broke refunds")
    assert (changed.severity, changed.our_fault) == ("sev1", True)
    event = await last_event(store, incident)
    assert isinstance(event.body, ev.IncidentUpdated)
    assert (event.actor, event.body.role, event.body.reason) == ("Luis", "gm", "the app update broke refunds")
    assert describe(event) == ("Luis (gm) marked the error as ours, set severity to sev1: "
                               "the app update broke refunds")
    closed = await store.update_incident(incident, actor="Luis", status="closed", reason="quiet for an hour")
    assert closed.status == "closed" and closed.closed_at is not None
    assert describe(await last_event(store, incident)) == "Luis (gm) closed the incident: quiet for an hour"
    reopened = await store.update_incident(incident, actor="Luis", status="open", reason="it flared up")
    assert reopened.status == "open" and reopened.closed_at is None
    assert describe(await last_event(store, incident)) == "Luis (gm) reopened the incident: it flared up"


async def test_someone_outside_the_room_names_a_role_with_decision_power(store: IncidentStore, incident: str) -> None:
    with pytest.raises(Forbidden, match="Sam is not in the room: join the incident"):
        await store.update_incident(incident, actor="Sam", severity="sev1")
    with pytest.raises(Forbidden, match="Sam is care"):
        await store.update_incident(incident, actor="Sam", role="care", severity="sev1")
    changed = await store.update_incident(incident, actor="Sam", role="marketing", title="Refund delays (app 4.2)")
    assert changed.title == "Refund delays (app 4.2)"
    assert describe(await last_event(store, incident)) == "Sam (marketing) set title to Refund delays (app 4.2)"


async def test_a_manager_takes_over_a_held_comment_and_hands_it_on_keeping_the_draft(
    store: IncidentStore, incident: str
) -> None:
    (marta, *_) = (await store.ingest(incident, comments())).ids
    for name, role in (("Ana", "cm"), ("Luis", "gm"), ("Giulia", "care")):
        await store.heartbeat(incident, actor=name, role=role)
    await store.claim(incident, marta, actor="Ana")
    draft = await store.save_draft(incident, "Hola Marta, lo sentimos", actor="Ana", comment_id=marta)
    with pytest.raises(Forbidden, match="only a member with decision power .* Giulia is care"):
        await store.take_over(incident, marta, actor="Giulia")
    with pytest.raises(Forbidden, match="Sam is not in the room"):
        await store.take_over(incident, marta, actor="Sam")
    with pytest.raises(InvalidInput, match="Dora is not in the room"):
        await store.reassign(incident, marta, "Dora", actor="Luis")

    taken = await store.take_over(incident, marta, actor="Luis", reason="the client asked me to answer")
    assert (taken.status, taken.holder) == ("claimed", "Luis")
    event = await last_event(store, incident)
    assert event.body == ev.CommentHandedOver(comment_id=marta, holder="Luis", previous="Ana",
                                              author="@marta_viaja", reason="the client asked me to answer")
    assert describe(event) == "Luis took over @marta_viaja (#1) from Ana: the client asked me to answer"
    with pytest.raises(Forbidden, match="held by Luis"):
        await store.release(incident, marta, actor="Ana")

    given = await store.reassign(incident, marta, "Giulia", actor="Luis", reason="care has the refund")
    assert given.holder == "Giulia"
    assert describe(await last_event(store, incident)) == (
        "Luis handed @marta_viaja (#1) from Luis to Giulia: care has the refund")
    kept = await store.get_draft(incident, draft.id)
    assert kept.body == "Hola Marta, lo sentimos" and kept.comment_id == marta

    free = (await store.ingest(incident, comments([{"source": "x", "id": "x-9", "author": "@z", "text": "hi"}]))).ids[0]
    with pytest.raises(InvalidInput, match="not held by anyone: claim it"):
        await store.take_over(incident, free, actor="Luis")


async def test_the_claims_of_someone_gone_are_freed_after_the_playbooks_delay_keeping_their_draft(
    store: IncidentStore, incident: str
) -> None:
    marta, giorgia, _ = (await store.ingest(incident, comments())).ids
    await store.heartbeat(incident, actor="Ana", role="cm")
    await store.heartbeat(incident, actor="Giulia", role="care")
    await store.claim(incident, marta, actor="Ana")
    await store.claim(incident, giorgia, actor="Giulia")
    draft = await store.save_draft(incident, "Hola Marta, ya lo miramos", actor="Ana", comment_id=marta)
    await asyncio.sleep(0.3)
    await store.heartbeat(incident, actor="Giulia", role="care")
    assert await store.expire_presence(incident, 0.2) == ["Ana"]  # Ana's room was killed: no heartbeat
    assert (await store.get_comment(incident, marta)).holder == "Ana"  # not yet: she may be back
    await asyncio.sleep(RELEASE_AFTER + 0.1)
    await store.heartbeat(incident, actor="Giulia", role="care")
    await store.expire_presence(incident, 10.0)
    freed = await store.get_comment(incident, marta)
    assert (freed.status, freed.holder) == ("new", None)
    assert (await store.get_comment(incident, giorgia)).holder == "Giulia"  # present members keep theirs
    event = await last_event(store, incident)
    assert event.actor == "system" and isinstance(event.body, ev.ClaimLapsed)
    assert describe(event) == ("@marta_viaja (#1) was freed: Ana held it and has been gone 1s "
                               "(their draft is kept)")
    await store.claim(incident, marta, actor="Giulia")
    assert [d.body for d in await store.drafts(incident, comment_id=marta)] == [draft.body]
    await store.expire_presence(incident, 10.0)
    assert [e.kind for e in await store.latest_events(incident, 3)].count("comment.claim_lapsed") == 1  # once


async def test_a_decision_without_its_rationale_is_refused(store: IncidentStore, incident: str) -> None:
    for rationale in ("", "   "):
        with pytest.raises(InvalidInput, match="rationale: a decision needs its rationale"):
            await store.propose_decision(incident, "Pause the ads", actor="Ana", rationale=rationale)
    assert await store.decisions(incident) == []
    made = await store.propose_decision(incident, "Pause the ads", actor="Ana", rationale="  tone-deaf now ")
    assert made.rationale == "tone-deaf now"


async def test_a_raw_http_client_meets_the_same_refusals(serve: ServeFactory) -> None:
    served = await serve()
    lead = await served.store("Luis", "lead")
    inc = (await lead.create_incident("Refund delays", actor="Luis")).id
    (marta, *_) = (await lead.ingest(inc, comments())).ids
    ana = served.raw(await served.token("Ana", "operator"))
    sam = served.raw(await served.token("Sam", "lead", seats=["care"]))
    luis = served.raw(await served.token("Luis", "lead"))
    assert (await ana.post(f"/incidents/{inc}/presence", json={"role": "cm"})).status_code == 200
    assert (await luis.post(f"/incidents/{inc}/presence", json={"role": "gm"})).status_code == 200

    refused = await ana.patch(f"/incidents/{inc}", json={"severity": "sev1"})
    assert refused.status_code == 403 and "lead token" in refused.json()["detail"]
    refused = await sam.patch(f"/incidents/{inc}", json={"severity": "sev1", "role": "gm"})
    assert refused.status_code == 403 and "may sit only as care" in refused.json()["detail"]
    refused = await sam.patch(f"/incidents/{inc}", json={"severity": "sev1", "role": "care"})
    assert refused.status_code == 403 and "decision power" in refused.json()["detail"]
    refused = await sam.patch(f"/incidents/{inc}", json={"severity": "sev1"})
    assert refused.status_code == 403 and "Sam is not in the room" in refused.json()["detail"]
    unknown = await luis.patch(f"/incidents/{inc}", json={"colour": "red"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "colour"
    changed = await luis.patch(f"/incidents/{inc}", json={"our_fault": True, "reason": "our update"})
    assert changed.status_code == 200 and changed.json()["our_fault"] is True

    assert (await ana.post(f"/incidents/{inc}/comments/{marta}/claim")).status_code == 200
    refused = await ana.post(f"/incidents/{inc}/comments/{marta}/hand-over", json={"to": "Ana"})
    assert refused.status_code == 403 and "decision power" in refused.json()["detail"]
    refused = await luis.post(f"/incidents/{inc}/comments/{marta}/hand-over", json={"to": "Dora"})
    assert refused.status_code == 422 and refused.json()["field"] == "to"
    taken = await luis.post(f"/incidents/{inc}/comments/{marta}/hand-over", json={"reason": "mine now"})
    assert taken.status_code == 200 and taken.json()["holder"] == "Luis"

    refused = await ana.post(f"/incidents/{inc}/decisions", json={"title": "Pause the ads"})
    assert refused.status_code == 422 and refused.json()["field"] == "rationale"
    kinds = [e.kind for e in await lead.events_after(inc)]
    assert kinds.count("incident.updated") == 1 and kinds.count("comment.handed_over") == 1
    assert "decision.proposed" not in kinds
