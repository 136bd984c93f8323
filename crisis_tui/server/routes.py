"""The JSON API: one route per store command or query (see docs/API.md).

Every route authenticates the bearer token, spends one request of its rate,
checks the token's role, checks the incident exists, then calls the store.
Joining, voting and approving also check the token's seats: a heartbeat in a
role the token may not take is 403, and so is a vote or an approval by a
member whose seat in the room is not one of the token's.
Writes go to the writer store with the token's name as the actor and answer
only after COMMIT; reads go to the read-only connection.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from crisis_tui import events as ev
from crisis_tui import wire
from crisis_tui.errors import CrisisError, InvalidInput, NotFound, StoreUnavailable
from crisis_tui.log_head import Head
from crisis_tui.model import (
    Arrivals,
    BulkResult,
    Comment,
    CommentKeys,
    Counts,
    Decision,
    Draft,
    Event,
    Incident,
    IngestResult,
    NewComment,
    Note,
    Presence,
)
from crisis_tui.seats import require_seat
from crisis_tui.server import paths, platform_webhook, responses, webhook
from crisis_tui.server.auth import Caller, require
from crisis_tui.server.io_faults import unavailable
from crisis_tui.server.limits import read_body
from crisis_tui.server.route_doc import PAGE, ApiRoute, Doc, Query
from crisis_tui.server.state import ServerState
from crisis_tui.store.audit import AuditReport, audit_file
from crisis_tui.store.pg import PgStore
from crisis_tui.wire import decode

log = logging.getLogger("crisis_tui.server")
Handler = Callable[[Request, Caller, ServerState], Awaitable[Response]]


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.crisis
    return state


def endpoint(role: str, action: str, handler: Handler, *, incident: bool = True,
             query_token: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a handler with auth, rate, role and incident checks; CrisisError becomes JSON.
    `query_token`: a platform's webhook route, which also takes ?access_token= and answers
    Meta's subscription handshake (crisis_tui.server.platform_webhook)."""

    async def run(request: Request) -> Response:
        state = state_of(request)
        try:
            if state.closing.is_set():  # its files are about to close: a client should retry elsewhere or later
                raise StoreUnavailable("the server is shutting down; try again in a moment")
            if query_token and platform_webhook.is_handshake(request):
                await require_incident(state, request.path_params["incident_id"])
                return await platform_webhook.handshake(request, state.auth.of_secret)
            caller = await state.auth.caller(request, query_token=query_token)
            state.limiter.check(caller.token_id, caller.name)
            require(caller, role, action)
            if incident:
                await require_incident(state, request.path_params["incident_id"])
            return await handler(request, caller, state)
        except CrisisError as exc:
            return responses.error(exc)
        except sqlite3.DatabaseError as exc:
            log.warning("%s %s refused: %s", request.method, request.url.path, exc)
            return responses.error(unavailable(exc, state.writer.path))
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return responses.plain_error(500, "internal", "the server failed on this request; its log has the details")

    return run


async def require_incident(state: ServerState, incident_id: str) -> None:
    try:
        await state.require_incident(incident_id)
    except NotFound:
        raise NotFound(f"no incident {incident_id!r} on this server") from None


#: The largest minute number `arrivals` takes (epoch seconds // 60 up to the year 9999).
MAX_MINUTE = 10**8
MAX_KIND = 64
_WHOLE = re.compile(r"-?[0-9]{1,19}")


def whole_number(raw: str, name: str, *, low: int = 0, high: int = wire.MAX_ID) -> int:
    """`raw` as a whole number in [low, high], or InvalidInput naming `name` (never a float, never past 64 bits)."""
    if not _WHOLE.fullmatch(raw):
        raise InvalidInput(name, f"must be a whole number, got {raw[:20]!r}")
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(name, f"must be between {low:,} and {high:,}")
    return value


def query_int(request: Request, name: str, default: int | None, *, low: int = 0, high: int = wire.MAX_ID) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    return whole_number(raw, name, low=low, high=high)


async def body_of(request: Request, state: ServerState) -> bytes:
    return await read_body(request, state.settings.max_body)


def _inc(request: Request) -> str:
    return str(request.path_params["incident_id"])


# ---------------------------------------------------------------- identity
async def whoami(request: Request, caller: Caller, state: ServerState) -> Response:
    s = state.settings
    return responses.ok(wire.Whoami(name=caller.name, role=caller.role, max_body=s.max_body,
                                    max_batch=s.max_batch, page_max=s.page_max,
                                    ping_interval=s.ping_interval, seat_roles=list(caller.seats)))


