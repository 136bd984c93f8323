"""From an event to the SQL that projects it into the tables.

This is the one place that knows how each kind of event changes the state, so
the live store and `import` (which replays a log into a fresh file) cannot
disagree. A projection reads nothing: guards run before the event is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

Statement = tuple[str, tuple[Any, ...]]

COMMENT_COLUMNS: tuple[str, ...] = (
    "id", "incident_id", "source", "external_id", "author", "text", "lang",
    "posted_at", "received_at", "url", "likes", "shares", "replies",
    "author_followers", "author_following", "author_created_at",
    "author_verified", "in_reply_to", "extra", "priority", "negativity",
    "bot_score", "bot_reasons", "cluster",
)
INSERT_COMMENT = (
    f"INSERT INTO comments ({', '.join(COMMENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COMMENT_COLUMNS)})"
)
_json = msgspec.json.encode


def comment_row(incident_id: str, c: dict[str, Any]) -> tuple[Any, ...]:
    """The comments row for a comment.ingested payload's `comment`."""
    return (
        c["id"], incident_id, c["source"], c["external_id"], c["author"], c["text"],
        c.get("lang", ""), c.get("posted_at"), c["received_at"], c.get("url", ""),
        c.get("likes", 0), c.get("shares", 0), c.get("replies", 0),
        c.get("author_followers"), c.get("author_following"), c.get("author_created_at"),
        int(bool(c.get("author_verified", False))), c.get("in_reply_to", ""),
        _json(c.get("extra", {})).decode(), c.get("priority", 0.0), c.get("negativity", 0.0),
        c.get("bot_score", 0.0), _json(c.get("bot_reasons", [])).decode(), c.get("cluster", ""),
    )


def _incident_created(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    i = p["incident"]
    return [(
        "INSERT INTO incidents (id, title, brand, severity, status, our_fault, opened_at, closed_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (i["id"], i["title"], i.get("brand", ""), i["severity"], i.get("status", "open"),
         int(bool(i.get("our_fault", False))), i["opened_at"], i.get("closed_at")),
    )]


