"""YouTube comment threads and Reddit threads polled live, against local servers that answer as the platforms do."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from crisis_tui.intake.reddit import parse_thread
from crisis_tui.intake.state import StateFile
from crisis_tui.intake.youtube import API, YouTubeThreads, parse_video
from tests.intake_loopback import serve
from tests.platform_polls import KEY, FakeReddit, FakeYouTube, yt_comment, yt_thread

CLI = [sys.executable, "-m", "crisis_tui"]


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def ingest(db: Path, *args: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "YOUTUBE_API_KEY"}
    if key is not None:
        env["YOUTUBE_API_KEY"] = key
    return subprocess.run([*CLI, "ingest", str(db), *args], capture_output=True, text=True, timeout=120, env=env,
                          cwd=db.parent)


def stored(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["external_id"]: dict(row) for row in conn.execute("SELECT * FROM comments")}


UGT2_REPLIES = [
    yt_comment("UgT2.r1", "ana", "Same", "2026-03-10T14:07:00Z", likes=4, parent="UgT2"),
    yt_comment("UgT2.r2", "kim", "Any news?", "2026-03-10T14:08:00Z", parent="UgT2"),
    yt_comment("UgT2.r3", "LumoBank", "Kim, we wrote to you", "2026-03-10T14:09:00Z", parent="UgT2"),
    yt_comment("UgT2.r4", "kim", "Got it, thanks", "2026-03-10T14:10:00Z", parent="UgT2"),
]


def video_threads() -> list[dict[str, Any]]:
    """Six threads, newest first, with replies (one thread has more than YouTube puts beside it);
    the oldest has lost its author."""
    return [
        yt_thread("UgT5", "marta", "Llevo tres semanas <b>sin reembolso</b>", "2026-03-10T14:05:00Z"),
        yt_thread("UgT4", "luca", "Rimborso &amp; niente", "2026-03-10T14:04:00Z", [
            yt_comment("UgT4.r1", "LumoBank", "Ciao Luca, scrivici in DM", "2026-03-10T14:06:00Z", parent="UgT4")]),
        yt_thread("UgT3", "sam", "<a href=\"https://x.test\">refund</a> please", "2026-03-10T14:03:00Z"),
        yt_thread("UgT2", "kim", "Still waiting", "2026-03-10T14:02:00Z", UGT2_REPLIES[:2], total=4),
        yt_thread("UgT1", "joe", "First!", "2026-03-10T14:01:00Z"),
        yt_thread("UgT0", "", "a channel YouTube no longer names", "2026-03-10T14:00:00Z"),
    ]


def test_youtube_links_and_reddit_links_name_their_video_and_thread() -> None:
    assert parse_video("https://www.youtube.com/watch?v=vidRefund01&t=3s") == (API, "vidRefund01")
    assert parse_video("https://youtu.be/vidRefund01") == (API, "vidRefund01")
    assert parse_video("youtube:vidRefund01") == (API, "vidRefund01")
    assert parse_video("http://127.0.0.1:9/youtube/v3/commentThreads?videoId=vidRefund01") == (
        "http://127.0.0.1:9/youtube/v3/commentThreads", "vidRefund01")
    assert parse_video("https://www.youtube.com/feed/trending") is None
    assert parse_video("youtu.be/vidRefund01") == (API, "vidRefund01")  # as the README writes it
    assert parse_video("www.youtube.com/watch?v=vidRefund01") == (API, "vidRefund01")
    assert parse_thread("https://www.reddit.com/r/LumoBank/comments/thr1/refunds_stuck/") == (
        "https://www.reddit.com/r/LumoBank", "thr1")
    assert parse_thread("https://old.reddit.com/comments/thr1.json") == ("https://old.reddit.com", "thr1")
    assert parse_thread("https://example.test/comments/thr1") is None


def test_a_bad_youtube_id_is_said_as_one_not_as_a_missing_file(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "ingest", str(tmp_path / "room.db"), "youtube:abc", "--once"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "'youtube:abc' is not a YouTube video" in done.stderr, done.stderr
    assert "no such file" not in done.stderr


def test_a_videos_threads_come_in_page_by_page_with_replies_and_the_next_poll_stops_at_what_it_saw(
    tmp_path: Path,
) -> None:
    db = new(tmp_path)
    fake = FakeYouTube(page=2)
    fake.threads = video_threads()
    fake.replies = {"UgT2": UGT2_REPLIES}
    fake.too_many = 1
    with serve(fake.app) as base:
        url = f"{base}/youtube/v3/commentThreads?videoId=vidRefund01"
        done = ingest(db, url, "--once")
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "ingested 10, duplicates 0, rejected 1"
        assert done.stderr.splitlines()[-1] == "read as a YouTube commentThreads answer: 6 threads, 5 replies"
        assert "HTTP 429 Too Many Requests; retrying in" in done.stderr
        assert "YouTube video vidRefund01 page 3: items[1].snippet.topLevelComment: author: must not be empty" in done.stderr
        assert [r.get("pageToken") is not None for r in fake.requests] == [False, False, True, True]
        assert all(r["key"] == KEY and r["part"] == "snippet,replies" and r["order"] == "time" for r in fake.requests)
        assert [(r["parentId"], "pageToken" in r, r["key"] == KEY) for r in fake.reply_requests] == [
            ("UgT2", False, True), ("UgT2", True, True)]
        rows = stored(db)
        assert rows["UgT2.r2"]["in_reply_to"] == "UgT2" and rows["UgT4.r1"]["in_reply_to"] == "UgT4"
        assert rows["UgT2.r4"]["in_reply_to"] == "UgT2" and rows["UgT2.r3"]["text"] == "Kim, we wrote to you"
        assert rows["UgT5"]["text"] == "Llevo tres semanas sin reembolso"
        assert rows["UgT4"]["text"] == "Rimborso & niente" and rows["UgT2.r1"]["likes"] == 4
        assert rows["UgT5"]["source"] == "youtube"

        # a new thread on top: the next run reads one page, meets the newest it saw, and stops
        fake.threads.insert(0, yt_thread("UgT6", "eva", "Ahora sí", "2026-03-10T15:00:00Z"))
        before = len(fake.requests)
        again = ingest(db, url, "--once")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == "ingested 1, duplicates 1, rejected 0"
    assert len(fake.requests) - before == 1
    assert KEY not in done.stderr + again.stderr
    kept = sorted((tmp_path / "room.db.intake").glob("youtube-*.rejected.jsonl"))
    assert len(kept) == 1 and not list(tmp_path.glob("*.rejected.jsonl"))
    assert json.loads(kept[0].read_text())["where"].endswith("page 3: items[1].snippet.topLevelComment")


def test_youtube_refusals_are_one_line_in_googles_words_and_never_show_the_key(tmp_path: Path) -> None:
    db = new(tmp_path)
    fake = FakeYouTube()
    fake.threads = video_threads()
    with serve(fake.app) as base:
        url = f"{base}/youtube/v3/commentThreads?videoId=vidRefund01"
        fake.quota = True
        quota = ingest(db, url, "--once")
        fake.quota = False
        wrong_key = ingest(db, url, "--once", key="AIzaSy-wrong")
        no_video = ingest(db, f"{base}/youtube/v3/commentThreads?videoId=vidMissing9", "--once")
        no_key = ingest(db, url, "--once", key=None)
    assert quota.returncode == 1 and len(quota.stderr.strip().splitlines()) == 1
    assert quota.stderr.startswith("crisis-tui: YouTube video vidRefund01: HTTP 403 quotaExceeded: The request cannot "
                                   "be completed because you have exceeded your quota.")
    assert "midnight Pacific time" in quota.stderr
    assert quota.stdout.strip() == "ingested 0, duplicates 0, rejected 0"
    assert wrong_key.returncode == 1
    assert wrong_key.stderr.strip() == ("crisis-tui: YouTube video vidRefund01: HTTP 400 badRequest: "
                                        "API key not valid. Please pass a valid API key.")
    assert no_video.returncode == 1
    assert "HTTP 404 videoNotFound: The video identified by the videoId parameter could not be found." in no_video.stderr
    assert no_key.returncode == 2 and "YOUTUBE_API_KEY" in no_key.stderr
    for run in (quota, wrong_key, no_video):
        assert KEY not in run.stderr and "AIzaSy-wrong" not in run.stderr


async def test_a_used_up_quota_waits_for_its_renewal_instead_of_hammering(tmp_path: Path) -> None:
    fake = FakeYouTube()
    fake.quota = True
    messages: list[str] = []
    stop = asyncio.Event()
    with serve(fake.app) as base:
        source = YouTubeThreads(f"{base}/youtube/v3/commentThreads", "vidRefund01", KEY, StateFile(tmp_path / "s.json"),
                                stop, report=messages.append, interval=0.05)

        async def read() -> list[Any]:
            return [chunk async for chunk in source.chunks()]

        task = asyncio.create_task(read())
        for _ in range(200):
            if messages:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        stop.set()
        assert await asyncio.wait_for(task, 10) == []
    assert len(fake.requests) == 1
    assert len(messages) == 1 and messages[0].endswith("h); waiting for it") and "quotaExceeded" in messages[0]


def test_a_reddit_thread_comes_in_whole_with_its_hidden_comments_after_a_429(tmp_path: Path) -> None:
    db = new(tmp_path)
    fake = FakeReddit()
    fake.too_many = 1
    with serve(fake.app) as base:
        done = ingest(db, f"{base}/r/LumoBank/comments/thr1/refunds_stuck/", "--once")
        again = ingest(db, f"{base}/r/LumoBank/comments/thr1/refunds_stuck/", "--once")
        fake.private = True
        private = ingest(db, f"{base}/r/LumoBank/comments/thr1/", "--once")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 5, duplicates 0, rejected 0, skipped 1"
    assert done.stderr.splitlines()[-1] == ("read as a Reddit comment listing: 2 comments, 3 replies; "
                                            "posted_at in epoch seconds, told by magnitude")
    assert "HTTP 429 Too Many Requests; retrying in" in done.stderr
    paths = [path for path, _, _ in fake.requests]
    assert paths == ["/r/LumoBank/comments/thr1.json"] * 2 + ["/api/morechildren.json"] + \
        ["/r/LumoBank/comments/thr1.json", "/api/morechildren.json", "/r/LumoBank/comments/thr1.json"]
    assert fake.requests[2][1]["children"] == "c4,c5" and fake.requests[2][1]["link_id"] == "t3_thr1"
    assert all(not agent.startswith("python-httpx") for _, _, agent in fake.requests)
    rows = stored(db)
    assert rows["t1_c1"]["likes"] == -4 and rows["t1_c5"]["likes"] == -1
    assert rows["t1_c3"]["in_reply_to"] == "t1_c2" and rows["t1_c5"]["in_reply_to"] == "t1_c1"
    assert rows["t1_c4"]["in_reply_to"] == "" and rows["t1_c4"]["source"] == "reddit"
    assert again.stdout.strip() == "ingested 0, duplicates 5, rejected 0, skipped 1"
    assert private.returncode == 1
    assert private.stderr.strip() == "crisis-tui: Reddit thread thr1: HTTP 403 Forbidden: the subreddit is private"
