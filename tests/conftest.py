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


async def _http(tmp: Path, book: Playbook) -> IncidentStore:
    return await _served(tmp / "incident.db", book)


async def _http_pg(tmp: Path, book: Playbook) -> IncidentStore:
    """As `_http`, the server over a PostgreSQL database of its own (dropped when the store closes)."""
    from tests.pg_db import create_database, drop_database  # noqa: PLC0415 - only for this transport

    url = await create_database()
    try:
        return await _served(url, book, after=lambda: drop_database(url))
    except BaseException:
        await drop_database(url)
        raise


async def _served(db: Path | str, book: Playbook,
                  after: Callable[[], Awaitable[None]] | None = None) -> IncidentStore:
    """A real uvicorn on a free loopback port over a SqliteStore in tmp, and an HttpStore on it.

    The suite's stories act as several people (Ana, Luis, op0..op7); the server
    takes the actor from the token, so each name gets its own operator token
    (lead, so the stories meet the store's own guards; roles are tested in
    tests/test_server.py). close() also stops the server.
    """
    from crisis_tui.server.app import create_app  # noqa: PLC0415 - only for this transport
    from crisis_tui.server.background import BackgroundServer  # noqa: PLC0415
    from crisis_tui.store.http import HttpStore  # noqa: PLC0415
    from crisis_tui.store.opening import open_database  # noqa: PLC0415
    from crisis_tui.tokens import TokenBook  # noqa: PLC0415

    await (await open_database(db, playbook=book)).close()
    tokens = await TokenBook.open(db)
    _, lead = await tokens.create("Luis", "lead")
    server = BackgroundServer(create_app(db, playbook=book))
    url = server.start()

    async def token_for(name: str) -> str:
        return (await tokens.create(name, "lead"))[1]

    class ServedHttpStore(HttpStore):
        async def close(self) -> None:
            try:
                await super().close()
            finally:
                server.stop()
                await tokens.close()
                if after is not None:
                    await after()

    try:
        return await ServedHttpStore.open(url, token=lead, tokens=token_for)
    except BaseException:
        server.stop()
        await tokens.close()
        raise


async def _pg(tmp: Path, book: Playbook) -> IncidentStore:
    """A PgStore on a database of its own, dropped when the store closes."""
    from crisis_tui.store.pg import PgStore  # noqa: PLC0415 - only for this transport
    from tests.pg_db import create_database, drop_database  # noqa: PLC0415

    url = await create_database()

    class OwnDatabasePgStore(PgStore):
        async def close(self) -> None:
            try:
                await super().close()
            finally:
                await drop_database(url)

    try:
        return await OwnDatabasePgStore.open(url, playbook=book)
    except BaseException:
        await drop_database(url)
        raise


#: Transports the store suite runs against; other modules may register more.
STORE_FACTORIES: dict[str, StoreFactory] = {"sqlite": _sqlite, "http": _http, "pg": _pg, "http-pg": _http_pg}


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


@pytest.fixture(autouse=True)
def witness_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's rooms and wallboards witness into their own state folder, never the user's."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CRISIS_TUI_STATE_DIR", str(folder))
    return folder
