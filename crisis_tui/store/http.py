"""HttpStore: the IncidentStore protocol over HTTP, talking to `crisis-tui serve`.

The room cannot tell it from SqliteStore: same methods, same msgspec structs,
the same CrisisError subclasses (rebuilt from the server's JSON error body, so
a ClaimConflict still names the holder and a DraftConflict still carries the
current draft). Three things differ, on purpose:

- The actor of a write is the token's name: the server takes it from the token
  and ignores the `actor` argument, so a client cannot act as someone else.
  Tools that speak for several people (the store test-suite, a scripted demo)
  pass `tokens`, a source of one token per actor name.
- `subscribe` follows the server's SSE stream and survives a server restart or
  a network drop: it reconnects with backoff and resumes after the last seq it
  yielded (no gap, no duplicate). `connection_state` is "live" or
  "reconnecting", and `on_connection_state` is called when it changes, so the
  room can show "reconnecting...".
- While the server is unreachable every write raises StoreUnavailable at once:
  nothing is queued, nothing is silently dropped.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import msgspec

from crisis_tui import wire
from crisis_tui.errors import Forbidden, RateLimited, StoreUnavailable, Unauthorized
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
from crisis_tui.playbook import Playbook
from crisis_tui.store.audit import AuditReport
from crisis_tui.wire import sse
from crisis_tui.wire.errors import error_from_response

T = TypeVar("T")
#: `null` or a head (a union is no `type[T]` to mypy, so it is spelled once here).
_HEAD_OR_NONE: Any = Head | None
_EVENT_OR_NONE: Any = Event | None
TokenSource = Callable[[str], Awaitable[str]]
StateCallback = Callable[[str], None]

LIVE = "live"
RECONNECTING = "reconnecting"
BACKOFF_FIRST = 0.05
BACKOFF_MAX = 3.0
_JSON = "application/json"
_encode = msgspec.json.Encoder().encode


class HttpStore:
    """IncidentStore over a `crisis-tui serve` server (see module docstring)."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, identity: wire.Whoami, *,
                 read_only: bool, tokens: TokenSource | None) -> None:
        self._client = client
        self.base_url = base_url
        self.identity = identity
        self.read_only = read_only or identity.role == "viewer"
        self._tokens = tokens
        self._actor_tokens: dict[str, str] = {}
        self._token_lock = asyncio.Lock()
        self._closed = False
        self.connection_state = LIVE
        self.shared_at: str | None = None  # a server's client: the database is the server's
        self.on_connection_state: StateCallback | None = None

    # ------------------------------------------------------------------ opening
    @classmethod
    async def open(
        cls,
        base_url: str,
        *,
        token: str | None,
        read_only: bool = False,
        tokens: TokenSource | None = None,
        timeout: float = 10.0,
    ) -> HttpStore:
        """Connect to the server at `base_url` (http://HOST:PORT) and learn who the token is."""
        base = base_url.rstrip("/")
        if not token:
            raise Unauthorized(f"{base} needs a token: give --token-file FILE or set CRISIS_TUI_TOKEN")
        client = httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {token}", "Accept": _JSON},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        store = cls(client, base, wire.Whoami(name="", role="viewer", max_body=0, max_batch=0, page_max=0,
                                              ping_interval=5.0), read_only=read_only, tokens=tokens)
        try:
            store.identity = await store._call("GET", "/whoami", wire.Whoami)
        except BaseException:
            await client.aclose()
            raise
        store.read_only = read_only or store.identity.role == "viewer"
        return store

    @property
    def seat_roles(self) -> tuple[str, ...] | None:
        """The committee roles this token may take (None: a server older than seats)."""
        seats = self.identity.seat_roles
        return None if seats is None else tuple(seats)

    def use_playbook(self, playbook: Playbook) -> None:
        """Nothing to do here: the server's guards judge with the server's playbook."""

    async def close(self) -> None:
        self._closed = True
        await self._client.aclose()

    async def __aenter__(self) -> HttpStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- requests
    def _set_state(self, state: str) -> None:
        if state != self.connection_state:
            self.connection_state = state
            if self.on_connection_state is not None:
                self.on_connection_state(state)

    def _writable(self) -> None:
        if self.identity.role == "viewer":
            raise Forbidden(f"{self.identity.name}'s token is a viewer token: it reads only")
        if self.read_only:
            raise Forbidden("this incident is open read-only")

    async def _headers(self, actor: str | None) -> dict[str, str] | None:
        if self._tokens is None or actor is None or actor == self.identity.name:
            return None
        token = self._actor_tokens.get(actor)
        if token is None:
            async with self._token_lock:
                token = self._actor_tokens.get(actor)
                if token is None:
                    token = await self._tokens(actor)
                    self._actor_tokens[actor] = token
        return {"Authorization": f"Bearer {token}"}

    async def _send(self, method: str, path: str, *, body: Any = None, raw: bytes | None = None,
                    params: dict[str, Any] | None = None, actor: str | None = None,
                    content_type: str = _JSON) -> bytes:
        headers = await self._headers(actor) or {}
        content: bytes | None = raw
        if body is not None:
            content = _encode(body)
        if content is not None:
            headers["Content-Type"] = content_type
        try:
            response = await self._client.request(method, path, content=content, params=params, headers=headers)
        except httpx.ConnectError as exc:
            raise StoreUnavailable(f"cannot reach the server at {self.base_url} ({exc or 'refused'}); nothing was sent") from None
        except httpx.TimeoutException:
            raise StoreUnavailable(f"the server at {self.base_url} did not answer in time; check before retrying") from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"lost the connection to {self.base_url} ({exc.__class__.__name__}); the change may not have been made"
            ) from None
        if response.status_code >= 400:
            raise error_from_response(response.status_code, response.content, self.base_url)
        return response.content

    async def _paged(self, path: str, type_: type[list[T]], cursor: str, start: int, limit: int | None,
                     key: Callable[[T], int]) -> list[T]:
        """Up to `limit` items (None: all) after `start`, in pages the server allows, each
        page resuming after the `key` of the last item of the one before."""
        out: list[T] = []
        page_max = max(1, self.identity.page_max)
        while limit is None or len(out) < limit:
            want = page_max if limit is None else min(page_max, limit - len(out))
            page = await self._call("GET", path, type_, params={"limit": want, cursor: start})
            out.extend(page)
            if len(page) < want:
                break
            start = key(page[-1])
        return out

    async def _call(self, method: str, path: str, type_: type[T], **kwargs: Any) -> T:
        content = await self._send(method, path, **kwargs)
        try:
            return msgspec.json.decode(content, type=type_)
        except msgspec.MsgspecError as exc:
            raise StoreUnavailable(f"{self.base_url} answered something this client cannot read ({exc})") from None

    async def _write(self, method: str, path: str, type_: type[T], *, actor: str, **kwargs: Any) -> T:
        self._writable()
        return await self._call(method, path, type_, actor=actor, **kwargs)

    @staticmethod
    def _i(incident_id: str) -> str:
        return "/incidents/" + quote(incident_id, safe="")

    # --------------------------------------------------------------- incidents
    async def create_incident(
        self, title: str, *, actor: str, brand: str = "", severity: str = "", our_fault: bool = False,
        again: bool = False, drill: bool = False,
    ) -> Incident:
        body = wire.NewIncidentBody(title=title, brand=brand, severity=severity, our_fault=our_fault, again=again,
                                    drill=drill)
        return await self._write("POST", "/incidents", Incident, actor=actor, body=body)

    async def list_incidents(self) -> list[Incident]:
        return await self._call("GET", "/incidents", list[Incident])

    async def get_incident(self, incident_id: str) -> Incident:
        return await self._call("GET", self._i(incident_id), Incident)

    async def update_incident(
        self, incident_id: str, *, actor: str, role: str | None = None, reason: str = "", **changes: object
    ) -> Incident:
        try:
            body = msgspec.convert({**changes, "reason": reason, "role": role}, wire.IncidentChangeBody)
        except msgspec.ValidationError as exc:
            raise wire.invalid(exc) from None
        return await self._write("PATCH", self._i(incident_id), Incident, actor=actor, body=body)

    # ---------------------------------------------------------------- comments
    def _chunks(self, comments: Sequence[NewComment]) -> list[bytes]:
        """Bodies within the server's batch and size limits (ingest is idempotent, so
        a failure part-way is repaired by sending the same comments again)."""
        limit = max(1024, self.identity.max_body - 1024)
        batch = max(1, self.identity.max_batch)
        bodies: list[bytes] = []
        parts: list[bytes] = []
        size = 2
        for c in comments:
            encoded = _encode(c)
            if parts and (len(parts) >= batch or size + len(encoded) + 1 > limit):
                bodies.append(b"[" + b",".join(parts) + b"]")
                parts, size = [], 2
            parts.append(encoded)
            size += len(encoded) + 1
        if parts:
            bodies.append(b"[" + b",".join(parts) + b"]")
        return bodies

    async def ingest(self, incident_id: str, comments: Sequence[NewComment], *, actor: str = "intake") -> IngestResult:
        self._writable()
        if not comments:
            return IngestResult(ingested=0, duplicates=0)
        total = IngestResult(ingested=0, duplicates=0, ids=[])
        for raw in self._chunks(comments):
            part = await self._call("POST", self._i(incident_id) + "/comments", IngestResult, raw=raw, actor=actor,
                                    content_type=wire.TRIAGED)
            total.ingested += part.ingested
            total.duplicates += part.duplicates
            total.ids.extend(part.ids)
        return total

    def _c(self, incident_id: str, comment_id: int) -> str:
        return f"{self._i(incident_id)}/comments/{int(comment_id)}"

    async def claim(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        return await self._write("POST", self._c(incident_id, comment_id) + "/claim", Comment, actor=actor)

    async def release(self, incident_id: str, comment_id: int, *, actor: str) -> Comment:
        return await self._write("POST", self._c(incident_id, comment_id) + "/release", Comment, actor=actor)

    async def take_over(self, incident_id: str, comment_id: int, *, actor: str, reason: str = "") -> Comment:
        return await self._write("POST", self._c(incident_id, comment_id) + "/hand-over", Comment, actor=actor,
                                 body=wire.HandOverBody(reason=reason))

    async def reassign(self, incident_id: str, comment_id: int, to: str, *, actor: str, reason: str = "") -> Comment:
        return await self._write("POST", self._c(incident_id, comment_id) + "/hand-over", Comment, actor=actor,
                                 body=wire.HandOverBody(to=to, reason=reason))

    async def mark(self, incident_id: str, comment_id: int, status: str, *, actor: str, reason: str = "",
                   to: str = "") -> Comment:
        return await self._write("POST", self._c(incident_id, comment_id) + "/mark", Comment, actor=actor,
                                 body=wire.MarkBody(status=status, reason=reason, to=to))

    async def tag(self, incident_id: str, comment_id: int, tags: Sequence[str], *, actor: str) -> Comment:
        return await self._write("PUT", self._c(incident_id, comment_id) + "/tags", Comment, actor=actor,
                                 body=wire.TagsBody(tags=list(tags)))

    async def bulk(self, incident_id: str, comment_ids: Sequence[int], action: str, *, actor: str,
                   tags: Sequence[str] = (), reason: str = "") -> BulkResult:
        return await self._write("POST", self._i(incident_id) + "/comments/bulk", BulkResult, actor=actor,
                                 body=wire.BulkBody(action=action, comment_ids=list(comment_ids), tags=list(tags),
                                                    reason=reason))

    async def get_comment(self, incident_id: str, comment_id: int) -> Comment:
        return await self._call("GET", self._c(incident_id, comment_id), Comment)

    async def open_escalation(self, incident_id: str, comment_id: int) -> Event | None:
        return await self._call("GET", self._c(incident_id, comment_id) + "/escalation", Event | None)  # type: ignore[arg-type]

    async def comments(self, incident_id: str, *, limit: int | None = None, after_id: int = 0) -> list[Comment]:
        return await self._paged(self._i(incident_id) + "/comments", list[Comment], "after_id", after_id, limit,
                                 lambda c: c.id)

    async def counts(self, incident_id: str) -> Counts:
        return await self._call("GET", self._i(incident_id) + "/counts", Counts)

    # ------------------------------------------------------------------ drafts
    def _d(self, incident_id: str, draft_id: int) -> str:
        return f"{self._i(incident_id)}/drafts/{int(draft_id)}"

    async def save_draft(
        self,
        incident_id: str,
        body: str,
        *,
        actor: str,
        base_version: int = 0,
        draft_id: int | None = None,
        comment_id: int | None = None,
        kind: str = "reply",
    ) -> Draft:
        if draft_id is None:
            return await self._write("POST", self._i(incident_id) + "/drafts", Draft, actor=actor,
                                     body=wire.NewDraftBody(body=body, comment_id=comment_id, kind=kind))
        return await self._write("PUT", self._d(incident_id, draft_id), Draft, actor=actor,
                                 body=wire.DraftSaveBody(body=body, base_version=base_version))

    async def tick(self, incident_id: str, draft_id: int, rule: str, ticked: bool, *, actor: str) -> Draft:
        return await self._write("POST", self._d(incident_id, draft_id) + "/checklist", Draft, actor=actor,
                                 body=wire.TickBody(rule=rule, ticked=bool(ticked)))

    async def set_draft_status(
        self,
        incident_id: str,
        draft_id: int,
        status: str,
        *,
        actor: str,
        override_reason: str = "",
        version: int | None = None,
    ) -> Draft:
        return await self._write("POST", self._d(incident_id, draft_id) + "/status", Draft, actor=actor,
                                 body=wire.DraftStatusBody(status=status, override_reason=override_reason,
                                                           version=version))

    async def get_draft(self, incident_id: str, draft_id: int) -> Draft:
        return await self._call("GET", self._d(incident_id, draft_id), Draft)

    async def drafts(self, incident_id: str, *, comment_id: int | None = None) -> list[Draft]:
        params = {"comment_id": comment_id} if comment_id is not None else None
        return await self._call("GET", self._i(incident_id) + "/drafts", list[Draft], params=params)

    # --------------------------------------------------------------- decisions
    async def propose_decision(
        self, incident_id: str, title: str, *, actor: str, rationale: str = "", supersedes: int | None = None,
        owner_decides: bool = False,
    ) -> Decision:
        return await self._write("POST", self._i(incident_id) + "/decisions", Decision, actor=actor,
                                 body=wire.ProposalBody(title=title, rationale=rationale, supersedes=supersedes,
                                                        owner_decides=bool(owner_decides)))

    async def vote_decision(self, incident_id: str, decision_id: int, approve: bool, *, actor: str) -> Decision:
        return await self._write("POST", f"{self._i(incident_id)}/decisions/{int(decision_id)}/votes", Decision,
                                 actor=actor, body=wire.VoteBody(approve=bool(approve)))

    async def decisions(self, incident_id: str) -> list[Decision]:
        return await self._call("GET", self._i(incident_id) + "/decisions", list[Decision])

    # ------------------------------------------------------ presence and notes
    async def heartbeat(self, incident_id: str, *, actor: str, role: str, focus: str | None = None) -> Presence:
        return await self._write("POST", self._i(incident_id) + "/presence", Presence, actor=actor,
                                 body=wire.HeartbeatBody(role=role, focus=focus))

    async def leave(self, incident_id: str, *, actor: str, reason: str = "quit") -> None:
        self._writable()
        await self._send("POST", self._i(incident_id) + "/presence/leave", body=wire.LeaveBody(reason=reason),
                         actor=actor)

    async def expire_presence(self, incident_id: str, gone_after: float, *, reachable_since: float = 0.0
                              ) -> list[str]:
        # The server passes its own start as reachable_since; what a client would say is not asked.
        if self.read_only:
            return []
        return await self._call("POST", self._i(incident_id) + "/presence/expire", list[str],
                                body=wire.ExpireBody(gone_after=gone_after))

    async def presence(self, incident_id: str) -> list[Presence]:
        return await self._call("GET", self._i(incident_id) + "/presence", list[Presence])

    async def add_note(self, incident_id: str, text: str, *, actor: str) -> Note:
        return await self._write("POST", self._i(incident_id) + "/notes", Note, actor=actor,
                                 body=wire.NoteBody(text=text))

    async def alert(self, incident_id: str, kind: str, payload: dict[str, object], *, actor: str = "triage") -> Event:
        return await self._write("POST", self._i(incident_id) + "/alerts", Event, actor=actor,
                                 body=wire.AlertBody(kind=kind, payload=dict(payload)))

    async def record_sitrep(self, incident_id: str, text: str, *, actor: str, delivered: Sequence[str] = (),
                            failed: dict[str, str] | None = None) -> Event:
        return await self._write("POST", self._i(incident_id) + "/sitreps", Event, actor=actor,
                                 body=wire.SitrepBody(text=text, delivered=list(delivered), failed=dict(failed or {})))

    async def claim_notification(self, incident_id: str, about_seq: int, *, actor: str, runner: str,
                                 lease_seconds: float) -> Event:
        return await self._write("POST", self._i(incident_id) + "/notifications/claims", Event, actor=actor,
                                 body=wire.NoticeClaimBody(about_seq=about_seq, runner=runner,
                                                           lease_seconds=lease_seconds))

    async def record_notification(self, incident_id: str, about_seq: int, about: str, text: str, *, actor: str,
                                  delivered: Sequence[str] = (), failed: dict[str, str] | None = None) -> Event:
        return await self._write("POST", self._i(incident_id) + "/notifications", Event, actor=actor,
                                 body=wire.NotificationBody(about_seq=about_seq, about=about, text=text,
                                                            delivered=list(delivered), failed=dict(failed or {})))

    async def answer_escalation(self, incident_id: str, comment_id: int, answer: str, *, actor: str) -> Event:
        return await self._write("POST", self._i(incident_id) + f"/comments/{comment_id}/escalation-answer", Event,
                                 actor=actor, body=wire.EscalationAnswerBody(answer=answer))

    # ------------------------------------------------------------------ the log
    async def events_after(self, incident_id: str, after_seq: int = 0, limit: int = 1000) -> list[Event]:
        return await self._paged(self._i(incident_id) + "/events", list[Event], "after", after_seq, limit,
                                 lambda e: e.seq)

    async def latest_events(self, incident_id: str, limit: int = 500) -> list[Event]:
        """The newest events (at most the server's page size, 5,000 by default)."""
        want = max(1, min(limit, max(1, self.identity.page_max)))
        return await self._call("GET", self._i(incident_id) + "/events/latest", list[Event], params={"limit": want})

    async def log_head(self, incident_id: str, number: int | None = None) -> Head | None:
        params = {} if number is None else {"number": number}
        return await self._call("GET", self._i(incident_id) + "/head", _HEAD_OR_NONE, params=params)

    # ------------------------------------------------ the wallboard's start (aggregates, not a replay)
    async def arrivals(self, incident_id: str, from_minute: int, *, recent_minute: int | None = None) -> Arrivals:
        params = {"from_minute": from_minute} | ({} if recent_minute is None else {"recent_minute": recent_minute})
        return await self._call("GET", self._i(incident_id) + "/arrivals", Arrivals, params=params)

    async def last_event(self, incident_id: str, kind: str, *, upto_seq: int | None = None) -> Event | None:
        params = {} if upto_seq is None else {"upto": upto_seq}
        return await self._call("GET", self._i(incident_id) + "/events/last/" + quote(kind, safe=""),
                                _EVENT_OR_NONE, params=params)

    async def audit(self, incident_id: str, at: int | None = None) -> AuditReport:
        """The server audits its own file (crisis_tui.store.audit) and answers the report."""
        params = {} if at is None else {"at": at}
        return await self._call("GET", self._i(incident_id) + "/audit", AuditReport, params=params)

    async def subscribe(self, incident_id: str, after_seq: int = 0) -> AsyncIterator[Event]:
        """Every event after `after_seq`, then live; reconnects and resumes by itself.

        A refusal that retrying cannot fix (unknown incident, revoked token)
        raises; a dead server or a dropped network only sets
        connection_state to "reconnecting" until the stream is back.
        """
        last = after_seq
        delay = BACKOFF_FIRST
        read_timeout = max(5.0, self.identity.ping_interval * 3)
        timeout = httpx.Timeout(10.0, read=read_timeout, connect=5.0)
        decode = msgspec.json.Decoder(Event).decode
        path = self._i(incident_id) + "/events"
        while not self._closed:
            headers = {"Accept": "text/event-stream", "Last-Event-ID": str(last)}
            try:
                async with self._client.stream("GET", path, params={"after": last}, headers=headers,
                                               timeout=timeout) as response:
                    if response.status_code >= 400:
                        content = await response.aread()
                        error = error_from_response(response.status_code, content, self.base_url)
                        if not isinstance(error, (StoreUnavailable, RateLimited)):
                            raise error
                        if isinstance(error, RateLimited):
                            delay = max(delay, error.retry_after)
                        raise httpx.RemoteProtocolError(str(error))
                    self._set_state(LIVE)
                    delay = BACKOFF_FIRST
                    async for seq, data in sse.messages(response.aiter_lines()):
                        if seq.isdigit() and int(seq) <= last:
                            continue
                        event = decode(data)
                        if event.seq <= last:
                            continue
                        last = event.seq
                        yield event
            except (httpx.TransportError, msgspec.DecodeError):
                if self._closed:
                    return
            except RuntimeError:
                if self._closed:  # httpx refuses to send on a client closed meanwhile
                    return
                raise
            if self._closed:
                return
            self._set_state(RECONNECTING)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(BACKOFF_MAX, delay * 2)

    # ------------------------------------------------------ the room's compact reads
    async def comment_keys(self, incident_id: str, *, after_id: int = 0, limit: int | None = None) -> CommentKeys:
        """Pages of `/comment-keys` joined: the server caps a page (routes.KEYS_PAGE), `limit` caps the whole."""
        out = CommentKeys()
        while limit is None or len(out.ids) < limit:
            params: dict[str, int] = {"after_id": after_id}
            if limit is not None:
                params["limit"] = limit - len(out.ids)
            page = await self._call("GET", self._i(incident_id) + "/comment-keys", CommentKeys, params=params)
            if not page.ids:
                break
            if not out.ids:
                out = page
            else:
                out = CommentKeys(**{name: [*getattr(out, name), *getattr(page, name)] for name in _KEY_COLUMNS},
                                  holders={**out.holders, **page.holders}, tags={**out.tags, **page.tags})
            after_id = page.ids[-1]
        return out

    async def comments_by_id(self, incident_id: str, ids: Sequence[int]) -> list[Comment]:
        return await self._call("POST", self._i(incident_id) + "/comments/by-id", list[Comment],
                                body=wire.CommentIdsBody(ids=sorted({int(i) for i in ids})))


_KEY_COLUMNS = ("ids", "priority", "since", "status", "source", "author", "text", "external_id", "in_reply_to",
                "cluster")
