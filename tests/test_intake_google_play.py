"""A Google Play reviews export (UTF-16 CSV) is recognised by its header and read through the CSV preset.

tests/data/platforms/google_play_reviews.csv is written as the Play Console
writes its reviews export: UTF-16 with a byte-order mark, its documented
columns, a rating-only review, a quoted review that spans two lines and one
with the developer's reply.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crisis_tui import locator
from crisis_tui.intake import presets
from crisis_tui.intake.mapping import MappedValueError, Mapping, MappingError
from crisis_tui.playbook import Playbook
from tests.room_support import loaded, make_app, screen_text

CLI = [sys.executable, "-m", "crisis_tui"]
EXPORT = Path(__file__).parent / "data" / "platforms" / "google_play_reviews.csv"
LINK = "https://play.google.com/console/developers/5550101/app/4970001/user-feedback/review-details?reviewId={}&corpus=PUBLIC_REVIEWS"


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def ingest(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "ingest", str(db), *args], capture_output=True, text=True, timeout=120)


def stored(db: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return {row["external_id"]: dict(row) for row in conn.execute("SELECT * FROM comments")}


def test_a_google_play_export_is_recognised_by_its_header_and_rating_only_reviews_are_skipped(tmp_path: Path) -> None:
    db = new(tmp_path)
    export = tmp_path / "reviews_com.lumobank.app_202603.csv"
    export.write_bytes(EXPORT.read_bytes())
    done = ingest(db, str(export))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 3, duplicates 0, rejected 0, skipped 1"
    lines = done.stderr.splitlines()
    assert lines[0].startswith("read as a Google Play reviews export (preset google-play;")
    assert lines[-1] == "read as a Google Play reviews export: 3 reviews"
    rows = stored(db)
    spanning = rows["gp:AOqpTOE2"]
    assert spanning["text"] == 'Ho chiesto il rimborso, "in lavorazione" da giorni,\nancora niente'
    assert spanning["source"] == "google-play" and spanning["author"] == "gp:AOqpTOE2"
    assert spanning["url"] == LINK.format("gp:AOqpTOE2")
    assert spanning["lang"] == "it" and spanning["posted_at"] == 1773151620.0
    extra = json.loads(spanning["extra"])
    assert extra["rating"] == "2" and extra["title"] == "Rimborso" and extra["Device"] == "starqlte"
    assert extra["Developer Reply Text"] == "Ciao, scrivici a supporto@lumobank.example"
    assert sorted(rows) == ["gp:AOqpTOE1", "gp:AOqpTOE2", "gp:AOqpTOE4"]


def test_the_preset_is_forced_on_csv_only_and_a_users_mapping_extends_it(tmp_path: Path) -> None:
    db = new(tmp_path)
    export = tmp_path / "play.csv"
    export.write_bytes(EXPORT.read_bytes())
    answer = tmp_path / "answer.json"
    answer.write_text("[]", encoding="utf-8")
    wrong_way = ingest(db, str(answer), "--preset", "google-play")
    assert wrong_way.returncode == 2 and "google-play reads a CSV export, not a jsonl source" in wrong_way.stderr
    json_on_csv = ingest(db, str(export), "--preset", "youtube")
    assert json_on_csv.returncode == 2 and "youtube reads a JSON answer, not a csv source" in json_on_csv.stderr
    mine = tmp_path / "mine.toml"
    mine.write_text('extends = "google-play"\n[fields]\nauthor = { value = "Play user" }\n'
                    '[csv]\nskip = { "Star Rating" = "5" }\n', encoding="utf-8")
    done = ingest(db, str(export), "--mapping", str(mine))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 3, duplicates 0, rejected 0, skipped 1"
    assert {row["author"] for row in stored(db).values()} == {"Play user"}
    assert "google-play" in presets.names() and presets.format_of("google-play") == "csv"
    assert any(line.startswith("google-play") and line.endswith("(CSV)") for line in presets.listing())


async def test_google_play_reviews_are_shown_in_the_room(tmp_path: Path, book: Playbook) -> None:
    db = new(tmp_path)
    export = tmp_path / "play.csv"
    export.write_bytes(EXPORT.read_bytes())
    assert ingest(db, str(export)).returncode == 0
    store, incident = await locator.open_incident(str(db), playbook=book)
    try:
        app = make_app(store, incident, book)
        async with app.run_test(size=(160, 50)) as pilot:
            await loaded(pilot)
            shown = screen_text(app)
    finally:
        await store.close()
    assert "Refund stuck since March 1st" in shown and "gp:AOqpTOE4" in shown


def test_a_field_may_take_a_part_of_its_value_through_a_regex() -> None:
    mapping = Mapping.parse({"fields": {"source": {"value": "p"}, "id": {"from": "link", "match": "reviewId=([^&]+)"},
                                        "author": {"from": "link", "match": "gp:[A-Z]+", "default": "someone"},
                                        "text": "t"}}, "m.toml", section="csv")
    assert mapping.apply({"link": LINK.format("gp:ABC"), "t": "x"}, flat=True)["id"] == "gp:ABC"
    assert mapping.apply({"link": "https://x.test/?reviewId=r1", "t": "x"}, flat=True)["author"] == "someone"
    with pytest.raises(MappedValueError, match="id: link 'https://x.test/' does not match 'reviewId="):
        mapping.apply({"link": "https://x.test/", "t": "x"}, flat=True)
    with pytest.raises(MappingError, match=r"m.toml: fields.id: match: not a regular expression"):
        Mapping.parse({"fields": {"source": "s", "id": {"from": "l", "match": "(["}, "author": "a", "text": "t"}},
                      "m.toml", section="csv")


def test_an_export_saved_again_as_utf8_is_one_line_and_a_mapping_reads_it(tmp_path: Path) -> None:
    db = new(tmp_path)
    resaved = tmp_path / "reviews_resaved.csv"
    resaved.write_text(EXPORT.read_text(encoding="utf-16"), encoding="utf-8")
    done = ingest(db, str(resaved))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1] == (f"crisis-tui: {resaved}: the header row is not utf-16 text (UTF-16 stream "
                                            "does not start with BOM); set csv.encoding in the mapping")
    mapping = tmp_path / "play8.toml"
    mapping.write_text('extends = "google-play"\n[csv]\nencoding = "utf-8-sig"\n', encoding="utf-8")
    taken = ingest(db, str(resaved), "--mapping", str(mapping))
    assert taken.returncode == 0 and taken.stdout.strip() == "ingested 3, duplicates 0, rejected 0, skipped 1"
