"""I/O faults under a request, said as 503 with Retry-After instead of a 500.

A full disk, a file made read-only or locked by another process, or a
corrupted page surfaces from sqlite3 as OperationalError or DatabaseError in
the middle of a write. The transaction rolled back, so nothing the server
acknowledged is lost and nothing of the refused request was kept: the client
may retry the same request once the fault is gone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crisis_tui.errors import StoreUnavailable

_CAUSES: tuple[tuple[str, str], ...] = (
    ("full", "the disk holding {file} is full"),
    ("readonly", "{file} is read-only"),
    ("read-only", "{file} is read-only"),
    ("locked", "{file} is locked by another process"),
    ("busy", "{file} is busy"),
    ("malformed", "{file} is damaged (run crisis-tui verify on it)"),
    ("disk i/o", "reading or writing {file} failed (disk I/O error)"),
)


def unavailable(exc: sqlite3.DatabaseError, file: Path) -> StoreUnavailable:
    """The one-line refusal for a sqlite3 fault on `file`; the request changed nothing."""
    message = str(exc).lower()
    said = next((line for word, line in _CAUSES if word in message), "{file} cannot be used: " + str(exc))
    return StoreUnavailable(said.format(file=file.name) + "; the request changed nothing, retry later")