async def require_own_seat(state: ServerState, incident_id: str, caller: Caller, action: str) -> None:
    """The caller's seat in the room (its latest join) must be one of its token's seats.

    Without a seat the store's own guard answers (approving a statement or a
    decision needs one).
    """
    seat = next((p.role for p in await state.reader.presence(incident_id)
                 if p.name == caller.name and p.left_at is None), None)
    if seat is not None:
        require_seat(caller.name, caller.seats, seat, action)


# --------------------------------------------------------------- incidents
async def list_incidents(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.list_incidents())


async def create_incident(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.NewIncidentBody)
    made = await state.writer.create_incident(b.title, actor=caller.name, brand=b.brand, severity=b.severity,
                                              our_fault=b.our_fault, again=b.again,
                                              drill=b.drill)
    state.remember(made.id)
    return responses.ok(made, 201)


async def get_incident(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.get_incident(_inc(request)))


async def update_incident(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.IncidentChangeBody)
    async with state.seat_lock(caller.name):
        await require_own_seat(state, _inc(request), caller, "change the incident")
        if b.role is not None and state.writer.playbook.role(b.role) is not None:
            require_seat(caller.name, caller.seats, b.role, "change the incident")
        return responses.ok(await state.writer.update_incident(_inc(request), actor=caller.name, role=b.role,
                                                               reason=b.reason, **b.changes()))


# ---------------------------------------------------------------- comments
async def ingest(request: Request, caller: Caller, state: ServerState) -> Response:
    body = await body_of(request, state)
    limit = state.settings.max_batch
    preset = platform_webhook.preset_of(request, caller)
    spike: dict[str, object] | None = None
    platform_webhook.check_signature(request.headers, body, preset, state.settings.meta_app_secret)
    if preset is None and request.headers.get("content-type", "").startswith(wire.TRIAGED):
        comments = webhook.triaged(body, limit)
    elif state.triage is not None:
        comments, spike = await state.triage.read(_inc(request), body, preset, limit)
    else:
        comments = webhook.read(body, preset, limit)
    if not comments:  # every item of a platform's body was one the preset skips (a reaction, an edit)
        return responses.ok(IngestResult(ingested=0, duplicates=0))
    result = await state.group.ingest(_inc(request), comments, actor=caller.name)
    if spike is not None:
        await state.writer.alert(_inc(request), ev.kind_of(ev.SpikeAlert), spike)
    return responses.ok(result)


async def list_comments(request: Request, caller: Caller, state: ServerState) -> Response:
    page = state.settings.page_max
    limit = query_int(request, "limit", page, low=1, high=page)
    after_id = query_int(request, "after_id", 0) or 0
    return responses.ok(await state.reader.comments(_inc(request), limit=limit, after_id=after_id))


async def get_comment(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.get_comment(_inc(request), request.path_params["comment_id"]))


async def open_escalation(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.open_escalation(_inc(request), request.path_params["comment_id"]))


async def claim(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.writer.claim(_inc(request), request.path_params["comment_id"], actor=caller.name))


async def release(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.writer.release(_inc(request), request.path_params["comment_id"], actor=caller.name))


async def hand_over(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.HandOverBody)
    comment_id = request.path_params["comment_id"]
    async with state.seat_lock(caller.name):
        await require_own_seat(state, _inc(request), caller, "take over or reassign a comment")
        if b.to is None:
            return responses.ok(await state.writer.take_over(_inc(request), comment_id, actor=caller.name,
                                                             reason=b.reason))
        return responses.ok(await state.writer.reassign(_inc(request), comment_id, b.to, actor=caller.name,
                                                        reason=b.reason))


async def mark(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.MarkBody)
    return responses.ok(await state.writer.mark(_inc(request), request.path_params["comment_id"], b.status,
                                                actor=caller.name, reason=b.reason, to=b.to))


async def escalation_answer(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.EscalationAnswerBody)
    return responses.ok(await state.writer.answer_escalation(_inc(request), request.path_params["comment_id"],
                                                             b.answer, actor=caller.name), 201)


async def bulk(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.BulkBody)
    return responses.ok(await state.writer.bulk(_inc(request), b.comment_ids, b.action, actor=caller.name,
                                                tags=b.tags, reason=b.reason))


async def tag(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.TagsBody)
    return responses.ok(await state.writer.tag(_inc(request), request.path_params["comment_id"], b.tags,
                                               actor=caller.name))


