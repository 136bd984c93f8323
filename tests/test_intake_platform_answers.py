"""Platforms' own answers through `--mapping`: nested replies, reply trees, side tables, epoch units.

The fixtures in tests/data/platforms/ are small hand-made files in the shapes
the platforms document (YouTube commentThreads.list, Reddit's comment listing,
an X API v2 page with includes.users, Bluesky Jetstream events), each with the
mapping that reads it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from crisis_tui.comment_shape import parse_time
from crisis_tui.intake.mapping import Mapping
from tests.intake_loopback import serve

CLI = [sys.executable, "-m", "crisis_tui"]
DATA = Path(__file__).parent / "data" / "platforms"


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def ingest(db: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ingest", str(db), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def fixture(db: Path, name: str, suffix: str = ".json") -> subprocess.CompletedProcess[str]:
    """Ingest a copy (the rejected file is written beside the source, never into tests/data)."""
    copy = db.parent / f"{name}{suffix}"
    if not copy.exists():
        copy.write_bytes((DATA / f"{name}{suffix}").read_bytes())
    return ingest(db, str(copy), "--mapping", str(DATA / f"{name}.toml"))


def stored(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["external_id"]: dict(row) for row in conn.execute("SELECT * FROM comments")}


def day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def test_a_youtube_comment_threads_answer_goes_in_whole_with_replies_and_html_as_text(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = fixture(db, "youtube_comment_threads")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 4, duplicates 0, rejected 0"
    rows = stored(db)
    assert sorted(rows) == ["UgzT1", "UgzT1.r1", "UgzT1.r2", "UgzT2"]
    assert rows["UgzT1"]["text"] == "Tres semanas sin reembolso & nadie contesta\n¿Alguien más?"
    assert rows["UgzT1.r2"]["text"] == "Same here <3 weeks>"
    assert rows["UgzT1.r1"]["text"] == "Hola Marta, escríbenos por la ayuda"
    assert (rows["UgzT1.r1"]["in_reply_to"], rows["UgzT1.r2"]["in_reply_to"], rows["UgzT1"]["in_reply_to"]) == (
        "UgzT1", "UgzT1", "")
    assert rows["UgzT1"]["likes"] == 41
    assert day(rows["UgzT1.r1"]["posted_at"]) == "2026-03-10T14:30:00+00:00"


def test_items_that_are_no_object_are_rejected_with_their_place_once_each(tmp_path: Path) -> None:
    """A YouTube answer's item that is a number, a string or null is counted as rejected (it
    was dropped, counted nowhere), once though both of the preset's item paths reach it."""
    db = new(tmp_path)
    answer = json.loads((DATA / "youtube_comment_threads.json").read_text(encoding="utf-8"))
    answer["items"] = [7, "thread", None, *answer["items"]]
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(answer), encoding="utf-8")
    done = ingest(db, str(odd), "--mapping", str(DATA / "youtube_comment_threads.toml"))
    assert done.stdout.strip() == "ingested 4, duplicates 0, rejected 3", done.stderr
    for place, word in (("items[0]", "a number"), ("items[1]", "a string"), ("items[2]", "null")):
        assert f"{place}: an item must be a JSON object, got {word}" in done.stderr, done.stderr


