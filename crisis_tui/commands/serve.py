"""`crisis-tui serve` (one incident file over HTTP) and `crisis-tui token` (who may use it)."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from datetime import datetime

import click
from click.core import ParameterSource

from crisis_tui.commands.context import run, settings
from crisis_tui.errors import StoreUnavailable
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import one_line
from crisis_tui.seats import check_seats, parse_list, seats_in_force
from crisis_tui.server.settings import ServerSettings
from crisis_tui.store.opening import Database, database, named, open_database
from crisis_tui.tokens import ROLES, Token, TokenBook, check_preset
from crisis_tui.wire import MAX_ID

_DEFAULTS = ServerSettings()
_DB = click.option(
    "--db", "db", required=True, callback=lambda _ctx, _param, value: database(value),
    help="The incident file, or a postgresql://USER@HOST/DB URL (any number of servers may share it)."
)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so a busy port is one clear line, not a log dump."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise StoreUnavailable(f"cannot listen on {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(512)
    except OSError as exc:
        sock.close()
        raise StoreUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


async def _active_tokens(db: Database) -> int:
    cfg = settings()
    store = await open_database(db, create=True, playbook=cfg.playbook)
    await store.close()
    book = await TokenBook.open(db)
    try:
        return len(await book.list(include_revoked=False))
    finally:
        await book.close()


def _worker_wanted(choice: str) -> bool:
    """auto: a worker pays only where it gets a core of its own (server.triage_worker)."""
    if choice != "auto":
        return choice == "on"
    return len(os.sched_getaffinity(0)) > 1 if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1) > 1


@click.command()
@_DB
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Loopback unless you say otherwise; use TLS off this host.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--ssl-certfile", type=click.Path(exists=True, dir_okay=False), default=None,
              help="TLS certificate (PEM); with --ssl-keyfile the server speaks https.")
@click.option("--ssl-keyfile", type=click.Path(exists=True, dir_okay=False), default=None, help="TLS private key (PEM).")
@click.option("--max-body", default=_DEFAULTS.max_body, show_default=True, type=click.IntRange(1024),
              help="Largest request body in bytes (413 above it).")
@click.option("--max-batch", default=_DEFAULTS.max_batch, show_default=True, type=click.IntRange(1),
              help="Most comments in one webhook batch.")
@click.option("--rate-limit", default=_DEFAULTS.rate, show_default=True, type=click.FloatRange(0),
              help="Requests per second per token (429 above it; 0 turns it off).")
@click.option("--burst", default=_DEFAULTS.burst, show_default=True, type=click.IntRange(1),
              help="Requests a token may make at once above the rate.")
@click.option("--max-streams", default=_DEFAULTS.max_streams, show_default=True, type=click.IntRange(1),
              help="Most live event streams one token may hold open (429 above it).")
@click.option("--stream-buffer", default=_DEFAULTS.stream_buffer, show_default=True, type=click.IntRange(64 * 1024),
              help="Bytes of events held for a slow reader of a live stream before it must catch up.")
@click.option("--triage/--no-triage", default=True, show_default=True,
              help="Score webhook comments (language, negativity, bots, priority) before storing them; "
                   "--no-triage when an upstream intake already did.")
@click.option("--triage-worker", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Triage in a process of its own beside the server (auto: when this machine has a second core).")
@click.option("--access-log", is_flag=True,
              help="Log every request (off by default: a busy webhook floods it); secrets in URLs are REDACTED.")
@click.option("--meta-secret-env", default="META_APP_SECRET", show_default=True, metavar="NAME",
              help="Environment variable holding Meta's app secret; when it is set, Facebook and Instagram "
                   "webhook bodies must carry a valid X-Hub-Signature-256 (401 otherwise).")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(db: Database, host: str, port: int, ssl_certfile: str | None, ssl_keyfile: str | None, max_body: int,
          max_batch: int, rate_limit: float, burst: int, max_streams: int, stream_buffer: int, triage: bool,
          triage_worker: str, access_log: bool, meta_secret_env: str, log_level: str) -> None:
    """Share the incidents in one SQLite file over HTTP (Starlette on uvicorn).

    Clients open a room with `crisis-tui open http://HOST:PORT/incidents/ID
    --token T`; webhooks post comments to /incidents/ID/comments. Every request
    needs a token (see `crisis-tui token create`).
    """
    import uvicorn  # noqa: PLC0415 - only the server needs it

    from crisis_tui.server.app import create_app  # noqa: PLC0415
    from crisis_tui.server.uvicorn_server import CrisisServer  # noqa: PLC0415

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("TLS needs both --ssl-certfile and --ssl-keyfile")
    if not triage and triage_worker == "on":
        raise click.UsageError("--triage-worker on scores comments, which --no-triage turns off: give one of them")
    meta_secret = os.environ.get(meta_secret_env) or None
    if meta_secret is None and click.get_current_context().get_parameter_source(
            "meta_secret_env") is not ParameterSource.DEFAULT:
        # Named on purpose but unset: serving anyway would take unsigned Meta bodies the user meant to refuse.
        raise click.UsageError(f"--meta-secret-env {meta_secret_env}: ${meta_secret_env} is not set, so Meta's "
                               "webhook bodies would go in unsigned; set it, or leave the option out")
    cfg = settings()
    active = run(lambda: _active_tokens(db))
    sock = _listen(host, port)
    scheme = "https" if ssl_certfile else "http"
    bound = sock.getsockname()[1]
    click.echo(f"serving {named(db)} on {scheme}://{host}:{bound} (Ctrl+C stops)")
    if not _is_loopback(host) and not ssl_certfile:
        click.echo("warning: listening beyond this host without TLS: tokens travel in clear text", err=True)
    if meta_secret is not None:
        click.echo(f"Meta webhook bodies must carry X-Hub-Signature-256 (app secret from {meta_secret_env})")
    if active == 0:
        click.echo(f"no tokens yet: crisis-tui token create --db {db} --name NAME --role lead", err=True)
    app = create_app(db, playbook=cfg.playbook, settings=ServerSettings(
        max_body=max_body, max_batch=max_batch, rate=rate_limit, burst=burst, max_streams=max_streams,
        stream_buffer=stream_buffer, meta_app_secret=meta_secret,
    ), triage=triage, triage_worker=_worker_wanted(triage_worker), watch_playbook=True)
    config = uvicorn.Config(app, log_level=log_level, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
                            timeout_graceful_shutdown=3, lifespan="on", proxy_headers=False, server_header=False,
                            access_log=access_log)
    server = CrisisServer(config, app)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if not server.started:
        sys.exit(1)


@click.group()
def token() -> None:
    """Tokens for `crisis-tui serve`: create, list, revoke (kept hashed in the incident file)."""


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else ""


async def _book(db: Database, create: bool) -> TokenBook:
    store = await open_database(db, create=create, playbook=settings().playbook)
    await store.close()
    return await TokenBook.open(db)


@token.command("create")
@_DB
@click.option("--name", required=True, help="Who uses it: the name every write with it is recorded under.")
@click.option("--role", required=True, type=click.Choice(list(reversed(ROLES))),
              help="lead: everything; operator: room commands; viewer: reads only (the wallboard).")
@click.option("--seat-roles", "seat_roles", default=None, metavar="ROLE,ROLE",
              help="Committee roles (playbook ids) its holder may take in a room. Default: every role for "
                   "a lead; for an operator, the roles without decision power that are not owner; "
                   "none for a viewer. Only a lead may be given a role with decision power or owner.")
@click.option("--preset", default=None, metavar="NAME",
              help="Read every comment body posted with this token through a shipped preset (crisis-tui ingest "
                   "--presets), for a platform's own webhook: facebook-webhook, instagram-webhook.")
def token_create(db: Database, name: str, role: str, seat_roles: str | None, preset: str | None) -> None:
    """Create a token; it is printed once, on the last line, and only its hash is kept."""
    cfg = settings()
    asked = None if seat_roles is None else parse_list(seat_roles)

    async def go() -> tuple[Token, str]:
        if asked is not None:
            check_seats(cfg.playbook, role, asked)  # refused before the file is touched
        if preset is not None:
            check_preset(preset, role)
        book = await _book(db, create=True)
        try:
            return await book.create(name, role, seat_roles=asked, playbook=cfg.playbook, preset=preset)
        finally:
            await book.close()

    made, secret = run(go)
    seats = ", ".join(seats_in_force(cfg.playbook, made.role, made.seat_roles)) or "no seat"
    reads = f", bodies read as preset {made.preset}" if made.preset else ""
    click.echo(f"token {made.id} for {one_line(made.name, 64)} ({made.role}, seats: {one_line(seats, 120)}{reads}); "
               "keep it secret, it is not shown again:")
    click.echo(secret)


def _seats_column(book: Playbook, t: Token) -> str:
    """What `token list` shows: the seats in force, marked when they are the role's default."""
    seats = ", ".join(seats_in_force(book, t.role, t.seat_roles)) or "-"
    return seats + (" (default)" if t.seat_roles is None and t.role != "viewer" else "")


