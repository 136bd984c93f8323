"""Opening an incident file: one way for every reader and writer of it.

The store, the read-only wallboard and the token book each hold their own
connection to the same file; they must wait on each other's locks alike and
name a file that is not an incident file alike.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite

from crisis_tui.errors import StoreUnavailable

BUSY_TIMEOUT_MS = 10_000


async def connect(file: Path, *, read_only: bool = False) -> aiosqlite.Connection:
    """A connection to `file` (read-only at the SQLite level when asked) that waits on locks."""
    target = f"file:{file}?mode=ro" if read_only else str(file)
    try:
        db = await aiosqlite.connect(target, uri=read_only, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"cannot open {file}: {exc}") from None
    async with closed_on_failure(db, file):
        await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return db


@contextlib.asynccontextmanager
async def closed_on_failure(db: aiosqlite.Connection, file: Path) -> AsyncIterator[None]:
    """Set-up on a fresh connection: on any failure the connection is closed, and a file
    SQLite cannot read is named as not being an incident file."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        await db.close()
        raise StoreUnavailable(f"{file} is not a crisis-tui incident file ({exc})") from None
    except BaseException:
        await db.close()
        raise