def _incident_updated(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    out: list[Statement] = []
    for key, value in p["changes"].items():
        if key not in {"title", "brand", "severity", "status", "our_fault"}:
            continue
        if key == "our_fault":
            value = int(bool(value))
        out.append((f"UPDATE incidents SET {key} = ? WHERE id = ?", (value, inc)))
        if key == "status":
            out.append(("UPDATE incidents SET closed_at = ? WHERE id = ?", (ts if value == "closed" else None, inc)))
    return out


def _comment_ingested(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [(INSERT_COMMENT, comment_row(inc, p["comment"]))]


def _comment_claimed(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("UPDATE comments SET status = 'claimed', holder = ? WHERE incident_id = ? AND id = ?", (p["holder"], inc, p["comment_id"]))]


def _comment_released(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("UPDATE comments SET status = 'new', holder = NULL WHERE incident_id = ? AND id = ?", (inc, p["comment_id"]))]


def _comment_status(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    if p["status"] == "new":
        return [("UPDATE comments SET status = 'new', holder = NULL WHERE incident_id = ? AND id = ?", (inc, p["comment_id"]))]
    return [("UPDATE comments SET status = ? WHERE incident_id = ? AND id = ?", (p["status"], inc, p["comment_id"]))]


def _comment_tagged(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("UPDATE comments SET tags = ? WHERE incident_id = ? AND id = ?", (_json(p["tags"]).decode(), inc, p["comment_id"]))]


def _draft_saved(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    if p["version"] == 1:
        return [(
            "INSERT INTO drafts (id, incident_id, kind, comment_id, author, body, version, created_at, updated_at, editors) "
            "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, json_array(?))",
            (p["draft_id"], inc, p["kind"], p.get("comment_id"), actor, p["body"], ts, ts, actor),
        )]
    return [(
        "UPDATE drafts SET body = ?, version = ?, author = ?, updated_at = ?, "
        "status = CASE WHEN status = 'in_review' THEN 'draft' ELSE status END, approvals = '[]', approved_version = NULL, "
        "editors = (SELECT json_group_array(name) FROM (SELECT value AS name FROM json_each(editors) UNION SELECT ? ORDER BY name)) "
        "WHERE incident_id = ? AND id = ?",
        (p["body"], p["version"], actor, ts, actor, inc, p["draft_id"]),
    )]


def _draft_checklist(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [(
        "UPDATE drafts SET checklist = json_set(checklist, '$.' || json_quote(?), json(?)) WHERE incident_id = ? AND id = ?",
        (p["rule"], "true" if p["ticked"] else "false", inc, p["draft_id"]),
    )]


def _draft_status(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    out: list[Statement] = [("UPDATE drafts SET status = ?, updated_at = ? WHERE incident_id = ? AND id = ?", (p["status"], ts, inc, p["draft_id"]))]
    if p["status"] == "approved":
        # Logs written before approvals named their version approved the draft as it stood.
        out.append((
            "UPDATE drafts SET approvals = json_insert(approvals, '$[#]', ?), override_reason = ?, "
            "approved_version = coalesce(?, version) WHERE incident_id = ? AND id = ?",
            (actor, p.get("override_reason", ""), p.get("version"), inc, p["draft_id"]),
        ))
    elif p["status"] in ("draft", "in_review"):
        out.append(("UPDATE drafts SET approvals = '[]', approved_version = NULL WHERE incident_id = ? AND id = ?",
                    (inc, p["draft_id"])))
    if p["status"] == "sent" and p.get("comment_id") is not None:
        out.append(("UPDATE comments SET status = 'answered' WHERE incident_id = ? AND id = ?", (inc, p["comment_id"])))
    return out


def _decision_proposed(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    out: list[Statement] = [(
        "INSERT INTO decisions (id, incident_id, title, rationale, proposer, proposed_at, owner_decides) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (p["decision_id"], inc, p["title"], p.get("rationale", ""), actor, ts, 1 if p.get("owner_decides") else 0),
    )]
    if p.get("supersedes") is not None:
        out.append(("UPDATE decisions SET status = 'superseded' WHERE incident_id = ? AND id = ?", (inc, p["supersedes"])))
    return out


def _decision_voted(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    column = "approvals" if p["vote"] == "approve" else "rejections"
    out: list[Statement] = [(f"UPDATE decisions SET {column} = json_insert({column}, '$[#]', ?) WHERE incident_id = ? AND id = ?", (actor, inc, p["decision_id"]))]
    if p.get("status"):
        out.append((
            "UPDATE decisions SET status = ?, decided_at = ?, decided_by = ?, present = ? WHERE incident_id = ? AND id = ?",
            (p["status"], ts, actor, _json(p.get("present", [])).decode(), inc, p["decision_id"]),
        ))
    return out


def _operator_joined(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [(
        "INSERT INTO presence (incident_id, name, role, joined_at, heartbeat_at, focus, left_at) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (incident_id, name) DO UPDATE SET "
        "role = excluded.role, joined_at = excluded.joined_at, heartbeat_at = excluded.heartbeat_at, "
        "focus = excluded.focus, left_at = NULL",
        (inc, p["name"], p["role"], ts, ts, p.get("focus", "")),
    )]


def _operator_left(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("UPDATE presence SET left_at = ? WHERE incident_id = ? AND name = ?", (ts, inc, p["name"]))]


def _operator_focus(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("UPDATE presence SET focus = ?, heartbeat_at = max(heartbeat_at, ?) WHERE incident_id = ? AND name = ?", (p["focus"], ts, inc, p["name"]))]


def _note_added(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return [("INSERT INTO notes (id, incident_id, author, text, at) VALUES (?, ?, ?, ?, ?)", (p["note_id"], inc, actor, p["text"], ts))]


def _nothing(inc: str, ts: float, actor: str, p: dict[str, Any]) -> list[Statement]:
    return []


PROJECTIONS: dict[str, Callable[[str, float, str, dict[str, Any]], list[Statement]]] = {
    "incident.created": _incident_created,
    "incident.updated": _incident_updated,
    "comment.ingested": _comment_ingested,
    "comment.claimed": _comment_claimed,
    "comment.released": _comment_released,
    "comment.status": _comment_status,
    "comment.tagged": _comment_tagged,
    "draft.saved": _draft_saved,
    "draft.conflict": _nothing,
    "draft.checklist": _draft_checklist,
    "draft.status": _draft_status,
    "decision.proposed": _decision_proposed,
    "decision.voted": _decision_voted,
    "operator.joined": _operator_joined,
    "operator.left": _operator_left,
    "operator.focus": _operator_focus,
    "note.added": _note_added,
    "alert.spike": _nothing,
    "alert.sla": _nothing,
}


def project(incident_id: str, ts: float, actor: str, kind: str, payload: dict[str, Any]) -> list[Statement]:
    """The statements that apply one event; unknown kinds change no table (they stay in the log)."""
    return PROJECTIONS.get(kind, _nothing)(incident_id, ts, actor, payload)
