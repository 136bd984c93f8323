"""The Starlette application over one incident file: wiring only."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from crisis_tui.playbook import Playbook
from crisis_tui.server import access_log, openapi, responses, routes, stream, webhook
from crisis_tui.server.auth import Authenticator
from crisis_tui.server.ratelimit import RateLimiter
from crisis_tui.server.route_doc import ApiRoute, Doc
from crisis_tui.server.settings import ServerSettings
from crisis_tui.server.state import ServerState
from crisis_tui.server.triage_worker import TriageWorker
from crisis_tui.store.opening import Database, database, open_database
from crisis_tui.store.pg import PgStore
from crisis_tui.tokens import TokenBook


async def open_state(db: Database, playbook: Playbook, settings: ServerSettings, *, triage: bool = True,
                     triage_worker: bool = False) -> ServerState:
    """Open the writer (which runs migrations first), the read-only reader and the tokens;
    `triage_worker`: triage webhook comments in a process of its own (server.triage_worker)."""
    writer = await open_database(db, create=True, playbook=playbook)
    try:
        reader = await open_database(db, read_only=True, playbook=playbook)
        if isinstance(reader, PgStore):
            reader.lost_ends_stream = True  # its clients see the outage and resume from their own last seq
        tokens = await TokenBook.open(db)
    except BaseException:
        await writer.close()
        raise
    return ServerState(
        writer=writer,
        reader=reader,
        tokens=tokens,
        auth=Authenticator(tokens, playbook),
        limiter=RateLimiter(settings.rate, settings.burst),
        settings=settings,
        triage=(TriageWorker(playbook) if triage_worker else webhook.WebhookTriage(playbook)) if triage else None,
    )


_HEALTH = {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}}


async def _health(request: Request) -> Response:
    """Ready only while the database answers (a proxy sends nobody to a server that lost it)."""
    try:
        await request.app.state.crisis.reader.ping()
    except Exception as exc:  # noqa: BLE001 - whatever the database said, this server is not ready
        return responses.plain_error(503, "database_unavailable", f"the database does not answer: {exc}")
    return responses.ok({"ok": True})


async def _openapi(request: Request) -> Response:
    """The document is built once per app, from the routes it serves."""
    cached = getattr(request.app.state, "openapi", None)
    if cached is None:
        cached = request.app.state.openapi = msgspec.json.encode(
            openapi.document(request.app.routes, request.app.state.crisis.settings))
    return Response(cached, media_type="application/json")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    detail = f"no route {request.method} {request.url.path}" if exc.status_code in (404, 405) else str(exc.detail)
    return responses.plain_error(exc.status_code, code, detail)


def create_app(db: str | Path, *, playbook: Playbook, settings: ServerSettings | None = None,
               triage: bool = True, triage_worker: bool = False, watch_playbook: bool = False) -> Starlette:
    """The API over the incident file `db` (created if missing); with `watch_playbook`, the
    guards judge with each good edit of the playbook's file (what `serve` does)."""
    path = database(db)
    chosen = settings or ServerSettings()
    access_log.install()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state = app.state.crisis = await open_state(path, playbook, chosen, triage=triage, triage_worker=triage_worker)
        stop = asyncio.Event()
        watcher = None
        if watch_playbook and playbook.source and Path(playbook.source).exists():
            watcher = asyncio.create_task(state.follow_playbook(Path(playbook.source), stop))
        try:
            yield
        finally:
            if watcher is not None:
                stop.set()
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(watcher, 3)
            await state.close()

    return Starlette(
        routes=[
            ApiRoute("/health", _health, method="GET",
                     doc=Doc(summary="is the server up", answer=_HEALTH, role=None, incident=False)),
            ApiRoute("/openapi.json", _openapi, method="GET",
                     doc=Doc(summary="this API as an OpenAPI 3.1 document", answer={"type": "object"}, role=None,
                             incident=False)),
            *routes.routes(), *stream.routes(),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )
