"""An AT-Protocol-shaped PDS on loopback (no tests here): createSession, getRecord and
createRecord as a PDS takes and answers them, recording every record it is asked to write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crisis_tui.server.background import BackgroundServer

HANDLE = "brand.bsky.social"
DID = "did:plc:brand4test0000000000000"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
JWT = "eyJ0eXAiOiJhdCtqd3QifQ.test.session"


@dataclass
class FakePds:
    #: The raw bodies of every createRecord request, in order.
    writes: list[bytes] = field(default_factory=list)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Answer the next createRecord with this status *after* storing the record (a lost answer).
    lose_next_answer: int = 0
    url: str = ""

    def app(self) -> Starlette:
        def refused() -> JSONResponse:
            return JSONResponse({"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                                status_code=401)

        async def create_session(request: Request) -> JSONResponse:
            data = json.loads(await request.body())
            if data.get("identifier") != HANDLE or data.get("password") != APP_PASSWORD:
                return refused()
            return JSONResponse({"accessJwt": JWT, "refreshJwt": "refresh", "handle": HANDLE, "did": DID,
                                 "active": True})

        def authorised(request: Request) -> bool:
            return request.headers.get("Authorization") == f"Bearer {JWT}"

        async def get_record(request: Request) -> JSONResponse:
            if not authorised(request):
                return refused()
            uri = f"at://{request.query_params['repo']}/{request.query_params['collection']}/{request.query_params['rkey']}"
            if uri not in self.records:
                return JSONResponse({"error": "RecordNotFound", "message": f"Could not locate record: {uri}"},
                                    status_code=400)
            return JSONResponse(self.records[uri])

        async def create_record(request: Request) -> JSONResponse:
            if not authorised(request):
                return refused()
            raw = await request.body()
            self.writes.append(raw)
            data = json.loads(raw)
            uri = f"at://{data['repo']}/{data['collection']}/{data['rkey']}"
            if uri in self.records:
                return JSONResponse({"error": "InvalidRequest", "message": "Record already exists"}, status_code=400)
            cid = "bafyrei" + hashlib.sha256(raw).hexdigest()[:52]
            self.records[uri] = {"uri": uri, "cid": cid, "value": data["record"]}
            if self.lose_next_answer:
                status, self.lose_next_answer = self.lose_next_answer, 0
                return JSONResponse({"error": "InternalServerError", "message": "Internal Server Error"},
                                    status_code=status)
            return JSONResponse({"uri": uri, "cid": cid, "commit": {"cid": "bafyreicommit", "rev": "3l"},
                                 "validationStatus": "valid"})

        return Starlette(routes=[
            Route("/xrpc/com.atproto.server.createSession", create_session, methods=["POST"]),
            Route("/xrpc/com.atproto.repo.getRecord", get_record, methods=["GET"]),
            Route("/xrpc/com.atproto.repo.createRecord", create_record, methods=["POST"]),
        ])


@pytest.fixture
def pds() -> Iterator[FakePds]:
    fake = FakePds()
    server = BackgroundServer(fake.app())
    fake.url = server.start()
    try:
        yield fake
    finally:
        server.stop()
