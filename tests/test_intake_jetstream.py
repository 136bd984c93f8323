"""Bluesky's Jetstream as a live source: matching posts in, the rest skipped and counted, the cursor kept.

The server is a real WebSocket server on loopback (tests/jetstream_replay.py)
replaying events in Jetstream's documented shape, written here for the tests.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from crisis_tui.intake.jetstream import Matcher
from tests.jetstream_replay import Replay, replaying

CLI = [sys.executable, "-m", "crisis_tui"]
BASE_US = 1_773_151_320_000_000  # 2026-03-10 14:02 UTC


def post(n: int, did: str, text: str, *, reply_to: int | None = None, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": "2026-03-10T14:02:00.000Z",
                              "langs": ["es"], "text": text}
    if reply_to is not None:
        parent = {"cid": f"bafypost{reply_to}", "uri": f"at://did:plc:marta/app.bsky.feed.post/3lp{reply_to}"}
        record["reply"] = {"parent": parent, "root": parent}
    if tags:
        record["facets"] = [{"index": {"byteStart": 0, "byteEnd": 1},
                             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": t} for t in tags]}]
    return {"did": did, "time_us": BASE_US + n * 1_000_000, "kind": "commit",
            "commit": {"rev": f"3lrev{n}", "operation": "create", "collection": "app.bsky.feed.post",
                       "rkey": f"3lp{n}", "cid": f"bafypost{n}", "record": record}}


def like(n: int) -> dict[str, Any]:
    return {"did": "did:plc:liker", "time_us": BASE_US + n * 1_000_000, "kind": "commit",
            "commit": {"rev": f"3lrev{n}", "operation": "create", "collection": "app.bsky.feed.like",
                       "rkey": f"3lk{n}", "cid": f"bafylike{n}",
                       "record": {"$type": "app.bsky.feed.like", "createdAt": "2026-03-10T14:03:00.000Z",
                                  "subject": {"cid": "bafypost1", "uri": "at://did:plc:marta/app.bsky.feed.post/3lp1"}}}}


def follow(n: int) -> dict[str, Any]:
    return {"did": "did:plc:follower", "time_us": BASE_US + n * 1_000_000, "kind": "commit",
            "commit": {"rev": f"3lrev{n}", "operation": "create", "collection": "app.bsky.graph.follow",
                       "rkey": f"3lf{n}", "cid": f"bafyfollow{n}",
                       "record": {"$type": "app.bsky.graph.follow", "createdAt": "2026-03-10T14:04:00.000Z",
                                  "subject": "did:plc:lumobank"}}}


def identity(n: int, did: str, handle: str) -> dict[str, Any]:
    return {"did": did, "time_us": BASE_US + n * 1_000_000, "kind": "identity",
            "identity": {"did": did, "handle": handle, "seq": n, "time": "2026-03-10T14:00:00.000Z"}}


def recording() -> list[dict[str, Any]]:
    return [
        identity(0, "did:plc:marta", "marta.bsky.social"),
        post(1, "did:plc:marta", "Tres semanas sin reembolso, @lumobank.bsky.social"),
        like(2),
        post(3, "did:plc:paolo", "Nothing to do with any bank, lovely weather"),
        follow(4),
        post(5, "did:plc:paolo", "Mismo problema con el REEMBOLSO aquí", reply_to=1),
        post(6, "did:plc:ana", "¿Alguien sabe algo?", tags=("LumoBank",)),
        like(7),
        post(8, "did:plc:marta", "Sigo esperando"),  # by a handle named in --match
        post(9, "did:plc:luis", "refunded at last, thanks"),  # "refund" is a whole word only
    ]


MATCH = "reembolso,refund,#lumobank,@marta.bsky.social"


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def ingest(db: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ingest", str(db), url, "--match", MATCH, "--once", *args],
                          capture_output=True, text=True, timeout=120, cwd=db.parent)


def rows(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["external_id"]: dict(row) for row in conn.execute("SELECT * FROM comments")}


def test_matching_posts_go_in_with_their_thread_and_handle_and_likes_and_follows_are_skipped(tmp_path: Path) -> None:
    db = new(tmp_path)
    with replaying(Replay(recording())) as replay:
        done = ingest(db, replay.url)
    assert done.returncode == 0, done.stderr
    # 4 posts in; skipped: the identity event, 2 likes, 1 follow, 2 posts that do not match, the live identity
    assert done.stdout.strip() == "ingested 4, duplicates 0, rejected 0, skipped 7"
    got = rows(db)
    assert sorted(got) == ["bafypost1", "bafypost5", "bafypost6", "bafypost8"]
    assert got["bafypost1"]["author"] == "@marta.bsky.social"  # the identity event named the DID
    assert got["bafypost5"]["author"] == "did:plc:paolo"  # never named: the DID stays
    assert got["bafypost5"]["in_reply_to"] == "bafypost1"
    assert got["bafypost1"]["posted_at"] == BASE_US / 1e6 + 1
    extra = json.loads(got["bafypost5"]["extra"])
    assert extra["bluesky_uri"] == "at://did:plc:paolo/app.bsky.feed.post/3lp5"
    assert extra["bluesky_cid"] == "bafypost5"
    assert extra["bluesky_root_cid"] == "bafypost1"
    assert replay.connections[0]["wantedCollections"] == ["app.bsky.feed.post"]
    assert "cursor" not in replay.connections[0]


def test_a_dropped_connection_is_reconnected_from_the_newest_event_read(tmp_path: Path) -> None:
    db = new(tmp_path)
    events = recording()
    with replaying(Replay(events[:6], drop_after=3)) as replay:
        first = ingest(db, replay.url)
        url = replay.url
    assert first.returncode == 0, first.stderr
    assert len(replay.connections) == 2
    # the third event sent (the like at 2 s) was the newest read when the relay dropped
    assert replay.connections[1]["cursor"] == [str(BASE_US + 2_000_000)]
    assert "reconnecting in" in first.stderr and f"from cursor {BASE_US + 2_000_000}" in first.stderr
    assert first.stdout.strip() == "ingested 2, duplicates 0, rejected 0, skipped 6"
    assert sorted(rows(db)) == ["bafypost1", "bafypost5"]
    states = sorted((tmp_path / "room.db.intake").glob("jetstream-*.json"))
    assert len(states) == 1
    assert json.loads(states[0].read_text())["url"] == url


def test_the_cursor_is_the_newest_event_read_and_a_restart_takes_only_what_came_after(tmp_path: Path) -> None:
    db = new(tmp_path)
    events = recording()
    state = tmp_path / "jet.json"
    with replaying(Replay(events[:6])) as replay:
        first = ingest(db, replay.url, "--state", str(state))
        saved = json.loads(state.read_text())
        saved_url = replay.url
    assert first.stdout.strip() == "ingested 2, duplicates 0, rejected 0, skipped 5"
    assert saved["url"] == saved_url and saved["cursor"] > BASE_US + 5_000_000  # the live identity event's time
    # The same relay address again, now with the whole recording and the saved cursor before its end
    saved["cursor"] = BASE_US + 5_000_000
    with replaying(Replay(events)) as replay:
        saved["url"] = replay.url
        state.write_text(json.dumps(saved))
        again = ingest(db, replay.url, "--state", str(state))
        assert replay.connections[0]["cursor"] == [str(BASE_US + 5_000_000)]
    assert again.returncode == 0, again.stderr
    # the post at the cursor is replayed (a duplicate), the two after it are new
    assert f"resuming from cursor {BASE_US + 5_000_000}" in again.stderr
    # marta's handle was saved with the cursor: her post is taken though her identity event is not replayed
    assert again.stdout.strip() == "ingested 2, duplicates 1, rejected 0, skipped 3"
    assert sorted(rows(db)) == ["bafypost1", "bafypost5", "bafypost6", "bafypost8"]


def test_jetstream_without_match_or_with_an_empty_one_is_one_clear_line(tmp_path: Path) -> None:
    db = new(tmp_path)
    bare = subprocess.run([*CLI, "ingest", str(db), "jetstream"], capture_output=True, text=True, timeout=60)
    assert bare.returncode == 2 and "needs --match TERMS" in bare.stderr and "Traceback" not in bare.stderr
    empty = subprocess.run([*CLI, "ingest", str(db), "jetstream", "--match", " , "], capture_output=True, text=True,
                           timeout=60)
    assert empty.returncode == 2 and "at least one word" in empty.stderr
    wrong = subprocess.run([*CLI, "ingest", str(db), str(tmp_path / "x.jsonl"), "--match", "refund"],
                           capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2 and "applies to a Jetstream source" in wrong.stderr


def test_once_against_a_relay_that_is_not_there_exits_non_zero(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = ingest(db, "ws://127.0.0.1:9/subscribe")
    assert done.returncode == 1
    assert "127.0.0.1:9" in done.stderr and "(3 tries)" in done.stderr
    assert done.stdout.strip() == "ingested 0, duplicates 0, rejected 0"


def test_words_are_whole_words_accents_and_case_folded_tags_and_handles_by_their_marks() -> None:
    m = Matcher("reembolso, refund ,#LumoBank,@lumobank.bsky.social")
    assert m.matches({"text": "Sin REEMBOLSÓ todavía"}, "")
    assert not m.matches({"text": "refunded"}, "")
    assert m.matches({"text": "where is my refund?"}, "")
    assert m.matches({"text": "so slow #lumobank"}, "")
    assert not m.matches({"text": "so slow #lumobanking"}, "")
    assert m.matches({"text": "hey @LumoBank.bsky.social"}, "")
    assert not m.matches({"text": "hey @lumobank.bsky.social.fake"}, "")
    assert m.matches({"text": "x", "facets": [{"features": [{"tag": "lumobank"}]}]}, "")
    assert m.matches({"text": "anything"}, "lumobank.bsky.social")
    assert not m.matches({"text": "anything"}, "other.bsky.social")