# ------------------------------------------------------ the room's compact reads
#: Most comments in one page of `/comment-keys` (a row of columns is small: a million in 20 pages).
KEYS_PAGE = 50_000


async def comment_keys(request: Request, caller: Caller, state: ServerState) -> Response:
    limit = query_int(request, "limit", KEYS_PAGE, low=1, high=KEYS_PAGE)
    after_id = query_int(request, "after_id", 0) or 0
    return responses.ok(await state.reader.comment_keys(_inc(request), after_id=after_id, limit=limit))


async def comments_by_id(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.CommentIdsBody)
    return responses.ok(await state.reader.comments_by_id(_inc(request), b.ids))


async def counts(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.counts(_inc(request)))


# ------------------------------------------------------------------ drafts
async def list_drafts(request: Request, caller: Caller, state: ServerState) -> Response:
    comment_id = query_int(request, "comment_id", None)
    return responses.ok(await state.reader.drafts(_inc(request), comment_id=comment_id))


async def new_draft(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.NewDraftBody)
    made = await state.writer.save_draft(_inc(request), b.body, actor=caller.name, comment_id=b.comment_id, kind=b.kind)
    return responses.ok(made, 201)


async def get_draft(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.get_draft(_inc(request), request.path_params["draft_id"]))


async def save_draft(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.DraftSaveBody)
    return responses.ok(await state.writer.save_draft(
        _inc(request), b.body, actor=caller.name, draft_id=request.path_params["draft_id"], base_version=b.base_version
    ))


async def tick(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.TickBody)
    return responses.ok(await state.writer.tick(_inc(request), request.path_params["draft_id"], b.rule, b.ticked,
                                                actor=caller.name))


async def draft_status(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.DraftStatusBody)
    async with state.seat_lock(caller.name):
        if b.status == "approved":
            await require_own_seat(state, _inc(request), caller, "approve")
        return responses.ok(await state.writer.set_draft_status(
            _inc(request), request.path_params["draft_id"], b.status, actor=caller.name,
            override_reason=b.override_reason, version=b.version,
        ))


# --------------------------------------------------------------- decisions
async def list_decisions(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.decisions(_inc(request)))


async def propose(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.ProposalBody)
    made = await state.writer.propose_decision(_inc(request), b.title, actor=caller.name, rationale=b.rationale,
                                               supersedes=b.supersedes, owner_decides=b.owner_decides)
    return responses.ok(made, 201)


async def vote(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.VoteBody)
    async with state.seat_lock(caller.name):
        await require_own_seat(state, _inc(request), caller, "vote")
        return responses.ok(await state.writer.vote_decision(_inc(request), request.path_params["decision_id"],
                                                             b.approve, actor=caller.name))


# ------------------------------------------------------ presence and notes
async def list_presence(request: Request, caller: Caller, state: ServerState) -> Response:
    return responses.ok(await state.reader.presence(_inc(request)))


async def heartbeat(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.HeartbeatBody)
    if state.writer.playbook.role(b.role) is not None:  # an unknown role is the store's to name
        require_seat(caller.name, caller.seats, b.role, "join the room")
    async with state.seat_lock(caller.name):
        return responses.ok(await state.writer.heartbeat(_inc(request), actor=caller.name, role=b.role,
                                                         focus=b.focus))


async def leave(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.LeaveBody)
    await state.writer.leave(_inc(request), actor=caller.name, reason=b.reason)
    return responses.ok(wire.Left(left=caller.name))


async def expire(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.ExpireBody)
    if not b.gone_after > 0:
        raise InvalidInput("gone_after", "must be more than 0 seconds")
    return responses.ok(await state.writer.expire_presence(_inc(request), b.gone_after,
                                                           reachable_since=state.started_at))


async def add_note(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.NoteBody)
    return responses.ok(await state.writer.add_note(_inc(request), b.text, actor=caller.name), 201)


async def alert(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.AlertBody)
    return responses.ok(await state.writer.alert(_inc(request), b.kind, b.payload, actor=caller.name), 201)


async def sitrep(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.SitrepBody)
    return responses.ok(await state.writer.record_sitrep(_inc(request), b.text, actor=caller.name,
                                                         delivered=b.delivered, failed=b.failed), 201)


async def notice_claim(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.NoticeClaimBody)
    return responses.ok(await state.writer.claim_notification(
        _inc(request), b.about_seq, actor=caller.name, runner=b.runner, lease_seconds=b.lease_seconds), 201)


