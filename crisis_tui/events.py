"""The event vocabulary: one typed body per event kind, and the only code that reads payloads.

The log stores each event's payload as canonical JSON bytes, hashed as stored
(crisis_tui.eventlog); an `Event` carries that payload unchanged, so the chain,
the HTTP wire and the export keep their shapes. Everything that *reads* an
event matches on the body decoded here instead of comparing kind strings and
looking keys up in dicts.

A kind this version does not know (written by a newer one) decodes to
`UnknownEvent`, a payload that does not fit its kind's shape to `BrokenEvent`;
both keep the raw payload, so they are stored, exported and shown ("unknown
event kind x.y"), never a crash.

The bodies mirror what the store writes today, field for field: `encode` gives
back the very payload dict (and so the very bytes) the store writes for the
same event. A field the store writes only sometimes is `UNSET` when absent.
Only what identifies an event is required (ids, the new status, the vote);
the rest has the default older readers assumed, so a sparse payload reads.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec
from msgspec import UNSET, UnsetType

from crisis_tui.model import Incident, NewComment, waiting_since

#: A value of an incident change (title, brand, severity, status: str; our_fault: bool).
Scalar = str | bool | int | float | None


class _Body(msgspec.Struct, frozen=True, kw_only=True, tag_field="event", gc=False):
    """The tag is the event kind; it travels in `Event.kind`, never inside a payload.

    Bodies are decoded JSON, which holds no reference cycles, so they are kept out
    of the cyclic garbage collector (gc=False): a room or an export holding 100k
    of them otherwise pays for the collector's passes over them, which measured
    more than the decoding itself.
    """


class IncidentCreated(_Body, frozen=True, tag="incident.created"):
    incident: Incident


class IncidentUpdated(_Body, frozen=True, tag="incident.updated"):
    """`reason` and `role` (the seat that changed it) are written only when known."""

    changes: dict[str, Scalar]
    before: dict[str, Scalar] = {}
    reason: str | UnsetType = UNSET
    role: str | UnsetType = UNSET


class ArrivedComment(NewComment, kw_only=True, gc=False):
    """A comment as the log received it: the intake's fields plus its id and arrival time."""

    id: int
    received_at: float

    @property
    def since(self) -> float:
        return waiting_since(self.posted_at, self.received_at)


class CommentIngested(_Body, frozen=True, tag="comment.ingested"):
    comment: ArrivedComment


class CommentClaimed(_Body, frozen=True, tag="comment.claimed"):
    comment_id: int
    holder: str
    author: str = ""


class CommentReleased(_Body, frozen=True, tag="comment.released"):
    comment_id: int
    author: str = ""


class CommentHandedOver(_Body, frozen=True, tag="comment.handed_over"):
    """A member with decision power took a held comment over (`holder` is the actor) or gave it
    to someone else in the room; `previous` held it until then (the room tells them)."""

    comment_id: int
    holder: str
    previous: str
    author: str = ""
    reason: str = ""


class ClaimLapsed(_Body, frozen=True, tag="comment.claim_lapsed"):
    """The store freed the claim of a member gone for `after_seconds` (their draft stays)."""

    comment_id: int
    holder: str
    author: str = ""
    after_seconds: float = 0.0


class CommentMarked(_Body, frozen=True, tag="comment.status"):
    comment_id: int
    status: str
    previous: str = ""
    author: str = ""
    reason: str = ""
    #: Whom an escalation went to (written only when given).
    to: str | UnsetType = UNSET


class CommentTagged(_Body, frozen=True, tag="comment.tagged"):
    comment_id: int
    tags: list[str]
    author: str = ""


class DraftSaved(_Body, frozen=True, tag="draft.saved"):
    draft_id: int
    version: int
    body: str = ""
    kind: str = "reply"
    comment_id: int | None = None


class DraftConflict(_Body, frozen=True, tag="draft.conflict"):
    """A stale save, refused; the text is kept in the log so nothing typed is lost."""

    draft_id: int
    based_on: int = 0
    current_version: int = 0
    body: str = ""


class DraftTicked(_Body, frozen=True, tag="draft.checklist"):
    draft_id: int
    rule: str
    ticked: bool


class DraftMoved(_Body, frozen=True, tag="draft.status"):
    """A draft's status change; an approval also records the reason and the rules it overrode."""

    draft_id: int
    status: str
    previous: str = ""
    kind: str = "reply"
    comment_id: int | None = None
    override_reason: str | UnsetType = UNSET
    failing: list[str] | UnsetType = UNSET
    #: The version approved, or sent (logs from before versioned approvals have none).
    version: int | UnsetType = UNSET
    #: A save after approval sent the draft back in review.
    edited_after_approval: bool | UnsetType = UNSET


