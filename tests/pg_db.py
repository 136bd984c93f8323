"""A fresh PostgreSQL database per test, dropped after it, so parallel runs never meet.

The server is CRISIS_TUI_PG_URL (default: the machine's, trust auth, as .ci/run starts it).
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg

PG_URL = os.environ.get("CRISIS_TUI_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


async def create_database() -> str:
    """A new empty database's URL."""
    name = "crisis_test_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return _with_database(PG_URL, name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
