"""Helpers for the room's tests: an incident with comments, an app on it, the screen as text."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from crisis_tui.app import CrisisApp
from crisis_tui.comment_shape import parse_comment
from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.screens.room import RoomScreen
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore

COMMENTS = [
    {"source": "x", "id": "x-1", "author": "@marta_viaja", "lang": "es", "author_followers": 15200,
     "text": "Llevo tres semanas esperando el reembolso y nadie contesta."},
    {"source": "instagram", "id": "ig-1", "author": "giorgia.rossi", "lang": "it", "author_followers": 3400,
     "text": "Rimborso sparito da 20 giorni, il servizio clienti non risponde."},
    {"source": "x", "id": "x-2", "author": "@dan_reviews", "lang": "en", "author_followers": 48000,
     "text": "Since the app update my refund is processing forever. Support chat closes on me."},
]


def comments(raw: list[dict[str, object]] | None = None, priorities: list[float] | None = None) -> list[NewComment]:
    out = []
    for i, item in enumerate(raw or COMMENTS):
        c = parse_comment(dict(item))
        if priorities:
            c.priority = priorities[i]
        out.append(c)
    return out


def screen_text(app: CrisisApp) -> str:
    """What the terminal shows, as plain text (one line per row)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def room(app: CrisisApp) -> RoomScreen:
    return app.room


async def wait_for(pilot: Pilot, check: Callable[[], object], timeout: float = 5.0) -> None:
    """Let the app run until `check()` is true (the sync worker and the store are real)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {getattr(check, '__name__', check)}")
        await pilot.pause(0.05)


async def loaded(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, CrisisApp)
    await wait_for(pilot, lambda: app.room.loaded and app.room.load_progress is None)
    await pilot.pause()


def make_app(store: IncidentStore, incident: str, book: Playbook, me: str = "Ana", role: str | None = "cm",
             **kwargs: object) -> CrisisApp:
    return CrisisApp(store, incident, book, me=me, role=role, watch_playbook_file=False, **kwargs)  # type: ignore[arg-type]


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "incident.db"


@pytest.fixture
async def sqlite(tmp_path: Path, book: Playbook) -> AsyncIterator[SqliteStore]:
    """A real incident file for the room stories."""
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def inc(sqlite: SqliteStore) -> str:
    """Three comments; priorities: dan (x-2) first, then marta, then giorgia."""
    incident = await sqlite.create_incident("Refund delays", actor="Luis", brand="Lumo")
    await sqlite.ingest(incident.id, comments(priorities=[0.6, 0.3, 0.9]))
    return incident.id