async def notification(request: Request, caller: Caller, state: ServerState) -> Response:
    b = decode(await body_of(request, state), wire.NotificationBody)
    return responses.ok(await state.writer.record_notification(
        _inc(request), b.about_seq, b.about, b.text, actor=caller.name, delivered=b.delivered, failed=b.failed), 201)


async def latest_events(request: Request, caller: Caller, state: ServerState) -> Response:
    page = state.settings.page_max
    limit = query_int(request, "limit", 500, low=1, high=page) or 500
    return responses.ok(await state.reader.latest_events(_inc(request), limit))


async def log_head(request: Request, caller: Caller, state: ServerState) -> Response:
    number = query_int(request, "number", None, low=1)
    return responses.ok(await state.reader.log_head(_inc(request), number))


async def audit(request: Request, caller: Caller, state: ServerState) -> Response:
    """verify over a URL: the server replays and compares its own file (read-only, on a worker thread)."""
    at = query_int(request, "at", None, low=0)
    if isinstance(state.reader, PgStore):  # no file to attach: its rows are audited through a scratch copy
        return responses.ok(await state.reader.audit(_inc(request), at))
    return responses.ok(await audit_file(state.reader.path, _inc(request), at))


def _r(path: str, method: str, role: str, action: str, handler: Handler, *, incident: bool = True,
       query_token: bool = False, **doc: Any) -> ApiRoute:
    return ApiRoute(path, endpoint(role, action, handler, incident=incident, query_token=query_token), method=method,
                    doc=Doc(summary=action, role=role, incident=incident, **doc))


I = "/incidents/{incident_id}"
# ------------------------------------------------ the wallboard's start (aggregates, not a replay)
async def arrivals(request: Request, caller: Caller, state: ServerState) -> Response:
    first = query_int(request, "from_minute", 0, high=MAX_MINUTE) or 0
    recent = query_int(request, "recent_minute", None, high=MAX_MINUTE)
    return responses.ok(await state.reader.arrivals(_inc(request), first, recent_minute=recent))


async def last_event(request: Request, caller: Caller, state: ServerState) -> Response:
    kind = str(request.path_params["kind"])
    if len(kind) > MAX_KIND:
        raise InvalidInput("kind", f"an event kind is at most {MAX_KIND} characters")
    upto = query_int(request, "upto", None, low=1)
    return responses.ok(await state.reader.last_event(_inc(request), kind, upto_seq=upto))


C = I + "/comments/" + paths.id_param("comment_id")
D = I + "/drafts/" + paths.id_param("draft_id")
_PAGE = Query("limit", "most items in the answer", low=1, high=PAGE)
_INCIDENTS = {"incident": False}


