"""counts() answers from comment_counts and one index, never by counting comments: after any story
its answer is the brute-force count of the comments themselves, on every transport, after an
import into another file, and on a file written before the counts were kept (schema 9)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import cast

from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import NEGATIVE_AT, Counts, NewComment, waiting_since
from crisis_tui.playbook import Playbook
from crisis_tui.store.audit import audit_file
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from tests.event_story import every_kind


def brute_force(comments: list) -> Counts:
    """What counts() must say, counted one comment at a time."""
    counts = Counts(total=len(comments))
    for c in comments:
        setattr(counts, c.status, getattr(counts, c.status) + 1)
    waiting = [waiting_since(c.posted_at, c.received_at) for c in comments if c.status in ("new", "claimed", "escalated")]
    counts.oldest_unanswered_at = min(waiting) if waiting else None
    return counts


def arriving(n: int, posted_at: float | None) -> NewComment:
    raw: dict[str, object] = {"source": "x", "id": f"m{n}", "author": f"@m{n}", "text": f"refund? ({n})"}
    if posted_at is not None:
        raw["posted_at"] = posted_at
    return parse_comment(raw)


async def story_incident(store: IncidentStore) -> str:
    """A new incident with `mixed_story` played in it."""
    inc = (await store.create_incident("Refund delays", actor="Luis")).id
    await mixed_story(store, inc)
    return inc


def edit(file: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the file behind the store's back, as a hand with sqlite3 would (several statements: no params)."""
    db = sqlite3.connect(file, isolation_level=None)
    try:
        if params:
            db.execute(sql, params)
        else:
            db.executescript(sql)
    finally:
        db.close()


async def mixed_story(store: IncidentStore, inc: str) -> None:
    """Arrivals (duplicates among them, posted long ago, in the future, without a time) and every way a
    comment changes status, the oldest unanswered one answered, ignored and given back in turn."""
    first = await store.ingest(inc, [arriving(i, 1_700_000_000.0 + i * 60 if i % 3 else None) for i in range(12)])
    again = await store.ingest(inc, [arriving(3, None), arriving(12, 4_000_000_000.0), arriving(13, 1_600_000_000.0)])
    assert again.duplicates == 1
    ids = first.ids + again.ids
    oldest = again.ids[-1]
    await store.heartbeat(inc, actor="Ana", role="cm")
    await store.heartbeat(inc, actor="Luis", role="gm")
    await store.claim(inc, ids[1], actor="Ana")
    await store.claim(inc, ids[1], actor="Ana")  # already hers: nothing moves
    await store.claim(inc, ids[2], actor="Ana")
    await store.release(inc, ids[2], actor="Ana")
    await store.mark(inc, ids[3], "escalated", actor="Ana", reason="legal", to="Legal")
    await store.mark(inc, ids[4], "ignored", actor="Ana")
    await store.mark(inc, ids[4], "ignored", actor="Ana")
    await store.mark(inc, ids[4], "new", actor="Ana")
    await store.mark(inc, oldest, "ignored", actor="Luis")  # the oldest waiting one goes: the next one is oldest
    assert (await store.counts(inc)).oldest_unanswered_at == brute_force(await store.comments(inc)).oldest_unanswered_at
    await store.mark(inc, oldest, "new", actor="Luis")  # and comes back
    await store.claim(inc, ids[5], actor="Ana")
    await store.take_over(inc, ids[5], actor="Luis", reason="the client asked")
    await store.reassign(inc, ids[5], "Ana", actor="Luis", reason="Ana speaks Italian")
    draft = await store.save_draft(inc, "Sorry, a DM is on its way.", actor="Ana", comment_id=ids[5])
    await store.set_draft_status(inc, draft.id, "in_review", actor="Ana")
    await store.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason="DM follows")
    await store.set_draft_status(inc, draft.id, "sent", actor="Ana")
    await store.bulk(inc, ids[6:10], "ignore", actor="Luis")
    await store.bulk(inc, [ids[6], ids[10]], "request_removal", actor="Luis", reason="bot farm")
    await store.bulk(inc, [ids[1], ids[11], 999], "release", actor="Ana")
    await store.tag(inc, ids[11], ["refund"], actor="Ana")


async def test_counts_are_the_comments_counted_after_a_mixed_story(store: IncidentStore, incident: str) -> None:
    assert await store.counts(incident) == Counts()
    await mixed_story(store, incident)
    counts = await store.counts(incident)
    assert counts == brute_force(await store.comments(incident))
    assert (counts.total, counts.ignored, counts.removal_requested, counts.answered) == (14, 3, 2, 1)
    other = (await store.create_incident("A second front", actor="Luis")).id  # each incident counts its own
    await store.ingest(other, [arriving(i, None) for i in range(3)])
    assert await store.counts(other) == brute_force(await store.comments(other))
    assert await store.counts(incident) == counts


async def test_counts_after_every_kind_of_event(store: IncidentStore, book: Playbook) -> None:
    story = await every_kind(store, book)
    assert await store.counts(story) == brute_force(await store.comments(story))


async def test_an_incident_with_nothing_waiting_has_no_oldest(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, [arriving(1, 1_700_000_000.0)])).ids
    await store.mark(incident, cid, "ignored", actor="Luis")
    assert await store.counts(incident) == Counts(total=1, ignored=1)


