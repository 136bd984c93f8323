"""The outbound log: everything that left the room, read from the event log alone.

One entry per post (a statement published on two platforms is two), or per
reply or statement a person sent by hand: the exact text of the version sent,
where it went (the comment's platform and address, or "statement"), when, who
approved that version and who sent it, and the platform's post id and address
when a publisher posted it, or "by hand" when a person did.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import Event
from crisis_tui.safe_text import one_line

BY_HAND = "by hand"
#: How a drill's sent reply went out: nowhere (the store publishes nothing for a drill).
DRILL_NOWHERE = "nowhere (drill)"


class Outbound(msgspec.Struct, kw_only=True, frozen=True):
    draft_id: int
    version: int
    kind: str
    text: str
    #: The comment's platform for a reply; "statement" for a public statement.
    where: str
    comment_id: int | None
    #: The address of the comment answered (empty for a statement, or when unknown).
    answering: str
    sent_at: float
    sent_by: str
    approved_by: str
    #: "by hand", or the platform a publisher posted on.
    how: str
    post_id: str = ""
    url: str = ""


def outbound(events: Iterable[Event]) -> list[Outbound]:
    """The sent drafts in the order they went out."""
    texts: dict[tuple[int, int], str] = {}
    approvers: dict[tuple[int, int], str] = {}
    posts: dict[tuple[int, int], dict[str, ev.ReplyPublished]] = {}
    comments: dict[int, ev.ArrivedComment] = {}
    out: list[Outbound] = []
    drill = False
    for event in events:
        match event.body:
            case ev.IncidentCreated(incident=incident):
                drill = incident.drill
            case ev.CommentIngested(comment=comment):
                comments[comment.id] = comment
            case ev.DraftSaved(draft_id=draft_id, version=version, body=body):
                texts[(draft_id, version)] = body
            case ev.ReplyPublished() as b:
                posts.setdefault((b.draft_id, b.version), {}).setdefault(b.platform, b)
            case ev.DraftMoved(status="approved", version=int() as version) as b:
                approvers[(b.draft_id, version)] = event.actor
            case ev.DraftMoved(status="sent") as b:
                version = b.version if isinstance(b.version, int) else max(
                    (v for d, v in texts if d == b.draft_id), default=0)
                key = (b.draft_id, version)
                answered = comments.get(b.comment_id) if b.comment_id is not None else None
                for post in posts.get(key, {}).values() or [None]:
                    out.append(Outbound(
                        draft_id=b.draft_id, version=version, kind=b.kind, text=texts.get(key, ""),
                        where="statement" if b.kind == "statement" else (answered.source if answered else "?"),
                        comment_id=b.comment_id, answering=answered.url if answered else "",
                        sent_at=event.ts, sent_by=event.actor, approved_by=approvers.get(key, "?"),
                        how=post.platform if post else (DRILL_NOWHERE if drill else BY_HAND),
                        post_id=post.post_id if post else "", url=post.url if post else "",
                    ))
    return out


def where_it_went(item: Outbound) -> str:
    """"mastodon 1090… https://…", or "by hand" with the address a person answered at."""
    if item.how == DRILL_NOWHERE:
        return DRILL_NOWHERE
    if item.how != BY_HAND:
        return " ".join(part for part in (item.how, item.post_id, item.url) if part)
    return f"{BY_HAND}{' at ' + item.answering if item.answering else ''}"


def line(item: Outbound) -> str:
    """One plain line of the log (untrusted text made safe, cut to fit a terminal)."""
    when = datetime.fromtimestamp(item.sent_at).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    target = "statement" if item.kind == "statement" else f"reply to #{item.comment_id} on {one_line(item.where, 20)}"
    return (f"{when}  draft {item.draft_id} v{item.version} {target}; approved by {one_line(item.approved_by, 40)}, "
            f"sent by {one_line(item.sent_by, 40)}: {one_line(where_it_went(item), 200)}\n"
            f"    {one_line(item.text, 200)}")
