"""Opening an incident file: one way for every reader and writer of it.

The store, the read-only wallboard and the token book each hold their own
connection to the same file; they must wait on each other's locks alike and
name a file that is not an incident file alike.

A reader opens the file with a `file:` URI, its name quoted (a `?`, `#` or `%`
in it is part of the name, not of the URI). WAL mode needs the -shm file beside
the database even to read; on a read-only folder or medium, where it cannot be
made, the reader falls back to `immutable=1` (no locks, no -shm), which is
right for a copy nobody writes, and refuses a file whose -wal still holds
writes that such a reader would not see.
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from crisis_tui import file_faults
from crisis_tui.errors import StorageFault

BUSY_TIMEOUT_MS = 10_000


def file_uri(file: Path, **params: str) -> str:
    """The SQLite `file:` URI of `file` with `params`, whatever characters its name holds."""
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"file:{quote(os.fsencode(file))}" + (f"?{query}" if query else "")


async def connect(file: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    """A connection to `file` (read-only at the SQLite level when asked) that waits on locks."""
    if read_only:
        return await _connect_reader(file)
    with file_faults.said(file, writing=True):
        db = await aiosqlite.connect(file_uri(file), uri=True, isolation_level=None)
    async with closed_on_failure(db, file):
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await with_floor(db)
    return db


async def with_floor(db: aiosqlite.Connection) -> None:
    """SQL's floor() on `db`, as PostgreSQL has it: an SQLite built without its math functions gets
    Python's (the minutes of arrival_minutes are counted with it: schema migration 11, verify)."""
    try:
        await db.execute_fetchall("SELECT floor(1.5)")
    except sqlite3.OperationalError:
        await db.create_function("floor", 1, math.floor, deterministic=True)


def with_floor_sync(db: sqlite3.Connection) -> None:
    """with_floor for a connection of the standard library's own (verify's)."""
    try:
        db.execute("SELECT floor(1.5)").fetchall()
    except sqlite3.OperationalError:
        db.create_function("floor", 1, math.floor, deterministic=True)


def wants_immutable(exc: sqlite3.Error, file: Path) -> bool:
    """Whether a read-only open failed only because the -shm cannot be made beside `file`
    (a read-only folder or medium), so that `immutable_uri` may read it instead."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    return code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY) and file.is_file()


def immutable_uri(file: Path) -> str:
    """The URI that reads `file` without locks nor -shm; refused while its -wal holds writes."""
    wal = file.with_name(file.name + "-wal")
    with contextlib.suppress(OSError):
        if wal.stat().st_size > 0:
            raise StorageFault(f"{file} is on a read-only folder or medium and {wal.name} beside it still holds "
                               "writes a reader there cannot replay: copy both files to a writable folder")
    return file_uri(file, mode="ro", immutable="1")


async def _connect_reader(file: Path) -> aiosqlite.Connection:
    with file_faults.said(file, writing=False):
        db = await aiosqlite.connect(file_uri(file, mode="ro"), uri=True, isolation_level=None)
    try:
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await db.execute_fetchall("SELECT count(*) FROM sqlite_master")
        await with_floor(db)
        return db
    except sqlite3.DatabaseError as exc:
        await db.close()
        if not wants_immutable(exc, file):
            fault = file_faults.translated(exc, file, writing=False)
            if fault is exc:
                raise
            raise fault from exc
    except BaseException:
        await db.close()
        raise
    uri = immutable_uri(file)
    with file_faults.said(file, writing=False):
        db = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    async with closed_on_failure(db, file, writing=False):
        await db.execute_fetchall("SELECT count(*) FROM sqlite_master")
        await with_floor(db)
    return db


@contextlib.asynccontextmanager
async def closed_on_failure(db: aiosqlite.Connection, file: Path, *, writing: bool = True) -> AsyncIterator[None]:
    """Set-up on a fresh connection: on any failure the connection is closed, and SQLite's
    or the disk's refusal is said as a StorageFault naming the file (a file that is not
    an incident file is named as such)."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        await db.close()
        fault = file_faults.translated(exc, file, writing=writing)
        if fault is exc:
            raise
        raise fault from exc
    except BaseException:
        await db.close()
        raise
