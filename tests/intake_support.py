"""Support for the intake tests (no tests here): an incident file for a source to feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore


@pytest.fixture
async def room(tmp_path: Path, book: Playbook) -> AsyncIterator[tuple[SqliteStore, str, Path]]:
    """(store, incident id, file): an open store on a fresh incident, and the file for `crisis-tui ingest`."""
    db = tmp_path / "room.db"
    store = await SqliteStore.open(db, playbook=book)
    incident = await store.create_incident("Refund delays", actor="Luis")
    try:
        yield store, incident.id, db
    finally:
        await store.close()
