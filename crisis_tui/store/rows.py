"""Table rows to domain structs: the SELECT column lists and the converters that read them.

Every read of SqliteStore and every guard's input goes through these, so a
column added to a table is added here once, in the same order as its SELECT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec

from crisis_tui.model import Comment, Decision, Draft, Incident, Presence
from crisis_tui.store.projector import COMMENT_COLUMNS

EVENT_COLUMNS = "seq, incident_id, ts, actor, kind, payload, prev_hash, hash"
INCIDENT_SELECT = "id, title, brand, severity, status, our_fault, opened_at, closed_at, drill"
#: A Comment's columns: its `since` is its own property (model.waiting_since), kept as a column for the
#: comments_waiting index only.
COMMENT_SELECT = ", ".join(c for c in COMMENT_COLUMNS if c != "since") + ", status, holder, tags"
DRAFT_SELECT = ("id, incident_id, kind, comment_id, author, body, version, checklist, status, approvals, "
                "override_reason, created_at, updated_at, approved_version, editors")
DECISION_SELECT = ("id, incident_id, title, rationale, proposer, status, approvals, rejections, present, "
                   "proposed_at, decided_at, decided_by, owner_decides")
PRESENCE_SELECT = "incident_id, name, role, joined_at, heartbeat_at, focus, left_at"
_decode = msgspec.json.decode


class CommentState(NamedTuple):
    """The three columns a comment's guards read (not the whole row: claim stays one narrow read)."""

    status: str
    holder: str | None
    author: str


def incident_from_row(r: Sequence[Any]) -> Incident:
    return Incident(id=r[0], title=r[1], brand=r[2], severity=r[3], status=r[4],
                    our_fault=bool(r[5]), opened_at=r[6], closed_at=r[7], drill=bool(r[8]))


def comment_from_row(row: Sequence[Any]) -> Comment:
    (cid, inc, source, ext, author, text, lang, posted, received, url, likes, shares, replies,
     followers, following, created, verified, in_reply_to, extra, priority, negativity,
     bot_score, bot_reasons, cluster, status, holder, tags) = row
    return Comment(
        id=cid, incident_id=inc, source=source, external_id=ext, author=author, text=text,
        lang=lang, posted_at=posted, received_at=received, url=url, likes=likes, shares=shares,
        replies=replies, author_followers=followers, author_following=following,
        author_created_at=created, author_verified=bool(verified), in_reply_to=in_reply_to,
        extra=_decode(extra), priority=priority, negativity=negativity, bot_score=bot_score,
        bot_reasons=_decode(bot_reasons), cluster=cluster, status=status, holder=holder,
        tags=_decode(tags),
    )


def draft_from_row(row: Sequence[Any]) -> Draft:
    (did, inc, kind, comment_id, author, body, version, checklist, status, approvals,
     override_reason, created, updated, approved_version, editors) = row
    return Draft(
        id=did, incident_id=inc, kind=kind, comment_id=comment_id, author=author, body=body,
        version=version, checklist=_decode(checklist), status=status, approvals=_decode(approvals),
        override_reason=override_reason, created_at=created, updated_at=updated, approved_version=approved_version,
        editors=_decode(editors),
    )


def decision_from_row(row: Sequence[Any]) -> Decision:
    (did, inc, title, rationale, proposer, status, approvals, rejections, present, proposed,
     decided, decided_by, owner_decides) = row
    return Decision(
        id=did, incident_id=inc, title=title, rationale=rationale, proposer=proposer,
        status=status, approvals=_decode(approvals), rejections=_decode(rejections),
        present=_decode(present), proposed_at=proposed, decided_at=decided, decided_by=decided_by,
        owner_decides=bool(owner_decides),
    )


def presence_from_row(r: Sequence[Any]) -> Presence:
    return Presence(incident_id=r[0], name=r[1], role=r[2], joined_at=r[3], heartbeat_at=r[4],
                    focus=r[5], left_at=r[6])
