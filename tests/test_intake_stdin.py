"""Comments piped into `crisis-tui ingest INCIDENT -`, from a fast dump or a slow trickle."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "crisis_tui"]


def comment(i: int) -> str:
    return json.dumps({"source": "tiktok", "id": f"t{i}", "author": f"@tt{i}", "text": f"Same here, refund stuck {i}"}) + "\n"


def count(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as con:
        return int(con.execute("SELECT count(*) FROM comments").fetchone()[0])


def new(tmp_path: Path) -> Path:
    db = tmp_path / "room.db"
    assert subprocess.run([*CLI, "new", str(db), "--title", "T"], capture_output=True).returncode == 0
    return db


def test_a_piped_dump(tmp_path: Path) -> None:
    db = new(tmp_path)
    data = "".join(comment(i) for i in range(500)) + "oops\n" + comment(500).rstrip("\n")  # no final newline
    done = subprocess.run([*CLI, "ingest", str(db), "-", "--rejected", str(tmp_path / "bad.jsonl")],
                          input=data, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ingested 501, duplicates 0, rejected 1"
    said = done.stderr.strip().splitlines()
    assert [x for x in said if x.startswith("stdin:")] == [x for x in said if x.startswith("stdin:501: not valid JSON")]
    assert len([x for x in said if x.startswith("stdin:")]) == 1
    # 500 comments without a posted time arrived within a minute on a live source: a spike
    assert "spike: 500/min against a baseline of 2.0/min (x250.0)" in said
    assert json.loads((tmp_path / "bad.jsonl").read_text())["raw"] == "oops"


def test_a_trickle_is_stored_line_by_line_before_the_pipe_closes(tmp_path: Path) -> None:
    db = new(tmp_path)
    proc = subprocess.Popen([*CLI, "ingest", str(db), "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    try:
        for i in range(3):
            proc.stdin.write(comment(i))
            proc.stdin.flush()
            deadline = time.monotonic() + 20
            while count(db) < i + 1:
                assert time.monotonic() < deadline, "a piped line was not stored while the pipe stayed open"
                time.sleep(0.02)
    finally:
        out, err = proc.communicate(timeout=20)  # closes the pipe: end of input
    assert proc.returncode == 0, err
    assert out.strip() == "ingested 3, duplicates 0, rejected 0"
