"""The Mastodon hashtag adapter against a local server that speaks Mastodon's public API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crisis_tui.intake.html_text import html_to_text
from crisis_tui.intake.mastodon import MastodonTag, parse_tag_url, status_to_native
from crisis_tui.intake.pipeline import Pipeline
from crisis_tui.intake.rejects import RejectLog
from crisis_tui.intake.runner import Runner, Tally
from crisis_tui.intake.state import StateFile
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.intake_loopback import serve
from tests.intake_support import room  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "crisis_tui"]
HOST_NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account(n: int, *, bot: bool = False, remote: bool = False) -> dict[str, Any]:
    created = HOST_NOW - (timedelta(days=2) if bot else timedelta(days=900 + n))
    acct = f"user{n}@other.example" if remote else f"user{n}"
    return {
        "id": str(1000 + n), "username": f"user{n}", "acct": acct, "display_name": f"User {n}", "locked": False,
        "bot": bot, "discoverable": True, "group": False, "created_at": iso(created.replace(hour=0, minute=0)),
        "note": "<p>hi</p>", "url": f"https://social.example/@user{n}", "avatar": "", "header": "",
        "followers_count": 0 if bot else 150 + n, "following_count": 900 if bot else 120,
        "statuses_count": 40_000 if bot else 300, "last_status_at": "2026-03-10", "emojis": [], "fields": [],
    }


class FakeMastodon:
    """GET /api/v1/timelines/tag/:hashtag with max_id, since_id, min_id, limit and Link headers,
    the way Mastodon answers them (newest first; min_id pages forward from the given id)."""

    def __init__(self) -> None:
        self.statuses: list[dict[str, Any]] = []
        self.next_id = 109_000_000_000_000_000
        self.requests: list[dict[str, str]] = []
        self.rate_limit_once = False
        self.app = Starlette(routes=[Route("/api/v1/timelines/tag/{hashtag}", self.tag_timeline)])

    def post(self, text: str, *, tag: str = "LumoRefund", author: int = 1, bot: bool = False, **extra: Any) -> str:
        self.next_id += 7919
        status_id = str(self.next_id)
        created = HOST_NOW + timedelta(seconds=len(self.statuses))
        content = (f'<p>{text} <a href="https://social.example/tags/{tag}" class="mention hashtag" rel="tag">'
                   f"#<span>{tag}</span></a></p>")
        status = {
            "id": status_id, "created_at": iso(created), "in_reply_to_id": None, "in_reply_to_account_id": None,
            "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "es",
            "uri": f"https://social.example/users/user{author}/statuses/{status_id}",
            "url": f"https://social.example/@user{author}/{status_id}", "replies_count": 1, "reblogs_count": 2,
            "favourites_count": 3, "edited_at": None, "content": content, "reblog": None,
            "account": account(author, bot=bot), "media_attachments": [], "mentions": [],
            "tags": [{"name": tag.lower(), "url": f"https://social.example/tags/{tag.lower()}"}], "emojis": [],
            "card": None, "poll": None,
        }
        status.update(extra)
        self.statuses.append(status)
        return status_id

    async def tag_timeline(self, request: Request) -> Response:
        self.requests.append(dict(request.query_params))
        if self.rate_limit_once:
            self.rate_limit_once = False
            reset = iso(datetime.now(UTC) + timedelta(milliseconds=50))
            return JSONResponse({"error": "Too many requests"}, status_code=429,
                                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
        tag = request.path_params["hashtag"].lower()
        q = request.query_params
        limit = min(int(q.get("limit", 20)), 40)
        rows = [s for s in self.statuses if any(t["name"] == tag for t in s["tags"])]
        rows.sort(key=lambda s: int(s["id"]))
        if q.get("max_id"):
            rows = [s for s in rows if int(s["id"]) < int(q["max_id"])]
        if q.get("since_id"):
            rows = [s for s in rows if int(s["id"]) > int(q["since_id"])]
        if q.get("min_id"):
            rows = [s for s in rows if int(s["id"]) > int(q["min_id"])][:limit]  # the oldest after min_id
        else:
            rows = rows[-limit:]  # the newest
        page = list(reversed(rows))  # always newest first
        headers = {}
        if page:
            base = str(request.url.replace(query=""))
            older = f"{base}?{urlencode({'limit': limit, 'max_id': page[-1]['id']})}"
            newer = f"{base}?{urlencode({'limit': limit, 'min_id': page[0]['id']})}"
            headers["Link"] = f'<{older}>; rel="next", <{newer}>; rel="prev"'
        return JSONResponse(page, headers=headers)


def stored(db: Path) -> dict[str, tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return {json.loads(r[0])["mastodon_id"]: r[1:] for r in con.execute(
            "SELECT extra, author, text, lang, likes, shares, replies, bot_score, bot_reasons, url, external_id FROM comments")}


async def run_until(store: SqliteStore, incident: str, source: MastodonTag, book: Playbook, until: Any) -> Tally:
    messages: list[str] = []
    runner = Runner(store, incident, Pipeline(book), RejectLog(None, messages.append), report=messages.append, stop=source.stop)
    task = asyncio.create_task(runner.run(source.chunks()))
    deadline = time.monotonic() + 30
    while not until():
        assert time.monotonic() < deadline, messages
        if task.done():
            break
        await asyncio.sleep(0.02)
    source.stop.set()
    return await asyncio.wait_for(task, 10)


async def test_backfill_then_gapless_catch_up_then_resume(
    room: tuple[SqliteStore, str, Path], tmp_path: Path, book: Playbook
) -> None:
    store, incident, db = room
    fake = FakeMastodon()
    for i in range(90):
        fake.post(f"Llevo {i} días sin reembolso y nadie contesta", author=i % 7)
    bot_id = fake.post("Lumo son unos ESTAFADORES, no contratéis nunca", author=99, bot=True)
    fake.post("Otro tema", tag="Futbol")
    boosted = dict(fake.statuses[0])
    fake.post("boost", reblog=boosted)
    cw_id = fake.post("texto", spoiler_text="Lenguaje fuerte")
    media_id = fake.post("", content="", media_attachments=[{"id": "1", "type": "image", "description": "captura del error 504"}])
    hostile_id = fake.post("&lt;b&gt;[bold]x[/bold]&lt;/b&gt; \u202eevil")
    state = StateFile(tmp_path / "mastodon-state.json")

    with serve(fake.app) as base:
        first = MastodonTag(base, "LumoRefund", state, asyncio.Event(), report=lambda m: None, once=True, backfill=2)
        tally = await run_until(store, incident, first, book, lambda: False)
        rows = stored(db)
        assert len(rows) == 94 and tally.ingested == 94  # 40 newest + 40 + 15 older, less the boost; #Futbol is another tag
        assert [fake.requests[0].get(k) for k in ("limit", "max_id", "min_id")] == ["40", None, None]
        assert fake.requests[1].get("max_id") and fake.requests[2].get("max_id")

        author, text, lang, likes, shares, replies, bot_score, reasons, _url, uri = rows[bot_id]
        assert author == "@user99@127.0.0.1:" + base.rsplit(":", 1)[1]
        assert text == "Lumo son unos ESTAFADORES, no contratéis nunca #LumoRefund"
        assert (lang, likes, shares, replies) == ("es", 3, 2, 1)
        assert "the account says it is a bot" in json.loads(reasons) and bot_score >= 0.6
        assert uri.startswith("https://social.example/users/user99/statuses/")
        assert rows[cw_id][1].startswith("CW: Lenguaje fuerte\n\ntexto")
        assert rows[media_id][1] == "(1 attachment without text: captura del error 504)"
        assert rows[hostile_id][1] == "<b>[bold]x[/bold]</b> \u202eevil #LumoRefund"  # entities decoded, nothing interpreted

        # more than two pages arrive between polls: min_id paging takes all of them, none skipped
        newest_before = json.loads(state.path.read_text())["newest"]
        new_ids = [fake.post(f"Nuevo comentario {i}", author=i % 5) for i in range(100)]
        fake.rate_limit_once = True
        asked = len(fake.requests)
        second = MastodonTag(base, "LumoRefund", state, asyncio.Event(), report=lambda m: None, interval=0.05)
        tally = await run_until(store, incident, second, book, lambda: len(stored(db)) == 194)
        assert set(new_ids) <= set(stored(db)) and tally.ingested == 100 and tally.duplicates == 0
        after = fake.requests[asked:]
        assert after[0] == {"min_id": newest_before, "limit": "40"} and after[1] == after[0]  # the 429, then again
        assert all("min_id" in r and "since_id" not in r for r in after)
        assert json.loads(state.path.read_text())["newest"] == new_ids[-1]


def test_the_cli_takes_a_tag_page_url(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    fake = FakeMastodon()
    for i in range(5):
        fake.post(f"Refund stuck for {i} weeks", author=i, language="en")
    with serve(fake.app) as base:
        done = subprocess.run([*CLI, "ingest", str(db), f"{base}/tags/LumoRefund", "--once"],
                              capture_output=True, text=True, timeout=60)
        again = subprocess.run([*CLI, "ingest", str(db), f"{base}/tags/LumoRefund", "--once"],
                               capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 5, duplicates 0, rejected 0"
    assert again.stdout.strip() == "ingested 0, duplicates 0, rejected 0"  # the saved cursor: nothing new
    assert fake.requests[-1].get("min_id") == fake.statuses[-1]["id"]


def test_tag_urls_and_html() -> None:
    assert parse_tag_url("https://mastodon.social/tags/LumoRefund") == ("https://mastodon.social", "LumoRefund")
    assert parse_tag_url("https://m.example/api/v1/timelines/tag/crisis/") == ("https://m.example", "crisis")
    assert parse_tag_url("https://m.example/@lumo") is None
    assert html_to_text("<p>Uno<br>dos</p><p>tres &amp; <a href='x'><span class='invisible'>https://</span>"
                        "<span class='ellipsis'>example.com/a</span><span class='invisible'>bc</span></a></p>") == \
        "Uno\ndos\n\ntres & https://example.com/abc"
    native = status_to_native({"id": "5", "content": "<p>hola</p>", "account": {"acct": "ana@else.where"}}, "m.example")
    assert native["author"] == "@ana@else.where" and native["id"] == "https://m.example/statuses/5"
