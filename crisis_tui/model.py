"""The incident's domain objects, as the store projects them from the event log.

They are msgspec structs: cheap to build by the hundred thousand (the comment
stream), and encodable to JSON unchanged for the HTTP transport and the export.
No Textual here: the store, the server and the export use these headless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from crisis_tui.events import EventBody

CommentStatus = Literal[
    "new", "claimed", "answered", "escalated", "ignored", "removal_requested"
]
COMMENT_STATUSES: tuple[str, ...] = (
    "new",
    "claimed",
    "answered",
    "escalated",
    "ignored",
    "removal_requested",
)
#: Statuses a comment can be marked with by hand (claimed comes from claim()).
MARKABLE_STATUSES: tuple[str, ...] = (
    "new",
    "answered",
    "escalated",
    "ignored",
    "removal_requested",
)
DraftStatus = Literal["draft", "in_review", "approved", "sent", "withdrawn"]
DRAFT_STATUSES: tuple[str, ...] = ("draft", "in_review", "approved", "sent", "withdrawn")
DraftKind = Literal["reply", "statement"]
DecisionStatus = Literal["proposed", "approved", "rejected", "superseded"]
DECISION_STATUSES: tuple[str, ...] = ("proposed", "approved", "rejected", "superseded")
IncidentStatus = Literal["open", "monitoring", "closed"]
INCIDENT_STATUSES: tuple[str, ...] = ("open", "monitoring", "closed")


class Incident(msgspec.Struct, kw_only=True):
    id: str
    title: str
    brand: str = ""
    severity: str = "sev2"
    status: str = "open"
    our_fault: bool = False
    opened_at: float
    closed_at: float | None = None
    #: A rehearsal (crisis_tui.drill): it publishes nothing, notifies only the playbook's drill
    #: targets and is left out of every real incident's figures. Fixed when the incident is made.
    drill: bool = False


class NewComment(msgspec.Struct, kw_only=True):
    """A comment as it arrives, validated, before the store gives it an id."""

    source: str
    external_id: str
    author: str
    text: str
    lang: str = ""
    posted_at: float | None = None
    url: str = ""
    likes: int = 0
    shares: int = 0
    replies: int = 0
    author_followers: int | None = None
    author_following: int | None = None
    author_created_at: float | None = None
    author_verified: bool = False
    in_reply_to: str = ""
    extra: dict[str, Any] = {}
    # Triage results, filled by crisis_tui.triage before the store sees them.
    priority: float = 0.0
    negativity: float = 0.0
    bot_score: float = 0.0
    bot_reasons: list[str] = []
    cluster: str = ""


def waiting_since(posted_at: float | None, received_at: float) -> float:
    """When a comment's clock starts: ages, the SLA and the evaluation count from its posting,
    which a backlog may have reached us long after. A source without a time, or one whose
    clock runs ahead of ours (posted "after" we received it), starts at its arrival."""
    if posted_at is None or posted_at > received_at:
        return received_at
    return posted_at


class Comment(NewComment, kw_only=True):
    id: int
    incident_id: str
    received_at: float
    status: str = "new"
    holder: str | None = None
    tags: list[str] = []

    @property
    def since(self) -> float:
        return waiting_since(self.posted_at, self.received_at)


class Draft(msgspec.Struct, kw_only=True):
    id: int
    incident_id: str
    kind: str = "reply"
    comment_id: int | None = None
    author: str
    body: str = ""
    version: int = 1
    checklist: dict[str, bool] = {}
    status: str = "draft"
    approvals: list[str] = []
    override_reason: str = ""
    created_at: float
    updated_at: float
    #: The version the approvals are for (None until approved, and again once edited after).
    approved_version: int | None = None
    #: Everyone who saved a version of it, in name order (four eyes keeps them from approving it).
    editors: list[str] = []


class Decision(msgspec.Struct, kw_only=True):
    id: int
    incident_id: str
    title: str
    rationale: str = ""
    proposer: str
    status: str = "proposed"
    approvals: list[str] = []
    rejections: list[str] = []
    present: list[str] = []
    proposed_at: float
    decided_at: float | None = None
    decided_by: str | None = None
    #: Not ours to take: only a role that speaks for the owner (playbook `owner = true`) approves it.
    owner_decides: bool = False


class Presence(msgspec.Struct, kw_only=True):
    incident_id: str
    name: str
    role: str
    joined_at: float
    heartbeat_at: float
    focus: str = ""
    left_at: float | None = None
    left_reason: str = ""  # the room's fold fills it (presence_words): "left" and "gone" read apart


class Note(msgspec.Struct, kw_only=True):
    id: int
    incident_id: str
    author: str
    text: str
    at: float


class Event(msgspec.Struct, kw_only=True, dict=True):
    """One line of the append-only log: the running timeline is these, in seq order.

    `payload` is the payload as stored and hashed, the same on the wire and in the
    export; readers use `body`, its typed form (crisis_tui.events), decoded on first
    use and kept on the instance (outside the encoded fields, which `dict=True` allows).
    """

    seq: int
    incident_id: str
    ts: float
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def body(self) -> EventBody:
        cache = self.__dict__
        try:
            return cache["body"]
        except KeyError:
            from crisis_tui import events  # events builds on this module's structs

            stored = cache.pop("stored", None)
            body = events.decode(self.kind, self.payload) if stored is None else events.decode_stored(self.kind, stored)
            cache["body"] = body
            return body


class BulkSkip(msgspec.Struct, kw_only=True):
    """A comment a bulk action left as it was, and why (held by someone else, gone, ...)."""

    comment_id: int
    reason: str


class BulkResult(msgspec.Struct, kw_only=True):
    """What one bulk action did: the comments changed (each with its own event) and those
    skipped with the reason, so the room can say both in one line."""

    action: str
    done: list[int] = []
    unchanged: list[int] = []
    skipped: list[BulkSkip] = []


class IngestResult(msgspec.Struct, kw_only=True):
    ingested: int
    duplicates: int
    ids: list[int] = []


class Counts(msgspec.Struct, kw_only=True):
    """What the header and the wallboard show at a glance."""

    total: int = 0
    new: int = 0
    claimed: int = 0
    answered: int = 0
    escalated: int = 0
    ignored: int = 0
    removal_requested: int = 0
    #: When the longest-waiting unanswered comment was posted (`waiting_since`).
    oldest_unanswered_at: float | None = None

    @property
    def unanswered(self) -> int:
        return self.new + self.claimed + self.escalated


# ------------------------------------------------------------- the room's compact reads
#: How much of a comment's text and author the compact read gives (what a row shows and the
#: text filter searches); the detail view reads the whole comment.
KEY_TEXT = 600
KEY_AUTHOR = 200
#: Most ids one `comments_by_id` read answers (the rows of a screen, a cluster's copies).
BY_ID_MAX = 2000


class CommentKeys(msgspec.Struct, kw_only=True):
    """A page of comments as the room's index holds them: columns, not one object per comment.

    What ordering, filtering and the stream's row need without the details (ids, priority,
    waiting-since, status, source) plus the short texts the text filter searches (author and
    text, cut to what a row keeps) and the strings that link a comment to its thread and its
    copy-paste cluster. Holders and tags are rare, so they come as sparse maps. A million
    comments arrive as a few dozen of these, decoded in C by msgspec, never as a million
    `Comment`s (crisis_tui.comment_index).
    """

    ids: Sequence[int] = ()
    priority: Sequence[float] = ()
    since: Sequence[float] = ()
    status: Sequence[str] = ()
    source: Sequence[str] = ()
    author: Sequence[str] = ()
    text: Sequence[str] = ()
    external_id: Sequence[str] = ()
    in_reply_to: Sequence[str] = ()
    cluster: Sequence[str] = ()
    holders: dict[int, str] = {}
    tags: dict[int, list[str]] = {}


# ----------------------------------------------------------- the wallboard's start (read by the store)
#: A comment at or above this negativity counts as negative (the evaluation's curves, the wallboard's trend).
NEGATIVE_AT = 0.5


class Arrivals(msgspec.Struct, kw_only=True):
    """Comments by minute of posting (`waiting_since`), as a replay of their comment.ingested events
    would count them: what the wallboard starts from instead of replaying the log."""

    #: minute number (epoch seconds // 60) -> [comments posted in it, how many at or above NEGATIVE_AT]
    minutes: dict[int, list[int]] = {}
    #: Posting times from the asked `recent_minute` on, earliest first.
    recent: list[float] = []
    #: The newest comment counted (0: none): arrivals after it are the log's to tell.
    last_id: int = 0
