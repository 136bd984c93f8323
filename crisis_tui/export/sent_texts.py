"""Every reply and statement the committee sent, with the words and who let them out.

The review asks "how good were our answers?": it needs the texts themselves, the
approval each went out under (who, for which version, the reason given for
overriding a failing rule) and the checklist as it stood. All of it is folded
from the log alone (the draft's saved versions, its ticks, its approvals), so an
imported incident's export says the same.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from crisis_tui import events as ev
from crisis_tui.model import Event


class Approval(msgspec.Struct, kw_only=True):
    actor: str
    at: float
    #: The version approved (None in logs from before versioned approvals).
    version: int | None
    #: The tone rules the store found failing when it was approved (an override).
    failing: list[str] = []
    override_reason: str = ""


class SentText(msgspec.Struct, kw_only=True):
    draft_id: int
    kind: str  # "reply" | "statement"
    comment_id: int | None
    comment_author: str = ""
    comment_text: str = ""
    comment_source: str = ""
    comment_lang: str = ""
    #: When the comment's wait started (model.waiting_since).
    comment_since: float | None = None
    #: "The error is ours" as the incident stood when it was sent (the apology rule).
    our_fault: bool = False
    version: int | None
    text: str
    sent_by: str
    sent_at: float
    #: The approvals of the version that went out (others approved another text).
    approvals: list[Approval] = []
    #: Manual tone rules a person ticked on the draft, as they stood when it was sent.
    ticked: list[str] = []
    #: Everyone who saved a version of it.
    editors: list[str] = []


class _Draft:
    __slots__ = ("approvals", "comment_id", "editors", "kind", "ticks", "versions")

    def __init__(self, kind: str, comment_id: int | None) -> None:
        self.kind = kind
        self.comment_id = comment_id
        self.versions: dict[int, str] = {}
        self.ticks: dict[str, bool] = {}
        self.approvals: list[Approval] = []
        self.editors: list[str] = []


def sent_texts(events: Iterable[Event]) -> list[SentText]:
    """The texts sent, in the order they went out."""
    comments: dict[int, ev.ArrivedComment] = {}
    drafts: dict[int, _Draft] = {}
    out: list[SentText] = []
    our_fault = False
    for e in events:
        body = e.body
        if isinstance(body, ev.CommentIngested):
            comments[body.comment.id] = body.comment
        elif isinstance(body, ev.IncidentCreated):
            our_fault = body.incident.our_fault
        elif isinstance(body, ev.IncidentUpdated) and "our_fault" in body.changes:
            our_fault = bool(body.changes["our_fault"])
        elif isinstance(body, ev.DraftSaved):
            draft = drafts.get(body.draft_id)
            if draft is None:
                draft = drafts[body.draft_id] = _Draft(body.kind, body.comment_id)
            draft.versions[body.version] = body.body
            if e.actor not in draft.editors:
                draft.editors.append(e.actor)
        elif isinstance(body, ev.DraftTicked) and body.draft_id in drafts:
            drafts[body.draft_id].ticks[body.rule] = body.ticked
        elif isinstance(body, ev.DraftMoved) and body.draft_id in drafts:
            draft = drafts[body.draft_id]
            version = body.version if isinstance(body.version, int) else None
            if body.status == "approved":
                draft.approvals.append(Approval(
                    actor=e.actor, at=e.ts, version=version if version is not None else _latest(draft),
                    failing=list(body.failing) if isinstance(body.failing, list) else [],
                    override_reason=body.override_reason if isinstance(body.override_reason, str) else "",
                ))
            elif body.status == "sent":
                sent = version if version is not None else _latest(draft)
                c = comments.get(draft.comment_id) if draft.comment_id is not None else None
                out.append(SentText(
                    draft_id=body.draft_id, kind=draft.kind, comment_id=draft.comment_id,
                    comment_author=c.author if c else "", comment_text=c.text if c else "",
                    comment_source=c.source if c else "", comment_lang=c.lang if c else "",
                    comment_since=c.since if c else None, our_fault=our_fault,
                    version=sent, text=draft.versions.get(sent, "") if sent is not None else "",
                    sent_by=e.actor, sent_at=e.ts,
                    approvals=[a for a in draft.approvals if a.version == sent],
                    ticked=sorted(rule for rule, on in draft.ticks.items() if on), editors=list(draft.editors),
                ))
    return out


def _latest(draft: _Draft) -> int | None:
    return max(draft.versions, default=None)