class DecisionProposed(_Body, frozen=True, tag="decision.proposed"):
    """`owner_decides` is written only when set, so ordinary decisions keep their bytes."""

    decision_id: int
    title: str
    rationale: str = ""
    supersedes: int | None = None
    owner_decides: bool | UnsetType = UNSET


class DecisionVoted(_Body, frozen=True, tag="decision.voted"):
    decision_id: int
    vote: Literal["approve", "reject"]
    role: str = ""
    title: str = ""
    status: str = ""
    present: list[str] = []


class OperatorJoined(_Body, frozen=True, tag="operator.joined"):
    name: str
    role: str
    focus: str = ""


class OperatorLeft(_Body, frozen=True, tag="operator.left"):
    name: str
    reason: str = ""


class OperatorFocus(_Body, frozen=True, tag="operator.focus"):
    name: str
    focus: str


class NoteAdded(_Body, frozen=True, tag="note.added"):
    note_id: int
    text: str


class SpikeAlert(_Body, frozen=True, tag="alert.spike"):
    """Written by triage (all five fields) or any client through the alerts endpoint."""

    per_minute: int | float
    baseline: int | float
    factor: int | float
    baseline_minutes: int | UnsetType = UNSET
    sources: dict[str, int] | UnsetType = UNSET


class SlaAlert(_Body, frozen=True, tag="alert.sla"):
    detail: str = ""


class DrillStarted(_Body, frozen=True, tag="alert.drill_started"):
    """A drill's script began (crisis_tui.drill): which scenario, how fast, and the targets it is
    scored against, so the report and `crisis-tui drills` read them from the log alone.
    `speed` turns the log's seconds into the scenario's (0: played without waiting)."""

    scenario: str
    name: str = ""
    speed: float = 1.0
    lang: str = "en"
    first_response_minutes: float | None = None
    holding_statement_minutes: float | None = None
    top_reach: int = 20
    source: str = ""
    #: The scenario's length: the report measures no further (a drill ended late is not scored late).
    duration_minutes: float | None = None


class DrillInject(_Body, frozen=True, tag="alert.drill_inject"):
    """A scripted turn of a drill ("a journalist asks for a statement") at its scenario minute."""

    minute: float
    text: str


class DrillEnded(_Body, frozen=True, tag="alert.drill_ended"):
    """The drill is over: its script ran out, or someone ended it (`crisis-tui drill end`)."""

    reason: str = ""


class ReplyPublished(_Body, frozen=True, tag="reply.published"):
    """An approved version was posted on its platform; `post_id` and `url` are the platform's."""

    draft_id: int
    version: int
    platform: str
    post_id: str
    url: str = ""
    comment_id: int | None = None


class ReplyPublishFailed(_Body, frozen=True, tag="reply.publish_failed"):
    """Posting failed; the draft stays approved, and sending again retries under the same key."""

    draft_id: int
    version: int
    platform: str
    error: str
    comment_id: int | None = None


class SitrepIssued(_Body, frozen=True, tag="sitrep.issued"):
    """A situation report, as it was sent, and to which targets it went or why not."""

    text: str
    delivered: list[str] = []
    failed: dict[str, str] = {}


class NotificationSent(_Body, frozen=True, tag="notify.sent"):
    """Other departments were told of an event (`about_seq`, its kind `about`): the words
    sent, the targets reached and, for each one that was not, why."""

    about_seq: int
    about: str
    text: str
    delivered: list[str] = []
    failed: dict[str, str] = {}


class NotificationClaimed(_Body, frozen=True, tag="notify.claimed"):
    """A notify runner took the notice of event `about_seq` to send, until `until` (its targets'
    longest wait and a margin): another runner leaves it to this one, and takes it over only
    once that time has passed without a `notify.sent` (the runner stopped midway). The store
    keeps the newest claim of each notice (table notices) and refuses the others."""

    about_seq: int
    runner: str
    until: float


class EscalationAnswered(_Body, frozen=True, tag="escalation.answered"):
    """The department a comment was escalated to answered, as someone in the room recorded it:
    the escalation it closes (`escalated_seq`, `escalated_at`) travels with it, so the time to
    loop the department in is read from this one event."""

    comment_id: int
    to: str
    answer: str
    escalated_seq: int
    escalated_at: float
    author: str = ""


