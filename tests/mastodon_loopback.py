"""A Mastodon-shaped server on loopback (no tests here): `POST /api/v1/statuses` as Mastodon
takes it (bearer token, form fields, Idempotency-Key) and answers it (a Status entity shaped
like /work/shared/samples' documented one), recording every request it receives."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crisis_tui.server.background import BackgroundServer

TOKEN = "test-mastodon-token"
HOST = "social.example"
_SAMPLE = Path(__file__).parent / "data" / "mastodon_status.json"


@dataclass
class Received:
    key: str
    form: dict[str, str]
    raw: bytes


@dataclass
class FakeMastodon:
    """What the server was sent, and how it should answer the next requests."""

    received: list[Received] = field(default_factory=list)
    created: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: HTTP statuses to answer the next requests with, instead of posting.
    fail_next: list[int] = field(default_factory=list)
    delay_seconds: float = 0.0
    url: str = ""

    def status(self, number: int, form: dict[str, str]) -> dict[str, Any]:
        status = copy.deepcopy(json.loads(_SAMPLE.read_text()))
        post_id = str(109_000_000_000_000_000 + number)
        status.update(
            id=post_id, content=f"<p>{form['status']}</p>", in_reply_to_id=form.get("in_reply_to_id"),
            uri=f"https://{HOST}/users/brand/statuses/{post_id}", url=f"https://{HOST}/@brand/{post_id}",
        )
        return status

    def app(self) -> Starlette:
        async def statuses(request: Request) -> JSONResponse:
            raw = await request.body()
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            key = request.headers.get("Idempotency-Key", "")
            self.received.append(Received(key=key, form=form, raw=raw))
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return JSONResponse({"error": "The access token is invalid"}, status_code=401)
            if self.fail_next:
                code = self.fail_next.pop(0)
                if code == 429:
                    return JSONResponse({"error": "Too many requests"}, status_code=429, headers={"Retry-After": "30"})
                return JSONResponse({"error": "Internal server error"}, status_code=code)
            if not form.get("status"):
                return JSONResponse({"error": "Validation failed: Text can't be blank"}, status_code=422)
            if key and key in self.created:
                return JSONResponse(self.created[key])
            status = self.status(len(self.created) + 1, form)
            self.created[key or status["id"]] = status
            return JSONResponse(status)

        return Starlette(routes=[Route("/api/v1/statuses", statuses, methods=["POST"])])

    @property
    def posts(self) -> list[dict[str, Any]]:
        return list(self.created.values())


@pytest.fixture
def mastodon() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    server = BackgroundServer(fake.app())
    fake.url = server.start()
    try:
        yield fake
    finally:
        server.stop()
