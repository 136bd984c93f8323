"""An HTTP JSON feed polled with httpx against a real server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from email.utils import formatdate
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisis_tui.intake.backoff import Backoff, retry_after
from crisis_tui.intake.http_feed import HttpFeed
from crisis_tui.intake.mapping import Mapping
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.intake.runner import Runner, Tally
from crisis_tui.intake.state import StateFile
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.intake_loopback import serve
from tests.intake_support import room  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "crisis_tui"]

MAPPING = """
[feed]
items = "data.mentions"

[fields]
source = "network"
id = "mention_id"
author = "user.handle"
text = "body"
posted_at = "published"
likes = "metrics.likes"
author_followers = "user.followers"

[extra]
sentiment_vendor = "vendor_sentiment"
"""


class FakeFeed:
    """A listening tool's API: ETag and Last-Modified validators, and trouble on demand."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.version = 0
        self.changed_at = time.time() - 60
        self.fail_next = 0
        self.requests: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self.app = Starlette(routes=[Route("/v2/mentions", self.mentions), Route("/plain", self.plain)])

    def add(self, *items: dict[str, Any]) -> None:
        self.items.extend(items)
        self.version += 1
        self.changed_at = time.time()

    def _answer(self, status: int, response: Response) -> Response:
        self.statuses.append(status)
        return response

    async def mentions(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if self.fail_next:
            self.fail_next -= 1
            return self._answer(503, Response("busy", status_code=503, headers={"Retry-After": "0"}))
        etag = f'"v{self.version}"'
        if request.headers.get("if-none-match") == etag:
            return self._answer(304, Response(status_code=304, headers={"ETag": etag}))
        return self._answer(200, JSONResponse({"data": {"mentions": self.items}}, headers={"ETag": etag}))

    async def plain(self, request: Request) -> Response:
        """Last-Modified only (no ETag), answering a bare list."""
        self.requests.append(dict(request.headers))
        stamp = formatdate(int(self.changed_at), usegmt=True)
        since = request.headers.get("if-modified-since")
        if since and since == stamp:
            return self._answer(304, Response(status_code=304, headers={"Last-Modified": stamp}))
        return self._answer(200, JSONResponse(self.items, headers={"Last-Modified": stamp}))


def mention(i: int, **changes: Any) -> dict[str, Any]:
    item = {"network": "x", "mention_id": f"m{i}", "user": {"handle": f"@fan{i}", "followers": 100 + i},
            "body": f"Refund still missing after {i} days, nobody answers", "published": "2026-03-10T14:00:00Z",
            "metrics": {"likes": i}, "vendor_sentiment": "negative"}
    item.update(changes)
    return item


def stored(db: Path) -> list[tuple[str, str, int, str]]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return list(con.execute("SELECT external_id, author, likes, extra FROM comments ORDER BY id"))


async def poll(store: SqliteStore, incident: str, feed: HttpFeed, book: Playbook, until: Any, messages: list[str]) -> Tally:
    runner = Runner(store, incident, Pipeline(book), RejectLog(None, messages.append), report=messages.append, stop=feed.stop)
    task = asyncio.create_task(runner.run(feed.chunks()))
    deadline = time.monotonic() + 20
    while not until():
        assert time.monotonic() < deadline, messages
        assert not task.done(), task.exception() if task.done() else None
        await asyncio.sleep(0.02)
    feed.stop.set()
    return await asyncio.wait_for(task, 10)


async def test_etag_polling_with_retries_dedupe_and_a_saved_validator(
    room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook
) -> None:
    store, incident, db = room
    fake = FakeFeed()
    fake.add(mention(1), {"mention_id": "m2", "network": "x", "user": {"handle": "@nobody"}}, mention(3))
    fake.fail_next = 2
    mapping = Mapping.parse(__import__("tomllib").loads(MAPPING), "map.toml", section="feed")
    state = StateFile(tmp_path / "feed-state.json")
    with serve(fake.app) as base:
        url = f"{base}/v2/mentions"
        messages: list[str] = []
        feed = HttpFeed(url, mapping, state, asyncio.Event(), report=messages.append, interval=0.05,
                        backoff=Backoff(base=0.01))
        added = False

        def progressed() -> bool:
            nonlocal added
            if not added and fake.statuses.count(304) >= 2:
                fake.add(mention(4))
                added = True
            return added and len(stored(db)) == 3

        tally = await poll(store, incident, feed, book, progressed, messages)

        assert fake.statuses[:3] == [503, 503, 200]
        assert sum(1 for m in messages if "HTTP 503 Service Unavailable; retrying in" in m) == 2
        assert f"GET {url}: data.mentions[1]: text: is required" in messages
        assert [r[0] for r in stored(db)] == ["m1", "m3", "m4"]
        assert stored(db)[0][1:3] == ("@fan1", 1)
        assert json.loads(stored(db)[0][3]) == {"sentiment_vendor": "negative"}
        assert (tally.ingested, tally.duplicates) == (3, 2)
        assert any(r.get("if-none-match") == '"v1"' for r in fake.requests)

        # a restart sends the saved ETag at once: an unchanged feed costs one 304
        before = len(fake.statuses)
        again = HttpFeed(url, mapping, state, asyncio.Event(), report=messages.append, once=True)
        tally = await poll(store, incident, again, book, lambda: len(fake.statuses) > before, messages)
        assert fake.statuses[before:] == [304] and tally.ingested == 0


async def test_last_modified_polling(room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook) -> None:
    store, incident, db = room
    fake = FakeFeed()
    fake.add(mention(1), mention(2))
    mapping = Mapping.parse({"fields": {"source": {"value": "reviews"}, "id": "mention_id", "author": "user.handle",
                                        "text": "body"}}, "map.toml", section="feed")
    with serve(fake.app) as base:
        messages: list[str] = []
        feed = HttpFeed(f"{base}/plain", mapping, StateFile(tmp_path / "s.json"), asyncio.Event(),
                        report=messages.append, interval=0.05)
        await poll(store, incident, feed, book, lambda: fake.statuses.count(304) >= 2 and len(stored(db)) == 2, messages)
    assert any(r.get("if-modified-since") for r in fake.requests)


def test_the_cli_polls_once_and_a_wrong_url_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    fake = FakeFeed()
    fake.add(mention(1), mention(2))
    with serve(fake.app) as base:
        done = subprocess.run([*CLI, "ingest", str(db), f"{base}/v2/mentions", "--mapping", str(tmp_path / "map.toml"),
                               "--once", "--header", "Authorization: Bearer s3cret"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 0"
        assert fake.requests[-1]["authorization"] == "Bearer s3cret"
        wrong = subprocess.run([*CLI, "ingest", str(db), f"{base}/v2/nothing", "--mapping", str(tmp_path / "map.toml"),
                                "--once"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == f"crisis-tui: {base}/v2/nothing: HTTP 404 Not Found for {base}/v2/nothing"
    assert wrong.stdout.strip() == "ingested 0, duplicates 0, rejected 0"


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base=1.0, cap=30.0, rng=lambda: 0.5)
    assert [backoff.next() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.next(server_says=120.0) == 120.0
    backoff.reset()
    assert backoff.next() == 1.0
    assert retry_after("7") == 7.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 10) == 10.0
    assert retry_after("soon") is None


def test_a_key_in_the_feeds_url_is_never_shown(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    fake = FakeFeed()
    with serve(fake.app) as base:
        wrong = subprocess.run([*CLI, "ingest", str(db), f"{base}/v2/nothing?api_key=s3cret-k3y&lang=es", "--mapping",
                                str(tmp_path / "map.toml"), "--once"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 1
    assert "s3cret-k3y" not in wrong.stderr
    assert wrong.stderr.strip() == (f"crisis-tui: {base}/v2/nothing?api_key=REDACTED&lang=es: HTTP 404 Not Found "
                                    f"for {base}/v2/nothing?api_key=REDACTED&lang=es")