class UnknownEvent(_Body, frozen=True, tag="unknown"):
    """A kind this version does not know: kept as it came, for a newer version to read."""

    kind: str
    payload: Any


class BrokenEvent(_Body, frozen=True, tag="broken"):
    """A known kind whose payload does not fit its shape: kept as it came, with the reason."""

    kind: str
    payload: Any
    error: str


Known = (
    IncidentCreated | IncidentUpdated | CommentIngested | CommentClaimed | CommentReleased | CommentMarked
    | CommentTagged | CommentHandedOver | ClaimLapsed | DraftSaved | DraftConflict | DraftTicked | DraftMoved
    | DecisionProposed | DecisionVoted | OperatorJoined | OperatorLeft | OperatorFocus | NoteAdded | SpikeAlert
    | SlaAlert | ReplyPublished | ReplyPublishFailed | SitrepIssued | NotificationSent | NotificationClaimed
    | EscalationAnswered | DrillStarted | DrillInject | DrillEnded
)
EventBody = Known | UnknownEvent | BrokenEvent
#: What the room, the wallboard and the export learn nothing from (no state, no line of story).
Quiet = (OperatorFocus, DraftTicked, NotificationClaimed)
Alert = (SpikeAlert, SlaAlert, DrillInject)
#: The drill's own record, written only on a drill incident (store.guards.drill_alert).
Drill = (DrillStarted, DrillInject, DrillEnded)
DRILL_PREFIX: Final = "alert.drill_"
#: Bodies that change a comment row (status, holder or tags).
CommentChange = (CommentClaimed, CommentReleased, CommentMarked, CommentTagged, CommentHandedOver, ClaimLapsed)

KNOWN: Final[tuple[type[Any], ...]] = Known.__args__
_BY_KIND: Final[dict[str, type[Any]]] = {cls.__struct_config__.tag: cls for cls in KNOWN}
_DECODERS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    kind: msgspec.json.Decoder(cls) for kind, cls in _BY_KIND.items()
}
_any = msgspec.json.Decoder()
ALERT_PREFIX: Final = "alert."


def kind_of(body: EventBody | type[Known]) -> str:
    """The event kind a body (or body type) is written under."""
    if isinstance(body, (UnknownEvent, BrokenEvent)):
        return body.kind
    return str(body.__struct_config__.tag)


def is_alert_kind(kind: str) -> bool:
    """Alerts are `alert.*` events: any client may raise one, of a kind we may not know."""
    return kind.startswith(ALERT_PREFIX)


def _broken(kind: str, payload: Any, exc: Exception) -> BrokenEvent:
    return BrokenEvent(kind=kind, payload=payload, error=str(exc) or type(exc).__name__)


def decode(kind: str, payload: Any) -> EventBody:
    """The body of an event whose payload is already a Python value (the wire, the store's write)."""
    cls = _BY_KIND.get(kind)
    if cls is None:
        return UnknownEvent(kind=kind, payload=payload)
    try:
        return msgspec.convert(payload, cls)
    except msgspec.ValidationError as exc:
        return _broken(kind, payload, exc)


def decode_stored(kind: str, stored: bytes | str) -> EventBody:
    """The body straight from the stored payload bytes: no dict on the way, which is faster
    than `decode` of the decoded dict (see eventlog.event_from_row)."""
    decoder = _DECODERS.get(kind)
    if decoder is not None:
        try:
            return decoder.decode(stored)
        except msgspec.ValidationError as exc:
            return _broken(kind, _raw_value(stored), exc)
        except msgspec.DecodeError as exc:
            return _broken(kind, _text(stored), exc)
    try:
        return UnknownEvent(kind=kind, payload=_any.decode(stored))
    except msgspec.DecodeError as exc:
        return _broken(kind, _text(stored), exc)


def _raw_value(stored: bytes | str) -> Any:
    try:
        return _any.decode(stored)
    except msgspec.DecodeError:
        return _text(stored)


def _text(stored: bytes | str) -> str:
    return stored if isinstance(stored, str) else stored.decode("utf-8", "replace")


def encode(body: EventBody) -> tuple[str, Any]:
    """(kind, payload) to append for a body: the payload the store writes for it today.

    An unknown or broken body gives back what it kept, so a log passes through unchanged.
    """
    if isinstance(body, (UnknownEvent, BrokenEvent)):
        return body.kind, body.payload
    payload = msgspec.to_builtins(body)
    del payload["event"]
    return kind_of(body), payload

