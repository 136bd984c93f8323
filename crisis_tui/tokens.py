"""Bearer tokens for `crisis-tui serve`: who may talk to the server, and as whom.

A token is a random secret shown once when it is created; the incident file
keeps only its SHA-256 digest (the secret has 256 bits of entropy, so a fast
hash is enough and a stolen file gives no usable token). Each token carries a
name, which becomes the actor of every write made with it, and a role:
`lead` (everything, including opening incidents and changing their severity),
`operator` (every room command) or `viewer` (reads only: the wallboard), and
the committee roles (seats) its holder may take in a room (crisis_tui.seats).
Tokens live in the same SQLite file as the incidents they open.

Names are unique among active tokens, since the name is who every write is
recorded as; a revoked token's name may be given again (a person's new token
after the old one leaked: the log reads on under the same name).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any, cast

import aiosqlite
import asyncpg
import msgspec

from crisis_tui import file_faults
from crisis_tui.errors import InvalidInput, NotFound, StoreUnavailable
from crisis_tui.intake import presets
from crisis_tui.playbook import Playbook
from crisis_tui.seats import check_seats
from crisis_tui.store.connection import closed_on_failure, connect
from crisis_tui.store.pg import is_pg_url, shown
from crisis_tui.store.pg_sql import PgConnection
from crisis_tui.store.schema import SCHEMA_VERSION

ROLES: tuple[str, ...] = ("viewer", "operator", "lead")
PREFIX = "ctk_"
MAX_NAME = 64


class Token(msgspec.Struct, kw_only=True):
    """A token as listed: everything but the secret."""

    id: int
    name: str
    role: str
    created_at: float
    revoked_at: float | None = None
    #: The seats it was given; None: the default of its role (crisis_tui.seats).
    seat_roles: list[str] | None = None
    #: The preset its POSTs of comments are read with (a platform's webhook); None: the native shape.
    preset: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def role_rank(role: str) -> int:
    """viewer < operator < lead; an unknown role ranks below viewer."""
    return ROLES.index(role) if role in ROLES else -1


def check_name(name: str) -> str:
    """A token name is an actor in the log: printable, one line, at most 64 characters."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput("name", f"is {len(name)} characters, the limit is {MAX_NAME}")
    if not name.isprintable():
        raise InvalidInput("name", "must be printable text on one line (no control characters)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput("role", f"{role!r} is not a token role ({', '.join(reversed(ROLES))})")
    return role


def check_preset(preset: str, role: str) -> str:
    """A token's preset must be a shipped one, on a token that may ingest."""
    if preset not in presets.names():
        raise InvalidInput("--preset", f"no preset {preset!r} (presets: {', '.join(presets.names())})")
    if presets.format_of(preset) == "csv":
        raise InvalidInput("--preset", f"{preset} reads a CSV export file (crisis-tui ingest); a webhook body is JSON")
    if role_rank(role) < role_rank("operator"):
        raise InvalidInput("--preset", "a viewer token reads only; a preset is for a token that posts comments")
    return preset


_COLUMNS = "id, name, role, created_at, revoked_at, seat_roles, preset"


def _seat_list(raw: object) -> list[str] | None:
    """The stored JSON list; anything else (edited by hand) reads as no seat at all."""
    if raw is None:
        return None
    try:
        seats = msgspec.json.decode(str(raw), type=list[str])
    except msgspec.MsgspecError:
        return []
    return seats


def _token(row: tuple[object, ...]) -> Token:
    tid, name, role, created, revoked, seats, preset = row
    return Token(id=int(tid), name=str(name), role=str(role), created_at=float(created),  # type: ignore[arg-type]
                 revoked_at=None if revoked is None else float(revoked),  # type: ignore[arg-type]
                 seat_roles=_seat_list(seats), preset=None if preset is None else str(preset))


class TokenBook:
    """The tokens table of one incident file, on its own connection.

    The file must already be at the current schema: open it once with
    SqliteStore (the server and `crisis-tui token` do) so migrations have run.
    """

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: str | Path) -> TokenBook:
        if is_pg_url(str(path)):
            return await cls._open_pg(str(path))
        file = Path(path).expanduser().resolve()
        if not file.exists():
            raise StoreUnavailable(f"no incident file at {file}")
        db = await connect(file)
        async with closed_on_failure(db, file):
            async with db.execute("PRAGMA user_version") as cur:
                row = await cur.fetchone()
            if row is None or int(row[0]) < SCHEMA_VERSION:
                raise StoreUnavailable(f"{file} needs a schema upgrade; open it once with crisis-tui first")
        return cls(db, file)

    @classmethod
    async def _open_pg(cls, url: str) -> TokenBook:
        """The tokens table of a PostgreSQL database, through the store's own connection seam."""
        try:
            conn = await asyncpg.connect(url)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise StoreUnavailable(f"cannot reach PostgreSQL at {shown(url)}: {exc}") from exc
        except (ValueError, OverflowError) as exc:  # the URL itself: a port that is not a number, or past 65535
            raise StoreUnavailable(f"{shown(url)} is not a usable PostgreSQL URL: {exc}") from exc
        version = await conn.fetchval("SELECT CASE WHEN to_regclass('crisis_schema') IS NULL THEN 0 "
                                      "ELSE (SELECT version FROM crisis_schema) END")
        if int(version) < SCHEMA_VERSION:
            await conn.close()
            raise StoreUnavailable(f"{shown(url)} needs a schema upgrade; open it once with crisis-tui first")
        return cls(cast(Any, PgConnection(conn)), cast(Path, shown(url)))

    async def close(self) -> None:
        await self._db.close()

    async def create(self, name: str, role: str, *, seat_roles: list[str] | None = None,
                     playbook: Playbook | None = None, preset: str | None = None) -> tuple[Token, str]:
        """A new token; returns it and its secret, which is never stored nor shown again.

        `seat_roles` are checked against `playbook` (needed with them): only a
        lead may sit in a role with decision power or owner; None keeps the
        default of the token's role. `preset`: a platform's webhook posts with this
        token, and its bodies are read with that shipped mapping.
        """
        name = check_name(name)
        role = check_role(role)
        if preset is not None:
            preset = check_preset(preset, role)
        seats: list[str] | None = None
        if seat_roles is not None:
            if playbook is None:
                raise InvalidInput("--seat-roles", "seats are checked against a playbook; none was given")
            seats = list(check_seats(playbook, role, seat_roles))
        secret = PREFIX + secrets.token_urlsafe(32)
        now = time.time()
        with file_faults.said(self.path, writing=True):
            await self._refuse_taken(name)
            try:
                cur = await self._db.execute(
                    "INSERT INTO tokens (name, role, digest, created_at, seat_roles, preset) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, role, digest(secret), now, None if seats is None else msgspec.json.encode(seats).decode(),
                     preset),
                )
            except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):  # made by another process since the look above
                await self._refuse_taken(name)
                raise
        token_id = int(cur.lastrowid or 0)
        await cur.close()
        return Token(id=token_id, name=name, role=role, created_at=now, seat_roles=seats, preset=preset), secret

    async def _refuse_taken(self, name: str) -> None:
        async with self._db.execute("SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL", (name,)) as cur:
            row = await cur.fetchone()
        if row is not None:
            raise InvalidInput("name", f"{name!r} is the name of active token {row[0]}: every write is recorded "
                                       "by name, so choose another, or revoke that token first "
                                       f"(crisis-tui token revoke --db {self.path} --id {row[0]}) to give the name a new token")

    async def list(self, *, include_revoked: bool = True) -> list[Token]:
        sql = f"SELECT {_COLUMNS} FROM tokens"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        with file_faults.said(self.path, writing=False):
            async with self._db.execute(sql + " ORDER BY id") as cur:
                return [_token(tuple(r)) for r in await cur.fetchall()]

    async def revoke(self, *, token_id: int | None = None, name: str | None = None) -> list[Token]:
        """Revoke one token by id, or every active token of a name; returns what was revoked."""
        if (token_id is None) == (name is None):
            raise InvalidInput("token", "name either a token id or a token name")
        where, param = ("id = ?", token_id) if token_id is not None else ("name = ?", name)
        with file_faults.said(self.path, writing=False):
            async with self._db.execute(f"SELECT {_COLUMNS} FROM tokens WHERE {where}", (param,)) as cur:
                found = [_token(tuple(r)) for r in await cur.fetchall()]
        what = f"token {token_id}" if token_id is not None else f"every token named {name!r}"
        if not found:
            raise NotFound(f"no {what.removeprefix('every ')} in {self.path}")
        active = [t for t in found if t.active]
        if not active:
            raise InvalidInput("token", f"{what} is already revoked")
        now = time.time()
        with file_faults.said(self.path, writing=True):
            await self._db.execute(
                f"UPDATE tokens SET revoked_at = ? WHERE {where} AND revoked_at IS NULL", (now, param)
            )
        return [msgspec.structs.replace(t, revoked_at=now) for t in active]

    async def lookup(self, secret: str) -> Token | None:
        """The active token with this secret, or None."""
        if not secret.startswith(PREFIX) or len(secret) > 200:
            return None
        with file_faults.said(self.path, writing=False):
            async with self._db.execute(
                f"SELECT {_COLUMNS} FROM tokens WHERE digest = ? AND revoked_at IS NULL", (digest(secret),)
            ) as cur:
                row = await cur.fetchone()
        return _token(tuple(row)) if row else None
