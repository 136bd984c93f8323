"""From an event to the SQL that projects it into the tables.

This is the one place that knows how each kind of event changes the state, so
the live store and `import` (which replays a log into a fresh file) cannot
disagree. A projection reads nothing: guards run before the event is written.
It dispatches on the event's typed body (crisis_tui.events): a kind this
version does not know, or a payload that does not fit its kind, changes no
table and stays in the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import NEGATIVE_AT, waiting_since

Statement = tuple[str, tuple[Any, ...]]

COMMENT_COLUMNS: tuple[str, ...] = (
    "id", "incident_id", "source", "external_id", "author", "text", "lang",
    "posted_at", "received_at", "url", "likes", "shares", "replies",
    "author_followers", "author_following", "author_created_at",
    "author_verified", "in_reply_to", "extra", "priority", "negativity",
    "bot_score", "bot_reasons", "cluster", "since",
)
INSERT_COMMENT = (
    f"INSERT INTO comments ({', '.join(COMMENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COMMENT_COLUMNS)})"
)
_json = msgspec.json.encode
#: A comment's extra keys as the log's payload holds them (sorted, eventlog's canonical encoding): the live
#: row is written from the arriving dict, the replay from the log, and `verify` compares the two texts.
_extra_json = msgspec.json.Encoder(order="sorted").encode

# comment_counts (schema migration 9) holds how many of an incident's comments are in each status, so
# the header and the wallboard never count a million rows. Every statement that touches it adds to a
# count and none reads one, so they commute: the writers that insert comments add their number once
# per batch (COUNT_ARRIVALS: SqliteStore.ingest, import_events), and each status change moves its
# comment from the status it has to the new one (COUNT_MOVES, before the UPDATE: the status it has is
# read from the row itself, so a change to the same status, or of no row, moves nothing).
# CommentIngested projects no count on purpose: a second statement per arriving comment would cost a
# replay (verify's) a statement and a savepoint per comment; the table is a count of the comments
# table, and is checked against one.
_COUNT_UPSERT = " ON CONFLICT (incident_id, status) DO UPDATE SET n = comment_counts.n + excluded.n"
#: (incident id, how many): that many new comments arrived.
COUNT_ARRIVALS = "INSERT INTO comment_counts (incident_id, status, n) VALUES (?, 'new', ?)" + _COUNT_UPSERT
#: (incident id, comment id, new status, new status, incident id, comment id, new status; positional
#: parameters, which a PostgreSQL transaction can put in a CTE): the comment leaves its status for the
#: new one. One statement
#: (a claim's write is one round trip to the database shorter than with two); the two rows it touches
#: always differ, as PostgreSQL requires of one upsert.
COUNT_MOVES = (
    "INSERT INTO comment_counts (incident_id, status, n) "
    "SELECT incident_id, status, -1 FROM comments WHERE incident_id = ? AND id = ? AND status <> ? "
    "UNION ALL SELECT incident_id, ?, 1 FROM comments WHERE incident_id = ? AND id = ? AND status <> ?"
    + _COUNT_UPSERT
)


# arrival_minutes (schema migration 11): the comments posted in each minute and how many of them are
# negative, for the wallboard's start. Kept like comment_counts: the writers that insert comments add
# a batch's minutes once (COUNT_MINUTES with minute_rows: SqliteStore.ingest, import_events); comments
# never change their clock or their negativity, so nothing else touches it. verify counts it again.
COUNT_MINUTES = (
    "INSERT INTO arrival_minutes (incident_id, minute, n, negative) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (incident_id, minute) DO UPDATE SET n = arrival_minutes.n + excluded.n, "
    "negative = arrival_minutes.negative + excluded.negative")
#: A comments row's minute in SQL, Python's `since // 60` exactly (see schema migration 11): floor, less
#: one where the division rounded up to the next whole minute. `since` is the row's own column
#: (migration 12), which verify checks against the log's waiting_since.
MINUTE_SQL = "floor(since / 60.0) - CASE WHEN floor(since / 60.0) * 60.0 > since THEN 1 ELSE 0 END"


def minute_rows(incident_id: str, arrived: Iterable[tuple[float, float]]) -> list[tuple[Any, ...]]:
    """COUNT_MINUTES' rows for arriving comments given as (since, negativity), as their rows hold them."""
    minutes: dict[int, list[int]] = {}
    for since, negativity in arrived:
        bucket = minutes.get(minute := int(since // 60.0))
        if bucket is None:
            bucket = minutes[minute] = [0, 0]
        bucket[0] += 1
        if negativity >= NEGATIVE_AT:
            bucket[1] += 1
    return [(incident_id, minute, n, negative) for minute, (n, negative) in minutes.items()]


def arrived_row(incident_id: str, c: ev.ArrivedComment) -> tuple[Any, ...]:
    """The comments row for a CommentIngested body's comment (SqliteStore.ingest writes the same row from
    the arriving comment itself: store.arrivals)."""
    return (
        c.id, incident_id, c.source, c.external_id, c.author, c.text, c.lang, c.posted_at, c.received_at,
        c.url, c.likes, c.shares, c.replies, c.author_followers, c.author_following, c.author_created_at,
        int(c.author_verified), c.in_reply_to, _extra_json(c.extra).decode(), c.priority, c.negativity,
        c.bot_score, _json(c.bot_reasons).decode(), c.cluster, waiting_since(c.posted_at, c.received_at),
    )


def _incident_created(inc: str, ts: float, actor: str, b: ev.IncidentCreated) -> list[Statement]:
    i = b.incident
    return [(
        "INSERT INTO incidents (id, title, brand, severity, status, our_fault, opened_at, closed_at, drill) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (i.id, i.title, i.brand, i.severity, i.status, int(i.our_fault), i.opened_at, i.closed_at, int(i.drill)),
    )]


def _incident_updated(inc: str, ts: float, actor: str, b: ev.IncidentUpdated) -> list[Statement]:
    out: list[Statement] = []
    for key, value in b.changes.items():
        if key not in {"title", "brand", "severity", "status", "our_fault"}:
            continue
        if key == "our_fault":
            value = int(bool(value))
        out.append((f"UPDATE incidents SET {key} = ? WHERE id = ?", (value, inc)))
        if key == "status":
            out.append(("UPDATE incidents SET closed_at = ? WHERE id = ?", (ts if value == "closed" else None, inc)))
    return out


def _comment_ingested(inc: str, ts: float, actor: str, b: ev.CommentIngested) -> list[Statement]:
    return [(INSERT_COMMENT, arrived_row(inc, b.comment))]


def _moved(inc: str, comment_id: int, status: str, update: Statement) -> list[Statement]:
    """A comment's change to `status` with its count moved along (see COUNT_MOVES)."""
    return [(COUNT_MOVES, (inc, comment_id, status, status, inc, comment_id, status)), update]


def _comment_claimed(inc: str, ts: float, actor: str, b: ev.CommentClaimed) -> list[Statement]:
    return _moved(inc, b.comment_id, "claimed", (
        "UPDATE comments SET status = 'claimed', holder = ? WHERE incident_id = ? AND id = ?", (b.holder, inc, b.comment_id)))


def _comment_released(inc: str, ts: float, actor: str, b: ev.CommentReleased) -> list[Statement]:
    return _moved(inc, b.comment_id, "new", (
        "UPDATE comments SET status = 'new', holder = NULL WHERE incident_id = ? AND id = ?", (inc, b.comment_id)))


def _comment_handed_over(inc: str, ts: float, actor: str, b: ev.CommentHandedOver) -> list[Statement]:
    return _moved(inc, b.comment_id, "claimed", (
        "UPDATE comments SET status = 'claimed', holder = ? WHERE incident_id = ? AND id = ?", (b.holder, inc, b.comment_id)))


def _claim_lapsed(inc: str, ts: float, actor: str, b: ev.ClaimLapsed) -> list[Statement]:
    return _moved(inc, b.comment_id, "new", (
        "UPDATE comments SET status = 'new', holder = NULL WHERE incident_id = ? AND id = ?", (inc, b.comment_id)))


def _comment_marked(inc: str, ts: float, actor: str, b: ev.CommentMarked) -> list[Statement]:
    if b.status == "new":
        return _moved(inc, b.comment_id, "new", (
            "UPDATE comments SET status = 'new', holder = NULL WHERE incident_id = ? AND id = ?", (inc, b.comment_id)))
    return _moved(inc, b.comment_id, b.status, (
        "UPDATE comments SET status = ? WHERE incident_id = ? AND id = ?", (b.status, inc, b.comment_id)))


def _comment_tagged(inc: str, ts: float, actor: str, b: ev.CommentTagged) -> list[Statement]:
    return [("UPDATE comments SET tags = ? WHERE incident_id = ? AND id = ?", (_json(b.tags).decode(), inc, b.comment_id))]


def _draft_saved(inc: str, ts: float, actor: str, b: ev.DraftSaved) -> list[Statement]:
    if b.version == 1:
        return [(
            "INSERT INTO drafts (id, incident_id, kind, comment_id, author, body, version, created_at, updated_at, editors) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, json_array(?))",
            (b.draft_id, inc, b.kind, b.comment_id, actor, b.body, ts, ts, actor),
        )]
    return [(
        "UPDATE drafts SET body = ?, version = ?, author = ?, updated_at = ?, "
        "status = CASE WHEN status = 'in_review' THEN 'draft' ELSE status END, approvals = '[]', approved_version = NULL, "
        "editors = (SELECT json_group_array(name) FROM (SELECT value AS name FROM json_each(editors) UNION SELECT ? ORDER BY name) AS names) "
        "WHERE incident_id = ? AND id = ?",
        (b.body, b.version, actor, ts, actor, inc, b.draft_id),
    )]


def _draft_ticked(inc: str, ts: float, actor: str, b: ev.DraftTicked) -> list[Statement]:
    return [(
        "UPDATE drafts SET checklist = json_set(checklist, '$.' || json_quote(?), json(?)) WHERE incident_id = ? AND id = ?",
        (b.rule, "true" if b.ticked else "false", inc, b.draft_id),
    )]


def _draft_moved(inc: str, ts: float, actor: str, b: ev.DraftMoved) -> list[Statement]:
    out: list[Statement] = [("UPDATE drafts SET status = ?, updated_at = ? WHERE incident_id = ? AND id = ?", (b.status, ts, inc, b.draft_id))]
    if b.status == "approved":
        # Logs written before approvals named their version approved the draft as it stood.
        out.append((
            "UPDATE drafts SET approvals = json_insert(approvals, '$[#]', ?), override_reason = ?, "
            "approved_version = coalesce(?, version) WHERE incident_id = ? AND id = ?",
            (actor, b.override_reason or "", b.version or None, inc, b.draft_id),
        ))
    elif b.status in ("draft", "in_review"):
        out.append(("UPDATE drafts SET approvals = '[]', approved_version = NULL WHERE incident_id = ? AND id = ?",
                    (inc, b.draft_id)))
    if b.status == "sent" and b.comment_id is not None:
        out += _moved(inc, b.comment_id, "answered", (
            "UPDATE comments SET status = 'answered' WHERE incident_id = ? AND id = ?", (inc, b.comment_id)))
    return out


def _decision_proposed(inc: str, ts: float, actor: str, b: ev.DecisionProposed) -> list[Statement]:
    out: list[Statement] = [(
        "INSERT INTO decisions (id, incident_id, title, rationale, proposer, proposed_at, owner_decides) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (b.decision_id, inc, b.title, b.rationale, actor, ts, 1 if b.owner_decides else 0),
    )]
    if b.supersedes is not None:
        out.append(("UPDATE decisions SET status = 'superseded' WHERE incident_id = ? AND id = ?", (inc, b.supersedes)))
    return out


def _decision_voted(inc: str, ts: float, actor: str, b: ev.DecisionVoted) -> list[Statement]:
    column = "approvals" if b.vote == "approve" else "rejections"
    out: list[Statement] = [(f"UPDATE decisions SET {column} = json_insert({column}, '$[#]', ?) WHERE incident_id = ? AND id = ?", (actor, inc, b.decision_id))]
    if b.status:
        out.append((
            "UPDATE decisions SET status = ?, decided_at = ?, decided_by = ?, present = ? WHERE incident_id = ? AND id = ?",
            (b.status, ts, actor, _json(b.present).decode(), inc, b.decision_id),
        ))
    return out


def _operator_joined(inc: str, ts: float, actor: str, b: ev.OperatorJoined) -> list[Statement]:
    return [(
        "INSERT INTO presence (incident_id, name, role, joined_at, heartbeat_at, focus, left_at) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (incident_id, name) DO UPDATE SET "
        "role = excluded.role, joined_at = excluded.joined_at, heartbeat_at = excluded.heartbeat_at, "
        "focus = excluded.focus, left_at = NULL",
        (inc, b.name, b.role, ts, ts, b.focus),
    )]


def _operator_left(inc: str, ts: float, actor: str, b: ev.OperatorLeft) -> list[Statement]:
    return [("UPDATE presence SET left_at = ? WHERE incident_id = ? AND name = ?", (ts, inc, b.name))]


def _operator_focus(inc: str, ts: float, actor: str, b: ev.OperatorFocus) -> list[Statement]:
    return [("UPDATE presence SET focus = ?, heartbeat_at = max(heartbeat_at, ?) WHERE incident_id = ? AND name = ?", (b.focus, ts, inc, b.name))]


def _note_added(inc: str, ts: float, actor: str, b: ev.NoteAdded) -> list[Statement]:
    return [("INSERT INTO notes (id, incident_id, author, text, at) VALUES (?, ?, ?, ?, ?)", (b.note_id, inc, actor, b.text, ts))]


def _notice_claimed(inc: str, ts: float, actor: str, b: ev.NotificationClaimed) -> list[Statement]:
    return [("INSERT INTO notices (incident_id, about_seq, runner, held_until) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (incident_id, about_seq) DO UPDATE SET runner = excluded.runner, held_until = excluded.held_until",
             (inc, b.about_seq, b.runner, b.until))]


def _notice_sent(inc: str, ts: float, actor: str, b: ev.NotificationSent) -> list[Statement]:
    return [("INSERT INTO notices (incident_id, about_seq, sent) VALUES (?, ?, 1) "
             "ON CONFLICT (incident_id, about_seq) DO UPDATE SET sent = 1", (inc, b.about_seq))]


def _nothing(inc: str, ts: float, actor: str, b: Any) -> list[Statement]:
    return []


#: Body type -> its statements. Draft conflicts, alerts, unknown kinds and broken payloads
#: change no table (they are in the log, and only there).
PROJECTIONS: dict[type[Any], Callable[[str, float, str, Any], list[Statement]]] = {
    ev.IncidentCreated: _incident_created,
    ev.IncidentUpdated: _incident_updated,
    ev.CommentIngested: _comment_ingested,
    ev.CommentClaimed: _comment_claimed,
    ev.CommentReleased: _comment_released,
    ev.CommentMarked: _comment_marked,
    ev.CommentHandedOver: _comment_handed_over,
    ev.ClaimLapsed: _claim_lapsed,
    ev.CommentTagged: _comment_tagged,
    ev.DraftSaved: _draft_saved,
    ev.DraftTicked: _draft_ticked,
    ev.DraftMoved: _draft_moved,
    ev.DecisionProposed: _decision_proposed,
    ev.DecisionVoted: _decision_voted,
    ev.OperatorJoined: _operator_joined,
    ev.OperatorLeft: _operator_left,
    ev.OperatorFocus: _operator_focus,
    ev.NoteAdded: _note_added,
    ev.NotificationClaimed: _notice_claimed,
    ev.NotificationSent: _notice_sent,
}


def project_body(incident_id: str, ts: float, actor: str, body: ev.EventBody) -> list[Statement]:
    """The statements that apply one event's body."""
    return PROJECTIONS.get(type(body), _nothing)(incident_id, ts, actor, body)


def project(incident_id: str, ts: float, actor: str, kind: str, payload: dict[str, Any]) -> list[Statement]:
    """The statements that apply one event given as kind and payload (the store's write side)."""
    return project_body(incident_id, ts, actor, ev.decode(kind, payload))
