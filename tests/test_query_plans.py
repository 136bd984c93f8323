"""Every statement the hot paths run walks an index: EXPLAIN QUERY PLAN shows no full scan (of a
table, or of an incident's whole range of comments, events or drafts).

A million-comment incident makes any scan of comments, drafts or events a half-second stall of
the room, the wallboard or a claim. Rather than copy the SQL here (and test a copy), each hot
operation runs on a real SqliteStore with SQLite's trace on: every statement it sent, with its
parameters bound, is then explained on the same connection.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import msgspec
import pytest

from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore

_SCAN = re.compile(r"^SCAN (\w+)")
#: A search that only names the incident reads every comment (event, draft) of it, a scan in all but
#: name, unless the statement stops early (LIMIT, or the min/max SQLite reads off one end of an index).
_WHOLE_INCIDENT = re.compile(r"^SEARCH (comments|events|drafts) USING .*\(incident_id=\?\)$")
_STOPS_EARLY = re.compile(r"\bLIMIT\b|\b(min|max)\(", re.IGNORECASE)
_SKIP = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|PRAGMA|SAVEPOINT|RELEASE)\b", re.IGNORECASE)


class Traced:
    """A store with a few hundred comments, drafts and members, whose statements can be recorded."""

    def __init__(self, store: SqliteStore, incident: str, ids: list[int]) -> None:
        self.store = store
        self.incident = incident
        self.ids = ids

    async def statements(self, operation: Callable[[], Awaitable[object]]) -> list[str]:
        sent: list[str] = []
        await self.store._db.set_trace_callback(sent.append)
        try:
            await operation()
        finally:
            await self.store._db.set_trace_callback(cast(Callable[..., Any], None))
        return list(dict.fromkeys(s for s in sent if not _SKIP.match(s)))

    async def tables(self) -> set[str]:
        """The file's tables (a plan may scan what is not one: a subquery's few rows, a draft's editors
        through json_each, a constant row)."""
        rows = await self.store._db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {str(row[0]) for row in rows}

    async def plan(self, sql: str) -> list[str]:
        return [str(row[3]) for row in await self.store._db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")]


@pytest.fixture
async def traced(tmp_path: Path, book: Playbook) -> AsyncIterator[Traced]:
    store = await SqliteStore.open(tmp_path / "plans.db", playbook=book)
    inc = (await store.create_incident("Refund delays", actor="Luis")).id
    await store.heartbeat(inc, actor="Luis", role="gm")
    await store.heartbeat(inc, actor="Ana", role="cm")
    ids = (await store.ingest(inc, [parse_comment({"source": "x", "id": f"c{i}", "author": f"@u{i}",
                                                   "text": f"refund? {i}", "posted_at": 1_700_000_000 + i})
                                    for i in range(300)])).ids
    for cid in ids[::10]:
        await store.claim(inc, cid, actor="Ana")
        await store.save_draft(inc, "Sorry, a DM is on its way.", actor="Ana", comment_id=cid)
    try:
        yield Traced(store, inc, ids)
    finally:
        await store.close()


async def _lapse(t: Traced) -> None:
    await t.store.leave(t.incident, actor="Ana")
    book = t.store.playbook
    t.store.use_playbook(msgspec.structs.replace(
        book, presence=msgspec.structs.replace(book.presence, release_claims_after_seconds=0.0)))
    await t.store.expire_presence(t.incident, 3600.0)


async def _draft_twice(t: Traced) -> None:
    draft = await t.store.save_draft(t.incident, "First words.", actor="Luis", comment_id=t.ids[7])
    await t.store.save_draft(t.incident, "Better words.", actor="Luis", draft_id=draft.id, base_version=draft.version)


def _arriving(n: int) -> list[NewComment]:
    fresh = [parse_comment({"source": "x", "id": f"n{i}", "author": "@n", "text": "again"}) for i in range(n)]
    return [*fresh, fresh[0]]


#: The room's, the wallboard's, the server's and intake's everyday calls.
OPERATIONS: dict[str, Callable[[Traced], Awaitable[object]]] = {
    "counts": lambda t: t.store.counts(t.incident),
    "the room's first page": lambda t: t.store.comments(t.incident, after_id=t.ids[-50]),
    "the room's next page": lambda t: t.store.comments(t.incident, after_id=t.ids[100], limit=100),
    "one comment": lambda t: t.store.get_comment(t.incident, t.ids[3]),
    "claim": lambda t: t.store.claim(t.incident, t.ids[5], actor="Luis"),
    "release": lambda t: t.store.release(t.incident, t.ids[0], actor="Ana"),
    "mark": lambda t: t.store.mark(t.incident, t.ids[6], "ignored", actor="Luis"),
    "tag": lambda t: t.store.tag(t.incident, t.ids[6], ["refund"], actor="Luis"),
    "bulk": lambda t: t.store.bulk(t.incident, t.ids[40:45], "ignore", actor="Luis"),
    "take over": lambda t: t.store.take_over(t.incident, t.ids[10], actor="Luis"),
    "drafts by comment": lambda t: t.store.drafts(t.incident, comment_id=t.ids[20]),
    "draft saved twice": _draft_twice,
    "ingest": lambda t: t.store.ingest(t.incident, _arriving(5)),
    "events since seq": lambda t: t.store.events_after(t.incident, 100, 1000),
    "the escalation waiting (E)": lambda t: t.store.open_escalation(t.incident, t.ids[3]),
    "latest events": lambda t: t.store.latest_events(t.incident, 500),
    "heartbeat": lambda t: t.store.heartbeat(t.incident, actor="Luis", role="gm", focus="timeline"),
    "the claims of those gone lapse": _lapse,
    "a note": lambda t: t.store.add_note(t.incident, "care has 40 refunds queued", actor="Luis"),
    "the wallboard's arrivals": lambda t: t.store.arrivals(t.incident, 1_700_000_000 // 60,
                                                           recent_minute=1_700_000_200 // 60),
}


@pytest.mark.parametrize("name", OPERATIONS)
async def test_a_hot_operation_scans_no_table(traced: Traced, name: str) -> None:
    statements = await traced.statements(lambda: OPERATIONS[name](traced))
    assert statements, f"{name} ran no statement"
    tables = await traced.tables()
    scans = []
    for sql in statements:
        for line in await traced.plan(sql):
            found = _SCAN.match(line)
            if (found and found.group(1) in tables) or (_WHOLE_INCIDENT.match(line) and not _STOPS_EARLY.search(sql)):
                scans.append(f"{line}  <-  {sql[:160]}")
    assert not scans, "\n".join(scans)


async def _plans_of(traced: Traced, operation: Callable[[], Awaitable[object]]) -> str:
    return "\n".join([line for sql in await traced.statements(operation) for line in await traced.plan(sql)])


async def test_counts_read_their_table_and_the_waiting_index(traced: Traced) -> None:
    plans = await _plans_of(traced, lambda: traced.store.counts(traced.incident))
    assert "comment_counts USING PRIMARY KEY" in plans
    assert plans.count("comments_waiting (incident_id=? AND status=?)") == 3


async def test_the_drafts_of_a_comment_come_from_its_index(traced: Traced) -> None:
    plans = await _plans_of(traced, lambda: traced.store.drafts(traced.incident, comment_id=traced.ids[20]))
    assert "USING INDEX drafts_by_comment (incident_id=? AND comment_id=?)" in plans
    assert "TEMP B-TREE" not in plans


async def test_the_wallboards_arrivals_read_their_table_and_the_waiting_index(traced: Traced) -> None:
    plans = await _plans_of(traced, lambda: traced.store.arrivals(traced.incident, 1_700_000_000 // 60))
    assert "SEARCH m USING PRIMARY KEY (incident_id=? AND minute>?)" in plans  # m: arrival_minutes
    assert plans.count("COVERING INDEX comments_waiting (incident_id=? AND status=? AND since>?)") == 6
