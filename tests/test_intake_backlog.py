"""A monitoring tool's export goes in: every good line stored, every bad one reported with its line."""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "crisis_tui"]

BAD_KINDS = [
    ('{"source": "x", "id": "cut-%d", "author": "@a", "text": "half a li', "not valid JSON: it ends in the middle of a value"),
    ('{"source": "x", "id": "noauthor-%d", "text": "who wrote this"}', "author: is required"),
    ('{"source": "x", "id": "empty-%d", "author": "@a", "text": "   "}', "text: must not be empty"),
    ("not json at all %d", "not valid JSON"),
    ('{"source": "x", "id": "neg-%d", "author": "@a", "text": "hi", "shares": -3}', "shares: must not be negative, got -3"),
    ('["an", "array", %d]', "comment: must be a JSON object, got list"),
]


def run(*args: str, cwd: Path, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout)


def new_incident(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    done = run("new", str(db), "--title", "Refund delays", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return db


def write_backlog(path: Path, lines: int, bad_every: int = 100) -> tuple[set[str], dict[int, str]]:
    """`lines` lines, one in `bad_every` malformed; returns good ids and {line number: expected reason}."""
    good: set[str] = set()
    bad: dict[int, str] = {}
    langs = [("es", "Llevo tres semanas esperando el reembolso, nadie contesta"),
             ("it", "Rimborso bloccato da venti giorni, nessuno risponde"),
             ("en", "Refund stuck since the update and support hangs up")]
    with path.open("w", encoding="utf-8") as out:
        for number in range(1, lines + 1):
            if number % bad_every == 7:
                template, reason = BAD_KINDS[(number // bad_every) % len(BAD_KINDS)]
                out.write((template % number if "%d" in template else template) + "\n")
                bad[number] = reason
                continue
            lang, text = langs[number % 3]
            comment = {"source": ["x", "instagram", "facebook"][number % 3], "id": f"c{number}",
                       "author": f"@user_{number % 977}", "text": f"{text} #{number}",
                       "posted_at": "2026-03-10T14:00:00Z", "likes": number % 40, "author_followers": number % 5000}
            if number % 2:
                comment["lang"] = lang
            out.write(json.dumps(comment, ensure_ascii=False) + "\n")
            good.add(f"c{number}")
    return good, bad


def stored_ids(db: Path) -> list[str]:
    with sqlite3.connect(db) as con:
        return [r[0] for r in con.execute("SELECT external_id FROM comments")]


@pytest.mark.slow
def test_a_50000_line_backlog_with_one_percent_malformed(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    backlog = tmp_path / "export.jsonl"
    good, bad = write_backlog(backlog, 50_000)
    assert len(bad) == 500

    done = run("ingest", str(db), str(backlog), cwd=tmp_path)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines() == [f"ingested {len(good)}, duplicates 0, rejected 500"]
    ids = stored_ids(db)
    assert len(ids) == len(good) and set(ids) == good  # every good line in, none twice
    reported = {}
    for line in done.stderr.splitlines():
        where, _, reason = line.partition(": ")
        name, _, at = where.rpartition(":")
        assert name == "export.jsonl", line
        reported[int(at)] = reason
    assert set(reported) == set(bad)  # every bad line reported with its line number...
    for number, reason in bad.items():
        assert reported[number].startswith(reason), (number, reported[number])  # ...and why
    kept = [json.loads(line) for line in (tmp_path / "export.jsonl.rejected.jsonl").read_text().splitlines()]
    assert [k["where"] for k in kept] == [f"export.jsonl:{n}" for n in sorted(bad)]
    backlog_lines = backlog.read_text(encoding="utf-8").splitlines()
    assert all(k["raw"] == backlog_lines[int(k["where"].rsplit(":", 1)[1]) - 1] for k in kept)

    again = run("ingest", str(db), str(backlog), cwd=tmp_path)
    assert again.stdout.strip() == f"ingested 0, duplicates {len(good)}, rejected 500"
    assert again.returncode == 0


def test_triage_fields_are_stored_and_hostile_text_is_kept_intact(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    hostile = "[bold red]boom[/] \x1b]52;c;ZXZpbA==\x07 \u202eevil\u202c ¡Vergüenza! NADIE contesta 😡"
    lines = [
        {"source": "x", "id": "h1", "author": "@marta", "text": hostile, "author_followers": 15000, "likes": 900},
        {"source": "x", "id": "q1", "author": "@carmen", "text": "¿Alguien sabe cómo reclamar el reembolso?"},
    ]
    path = tmp_path / "few.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in lines) + "\n", encoding="utf-8")

    done = run("ingest", str(db), str(path), cwd=tmp_path)

    assert done.stdout.strip() == "ingested 2, duplicates 0, rejected 0"
    with sqlite3.connect(db) as con:
        rows = dict((r[0], r[1:]) for r in con.execute(
            "SELECT external_id, text, lang, negativity, priority, cluster FROM comments"))
    assert rows["h1"][0] == hostile  # the original, escapes and all: display is safe_text's job
    assert rows["h1"][1] == "es" and rows["q1"][1] == "es"
    assert rows["h1"][2] > 0.5 and rows["h1"][3] > rows["q1"][3] > 0
    assert rows["h1"][4] and rows["h1"][4] != rows["q1"][4]


def test_text_over_the_cap_is_refused_with_the_size(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    path = tmp_path / "big.jsonl"
    big = {"source": "email", "id": "e1", "author": "a@b.c", "text": "x" * (128 * 1024 + 1)}
    ok = {"source": "email", "id": "e2", "author": "a@b.c", "text": "short and fine"}
    path.write_text(json.dumps(big) + "\n" + json.dumps(ok) + "\n", encoding="utf-8")
    done = run("ingest", str(db), str(path), cwd=tmp_path)
    assert done.stdout.strip() == "ingested 1, duplicates 0, rejected 1"
    assert "big.jsonl:1: text: " in done.stderr and "131,072 bytes" in done.stderr


def test_a_json_file_with_an_array_names_the_bad_item(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    path = tmp_path / "batch.json"
    items = [{"source": "reviews", "id": f"r{i}", "author": "Ana", "text": "Muy mal servicio"} for i in range(3)]
    items.insert(2, {"source": "reviews", "id": "r9", "author": "Ana"})
    path.write_text(json.dumps(items), encoding="utf-8")
    done = run("ingest", str(db), str(path), cwd=tmp_path)
    assert done.stdout.strip() == "ingested 3, duplicates 0, rejected 1"
    assert "batch.json: item 3: text: is required" in done.stderr


def test_nothing_taken_exits_non_zero_and_still_summarises(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    path = tmp_path / "junk.jsonl"
    path.write_bytes(b"garbage\n\xff\xfe not utf-8\n{}\n")
    done = run("ingest", str(db), str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout.strip() == "ingested 0, duplicates 0, rejected 3"
    assert "junk.jsonl:2: not UTF-8 text" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_source_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    done = run("ingest", str(db), str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert done.returncode != 0
    assert "nope.jsonl: no such file" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.strip() == "ingested 0, duplicates 0, rejected 0"
    missing_incident = run("ingest", str(tmp_path / "other.db"), str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing_incident.returncode == 2 and "no incident file" in missing_incident.stderr


def test_the_progress_bar_shows_on_a_terminal_and_stdout_keeps_one_summary(tmp_path: Path) -> None:
    db = new_incident(tmp_path)
    backlog = tmp_path / "export.jsonl"
    good, bad = write_backlog(backlog, 3000)
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, "ingest", str(db), str(backlog)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=slave, text=True, env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        seen += data
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    assert proc.returncode == 0
    assert out.strip().splitlines() == [f"ingested {len(good)}, duplicates 0, rejected {len(bad)}"]
    screen = seen.decode("utf-8", "replace")
    assert "ingesting" in screen and "export.jsonl:7:" in screen


@pytest.mark.slow
def test_ctrl_c_in_a_big_backlog_stops_cleanly_with_a_summary(tmp_path: Path) -> None:
    import signal
    import time

    db = new_incident(tmp_path)
    backlog = tmp_path / "export.jsonl"
    write_backlog(backlog, 60_000)
    proc = subprocess.Popen([*CLI, "ingest", str(db), str(backlog)], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline and proc.poll() is None
        try:
            if len(stored_ids(db)) > 2000:
                break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    ingested = int(out.strip().split(",")[0].split()[1])
    assert ingested == len(stored_ids(db)) < 59_400
    again = run("ingest", str(db), str(backlog), cwd=tmp_path)  # and the rest is taken by running it again
    assert again.returncode == 0
    assert len(stored_ids(db)) == 59_400
