"""A Reddit thread's comments, polled through Reddit's public JSON (no account needed).

Any thread link (`https://www.reddit.com/r/SUB/comments/ID/title/`) has a
JSON twin: `GET .../comments/ID.json?raw_json=1&sort=new&limit=500` answers
two Listings, the post and its comment tree. The tree goes through the
shipped `reddit` preset (crisis_tui.intake.presets): every depth, negative
scores as they are, `more` stubs skipped. A big thread does not fit one
answer: the stubs name the missing comments, which
`GET /api/morechildren.json?link_id=t3_ID&children=a,b,c` (100 a call, at
most MAX_MORE calls a poll) hands out as a flat list whose `parent_id` keeps
each reply in its thread. Each poll reads the thread again; comments seen
before are duplicates for the store, not new ones.

Reddit answers too many requests with 429 and its X-Ratelimit-Reset
(seconds), which the poller waits for (crisis_tui.intake.poller); a private,
banned or quarantined subreddit is a 403 with a `reason`, said in one line.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec

from crisis_tui import json_input
from crisis_tui.intake import presets
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, SourceError
from crisis_tui.intake.json_items import Mapped, map_answer
from crisis_tui.intake.mapping import Mapping
from crisis_tui.intake.poller import USER_AGENT, Refused, polite_get, sleep_or_stop

LIMIT = 500
#: Children asked for in one morechildren call (Reddit's own limit).
MORE_BATCH = 100
#: Most morechildren calls in one poll (2,000 hidden comments), so a poll of a huge thread ends.
MAX_MORE = 20
_THREAD = re.compile(r"(/r/[^/]+)?/comments/([a-z0-9]{1,16})(?:/[^/]*)?/?")


def parse_thread(source: str) -> tuple[str, str] | None:
    """(site base URL with the subreddit, thread id) of a thread link on reddit.com (any host when the
    link has its /r/SUB/: old.reddit.com, a mirror, a test's loopback server)."""
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = (parts.hostname or "").lower()
    match = _THREAD.fullmatch(parts.path.removesuffix(".json"))
    if match is None:
        return None
    reddit = host == "reddit.com" or host.endswith(".reddit.com")
    if not reddit and not match.group(1):
        return None
    return f"{parts.scheme}://{parts.netloc}{match.group(1) or ''}", match.group(2)


def more_mapping() -> Mapping:
    """The preset laid over a morechildren answer: a flat list, parents named by `parent_id`."""
    return Mapping.parse({"extends": "reddit", "json": {"items": "json.data.things[]", "replies": ""},
                          "fields": {"in_reply_to": "data.parent_id"}}, "preset reddit (morechildren)", section="json")


def hidden(answer: Any) -> list[str]:
    """The ids every `more` stub of an answer names (a tree's, or a morechildren list's)."""
    found: list[str] = []
    stack = [answer]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if node.get("kind") == "more" and isinstance(node.get("data"), dict):
                found.extend(str(c) for c in node["data"].get("children") or [] if isinstance(c, str))
                continue
            stack.extend(reversed(list(node.values())))
    return found


class RedditThread:
    def __init__(
        self,
        base: str,
        thread_id: str,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        interval: float = 60.0,
        once: bool = False,
        timeout: float = 20.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.base = base.rstrip("/")
        self.site = f"{urlsplit(self.base).scheme}://{urlsplit(self.base).netloc}"
        self.thread_id = thread_id
        self.name = f"Reddit thread {thread_id}"
        self.stop = stop
        self.report = report
        self.interval = interval
        self.once = once
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.mapping = presets.load("reddit")
        self.more_mapping = more_mapping()
        self.size = None

    async def _get(self, client: httpx.AsyncClient, url: str, params: dict[str, Any]) -> Any:
        try:
            response = await polite_get(client, url, params=params, stop=self.stop, backoff=self.backoff,
                                        report=self.report, label=self.name, max_failures=3 if self.once else None)
        except Refused as exc:
            raise SourceError(f"{self.name}: {_refusal(exc.response)}") from None
        if response is None:
            return None
        try:
            return json_input.decode(response.content)
        except msgspec.DecodeError as exc:
            raise SourceError(f"{self.name}: the answer is not JSON ({exc}): is this a Reddit thread?") from None

    async def _poll(self, client: httpx.AsyncClient) -> Chunk | None:
        body = await self._get(client, f"{self.base}/comments/{self.thread_id}.json",
                               {"raw_json": 1, "sort": "new", "limit": LIMIT})
        if body is None:
            return None
        if not (isinstance(body, list) and len(body) == 2 and all(isinstance(b, dict) and b.get("kind") == "Listing"
                                                                   for b in body)):
            raise SourceError(f"{self.name}: the answer is not a post and its comment Listing: is this a Reddit thread?")
        mapped = map_answer(body, self.mapping, self.name)
        waiting = hidden(body[1])
        for call in range(MAX_MORE):
            if not waiting or self.stop.is_set():
                break
            batch, waiting = waiting[:MORE_BATCH], waiting[MORE_BATCH:]
            more = await self._get(client, f"{self.site}/api/morechildren.json",
                                   {"api_type": "json", "link_id": f"t3_{self.thread_id}", "children": ",".join(batch),
                                    "sort": "new", "raw_json": 1})
            if more is None:
                return None
            self._take_more(more, mapped, call + 1)
            waiting = hidden(more) + waiting
        if waiting:
            self.report(f"{self.name}: {len(waiting)} more comments hidden behind 'load more' wait for the next poll")
        return Chunk(mapped.comments, mapped.rejects, skipped=mapped.skipped, replies=mapped.replies)

    def _take_more(self, answer: Any, into: Mapped, call: int) -> None:
        """A morechildren answer's comments; a comment on the post itself (parent t3_) is not a reply."""
        before = len(into.comments)
        replies = into.replies
        map_answer(answer, self.more_mapping, f"{self.name} morechildren {call}", into)
        into.replies = replies
        for index in range(before, len(into.comments)):
            comment = into.comments[index]
            if comment.in_reply_to.startswith("t3_"):
                into.comments[index] = msgspec.structs.replace(comment, in_reply_to="")
            else:
                into.replies += 1

    async def chunks(self) -> AsyncIterator[Chunk]:
        headers = {"User-Agent": f"{USER_AGENT} (crisis room; polite polling)", "Accept": "application/json"}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers, follow_redirects=True) as client:
            while not self.stop.is_set():
                chunk = await self._poll(client)
                if chunk is None:
                    return
                yield chunk
                if self.once or await sleep_or_stop(self.stop, self.interval):
                    return


def _refusal(response: httpx.Response) -> str:
    """Reddit's refusal in one line: `{"reason": "private", "message": "Forbidden", "error": 403}`."""
    status = response.status_code
    try:
        body = json_input.decode(response.content)
    except msgspec.DecodeError:
        body = None
    reason = str(body.get("reason") or "") if isinstance(body, dict) else ""
    why = {"private": "the subreddit is private", "banned": "the subreddit is banned",
           "quarantined": "the subreddit is quarantined (it needs an account that opted in)",
           "gold_only": "the subreddit is for premium members only"}.get(reason, "")
    line = f"HTTP {status} {response.reason_phrase}"
    if why:
        return f"{line}: {why}"
    return f"{line}: no such thread" if status == 404 else line
