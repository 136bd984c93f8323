"""Opening the database a command or the server names: a SQLite file or a PostgreSQL URL.

Both stores are the same commands over a different transaction (PgStore is a
SqliteStore with PostgreSQL's connection), so every caller that held a
SqliteStore keeps working with either.
"""

from __future__ import annotations

from pathlib import Path

from crisis_tui.playbook import Playbook
from crisis_tui.store.pg import PgStore, is_pg_url, shown
from crisis_tui.store.sqlite import SqliteStore

#: What `--db` holds: a file, or a postgresql:// URL kept as it was typed.
Database = Path | str


def database(raw: str | Path) -> Database:
    """`raw` as a database name: a URL stays text (a Path would fold its `//`)."""
    return str(raw) if is_pg_url(str(raw)) else Path(raw)


def named(db: Database) -> str:
    """The database as messages name it (a URL without its password, a file by its full path)."""
    return shown(db) if isinstance(db, str) else str(Path(db).expanduser().resolve())


async def open_database(db: Database, *, create: bool = True, read_only: bool = False,
                        playbook: Playbook | None = None) -> SqliteStore:
    if isinstance(db, str) and is_pg_url(db):
        return await PgStore.open(db, create=create, read_only=read_only, playbook=playbook)
    return await SqliteStore.open(db, create=create, read_only=read_only, playbook=playbook)