@token.command("list")
@_DB
@click.option("--all", "show_all", is_flag=True, help="Include revoked tokens.")
def token_list(db: Database, show_all: bool) -> None:
    """The tokens of DB (never their secrets)."""

    async def go() -> list[Token]:
        book = await _book(db, create=False)
        try:
            return await book.list(include_revoked=show_all)
        finally:
            await book.close()

    tokens = run(go)
    if not tokens:
        click.echo("no tokens" + ("" if show_all else " (active)"))
        return
    book = settings().playbook
    rows = [(t, one_line(_seats_column(book, t), 60)) for t in tokens]
    width = max(len("seats"), *(len(seats) for _, seats in rows))
    click.echo(f"{'id':>4}  {'role':<8}  {'seats':<{width}}  {'created':<16}  {'revoked':<16}  name")
    for t, seats in rows:
        click.echo(f"{t.id:>4}  {t.role:<8}  {seats:<{width}}  {_when(t.created_at):<16}  {_when(t.revoked_at):<16}  "
                   f"{one_line(t.name, 64)}")


@token.command("revoke")
@_DB
@click.option("--id", "token_id", type=click.IntRange(0, MAX_ID), default=None, help="Revoke this token.")
@click.option("--name", default=None, help="Revoke the active token of this name (names are unique among active tokens).")
def token_revoke(db: Database, token_id: int | None, name: str | None) -> None:
    """Revoke a token (the server refuses it within two seconds)."""
    if (token_id is None) == (name is None):
        raise click.UsageError("give either --id or --name")

    async def go() -> list[Token]:
        book = await _book(db, create=False)
        try:
            return await book.revoke(token_id=token_id, name=name)
        finally:
            await book.close()

    for t in run(go):
        click.echo(f"revoked token {t.id} of {one_line(t.name, 64)} ({t.role})")


def register(group: click.Group) -> None:
    group.add_command(serve)
    group.add_command(token)
