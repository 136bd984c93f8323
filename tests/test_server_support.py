"""Support for the server tests (no tests here): a real `crisis-tui serve` app on a loopback
port, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from crisis_tui.playbook import Playbook
from crisis_tui.server.app import create_app
from crisis_tui.server.background import BackgroundServer
from crisis_tui.server.settings import ServerSettings
from crisis_tui.store.http import HttpStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook


class Served:
    """One server over one incident file, with helpers to mint tokens and open clients."""

    def __init__(self, db: Path, tokens: TokenBook, server: BackgroundServer, playbook: Playbook) -> None:
        self.db = db
        self.playbook = playbook
        self.tokens = tokens
        self.server = server
        self._stores: list[HttpStore] = []
        self._clients: list[httpx.AsyncClient] = []
        self._secrets: dict[str, tuple[str, list[str] | None, str]] = {}

    @property
    def url(self) -> str:
        return self.server.url

    async def token(self, name: str, role: str, seats: list[str] | None = None) -> str:
        """The active token of `name` (names are unique among active tokens): made once, then
        the same secret for the same role and seats; other ones are refused by the book."""
        known = self._secrets.get(name)
        if known is not None and known[:2] == (role, seats):
            return known[2]
        secret = (await self.tokens.create(name, role, seat_roles=seats, playbook=self.playbook))[1]
        self._secrets[name] = (role, seats, secret)
        return secret

    async def revoke(self, name: str) -> None:
        """Revoke `name`'s token, so the name may be given a new one."""
        await self.tokens.revoke(name=name)
        self._secrets.pop(name, None)

    async def store(self, name: str, role: str, seats: list[str] | None = None, **kwargs: Any) -> HttpStore:
        opened = await HttpStore.open(self.url, token=await self.token(name, role, seats), **kwargs)
        self._stores.append(opened)
        return opened

    def raw(self, token: str | None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)
        self._clients.append(client)
        return client

    async def close(self) -> None:
        for s in self._stores:
            await s.close()
        for c in self._clients:
            await c.aclose()
        self.server.stop()
        await self.tokens.close()


ServeFactory = Callable[..., Awaitable[Served]]


@pytest.fixture
async def serve(tmp_path: Path, book: Playbook) -> AsyncIterator[ServeFactory]:
    """serve(triage=True, triage_worker=False, **ServerSettings fields) -> Served, stopped at the end of the test."""
    made: list[Served] = []

    async def start(triage: bool = True, triage_worker: bool = False, **settings: Any) -> Served:
        db = tmp_path / f"served{len(made)}.db"
        await (await SqliteStore.open(db, playbook=book)).close()
        tokens = await TokenBook.open(db)
        server = BackgroundServer(create_app(db, playbook=book, settings=ServerSettings(**settings), triage=triage,
                                               triage_worker=triage_worker))
        server.start()
        served = Served(db, tokens, server, book)
        made.append(served)
        return served

    try:
        yield start
    finally:
        for s in made:
            await s.close()
