"""Shared fixtures. The store fixture is parametrised over every transport, so the
same story-tests run against SqliteStore and (once it exists) HttpStore."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore

StoreFactory = Callable[[Path, Playbook], Awaitable[IncidentStore]]


async def _sqlite(tmp: Path, book: Playbook) -> IncidentStore:
    return await SqliteStore.open(tmp / "incident.db", playbook=book)


#: Transports the store suite runs against; other modules may register more.
STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite}


@pytest.fixture
def book() -> Playbook:
    return playbook_mod.load(playbook_mod.shipped_path())


@pytest.fixture(params=sorted(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest, tmp_path: Path, book: Playbook) -> AsyncIterator[IncidentStore]:
    made = await STORE_FACTORIES[request.param](tmp_path, book)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def incident(store: IncidentStore) -> str:
    created = await store.create_incident("Refund delays", actor="Luis", brand="Lumo")
    return created.id
