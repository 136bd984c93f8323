"""The event vocabulary: every kind the store writes decodes to its own type and encodes back
to the very bytes that were stored and hashed; unknown kinds and broken payloads are kept."""

from __future__ import annotations

from pathlib import Path

import msgspec

from crisis_tui import events
from crisis_tui.eventlog import encode_payload, event_from_row
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from tests.event_story import (
    BROKEN_PAYLOAD,
    NEWER_KIND,
    NEWER_PAYLOAD,
    every_kind,
    newer_and_broken,
)


async def stored_rows(tmp_path: Path, book: Playbook) -> list[tuple[object, ...]]:
    store = await SqliteStore.open(tmp_path / "story.db", playbook=book)
    try:
        inc = await every_kind(store, book)
        await newer_and_broken(store, inc)
        return await store.raw_events(inc)
    finally:
        await store.close()


async def test_every_kind_the_store_writes_has_its_type_and_encodes_back_to_its_bytes(
    tmp_path: Path, book: Playbook
) -> None:
    rows = await stored_rows(tmp_path, book)
    seen: set[type[object]] = set()
    for row in rows[:-2]:
        kind, stored = str(row[4]), row[5]
        assert isinstance(stored, bytes)
        body = events.decode_stored(kind, stored)
        assert isinstance(body, events.KNOWN), (kind, body)
        assert events.kind_of(body) == kind
        again_kind, payload = events.encode(body)
        assert again_kind == kind
        assert encode_payload(payload) == stored, kind  # the bytes the chain hashed
        seen.add(type(body))
    # the story leaves no kind out but a drill's own, written only on a drill (tests/test_drills_transports.py)
    assert seen == set(events.KNOWN) - set(events.Drill)


async def test_a_body_is_the_same_from_the_stored_bytes_and_from_the_payload(tmp_path: Path, book: Playbook) -> None:
    for row in await stored_rows(tmp_path, book):
        event = event_from_row(row)
        assert event.body == events.decode(event.kind, event.payload)
        assert event.body is event.body  # decoded once
        assert isinstance(row[5], bytes)
        assert event.payload == msgspec.json.decode(row[5])  # the stored payload itself, untouched


async def test_a_newer_kind_and_a_broken_payload_keep_what_was_written(tmp_path: Path, book: Playbook) -> None:
    *_, newer, broken = await stored_rows(tmp_path, book)
    unknown = event_from_row(newer).body
    assert unknown == events.UnknownEvent(kind=NEWER_KIND, payload=NEWER_PAYLOAD)
    assert events.encode(unknown) == (NEWER_KIND, NEWER_PAYLOAD)
    bad = event_from_row(broken).body
    assert isinstance(bad, events.BrokenEvent)
    assert (bad.kind, bad.payload) == ("alert.spike", BROKEN_PAYLOAD)
    assert "baseline" in bad.error  # the error names the field
    assert events.encode(bad) == ("alert.spike", BROKEN_PAYLOAD)


def test_a_payload_that_is_not_a_json_object_is_broken_not_a_crash() -> None:
    for stored in (b"not json at all", b"[1, 2]", "TEXT rewritten"):
        event = event_from_row((7, "inc", 1.0, "Ana", "comment.claimed", stored, "0" * 64, "f" * 64))
        assert event.payload == {}
        body = event.body
        assert isinstance(body, events.BrokenEvent) and body.kind == "comment.claimed"
    unknown = event_from_row((8, "inc", 1.0, "Ana", "x.y", b"{oops", "0" * 64, "f" * 64)).body
    assert isinstance(unknown, events.BrokenEvent) and unknown.payload == "{oops"


def test_optional_fields_stay_absent_when_the_store_left_them_out() -> None:
    proposed = events.DecisionProposed(decision_id=1, title="Pause ads", rationale="", supersedes=None)
    assert events.encode(proposed)[1] == {"decision_id": 1, "title": "Pause ads", "rationale": "", "supersedes": None}
    assert events.encode(events.DecisionProposed(decision_id=1, title="x", owner_decides=True))[1]["owner_decides"]
    moved = events.DraftMoved(draft_id=2, status="sent", previous="approved", kind="reply", comment_id=5)
    assert "override_reason" not in events.encode(moved)[1] and "failing" not in events.encode(moved)[1]
    approved = events.DraftMoved(draft_id=2, status="approved", previous="in_review", override_reason="", failing=[])
    assert events.encode(approved)[1]["override_reason"] == "" and events.encode(approved)[1]["failing"] == []


def test_a_known_kind_from_a_newer_version_with_an_extra_field_still_reads() -> None:
    body = events.decode("note.added", {"note_id": 3, "text": "hi", "pinned": True})
    assert body == events.NoteAdded(note_id=3, text="hi")


async def test_every_transport_hands_out_the_same_bodies(store: IncidentStore, book: Playbook) -> None:
    inc = await every_kind(store, book)
    await newer_and_broken(store, inc)
    got = await store.events_after(inc, 0, 1000)
    kinds = [type(e.body) for e in got]
    # see every_kind: a server keeps its own claim timeout and its own (publisher-less) playbook
    local = isinstance(store, SqliteStore)
    only_local = {events.ClaimLapsed, events.ReplyPublished, events.ReplyPublishFailed}
    assert set(kinds[:-2]) == set(events.KNOWN) - set(events.Drill) - (set() if local else only_local)
    assert kinds[-2:] == [events.UnknownEvent, events.BrokenEvent]
    assert [e.body for e in await store.latest_events(inc, 2)] == [e.body for e in got[-2:]]
