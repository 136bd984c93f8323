"""SqliteStore's reads: each a projection table or the log, read in one call.

Reads run in one call on the connection's thread, so no statement stays open
between awaits: a BEGIN IMMEDIATE that found another coroutine's read still
open would get SQLITE_BUSY at once (no busy wait) whenever another connection
had written meanwhile. The write transactions read through these too, on the
same connection, so they see their own uncommitted rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from crisis_tui import events as ev
from crisis_tui import file_faults
from crisis_tui.errors import InvalidInput, NotFound
from crisis_tui.eventlog import event_from_row
from crisis_tui.model import (
    BY_ID_MAX,
    COMMENT_STATUSES,
    KEY_AUTHOR,
    KEY_TEXT,
    Arrivals,
    Comment,
    CommentKeys,
    Counts,
    Decision,
    Draft,
    Event,
    Incident,
    Presence,
)
from crisis_tui.store import guards
from crisis_tui.store.rows import (
    COMMENT_SELECT,
    DECISION_SELECT,
    DRAFT_SELECT,
    EVENT_COLUMNS,
    INCIDENT_SELECT,
    PRESENCE_SELECT,
    comment_from_row,
    decision_from_row,
    draft_from_row,
    incident_from_row,
    presence_from_row,
)
from crisis_tui.tone import Situation

#: What guards.open_escalation reads: the incident's status changes and recorded answers, in log order.
#: The last term lets the planner take the events_by_kind index (schema 13), which leaves the arrivals
#: out; an ORDER BY would make it walk the incident's whole log instead (to skip a sort of a few rows).
ESCALATION_EVENTS = (f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? AND kind IN (?, ?) "
                     f"AND kind <> '{ev.kind_of(ev.CommentIngested)}'")


def escalation_params(incident_id: str) -> tuple[str, str, str]:
    return incident_id, ev.kind_of(ev.CommentMarked), ev.kind_of(ev.EscalationAnswered)


def escalation_events(rows: Iterable[Sequence[Any]]) -> list[Event]:
    """ESCALATION_EVENTS's rows as events, in log order."""
    return [event_from_row(tuple(r)) for r in sorted(rows, key=itemgetter(0))]


#: The statuses of a comment still waiting for us (Counts.unanswered).
UNANSWERED = ("new", "claimed", "escalated")
#: When the oldest unanswered comment was posted (model.waiting_since, in SQL): the smallest of each
#: unanswered status's smallest, each one seek of the comments_waiting index (on the `since` column,
#: schema migration 12). An aggregate min ignores the NULL of a
#: status no comment has.
WAITING_SINCE = "SELECT min(since) FROM (" + " UNION ALL ".join(
    "SELECT min(since) AS since FROM comments "
    f"WHERE incident_id = ? AND status = '{status}'" for status in UNANSWERED) + ") AS waiting"
#: The newest comment's id with each minute of arrival_minutes from a minute on (one row with NULLs
#: when none): one statement, so one snapshot of both.
ARRIVALS_BY_MINUTE = (
    "SELECT newest.id, m.minute, m.n, m.negative FROM (SELECT max(id) AS id FROM comments WHERE incident_id = ?) "
    "AS newest LEFT JOIN arrival_minutes AS m ON m.incident_id = ? AND m.minute >= ?")
#: The posting times of the comments posted from a time on, up to an id: a range of comments_waiting
#: per status, read from the index alone; `+id`, so the planner keeps to those ranges.
RECENT_ARRIVALS = "SELECT at FROM (" + " UNION ALL ".join(
    "SELECT since AS at FROM comments "
    f"WHERE incident_id = ?1 AND status = '{status}' AND since >= ?2 "
    "AND +id <= ?3" for status in COMMENT_STATUSES) + ") AS recent"