def routes() -> list[BaseRoute]:
    """Every JSON route; the event log's route lives in crisis_tui.server.stream."""
    return [
        _r("/whoami", "GET", "viewer", "read", whoami, answer=wire.Whoami, **_INCIDENTS),
        _r("/incidents", "GET", "viewer", "read", list_incidents, answer=list[Incident], **_INCIDENTS),
        _r("/incidents", "POST", "lead", "open an incident", create_incident, body=wire.NewIncidentBody,
           answer=Incident, status=201, **_INCIDENTS),
        _r(I, "GET", "viewer", "read", get_incident, answer=Incident),
        _r(I, "PATCH", "lead", "change the incident", update_incident, body=wire.IncidentChangeBody,
           answer=Incident),
        _r(I + "/comments", "POST", "operator", "ingest comments", ingest, body=wire.NativeBatch,
           other_bodies={wire.TRIAGED: list[NewComment]}, answer=IngestResult, query_token=True),
        _r(I + "/comments", "GET", "viewer", "read", list_comments, answer=list[Comment], query_token=True,
           query=(Query("after_id", "only comments after this id"), _PAGE)),
        _r(I + "/counts", "GET", "viewer", "read", counts, answer=Counts),
        _r(I + "/comment-keys", "GET", "viewer", "read", comment_keys, answer=CommentKeys,
           query=(Query("after_id", "only comments after this id"),
                  Query("limit", "most comments in the answer", low=1, high=KEYS_PAGE))),
        _r(I + "/comments/by-id", "POST", "viewer", "read", comments_by_id, body=wire.CommentIdsBody,
           answer=list[Comment]),
        _r(I + "/comments/bulk", "POST", "operator", "act on many comments", bulk, body=wire.BulkBody,
           answer=BulkResult),
        _r(C, "GET", "viewer", "read", get_comment, answer=Comment),
        _r(C + "/claim", "POST", "operator", "claim a comment", claim, answer=Comment, conflict=True),
        _r(C + "/release", "POST", "operator", "release a comment", release, answer=Comment, conflict=True),
        _r(C + "/hand-over", "POST", "operator", "take over or reassign a comment", hand_over, body=wire.HandOverBody,
           answer=Comment),
        _r(C + "/mark", "POST", "operator", "mark a comment", mark, body=wire.MarkBody, answer=Comment, conflict=True),
        _r(C + "/escalation", "GET", "viewer", "read", open_escalation, answer=Event | None),
        _r(C + "/escalation-answer", "POST", "operator", "record a department's answer", escalation_answer,
           body=wire.EscalationAnswerBody, answer=Event, status=201),
        _r(C + "/tags", "PUT", "operator", "tag a comment", tag, body=wire.TagsBody, answer=Comment, conflict=True),
        _r(I + "/drafts", "GET", "viewer", "read", list_drafts, answer=list[Draft],
           query=(Query("comment_id", "only the drafts replying to this comment"),)),
        _r(I + "/drafts", "POST", "operator", "write a draft", new_draft, body=wire.NewDraftBody, answer=Draft,
           status=201),
        _r(D, "GET", "viewer", "read", get_draft, answer=Draft),
        _r(D, "PUT", "operator", "save a draft", save_draft, body=wire.DraftSaveBody, answer=Draft, conflict=True),
        _r(D + "/checklist", "POST", "operator", "tick the checklist", tick, body=wire.TickBody, answer=Draft),
        _r(D + "/status", "POST", "operator", "move a draft along", draft_status, body=wire.DraftStatusBody,
           answer=Draft, conflict=True),
        _r(I + "/decisions", "GET", "viewer", "read", list_decisions, answer=list[Decision]),
        _r(I + "/decisions", "POST", "operator", "propose a decision", propose, body=wire.ProposalBody,
           answer=Decision, status=201),
        _r(I + "/decisions/" + paths.id_param("decision_id") + "/votes", "POST", "operator", "vote on a decision", vote,
           body=wire.VoteBody, answer=Decision),
        _r(I + "/presence", "GET", "viewer", "read", list_presence, answer=list[Presence]),
        _r(I + "/presence", "POST", "operator", "join the room", heartbeat, body=wire.HeartbeatBody, answer=Presence),
        _r(I + "/presence/leave", "POST", "operator", "leave the room", leave, body=wire.LeaveBody, answer=wire.Left),
        _r(I + "/presence/expire", "POST", "operator", "expire presence", expire, body=wire.ExpireBody,
           answer=list[str]),
        _r(I + "/notes", "POST", "operator", "add a note", add_note, body=wire.NoteBody, answer=Note, status=201),
        _r(I + "/alerts", "POST", "operator", "raise an alert", alert, body=wire.AlertBody, answer=Event, status=201),
        _r(I + "/sitreps", "POST", "operator", "record a situation report", sitrep, body=wire.SitrepBody,
           answer=Event, status=201),
        _r(I + "/notifications", "POST", "operator", "record a notification", notification,
           body=wire.NotificationBody, answer=Event, status=201),
        _r(I + "/notifications/claims", "POST", "operator", "claim a notice to send", notice_claim,
           body=wire.NoticeClaimBody, answer=Event, status=201, conflict=True),
        _r(I + "/events/latest", "GET", "viewer", "read", latest_events, answer=list[Event], query=(_PAGE,)),
        _r(I + "/arrivals", "GET", "viewer", "read", arrivals, answer=Arrivals,
           query=(Query("from_minute", "count comments posted from this minute (epoch seconds // 60) on",
                        high=MAX_MINUTE),
                  Query("recent_minute", "list the posting times from this minute on", high=MAX_MINUTE))),
        _r(I + "/events/last/{kind}", "GET", "viewer", "read", last_event, answer=Event | None,
           query=(Query("upto", "the newest at or before this seq", low=1),)),
        _r(I + "/head", "GET", "viewer", "read", log_head, answer=Head | None,
           query=(Query("number", "the incident's N-th event instead of its newest", low=1),)),
        _r(I + "/audit", "GET", "operator", "audit the incident file", audit, answer=AuditReport,
           query=(Query("at", "also give the incident's N-th event as a head"),)),
    ]