def test_a_reddit_listing_goes_in_as_a_whole_tree_with_negative_scores_and_more_stubs_skipped(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = fixture(db, "reddit_comments")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 4, duplicates 0, rejected 0, skipped 1"
    rows = stored(db)
    assert {k: v["in_reply_to"] for k, v in rows.items()} == {
        "t1_c1": "", "t1_c2": "t1_c1", "t1_c3": "t1_c2", "t1_c4": ""}
    assert rows["t1_c2"]["likes"] == -8
    assert day(rows["t1_c1"]["posted_at"]) == "2026-03-10T14:02:00+00:00"
    again = fixture(db, "reddit_comments")
    assert again.stdout.strip() == "ingested 0, duplicates 4, rejected 0, skipped 1"


def test_an_x_v2_answer_takes_authors_from_includes_users_and_names_the_place_of_a_miss(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = fixture(db, "x_v2_search_page")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 1"
    rows = stored(db)
    first, reply = rows["1900000000000000001"], rows["1900000000000000002"]
    assert (first["author"], first["author_followers"], first["author_verified"]) == ("marta_viaja", 15200, 0)
    assert (reply["author"], reply["author_verified"], reply["in_reply_to"]) == ("lumo_watch", 1, "1900000000000000001")
    assert (first["likes"], first["shares"], first["replies"]) == (2300, 870, 1)
    assert ("x_v2_search_page.json: data[2]: author: author_id '1379900000000000999' is not in includes.users"
            in done.stderr)
    kept = [json.loads(line) for line in (tmp_path / "x_v2_search_page.json.rejected.jsonl").read_text().splitlines()]
    assert [r["where"] for r in kept] == ["x_v2_search_page.json: data[2]"]


def test_bluesky_jetstream_lines_keep_posts_skip_likes_and_follows_and_read_time_us(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = fixture(db, "bluesky_jetstream_events", ".jsonl")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 0, skipped 2"
    rows = stored(db)
    assert rows["bafy3lp2"]["in_reply_to"] == "bafy3lp1"
    assert day(rows["bafy3lp1"]["posted_at"]) == "2026-03-10T14:02:00.123456+00:00"
    assert done.stderr.splitlines()[-1] == "read posted_at in epoch microseconds, told by magnitude"


def test_jetstream_events_piped_on_stdin_go_through_the_mapping(tmp_path: Path) -> None:
    db = new(tmp_path)
    done = subprocess.run([*CLI, "ingest", str(db), "-", "--mapping", str(DATA / "bluesky_jetstream_events.toml")],
                          input=(DATA / "bluesky_jetstream_events.jsonl").read_text(), capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 0, skipped 2"
    assert sorted(stored(db)) == ["bafy3lp1", "bafy3lp2"]


def test_epoch_milliseconds_and_microseconds_are_the_same_moment_in_the_native_shape(tmp_path: Path) -> None:
    db = new(tmp_path)
    lines = [{"source": "x", "id": f"t{unit}", "author": "@a", "text": "hi", "posted_at": 1789120800 * 10**unit}
             for unit in (0, 3, 6)]
    lines.append({"source": "x", "id": "far", "author": "@a", "text": "hi", "posted_at": 32503680000 * 1000})
    (tmp_path / "times.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    done = ingest(db, str(tmp_path / "times.jsonl"))
    assert done.stdout.strip() == "ingested 3, duplicates 0, rejected 1"
    assert "times.jsonl:4: posted_at: epoch milliseconds out of range: 32503680000000" in done.stderr
    assert {day(r["posted_at"]) for r in stored(db).values()} == {"2026-09-11T10:00:00+00:00"}


def test_a_mapping_names_an_epoch_unit_outright(tmp_path: Path) -> None:
    mapping = Mapping.parse({"json": {"items": "rows"}, "fields": {
        "source": {"value": "app"}, "id": "k", "author": "a", "text": "t",
        "posted_at": {"from": "ms", "format": "epoch_ms"}}}, "m.toml", section="json")
    native = mapping.apply({"k": "1", "a": "x", "t": "y", "ms": "5000"}, flat=False)
    assert parse_time(native["posted_at"], "posted_at") == 5.0
    assert mapping.units_said() == ""  # named outright: nothing was guessed


def test_the_units_told_by_magnitude_are_said_per_field() -> None:
    mapping = Mapping.parse({"fields": {"source": {"value": "app"}, "id": "k", "author": "a", "text": "t",
                                        "posted_at": "when", "author_created_at": "joined"}}, "m.toml", section="json")
    for when, joined in ((1789120800123, "1400000000"), ("1789120800", "2014-05-13T16:53:20Z"), (1789120800.5, None)):
        mapping.apply({"k": "1", "a": "x", "t": "y", "when": when, "joined": joined}, flat=False)
    assert mapping.units_said() == ("author_created_at in epoch seconds; posted_at in epoch seconds and milliseconds, "
                                    "told by magnitude")


def test_a_mapping_is_refused_where_it_cannot_apply_never_ignored(tmp_path: Path) -> None:
    db = new(tmp_path)
    (tmp_path / "drop").mkdir()
    for args in ((str(tmp_path / "drop"), "--once"), (str(tmp_path / "events.jsonl"), "--follow")):
        done = ingest(db, *args, "--mapping", str(DATA / "bluesky_jetstream_events.toml"))
        assert done.returncode == 2
        assert "--mapping" in done.stderr and "applies to .json, JSONL, CSV files, stdin and feeds" in done.stderr


def test_once_on_an_unusable_feed_exits_non_zero_and_feed_rejects_sit_beside_the_state(tmp_path: Path) -> None:
    db = new(tmp_path)
    (tmp_path / "map.toml").write_text(
        '[json]\nitems = "data.mentions"\n[fields]\nsource = { value = "x" }\nid = "id"\nauthor = "who"\ntext = "what"\n',
        encoding="utf-8")
    body = {"data": {"mentions": [{"id": "m1", "who": "@a", "what": "refund?"}, {"id": "m2", "who": "@b"}]}}

    async def good(_: Request) -> Response:
        return Response(json.dumps(body), media_type="application/json")

    async def html(_: Request) -> Response:
        return Response("<html>login</html>", media_type="text/html")

    async def elsewhere(_: Request) -> Response:
        return Response(json.dumps({"data": {}}), media_type="application/json")

    app = Starlette(routes=[Route("/good", good), Route("/html", html), Route("/elsewhere", elsewhere)])
    with serve(app) as base:
        broken = ingest(db, f"{base}/html", "--mapping", str(tmp_path / "map.toml"), "--once", cwd=tmp_path)
        missing = ingest(db, f"{base}/elsewhere", "--mapping", str(tmp_path / "map.toml"), "--once", cwd=tmp_path)
        taken = ingest(db, f"{base}/good", "--mapping", str(tmp_path / "map.toml"), "--once", cwd=tmp_path)
    assert broken.returncode == 1
    assert broken.stderr.startswith(f"crisis-tui: GET {base}/html: the answer is not JSON")
    assert len(broken.stderr.strip().splitlines()) == 1
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"crisis-tui: GET {base}/elsewhere: no list at 'data.mentions' in the answer"
    assert taken.returncode == 0, taken.stderr
    assert taken.stdout.strip() == "ingested 1, duplicates 0, rejected 1"
    assert not (tmp_path / "crisis-tui-rejected.jsonl").exists()
    beside = sorted((tmp_path / "room.db.intake").glob("feed-*.rejected.jsonl"))
    assert len(beside) == 1
    state = beside[0].with_name(beside[0].name.replace(".rejected.jsonl", ".json"))
    assert state.exists()
    assert json.loads(beside[0].read_text())["where"] == f"GET {base}/good: data.mentions[1]"


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1973, 3, 4), max_value=datetime(2999, 12, 31)),
       st.sampled_from([0, 3, 6]),
       st.integers(min_value=-14 * 60, max_value=14 * 60))
def test_a_mapping_never_turns_a_well_formed_date_into_another_date(moment: datetime, unit: int, offset: int) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    seconds = moment.timestamp()
    mapping = Mapping.parse({"fields": {"source": {"value": "app"}, "id": "k", "author": "a", "text": "t",
                                        "posted_at": "when"}}, "m.toml", section="json")
    epoch = int(seconds) * 10**unit
    zone = moment.astimezone(timezone(timedelta(minutes=offset)))
    for when in (epoch, str(epoch), zone.isoformat()):
        native = mapping.apply({"k": "1", "a": "x", "t": "y", "when": when}, flat=False)
        assert parse_time(native["posted_at"], "posted_at") == seconds


def test_a_known_shape_is_recognised_by_itself_and_said_and_presets_are_listed(tmp_path: Path) -> None:
    db = new(tmp_path)
    for name, suffix, preset, summary, shape in (
        ("youtube_comment_threads", ".json", "youtube", "ingested 4, duplicates 0, rejected 0",
         "read as a YouTube commentThreads answer: 2 threads, 2 replies"),
        ("reddit_comments", ".json", "reddit", "ingested 4, duplicates 0, rejected 0, skipped 1",
         "read as a Reddit comment listing: 2 comments, 2 replies; posted_at in epoch seconds, told by magnitude"),
        ("bluesky_jetstream_events", ".jsonl", "bluesky-jetstream", "ingested 2, duplicates 0, rejected 0, skipped 2",
         "read as Bluesky Jetstream events: 1 post, 1 reply; posted_at in epoch microseconds, told by magnitude"),
    ):
        (tmp_path / f"{name}{suffix}").write_bytes((DATA / f"{name}{suffix}").read_bytes())
        done = ingest(db, str(tmp_path / f"{name}{suffix}"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == summary
        assert f"(preset {preset}; --preset NAME to choose another)" in done.stderr.splitlines()[0]
        assert done.stderr.splitlines()[-1] == shape
    rows = stored(db)
    assert rows["UgzT1.r1"]["in_reply_to"] == "UgzT1" and rows["t1_c3"]["in_reply_to"] == "t1_c2"
    listed = subprocess.run([*CLI, "ingest", "--presets"], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "bluesky-jetstream", "bluesky-thread", "facebook", "facebook-webhook", "google-play", "instagram",
        "instagram-webhook",
        "mastodon", "reddit", "x-archive", "x-v2", "youtube", "zendesk-comments",
        "zendesk-tickets"]


def test_graph_and_help_desk_answers_are_recognised_with_their_replies(tmp_path: Path) -> None:
    db = new(tmp_path)
    for name, preset, summary in (
        ("facebook_comments", "facebook", "ingested 3, duplicates 0, rejected 0"),
        ("instagram_comments", "instagram", "ingested 2, duplicates 0, rejected 0"),
        ("zendesk_tickets", "zendesk-tickets", "ingested 1, duplicates 0, rejected 0"),
        ("zendesk_ticket_comments", "zendesk-comments", "ingested 2, duplicates 0, rejected 0"),
    ):
        (tmp_path / f"{name}.json").write_bytes((DATA / f"{name}.json").read_bytes())
        done = ingest(db, str(tmp_path / f"{name}.json"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == summary
        assert f"(preset {preset};" in done.stderr
    with sqlite3.connect(db) as conn:
        rows = {(s, i): (a, r, p) for s, i, a, r, p in conn.execute(
            "SELECT source, external_id, author, in_reply_to, posted_at FROM comments")}
    assert rows[("facebook", "1010_2021")][:2] == ("Lumo Bank", "1010_2020")
    assert rows[("facebook", "1010_2030")][0] == "(not shared by Facebook)"
    assert rows[("instagram", "17900000000000002")][:2] == ("lumobank", "17900000000000001")
    assert day(rows[("instagram", "17900000000000001")][2]) == "2026-03-10T14:02:00+00:00"
    assert rows[("zendesk", "4101")][0] == "20978392"
    (tmp_path / "one.json").write_text(json.dumps({"id": "1", "text": "Nice", "username": "u"}), encoding="utf-8")
    single = ingest(db, str(tmp_path / "one.json"), "--preset", "instagram")
    assert single.returncode == 1
    assert "one.json: no list at 'data[]' in the answer (preset instagram)" in single.stderr


def test_a_preset_is_forced_by_name_and_a_users_mapping_extends_one(tmp_path: Path) -> None:
    db = new(tmp_path)
    page = json.loads((DATA / "x_v2_search_page.json").read_text())
    (tmp_path / "page.json").write_text(json.dumps({"data": page["data"][:2], "includes": page["includes"]}))
    forced = ingest(db, str(tmp_path / "page.json"), "--preset", "x-v2")
    assert forced.stdout.strip() == "ingested 2, duplicates 0, rejected 0", forced.stderr
    assert "(preset x-v2;" not in forced.stderr  # forced, not recognised; what was read is still said
    assert forced.stderr.strip() == "read as an X API v2 answer: 2 posts"
    assert stored(db)["1900000000000000001"]["author"] == "marta_viaja"
    (tmp_path / "mine.toml").write_text('extends = "x-v2"\n[fields]\nsource = { value = "x-es" }\n', encoding="utf-8")
    mine = ingest(db, str(tmp_path / "page.json"), "--mapping", str(tmp_path / "mine.toml"))
    assert mine.stdout.strip() == "ingested 2, duplicates 0, rejected 0", mine.stderr
    with sqlite3.connect(db) as conn:
        assert sorted(conn.execute("SELECT source, author FROM comments")) == [
            ("x", "lumo_watch"), ("x", "marta_viaja"), ("x-es", "lumo_watch"), ("x-es", "marta_viaja")]
    (tmp_path / "bad.toml").write_text('extends = "myspace"\n', encoding="utf-8")
    bad = ingest(db, str(tmp_path / "page.json"), "--mapping", str(tmp_path / "bad.toml"))
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("crisis-tui: ") and "extends: no preset 'myspace'" in bad.stderr
    unknown = ingest(db, str(tmp_path / "page.json"), "--preset", "myspace")
    assert unknown.returncode == 2 and "no preset 'myspace'" in unknown.stderr


def test_a_twitter_archive_tweets_js_is_read_and_its_owner_given_by_extends(tmp_path: Path) -> None:
    db = new(tmp_path)
    (tmp_path / "tweets.js").write_bytes((DATA / "tweets.js").read_bytes())
    done = ingest(db, str(tmp_path / "tweets.js"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 0"
    assert "read as a Twitter archive tweets.js (preset x-archive;" in done.stderr
    (tmp_path / "owner.toml").write_text('extends = "x-archive"\n[fields]\nsource = { value = "x-archive" }\n'
                                         'author = { value = "@LumoBank" }\n', encoding="utf-8")
    owned = ingest(db, str(tmp_path / "tweets.js"), "--mapping", str(tmp_path / "owner.toml"))
    assert owned.stdout.strip() == "ingested 2, duplicates 0, rejected 0", owned.stderr
    with sqlite3.connect(db) as conn:
        rows = {i: (a, r, likes, p) for i, a, r, likes, p in conn.execute(
            "SELECT external_id, author, in_reply_to, likes, posted_at FROM comments WHERE source = 'x-archive'")}
    assert rows["1767000000000000002"][:3] == ("@LumoBank", "1766999999999999999", 0)
    assert rows["1767000000000000001"][2] == 12
    assert day(rows["1767000000000000001"][3]) == "2026-03-10T14:02:00+00:00"


def test_a_bluesky_post_thread_and_mastodon_statuses_are_recognised_with_their_threads(tmp_path: Path) -> None:
    db = new(tmp_path)
    for name, summary, shape in (
        ("bluesky_post_thread", "ingested 3, duplicates 0, rejected 0, skipped 1",
         "read as a Bluesky post thread (app.bsky.feed.getPostThread): 1 thread, 2 replies"),
        ("mastodon_statuses", "ingested 2, duplicates 0, rejected 0",
         "read as a list of Mastodon statuses: 1 status, 1 reply"),
    ):
        (tmp_path / f"{name}.json").write_bytes((DATA / f"{name}.json").read_bytes())
        done = ingest(db, str(tmp_path / f"{name}.json"))
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == summary
        assert done.stderr.splitlines()[-1] == shape
    rows = stored(db)
    reply = rows["at://did:plc:marta/app.bsky.feed.post/3lp3"]
    assert reply["in_reply_to"] == "at://did:plc:paolo/app.bsky.feed.post/3lp2"
    assert reply["author"] == "marta.bsky.social"
    assert json.loads(reply["extra"])["bluesky_cid"] == "bafy3"
    toot = rows["https://social.example/users/marta/statuses/1101"]
    assert toot["text"] == "Sin reembolso & sin respuesta\notra vez"
    assert rows["https://social.example/users/ana@other.example/statuses/1102"]["in_reply_to"] == "1101"
