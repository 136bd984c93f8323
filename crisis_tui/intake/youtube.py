"""The comment threads of one YouTube video, polled through the Data API v3 (`commentThreads.list`).

`GET https://www.googleapis.com/youtube/v3/commentThreads?part=snippet,replies
&videoId=ID&order=time&maxResults=100&key=KEY` answers the newest threads first,
100 a page, with `nextPageToken` for the next (older) page. Each answer goes
through the shipped `youtube` preset (crisis_tui.intake.presets), so a thread's
top comment and the replies YouTube puts beside it (`replies.comments[]`)
become comments that keep their thread. YouTube puts at most five replies
there; a thread whose `totalReplyCount` says there are more has the rest read
through `comments.list?parentId=THREAD` (paged the same way; again only when
the count has changed since this run last read it, and at most
MAX_REPLY_CALLS calls a pass, since every call costs quota). A pass pages back
until it meets the newest thread of the pass before (kept in the state file,
so a restart does not read the video again) or YouTube has no more pages;
the first pass reads at most MAX_PAGES pages. commentThreads orders threads
by when they were started, so a reply to an old thread arrives only while
that thread is on the pages a pass reads.

The API key comes from the environment (YOUTUBE_API_KEY; a key on the command
line would show in `ps`), travels as `?key=` as Google asks, and is never
shown: every URL in a message is scrubbed (crisis_tui.secret_query).
Google's refusals are said in its own words (`reason` and `message` of its
error body). A used-up daily quota (403 quotaExceeded) is not fixed by
retrying: with `once` it ends the run, otherwise the source waits for the
quota's renewal at midnight Pacific time. Per-minute limits (429, 403
rateLimitExceeded) are retried with backoff.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import msgspec

from crisis_tui import json_input
from crisis_tui.intake import presets
from crisis_tui.intake.backoff import Backoff
from crisis_tui.intake.chunk import Chunk, SourceError, Stored
from crisis_tui.intake.html_text import html_to_text
from crisis_tui.intake.json_items import Mapped, map_answer
from crisis_tui.intake.mapping import Mapping, dig
from crisis_tui.intake.poller import USER_AGENT, Refused, polite_get, sleep_or_stop
from crisis_tui.intake.state import StateFile

API = "https://www.googleapis.com/youtube/v3/commentThreads"
KEY_ENV = "YOUTUBE_API_KEY"
PAGE = 100
#: Most pages one pass reads (10,000 threads, 100 quota units): a first pass over a huge video ends.
MAX_PAGES = 100
#: Most comments.list calls (a thread's further replies, 100 a call) in one pass.
MAX_REPLY_CALLS = 50
#: Reasons in Google's error body that mean the day's quota is gone (retrying cannot help today).
QUOTA = frozenset({"quotaExceeded", "dailyLimitExceeded"})
#: Reasons that mean "too fast": retried with backoff, as a 429 is.
TOO_FAST = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
_VIDEO = re.compile(r"[A-Za-z0-9_-]{6,20}")
_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com"})


def parse_video(source: str) -> tuple[str, str] | None:
    """(API endpoint, video id) for `youtube:ID`, a watch, shorts, live or youtu.be link, or the API's own
    commentThreads URL with `videoId=` (another host too: a proxy, or a test's loopback server)."""
    if source.startswith("youtube:"):
        video = source.removeprefix("youtube:")
        return (API, video) if _VIDEO.fullmatch(video) else None
    if source.startswith(("youtu.be/", "youtube.com/", "www.youtube.com/", "m.youtube.com/")):
        source = "https://" + source  # as a browser's address bar shows it, without the scheme
    parts = urlsplit(source)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = (parts.hostname or "").lower()
    query = parse_qs(parts.query)
    endpoint, video = API, ""
    path = parts.path.rstrip("/")
    if path.endswith("/youtube/v3/commentThreads"):
        endpoint, video = f"{parts.scheme}://{parts.netloc}{path}", query.get("videoId", [""])[0]
    elif host in _HOSTS and path == "/watch":
        video = query.get("v", [""])[0]
    elif host in _HOSTS and path.startswith(("/shorts/", "/live/")):
        video = path.split("/")[2]
    elif host == "youtu.be":
        video = path.lstrip("/")
    return (endpoint, video) if _VIDEO.fullmatch(video) else None


def until_quota_renews(now: datetime | None = None) -> float:
    """Seconds until the next midnight Pacific time, when Google renews the Data API's daily quota."""
    try:
        pacific: timezone | ZoneInfo = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        pacific = timezone(timedelta(hours=-8))
    here = (now or datetime.now(pacific)).astimezone(pacific)
    midnight = (here + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(0.0, (midnight - here).total_seconds())


def google_error(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) of Google's error body `{"error": {"errors": [{"reason": ...}], "message": ...}}`."""
    try:
        body = json_input.decode(response.content)
    except msgspec.DecodeError:
        return "", response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", response.reason_phrase
    reasons = error.get("errors")
    first = reasons[0] if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict) else {}
    reason = str(first.get("reason") or error.get("status") or "")
    message = html_to_text(str(error.get("message") or first.get("message") or response.reason_phrase))
    return reason, " ".join(message.split())[:300]


class YouTubeThreads:
    def __init__(
        self,
        endpoint: str,
        video_id: str,
        key: str,
        state: StateFile,
        stop: asyncio.Event,
        *,
        report: Callable[[str], None],
        interval: float = 60.0,
        once: bool = False,
        timeout: float = 20.0,
        backoff: Backoff | None = None,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self.endpoint = endpoint
        self.video_id = video_id
        self.key = key
        self.name = f"YouTube video {video_id}"
        self.state = state
        self.stop = stop
        self.report = report
        self.interval = interval
        self.once = once
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.max_pages = max_pages
        self.mapping = presets.load("youtube")
        self.reply_mapping = Mapping.parse({"extends": "youtube", "json": {"items": "items[]"}},
                                           "preset youtube (comments.list)", section="json")
        self.replies_endpoint = endpoint.removesuffix("commentThreads") + "comments"
        #: totalReplyCount of each thread when its replies were last read in full.
        self.reply_counts: dict[str, int] = {}
        #: comments.list calls made in the current pass.
        self.calls = 0
        self.size = None
        #: The newest thread of the last pass: where the next pass stops paging.
        self.seen: str | None = None

    async def _get(self, client: httpx.AsyncClient, params: dict[str, Any], url: str | None = None) -> dict[str, Any] | None:
        """One page, or None when stopped while waiting."""
        while True:
            try:
                response = await polite_get(
                    client, url or self.endpoint, params=params, stop=self.stop, backoff=self.backoff, report=self.report,
                    label=self.name, max_failures=3 if self.once else None,
                )
            except Refused as exc:
                status = exc.response.status_code
                reason, message = google_error(exc.response)
                said = f"{self.name}: HTTP {status} {reason or exc.response.reason_phrase}: {message}"
                if reason in QUOTA:
                    wait = until_quota_renews()
                    line = (f"{said} (the API key's daily quota is used up; Google renews it at midnight "
                            f"Pacific time, in {wait / 3600:.1f} h)")
                    if self.once:
                        raise SourceError(line) from None
                    self.report(f"{line}; waiting for it")
                    if await sleep_or_stop(self.stop, wait + 60):
                        return None
                    continue
                if reason in TOO_FAST and not (self.once and self.backoff.failures + 1 >= 3):
                    delay = self.backoff.next()
                    self.report(f"{said}; retrying in {delay:.1f} s")
                    if await sleep_or_stop(self.stop, delay):
                        return None
                    continue
                raise SourceError(said) from None
            if response is None:
                return None
            try:
                body = json_input.decode(response.content)
            except msgspec.DecodeError as exc:
                raise SourceError(f"{self.name}: the answer is not JSON ({exc}): is this the YouTube Data API?") from None
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise SourceError(f"{self.name}: the answer has no items list: is this the YouTube Data API?")
            return body

    async def _pass(self, client: httpx.AsyncClient) -> AsyncIterator[Chunk]:
        """The newest threads back to the last pass's newest (or MAX_PAGES pages), one chunk a page."""
        token: str | None = None
        newest: str | None = None
        for page in range(1, self.max_pages + 1):
            params: dict[str, Any] = {"part": "snippet,replies", "videoId": self.video_id, "order": "time",
                                      "maxResults": PAGE, "textFormat": "html", "key": self.key}
            if token:
                params["pageToken"] = token
            body = await self._get(client, params)
            if body is None:
                return
            ids = [str(t.get("id")) for t in body["items"] if isinstance(t, dict) and t.get("id")]
            newest = newest or (ids[0] if ids else None)
            mapped = map_answer(body, self.mapping, f"{self.name} page {page}")
            if not await self._further_replies(client, body, mapped):
                return
            chunk = Chunk(mapped.comments, mapped.rejects, skipped=mapped.skipped, replies=mapped.replies)
            next_token = body.get("nextPageToken")
            token = next_token if isinstance(next_token, str) and next_token else None
            last = token is None or (self.seen is not None and self.seen in ids) or page == self.max_pages
            if last and newest is not None:
                cursor = {"video": self.video_id, "newest": newest}

                async def done(_: Stored, cursor: dict[str, str] = cursor) -> None:
                    self.state.save(cursor)

                chunk.done = done
                self.seen = newest
            yield chunk
            if last:
                return

    async def _further_replies(self, client: httpx.AsyncClient, body: dict[str, Any], into: Mapped) -> bool:
        """The replies beyond the five a thread carries, for threads whose count changed; False when stopped."""
        known = {c.external_id for c in into.comments}
        for thread in body["items"]:
            if not isinstance(thread, dict) or self.calls >= MAX_REPLY_CALLS:
                continue
            thread_id = str(thread.get("id") or "")
            total = dig(thread, "snippet.totalReplyCount")
            inline = dig(thread, "replies.comments")
            shown = len(inline) if isinstance(inline, list) else 0
            if not thread_id or not isinstance(total, int) or total <= shown or self.reply_counts.get(thread_id) == total:
                continue
            token: str | None = None
            while self.calls < MAX_REPLY_CALLS:
                self.calls += 1
                params: dict[str, Any] = {"part": "snippet", "parentId": thread_id, "maxResults": PAGE,
                                          "textFormat": "html", "key": self.key}
                if token:
                    params["pageToken"] = token
                answer = await self._get(client, params, self.replies_endpoint)
                if answer is None:
                    return False
                more = map_answer(answer, self.reply_mapping, f"{self.name} thread {thread_id} replies")
                fresh = [c for c in more.comments if c.external_id not in known]
                known.update(c.external_id for c in fresh)
                into.comments.extend(fresh)
                into.replies += len(fresh)
                into.rejects.extend(more.rejects)
                next_token = answer.get("nextPageToken")
                token = next_token if isinstance(next_token, str) and next_token else None
                if token is None:
                    self.reply_counts[thread_id] = total
                    break
        return True

    async def chunks(self) -> AsyncIterator[Chunk]:
        saved = self.state.load()
        if saved.get("video") == self.video_id and saved.get("newest"):
            self.seen = str(saved["newest"])
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        async with httpx.AsyncClient(timeout=self.timeout, headers=headers, follow_redirects=True) as client:
            while not self.stop.is_set():
                self.calls = 0
                async for chunk in self._pass(client):
                    yield chunk
                if self.once or await sleep_or_stop(self.stop, self.interval):
                    return
