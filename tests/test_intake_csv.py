"""A spreadsheet export with a TOML column mapping."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

CLI = [sys.executable, "-m", "crisis_tui"]

MAPPING = """
[csv]
delimiter = ";"
timezone = "Europe/Madrid"

[fields]
source = { value = "reviews" }
id = "Review ID"
author = "User"
text = "Comment"
posted_at = { from = "Date", format = "%d/%m/%Y %H:%M" }
likes = { from = "Helpful", default = 0 }
author_followers = "Followers"
author_verified = "Verified"

[extra]
rating = "Stars"
"""

EXPORT = (
    "\ufeffReview ID;User;Comment;Date;Helpful;Followers;Verified;Stars;Sentiment\n"
    "r1;Marta G.;\"Tres semanas sin reembolso; nadie contesta\";10/03/2026 14:05;1.234;2,5K;sí;1;negative\n"
    "r2;Paolo B.;\"Da quando avete aggiornato l'app\nnon vedo il rimborso. Qualcuno ha un numero?\";"
    "10/03/2026 15:00;3;;no;2;neutral\n"
    "r3;Dan;Refund arrived, thanks;10/03/2026 16:30;;120;yes;5;positive\n"
    "r4;Eve;Great service;yesterday;0;1;no;5;positive\n"
    "r5;Bob;too;few;cells\n"
    "r6;Ann;[bold]not markup[/bold] \x1b[31mred\x1b[0m;10/03/2026 17:00;many;0;no;1;negative\n"
    "\n"
    "r7;Luis;Sin línea desde ayer;10/03/2026 18:00;2;10;no;1;negative\n"
)


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def test_a_csv_export_through_a_mapping(tmp_path: Path) -> None:
    db = new(tmp_path)
    (tmp_path / "map.toml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")

    done = subprocess.run([*CLI, "ingest", str(db), str(tmp_path / "export.csv"), "--mapping", str(tmp_path / "map.toml")],
                          capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 4, duplicates 0, rejected 3"
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "export.csv:6: posted_at: 'yesterday' does not match the format '%d/%m/%Y %H:%M'",
        "export.csv:7: has 5 cells, the header has 9",
        "export.csv:8: likes: not a whole number: 'many'",
    ]
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = {r[0]: r[1:] for r in con.execute(
            "SELECT external_id, source, author, text, posted_at, likes, author_followers, author_verified, extra, lang "
            "FROM comments")}
    assert set(rows) == {"r1", "r2", "r3", "r7"}
    source, author, text, posted, likes, followers, verified, extra, lang = rows["r1"]
    assert (source, author, likes, followers, verified, lang) == ("reviews", "Marta G.", 1234, 2500, 1, "es")
    assert text == "Tres semanas sin reembolso; nadie contesta"
    assert posted == datetime(2026, 3, 10, 13, 5, tzinfo=UTC).timestamp()  # 14:05 in Madrid
    assert json.loads(extra) == {"rating": "1", "Sentiment": "negative"}
    assert rows["r2"][2].startswith("Da quando avete aggiornato l'app\nnon vedo") and rows["r2"][8] == "it"
    assert rows["r2"][5] is None  # an empty cell is no value, not zero
    assert rows["r3"][6] == 1


def test_mapping_mistakes_are_one_line_naming_the_key(tmp_path: Path) -> None:
    db = new(tmp_path)
    (tmp_path / "export.csv").write_text(EXPORT, encoding="utf-8")
    cases = {
        'fields = { id = "Review ID", author = "User", source = { value = "x" } }': "fields.text must be mapped",
        '[csv]\ndelimiter = ";"\n[fields]\nid = "Review ID"\nauthor = "User"\ntext = "Comment"\nsource = { value = "x" }\n'
        'likes = { from = "Nope" }':
            "the mapping names column 'Nope', which the header does not have",
        '[fields]\nid = "Review ID"\nauthor = "User"\ntext = "Comment"\nsource = "x"\nstars = "Stars"':
            "fields.stars: not a field of the native shape",
        '[csv]\ndelimiter = ";;"\n[fields]\nid = "a"\nauthor = "b"\ntext = "c"\nsource = "d"':
            "csv.delimiter: must be one character",
        "[fields\n": "not valid TOML",
    }
    for index, (mapping, expected) in enumerate(cases.items()):
        path = tmp_path / f"map{index}.toml"
        path.write_text(mapping, encoding="utf-8")
        done = subprocess.run([*CLI, "ingest", str(db), str(tmp_path / "export.csv"), "--mapping", str(path)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0, mapping
        assert expected in done.stderr, (mapping, done.stderr)
        assert "Traceback" not in done.stderr
    without = subprocess.run([*CLI, "ingest", str(db), str(tmp_path / "export.csv")], capture_output=True, text=True)
    assert without.returncode == 2 and "needs --mapping" in without.stderr