class Reads:
    """The read half of SqliteStore (which adds the commands and their transactions)."""

    _db: aiosqlite.Connection
    path: Path

    async def _fetchone(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    async def ping(self) -> None:
        """Raise unless the database answers a query (the server's /health)."""
        await self._fetchall("SELECT 1")

    async def _fetchall(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Every row; damaged pages or a failing disk are said as a StorageFault (file_faults)."""
        with file_faults.said(self.path, writing=False):
            return list(await self._db.execute_fetchall(sql, params))

    async def list_incidents(self) -> list[Incident]:
        rows = await self._fetchall(f"SELECT {INCIDENT_SELECT} FROM incidents ORDER BY opened_at")
        return [incident_from_row(r) for r in rows]

    async def get_incident(self, incident_id: str) -> Incident:
        r = await self._fetchone(f"SELECT {INCIDENT_SELECT} FROM incidents WHERE id = ?", (incident_id,))
        if r is None:
            raise NotFound(f"no incident {incident_id!r} in {self.path}")
        return incident_from_row(r)

    async def get_comment(self, incident_id: str, comment_id: int) -> Comment:
        row = await self._fetchone(
            f"SELECT {COMMENT_SELECT} FROM comments WHERE incident_id = ? AND id = ?", (incident_id, comment_id)
        )
        if row is None:
            raise NotFound(f"no comment {comment_id} in incident {incident_id}")
        return comment_from_row(row)

    async def open_escalation(self, incident_id: str, comment_id: int) -> Event | None:
        """The comment's escalation waiting for an answer (guards.open_escalation on the incident's
        comment.status and escalation.answered events, which are few next to its comments)."""
        await self.get_comment(incident_id, comment_id)
        rows = await self._fetchall(ESCALATION_EVENTS, escalation_params(incident_id))
        return guards.open_escalation(comment_id, escalation_events(rows))

    async def comments(self, incident_id: str, *, limit: int | None = None, after_id: int = 0) -> list[Comment]:
        sql = f"SELECT {COMMENT_SELECT} FROM comments WHERE incident_id = ? AND id > ? ORDER BY id"
        params: tuple[Any, ...] = (incident_id, after_id)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [comment_from_row(r) for r in await self._fetchall(sql, params)]

    async def counts(self, incident_id: str) -> Counts:
        """The comments by status, read from comment_counts (kept as they are written, see
        projector.COUNT_ARRIVALS), and the oldest unanswered one's clock, one index seek per
        unanswered status (comments_waiting): no comment is read, at any size."""
        rows = await self._fetchall("SELECT status, n FROM comment_counts WHERE incident_id = ?", (incident_id,))
        counts = Counts()
        for status, n in rows:
            if hasattr(counts, status):
                setattr(counts, status, n)
            counts.total += n
        row = await self._fetchone(WAITING_SINCE, (incident_id,) * len(UNANSWERED))
        counts.oldest_unanswered_at = row[0] if row else None
        return counts

    async def _draft(self, incident_id: str, draft_id: int) -> Draft | None:
        row = await self._fetchone(
            f"SELECT {DRAFT_SELECT} FROM drafts WHERE incident_id = ? AND id = ?",
            (incident_id, draft_id),
        )
        return draft_from_row(row) if row else None

    async def get_draft(self, incident_id: str, draft_id: int) -> Draft:
        draft = await self._draft(incident_id, draft_id)
        if draft is None:
            raise NotFound(f"no draft {draft_id} in incident {incident_id}")
        return draft

    async def drafts(self, incident_id: str, *, comment_id: int | None = None) -> list[Draft]:
        sql = f"SELECT {DRAFT_SELECT} FROM drafts WHERE incident_id = ?"
        params: tuple[Any, ...] = (incident_id,)
        if comment_id is not None:
            sql += " AND comment_id = ?"
            params += (comment_id,)
        return [draft_from_row(r) for r in await self._fetchall(sql + " ORDER BY id", params)]

    async def _situation(self, incident_id: str, draft: Draft) -> Situation:
        """The rows an approval is judged against (read inside its transaction)."""
        comment = None
        if draft.comment_id is not None:
            row = await self._fetchone(f"SELECT {COMMENT_SELECT} FROM comments WHERE incident_id = ? AND id = ?",
                                       (incident_id, draft.comment_id))
            comment = comment_from_row(row) if row else None
        return Situation(
            incident=await self.get_incident(incident_id),
            comment=comment,
            drafts=await self.drafts(incident_id),
            roles={p.name: p.role for p in await self.presence(incident_id)},
        )

    async def _decision(self, incident_id: str, decision_id: int) -> Decision | None:
        row = await self._fetchone(
            f"SELECT {DECISION_SELECT} FROM decisions WHERE incident_id = ? AND id = ?",
            (incident_id, decision_id),
        )
        return decision_from_row(row) if row else None

    async def decisions(self, incident_id: str) -> list[Decision]:
        rows = await self._fetchall(
            f"SELECT {DECISION_SELECT} FROM decisions WHERE incident_id = ? ORDER BY id",
            (incident_id,),
        )
        return [decision_from_row(r) for r in rows]

    async def presence(self, incident_id: str) -> list[Presence]:
        rows = await self._fetchall(
            f"SELECT {PRESENCE_SELECT} FROM presence WHERE incident_id = ? ORDER BY joined_at", (incident_id,)
        )
        return [presence_from_row(r) for r in rows]

    async def events_after(self, incident_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (incident_id, after_seq, limit),
        )
        return [event_from_row(r) for r in rows]

    async def latest_events(self, incident_id: str, limit: int = 500) -> list[Event]:
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? ORDER BY seq DESC LIMIT ?",
            (incident_id, limit),
        )
        return [event_from_row(r) for r in reversed(rows)]

    async def events_of(self, incident_id: str, kind: type[ev.Known]) -> list[Event]:
        """Every event of one kind, in order (the publications of an incident are few)."""
        rows = await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? AND kind = ? ORDER BY seq",
            (incident_id, ev.kind_of(kind)),
        )
        return [event_from_row(r) for r in rows]

    async def raw_events(self, incident_id: str) -> list[tuple[Any, ...]]:
        """The stored rows as they are, for `verify` (which must not trust a decode)."""
        return await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? ORDER BY seq", (incident_id,)
        )

    async def _data_version(self) -> int:
        row = await self._fetchone("PRAGMA data_version")
        return int(row[0]) if row else 0

    # ------------------------------------------------------ the room's compact reads
    async def comment_keys(self, incident_id: str, *, after_id: int = 0, limit: int | None = None) -> CommentKeys:
        """A page of comments as columns (model.CommentKeys), in id order: what the room's index
        holds. One narrow SELECT transposed with zip, so a page of 50,000 costs no object per row."""
        sql = (
            f"SELECT id, priority, since, status, source, {_cut('author', KEY_AUTHOR)}, {_cut('text', KEY_TEXT)}, "
            "external_id, in_reply_to, cluster, holder, NULLIF(tags, '[]') FROM comments "
            "WHERE incident_id = ? AND id > ? ORDER BY id"
        )
        params: tuple[Any, ...] = (incident_id, after_id)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        rows = await self._fetchall(sql, params)
        if not rows:
            return CommentKeys()
        ids, priority, since, status, source, author, text, external_id, in_reply_to, cluster, holder, tags = zip(
            *rows, strict=True)  # the columns as tuples: no copy into lists
        # compress keeps the few held or tagged comments without a Python step per row
        return CommentKeys(
            ids=ids, priority=priority, since=since, status=status, source=source, author=author, text=text,
            external_id=external_id, in_reply_to=in_reply_to, cluster=cluster,
            holders=dict(compress(zip(ids, holder, strict=True), holder)),
            tags={cid: _decode_tags(raw) for cid, raw in compress(zip(ids, tags, strict=True), tags)},
        )

    async def comments_by_id(self, incident_id: str, ids: Sequence[int]) -> list[Comment]:
        """The whole comments of `ids` (those that exist), in id order: the rows a screen shows."""
        wanted = sorted({int(i) for i in ids})
        if len(wanted) > BY_ID_MAX:
            raise InvalidInput("ids", f"at most {BY_ID_MAX:,} comments in one read, asked for {len(wanted):,}")
        out: list[Comment] = []
        for start in range(0, len(wanted), 500):  # under SQLite's limit on bound parameters
            part = wanted[start:start + 500]
            marks = ", ".join("?" for _ in part)
            rows = await self._fetchall(
                f"SELECT {COMMENT_SELECT} FROM comments WHERE incident_id = ? AND id IN ({marks}) ORDER BY id",
                (incident_id, *part))
            out.extend(comment_from_row(r) for r in rows)
        return out

    # ------------------------------------------------ the export's pages of stored rows
    async def raw_events_after(self, incident_id: str, after_seq: int, limit: int) -> list[tuple[Any, ...]]:
        """`raw_events` a page at a time (seq after `after_seq`): the export streams the log."""
        return await self._fetchall(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            (incident_id, after_seq, limit))

    # ------------------------------------------------ the wallboard's start (aggregates, not a replay)
    async def arrivals(self, incident_id: str, from_minute: int, *, recent_minute: int | None = None) -> Arrivals:
        """Comments posted from `from_minute` on, by minute, as a replay of the log would count them.

        The minutes come from arrival_minutes (kept as comments are written), the newest comment's
        id in the same statement, so both are one snapshot: what arrives after it is the log's to
        tell. The posting times of the recent minutes come from the comments_waiting index, a range
        of it per status, up to that id. Nothing here reads more than the recent comments.
        """
        since = from_minute * 60.0
        recent_at = (from_minute if recent_minute is None else max(from_minute, recent_minute)) * 60.0
        rows = await self._fetchall(ARRIVALS_BY_MINUTE, (incident_id, incident_id, from_minute))
        newest = int(rows[0][0]) if rows and rows[0][0] is not None else 0
        found = Arrivals(minutes={}, recent=[], last_id=newest)
        if not newest:
            return found
        for _newest, minute, count, negative in rows:
            if minute is not None:
                found.minutes[int(minute)] = [int(count), int(negative)]
        recent = await self._fetchall(RECENT_ARRIVALS, (incident_id, max(since, recent_at), newest))
        found.recent = sorted(at for (at,) in recent)
        return found

    async def last_event(self, incident_id: str, kind: str, *, upto_seq: int | None = None) -> Event | None:
        """The newest event of `kind` (at or before `upto_seq`), or None: walked back from the head in
        ranges of seq (the table's own key), so a kind that came lately is found at once."""
        row = await self._fetchone("SELECT max(seq) FROM events WHERE incident_id = ?", (incident_id,))
        high = int(row[0]) if row and row[0] is not None else 0
        if upto_seq is not None:
            high = min(high, upto_seq)
        size = 4096
        while high > 0:
            low = max(0, high - size)
            # `incident_id || ''`: the seq range, not the incident's index, picks the rows to look at
            found = await self._fetchone(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE seq > ? AND seq <= ? AND incident_id || '' = ?"
                " AND kind = ? ORDER BY seq DESC LIMIT 1", (low, high, incident_id, kind))
            if found is not None:
                return event_from_row(found)
            high, size = low, min(size * 2, 1 << 18)
        return None


def _decode_tags(raw: str) -> list[str]:
    tags = msgspec.json.decode(raw)
    return [str(t) for t in tags] if isinstance(tags, list) else []


def _cut(column: str, most: int) -> str:
    """The column's first `most` characters. SQLite's substr() and length() end a text at its first
    NUL (a hostile comment may hold one, and intake keeps it): a text length() finds short is
    taken whole, so the filter still finds the words after a NUL (up to intake's 128 KB)."""
    return f"CASE WHEN length({column}) < {most} THEN {column} ELSE substr({column}, 1, {most}) END"
