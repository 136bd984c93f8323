"""The command line as a newcomer meets it: real processes, real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crisis_tui", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def test_new_prints_the_id_last_and_verify_finds_the_chain_intact(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    made = cli("new", str(db), "--title", "Refund delays", "--as", "Luis")
    assert made.returncode == 0, made.stderr
    incident_id = made.stdout.strip().splitlines()[-1]
    assert incident_id.startswith("refund-delays-")
    checked = cli("verify", f"{db}#{incident_id}")
    assert checked.returncode == 0, checked.stderr
    assert f"{incident_id}: 1 events, chain intact" in checked.stdout


def test_verify_names_the_first_altered_event(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert cli("demo", "--headless", "--speed", "0", "--db", str(db)).returncode == 0
    with sqlite3.connect(db) as raw:
        seq, payload = raw.execute("SELECT seq, payload FROM events WHERE kind = 'note.added'").fetchone()
        data = msgspec.json.decode(payload)
        data["text"] = "nothing to see here"
        raw.execute("UPDATE events SET payload = ? WHERE seq = ?", (msgspec.json.encode(data), seq))
    checked = cli("verify", str(db))
    assert checked.returncode == 1
    assert f"chain BROKEN at event {seq}" in checked.stdout
    assert "altered" in checked.stdout


def test_verify_notices_a_removed_event(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    assert cli("demo", "--headless", "--speed", "0", "--db", str(db)).returncode == 0
    with sqlite3.connect(db) as raw:
        (seq,) = raw.execute("SELECT seq FROM events WHERE kind = 'decision.voted'").fetchone()
        raw.execute("DELETE FROM events WHERE seq = ?", (seq,))
    checked = cli("verify", str(db))
    assert checked.returncode == 1
    assert f"chain BROKEN at event {seq + 1}" in checked.stdout
    assert "removed or reordered" in checked.stdout


def test_verify_reads_extra_keys_in_any_order_but_finds_an_altered_value(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert cli("new", str(db), "--title", "Refund delays", "--as", "Luis").returncode == 0
    source = tmp_path / "c.jsonl"
    source.write_text('{"source": "x", "id": "1", "author": "@a", "text": "refund?", "alpha": "1", "zeta": "2"}\n')
    assert cli("ingest", str(db), str(source)).returncode == 0
    with sqlite3.connect(db) as raw:  # as a file written before the row's keys were sorted keeps them
        raw.execute("""UPDATE comments SET extra = '{"zeta":"2","alpha":"1"}'""")
    assert "every table matches a replay of the log" in cli("verify", str(db)).stdout
    with sqlite3.connect(db) as raw:
        raw.execute("""UPDATE comments SET extra = '{"zeta":"2","alpha":"9"}'""")
    altered = cli("verify", str(db))
    assert altered.returncode == 1 and "table comments, row 1, column extra" in altered.stdout


def test_headless_demo_prints_a_timeline_in_three_languages(tmp_path: Path) -> None:
    played = cli("demo", "--headless", "--speed", "0", "--db", str(tmp_path / "d.db"))
    assert played.returncode == 0, played.stderr
    out = played.stdout
    for expected in ("opened the incident", "new comments", "claimed @marta_viaja", "approved decision",
                     "sent the public statement", "Luis joined as gm"):
        assert expected in out
    assert "Traceback" not in played.stderr


def test_mistakes_get_one_line_and_no_traceback(tmp_path: Path) -> None:
    missing = cli("verify", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and missing.stderr.strip() == f"crisis-tui: no incident file at {tmp_path / 'nope.db'}"
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    bad_file = cli("verify", str(junk))
    assert bad_file.returncode == 2 and "is not a crisis-tui incident file" in bad_file.stderr
    broken = tmp_path / "pb.toml"
    broken.write_text("name = \n", encoding="utf-8")
    bad_book = cli("--playbook", str(broken), "new", str(tmp_path / "x.db"), "--title", "x")
    assert bad_book.returncode == 2 and "not valid TOML" in bad_book.stderr
    bad_sev = cli("new", str(tmp_path / "x.db"), "--title", "x", "--severity", "sev9")
    assert bad_sev.returncode == 2 and "severity: 'sev9' is not in the playbook" in bad_sev.stderr
    empty = cli("verify", str(tmp_path / "x.db"))
    assert empty.returncode == 2 and "holds no incident yet" in empty.stderr
    for result in (missing, bad_file, bad_book, bad_sev, empty):
        assert "Traceback" not in result.stderr


def test_an_id_too_big_for_the_store_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    assert cli("new", str(db), "--title", "Refund delays", "--as", "Luis").returncode == 0
    huge = "99999999999999999999999"
    for args in (["escalation-answer", str(db), huge, "legal says ok"], ["send", str(db), huge],
                 ["send", str(db), "1", "--version", huge], ["token", "revoke", "--db", str(db), "--id", huge]):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr and "is not in the range" in result.stderr, (args, result.stderr)


def test_init_writes_a_copy_the_playbook_option_reads(tmp_path: Path) -> None:
    target = tmp_path / "mine.toml"
    written = cli("init", str(target))
    assert written.returncode == 0 and target.exists()
    again = cli("init", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr
    text = target.read_text(encoding="utf-8").replace('name = "SEV1"', 'name = "CODE RED"')
    target.write_text(text, encoding="utf-8")
    made = cli("--playbook", str(target), "new", str(tmp_path / "r.db"), "--title", "x", "--severity", "sev1")
    assert made.returncode == 0, made.stderr
    env_made = cli("new", str(tmp_path / "r.db"), "--title", "y", env={"CRISIS_TUI_PLAYBOOK": str(tmp_path / "none.toml")})
    assert env_made.returncode == 2 and "none.toml: no such file" in env_made.stderr


def test_new_twice_with_one_title_refuses_the_second_unless_again(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    first = cli("new", str(db), "--title", "Refund delays", "--as", "Luis")
    assert first.returncode == 0, first.stderr
    first_id = first.stdout.strip().splitlines()[-1]
    twice = cli("new", str(db), "--title", "refund delays ", "--as", "Luis")
    assert twice.returncode == 2
    assert twice.stderr.strip() == (f"crisis-tui: --title: {first_id} is already open with this title; open it with "
                                    f"crisis-tui open {db}#{first_id}, or add --again for a second one")
    listed = sqlite3.connect(db).execute("SELECT id FROM incidents").fetchall()
    assert listed == [(first_id,)]  # nothing was made
    again = cli("new", str(db), "--title", "Refund delays", "--as", "Luis", "--again")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] != first_id
    assert cli("new", str(db), "--title", "Refunds, day two", "--as", "Luis").returncode == 0  # another title is fine
