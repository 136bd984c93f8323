"""The HTTP contract: request bodies here, `errors` and `sse` beside them.

Shared by the server (decoding) and HttpStore (encoding). Each body is a
strict msgspec struct: an unknown key, a missing field or a wrong type becomes
InvalidInput naming the field, which the server answers with 422. The actor is
never part of a body: the server takes it from the token. `errors` carries a
CrisisError across (headers out, the same error back in), `sse` the event
log's frames. Nothing in this package imports Starlette or httpx: it is the
contract both ends import, so crisis_tui.store never imports crisis_tui.server.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec

from crisis_tui import json_input
from crisis_tui.errors import InvalidInput

T = TypeVar("T")

#: The largest id or version SQLite can hold (a signed 64-bit integer).
MAX_ID = 2**63 - 1
#: An id or a version in a body: a whole number SQLite can store.
Id = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
#: Seconds of silence after which a member is gone (at most a year).
Seconds = Annotated[float, msgspec.Meta(gt=0, le=365 * 86400)]


class _Body(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    pass


class NewIncidentBody(_Body):
    title: str
    brand: str = ""
    severity: str = ""
    our_fault: bool = False
    #: A second open incident with a title one already has (refused without it).
    again: bool = False
    #: A rehearsal (crisis_tui.drill): publishes nothing, notifies only drill targets.
    drill: bool = False


class IncidentChangeBody(_Body, omit_defaults=True):
    """`PATCH /incidents/ID`: the fields to change, why, and (for a caller not in the room)
    the committee role it acts in, which must be one of the token's seats."""

    title: str | None = None
    brand: str | None = None
    severity: str | None = None
    status: str | None = None
    our_fault: bool | None = None
    reason: str = ""
    role: str | None = None

    def changes(self) -> dict[str, object]:
        fields = ("title", "brand", "severity", "status", "our_fault")
        return {k: getattr(self, k) for k in fields if getattr(self, k) is not None}


class HandOverBody(_Body, omit_defaults=True):
    """`POST .../comments/CID/hand-over`: to whom (absent: the caller takes it over) and why."""

    to: str | None = None
    reason: str = ""


class MarkBody(_Body):
    status: str
    reason: str = ""
    to: str = ""  # whom an escalation goes to


class CommentIdsBody(_Body):
    """`POST /incidents/ID/comments/by-id`: the comments a room's screen shows (a read)."""

    ids: list[Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]]


class BulkBody(_Body):
    """`POST /incidents/ID/comments/bulk`: one action on many comments (store.guards.BULK_ACTIONS)."""

    action: str
    comment_ids: list[Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]]
    tags: list[str] = []
    reason: str = ""


class TagsBody(_Body):
    tags: list[str]


class NewDraftBody(_Body):
    body: str
    comment_id: Id | None = None
    kind: str = "reply"


class DraftSaveBody(_Body):
    body: str
    base_version: Id


class TickBody(_Body):
    rule: str
    ticked: bool


class DraftStatusBody(_Body, omit_defaults=True):
    status: str
    override_reason: str = ""
    #: The version the client read: refused when the draft is no longer at it.
    version: Id | None = None
    #: Sent by older clients; ignored: the server judges the tone rules itself.
    failing: list[str] = []


class ProposalBody(_Body):
    title: str
    #: Required: a decision goes on the record with its reason (the store refuses a blank one).
    rationale: str
    supersedes: Id | None = None
    owner_decides: bool = False


class VoteBody(_Body):
    approve: bool


class HeartbeatBody(_Body):
    role: str
    focus: str | None = None


class LeaveBody(_Body):
    reason: str = "quit"


class ExpireBody(_Body):
    gone_after: Seconds


class NoteBody(_Body):
    text: str


class SitrepBody(_Body):
    """`POST /incidents/ID/sitreps`: a situation report as sent, and where it went."""

    text: str
    delivered: list[str] = []
    failed: dict[str, str] = {}


class NotificationBody(_Body):
    """`POST /incidents/ID/notifications`: who was told of event `about_seq`."""

    about_seq: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    about: str
    text: str
    delivered: list[str] = []
    failed: dict[str, str] = {}