async def test_an_imported_incident_counts_as_its_source(tmp_path: Path, book: Playbook) -> None:
    async with await SqliteStore.open(tmp_path / "from.db", playbook=book) as source:
        inc = await story_incident(source)
        events = await source.events_after(inc, 0, 100_000)
        expected = await source.counts(inc)
    async with await SqliteStore.open(tmp_path / "to.db", playbook=book) as target:
        await target.import_events(inc, events)
        assert await target.counts(inc) == expected == brute_force(await target.comments(inc))


async def test_a_file_from_before_the_counts_gets_them_counted(tmp_path: Path, book: Playbook) -> None:
    """Schema 9 had no comment_counts: opening the file counts its comments once (migration 10)."""
    file = tmp_path / "old.db"
    async with await SqliteStore.open(file, playbook=book) as store:
        inc = await story_incident(store)
        expected = await store.counts(inc)
    edit(file, "DROP INDEX events_by_kind; DROP TABLE notices; "
               "DROP TABLE arrival_minutes; DROP TABLE comment_counts; DROP INDEX comments_waiting;"
               "ALTER TABLE comments DROP COLUMN since; DROP INDEX drafts_by_comment;"
               "CREATE INDEX drafts_by_comment ON drafts (incident_id, comment_id); PRAGMA user_version = 9;")
    async with await SqliteStore.open(file, playbook=book) as store:
        assert await store.counts(inc) == expected == brute_force(await store.comments(inc))
        await store.ingest(inc, [arriving(99, None)])
        assert await store.counts(inc) == brute_force(await store.comments(inc))



async def test_verify_checks_the_kept_counts_against_the_comments(store: IncidentStore, tmp_path: Path,
                                                                  book: Playbook) -> None:
    """No event makes comment_counts, so no replay checks it: verify counts the comments itself,
    on every transport (PostgreSQL's audit copies the table too), and names a count edited by hand."""
    inc = await story_incident(store)
    audit = getattr(store, "audit", None)  # a server and PostgreSQL audit their own rows; a file is read here
    report = await (audit(inc) if audit is not None else audit_file(cast(SqliteStore, store).path, inc))
    assert report.differences == [] and report.broken == []
    file = tmp_path / "edited.db"
    async with await SqliteStore.open(file, playbook=book) as copy:
        edited = await story_incident(copy)
    edit(file, "UPDATE comment_counts SET n = n + 5 WHERE incident_id = ? AND status = 'new'", (edited,))
    found = (await audit_file(file, edited)).differences
    assert [p.where for p in found] == ["table comment_counts, status 'new'"]
    assert found[0].what.startswith("counts ") and "the file holds" in found[0].what


def minutes_by_hand(comments: list) -> dict[int, list[int]]:
    """What arrival_minutes must hold, counted one comment at a time (as the wallboard's replay does)."""
    minutes: dict[int, list[int]] = {}
    for c in comments:
        bucket = minutes.setdefault(int(waiting_since(c.posted_at, c.received_at) // 60), [0, 0])
        bucket[0] += 1
        bucket[1] += c.negativity >= NEGATIVE_AT
    return minutes


async def test_the_minutes_of_arrival_are_the_comments_counted_by_minute(store: IncidentStore, incident: str) -> None:
    await mixed_story(store, incident)
    found = await store.arrivals(incident, 0)
    comments = await store.comments(incident)
    assert found.minutes == minutes_by_hand(comments) and found.last_id == max(c.id for c in comments)
    assert sorted(found.recent) == sorted(waiting_since(c.posted_at, c.received_at) for c in comments)
    later = await store.arrivals(incident, 1_700_000_000 // 60 + 5)
    assert later.minutes == {m: v for m, v in minutes_by_hand(comments).items() if m >= 1_700_000_000 // 60 + 5}


async def test_a_file_from_before_the_minutes_gets_them_counted(tmp_path: Path, book: Playbook) -> None:
    """Schema 10 kept no arrival_minutes nor the comments' clock as a column: opening the file counts its
    comments by minute once (migration 11), to the minute Python's // gives, and writes each one's clock
    (migration 12); verify finds both equal to a replay of the log and to the comments."""
    file = tmp_path / "old.db"
    async with await SqliteStore.open(file, playbook=book) as store:
        inc = await story_incident(store)
        # a clock a hair before a whole minute counts in the minute before it (a floor, not a rounding)
        await store.ingest(inc, [arriving(50, 1_700_000_040.0 - 2.3e-7), arriving(51, 1_699_999_980.0)])
        expected = minutes_by_hand(await store.comments(inc))
    edit(file, "DROP INDEX events_by_kind; DROP TABLE notices; DROP TABLE arrival_minutes; DROP INDEX comments_waiting; "
               "ALTER TABLE comments DROP COLUMN since;"
               "CREATE INDEX comments_waiting ON comments (incident_id, status, "
               "min(coalesce(posted_at, received_at), received_at)); PRAGMA user_version = 10;")
    async with await SqliteStore.open(file, playbook=book) as store:
        assert (await store.arrivals(inc, 0)).minutes == expected
    report = await audit_file(file, inc)
    assert report.differences == [] and report.broken == []


async def test_verify_checks_the_minutes_of_arrival_against_the_comments(tmp_path: Path, book: Playbook) -> None:
    file = tmp_path / "edited.db"
    async with await SqliteStore.open(file, playbook=book) as store:
        inc = await story_incident(store)
        minute = min((await store.arrivals(inc, 0)).minutes)
    edit(file, "UPDATE arrival_minutes SET negative = negative + 2 WHERE incident_id = ? AND minute = ?", (inc, minute))
    found = (await audit_file(file, inc)).differences
    assert [p.where for p in found] == [f"table arrival_minutes, minute {minute}"]
    assert "negative), the file holds" in found[0].what