class NoticeClaimBody(_Body):
    """`POST /incidents/ID/notifications/claims`: a notify runner takes event `about_seq`'s notice."""

    about_seq: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
    runner: str
    lease_seconds: Annotated[float, msgspec.Meta(gt=0, le=600)]


class EscalationAnswerBody(_Body):
    """`POST /incidents/ID/comments/CID/escalation-answer`: what the department answered."""

    answer: str


class AlertBody(_Body):
    kind: str
    payload: dict[str, Any] = {}


class Left(msgspec.Struct, kw_only=True):
    """The answer to leaving the room."""

    left: str


#: A count a platform sends (likes, shares, followers): SQLite's 64-bit INTEGER at most.
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_ID)]
#: `likes` may be negative: some platforms send a net score there (comment_shape.SIGNED_COUNTS).
SignedCount = Annotated[int, msgspec.Meta(ge=-MAX_ID, le=MAX_ID)]


class NativeComment(msgspec.Struct, kw_only=True):
    """The native comment shape as the API documents it; crisis_tui.comment_shape checks
    it (the server never decodes into this struct), and keeps unknown keys in `extra`."""

    source: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | int
    author: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | int
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=128 * 1024)]
    #: ISO 8601 (naive means UTC) or epoch seconds, between 1970 and the year 3000.
    posted_at: str | float | None = None
    lang: Annotated[str, msgspec.Meta(max_length=16)] = ""
    url: Annotated[str, msgspec.Meta(max_length=2048)] = ""
    likes: SignedCount | None = None
    shares: Count | None = None
    replies: Count | None = None
    author_followers: Count | None = None
    author_following: Count | None = None
    author_created_at: str | float | None = None
    author_verified: bool = False
    in_reply_to: Annotated[str, msgspec.Meta(max_length=256)] = ""


#: `POST /incidents/ID/comments`: one comment or a batch of them.
NativeBatch = NativeComment | list[NativeComment]


class Whoami(msgspec.Struct, kw_only=True):
    """Who the token is, and the server's limits the client should respect."""

    name: str
    role: str
    max_body: int
    max_batch: int
    page_max: int
    ping_interval: float
    #: The committee roles the token may take; None from a server older than seats.
    seat_roles: list[str] | None = None


#: Content type of HttpStore's ingest: NewComment structs with their triage fields.
TRIAGED = "application/vnd.crisis-tui.comments+json"

_AT = re.compile(r"^(?P<problem>.*) - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")


def _field(path: str, leaf: str = "") -> str:
    """`.comments[3]` + `text` -> `comments[3].text`; the whole body is `body`."""
    path = path.lstrip(".")
    if leaf:
        path = f"{path}.{leaf}" if path else leaf
    return path or "body"


def invalid(exc: msgspec.MsgspecError, where: str = "") -> InvalidInput:
    """A msgspec error as InvalidInput(field, problem), with `where` as a path prefix."""
    message = str(exc)
    if isinstance(exc, msgspec.DecodeError) and not isinstance(exc, msgspec.ValidationError):
        return InvalidInput(where or "body", f"is not valid JSON ({message})")
    path, problem = "", message
    if m := _AT.match(message):
        path, problem = m["path"], m["problem"]
    if m := _MISSING.match(problem):
        return InvalidInput(_join(where, path, m["field"]), "is required")
    if m := _UNKNOWN.match(problem):
        return InvalidInput(_join(where, path, m["field"]), "is not a known field")
    if problem.startswith("Expected"):
        problem = "must be " + problem[len("Expected "):].replace("`", "")
    return InvalidInput(_join(where, path, ""), problem)


def _join(where: str, path: str, leaf: str) -> str:
    inner = _field(path, leaf) if (path or leaf) else ""
    if where and inner:
        return f"{where}{inner}" if inner.startswith("[") else f"{where}.{inner}"
    return where or inner or "body"


def decode(body: bytes, type_: type[T]) -> T:
    """Decode a request body into `type_`, or raise InvalidInput naming the field.

    Types are strict (a boolean is a JSON boolean, never the string "false"), and
    lone surrogates become U+FFFD before the body is checked.
    """
    if not body.strip():
        raise InvalidInput("body", "is empty; a JSON object is expected")
    try:
        return json_input.decode_as(body, type_)
    except msgspec.MsgspecError as exc:
        raise invalid(exc) from None
