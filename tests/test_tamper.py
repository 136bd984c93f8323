"""Tampering with an incident file as an adversary would, and `crisis-tui verify` catching it.

Every case edits a real incident file with the sqlite3 module (another process's
tools, not the store), then runs the real command line on it.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec

from crisis_tui.eventlog import GENESIS, chain_hash
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import comments
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


async def make_incident(db: Path, book: Playbook) -> str:
    """An incident with comments, a reply, an approved decision and, last, a note."""
    store = await SqliteStore.open(db, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.ingest(inc, comments())
        await store.heartbeat(inc, actor="Luis", role="gm")
        await store.claim(inc, 1, actor="Ana")
        await store.save_draft(inc, "We are sorry: your refund leaves today.", actor="Ana", comment_id=1)
        decision = await store.propose_decision(inc, "Refund everyone within 48h", actor="Luis", rationale="goodwill")
        await store.vote_decision(inc, decision.id, True, actor="Luis")
        await store.add_note(inc, "press call at 15:00", actor="Luis")
    finally:
        await store.close()
    return inc


def head_line(out: str) -> str:
    last = out.strip().splitlines()[-1]
    assert last.startswith("head "), out
    return last


def expected(out: str) -> str:
    _, number, digest = head_line(out).split()
    return f"{number}:{digest}"


def rechain(raw: sqlite3.Connection, inc: str) -> None:
    """What an adversary who read eventlog.py does after editing events: recompute every hash."""
    prev = GENESIS
    rows = raw.execute("SELECT seq, ts, actor, kind, payload FROM events WHERE incident_id = ? ORDER BY seq",
                       (inc,)).fetchall()
    for seq, ts, actor, kind, payload in rows:
        digest = chain_hash(prev, inc, ts, actor, kind, payload)
        raw.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
        prev = digest


def assert_clean_refusal(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


async def test_an_untouched_file_is_intact_and_ends_with_its_head(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    store = await SqliteStore.open(db, playbook=book)
    try:
        await store.heartbeat(inc, actor="Luis", role="gm")  # no event: only heartbeat_at moves, forward
    finally:
        await store.close()
    checked = cli("verify", f"{db}#{inc}")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "chain intact, every table matches a replay of the log, file intact" in checked.stdout
    with sqlite3.connect(db) as raw:
        count, last = raw.execute("SELECT count(*), (SELECT hash FROM events ORDER BY seq DESC LIMIT 1) FROM events").fetchone()
    assert head_line(checked.stdout) == f"head {count} {last}"
    again = cli("verify", f"{db}#{inc}", "--expect-head", expected(checked.stdout))
    assert again.returncode == 0 and "still holds event" in again.stdout
    with sqlite3.connect(db) as raw:  # a heartbeat can never go back before the events that set it
        raw.execute("UPDATE presence SET heartbeat_at = joined_at - 60, role = 'client'")
    moved = cli("verify", f"{db}#{inc}")
    assert_clean_refusal(moved)
    assert "table presence, row Luis, column heartbeat_at: is " in moved.stdout
    assert "table presence, row Luis, column role: is 'client' in the file, the log says 'gm'" in moved.stdout


async def test_deleting_the_last_events_is_caught(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    await make_incident(db, book)
    head = expected(cli("verify", str(db)).stdout)
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM events WHERE seq > (SELECT max(seq) - 3 FROM events)")
    plain = cli("verify", str(db))
    assert_clean_refusal(plain)
    assert "table notes, row 1: is in the file, but no event of the log makes it" in plain.stdout
    held = cli("verify", str(db), "--expect-head", head)
    assert_clean_refusal(held)
    assert f"so event {head.split(':')[0]} is gone: the log was cut" in held.stdout


async def test_deleting_every_event_is_caught(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM events")
    checked = cli("verify", f"{db}#{inc}")
    assert_clean_refusal(checked)
    assert f"table incidents, row {inc}: is in the file, but no event of the log makes it" in checked.stdout
    assert head_line(checked.stdout) == f"head 0 {GENESIS}"


async def test_deleting_the_incident_row_is_caught(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    with sqlite3.connect(db) as raw:
        raw.execute("DELETE FROM incidents")
    checked = cli("verify", f"{db}#{inc}")
    assert_clean_refusal(checked)
    assert f"table incidents, row {inc}: is missing from the file, but the log makes it" in checked.stdout
    nothing = cli("verify", f"{db}#no-such-incident")
    assert nothing.returncode == 2 and "no incident 'no-such-incident'" in nothing.stderr


async def test_moving_the_last_event_to_another_incident_is_caught(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    head = expected(cli("verify", f"{db}#{inc}").stdout)
    store = await SqliteStore.open(db, playbook=book)
    try:
        other = (await store.create_incident("Another crisis", actor="Luis")).id
    finally:
        await store.close()
    with sqlite3.connect(db) as raw:
        (seq,) = raw.execute("SELECT max(seq) FROM events WHERE incident_id = ?", (inc,)).fetchone()
        raw.execute("UPDATE events SET incident_id = ? WHERE seq = ?", (other, seq))
    moved = cli("verify", f"{db}#{inc}", "--expect-head", head)
    assert_clean_refusal(moved)
    assert "table notes, row 1: is in the file, but no event of the log makes it" in moved.stdout
    assert "expected head NOT held" in moved.stdout
    into = cli("verify", f"{db}#{other}")
    assert_clean_refusal(into)
    assert f"chain BROKEN at event {seq}" in into.stdout


async def test_a_rewritten_decision_with_recomputed_hashes_is_caught_by_the_expected_head(
    tmp_path: Path, book: Playbook
) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    head = expected(cli("verify", f"{db}#{inc}").stdout)
    with sqlite3.connect(db) as raw:
        seq, payload = raw.execute("SELECT seq, payload FROM events WHERE kind = 'decision.voted'").fetchone()
        vote = msgspec.json.decode(payload)
        vote.update(vote="reject", status="rejected")
        raw.execute("UPDATE events SET payload = ? WHERE seq = ?", (msgspec.json.encode(vote), seq))
        rechain(raw, inc)
        # a careful adversary makes the table agree with the rewritten log
        raw.execute("UPDATE decisions SET status = 'rejected', rejections = approvals, approvals = '[]'")
    plain = cli("verify", f"{db}#{inc}")
    assert plain.returncode == 0, plain.stdout  # the rewritten log agrees with itself: only a witness can tell
    held = cli("verify", f"{db}#{inc}", "--expect-head", head)
    assert_clean_refusal(held)
    assert f"event {head.split(':')[0]} now has hash" in held.stdout and "rewritten" in held.stdout


async def test_editing_the_decisions_table_is_caught_by_the_replay(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE decisions SET status = 'rejected' WHERE id = 1")
    checked = cli("verify", f"{db}#{inc}")
    assert_clean_refusal(checked)
    assert "table decisions, row 1, column status: is 'rejected' in the file, the log says 'approved'" in checked.stdout
    assert "chain" not in checked.stdout.replace("chain intact", "")  # the log itself is fine


async def test_a_payload_rewritten_as_text_is_named_like_a_broken_event(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    with sqlite3.connect(db) as raw:
        (seq,) = raw.execute("SELECT seq FROM events WHERE kind = 'note.added'").fetchone()
        raw.execute("UPDATE events SET payload = CAST(payload AS TEXT) WHERE seq = ?", (seq,))
        (bad_json,) = raw.execute("SELECT seq FROM events WHERE kind = 'comment.claimed'").fetchone()
        raw.execute("UPDATE events SET payload = X'00FF' WHERE seq = ?", (bad_json,))
        (wrong_shape,) = raw.execute("SELECT seq FROM events WHERE kind = 'decision.proposed'").fetchone()
        raw.execute("UPDATE events SET payload = CAST('[1, 2]' AS BLOB) WHERE seq = ?", (wrong_shape,))
    checked = cli("verify", f"{db}#{inc}")
    assert_clean_refusal(checked)
    assert f"event {seq}: its payload is stored as TEXT, not as the BLOB of bytes that were hashed" in checked.stdout
    assert f"event {bad_json}: its payload is not JSON" in checked.stdout
    assert f"event {wrong_shape}: its payload is a JSON list, not an object" in checked.stdout
    assert "crisis-tui: " not in checked.stderr


async def test_a_file_with_corrupted_pages_is_named_damaged(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    store = await SqliteStore.open(db, playbook=book)
    try:
        await store.ingest(inc, comments([{"source": "x", "id": f"x-more-{n}", "author": f"@user{n}",
                                           "text": f"still waiting for my refund, day {n} " * 8} for n in range(400)]))
    finally:
        await store.close()  # the last connection out checkpoints the WAL into the file
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as raw:
        page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        pages = [p for (p,) in raw.execute("SELECT pageno FROM dbstat WHERE name = 'comments' AND pagetype = 'leaf'")]
    target = pages[len(pages) // 2]
    with copy.open("r+b") as handle:
        handle.seek((target - 1) * page_size + 100)
        handle.write(os.urandom(page_size - 200))
    checked = cli("verify", f"{copy}#{inc}")
    assert_clean_refusal(checked)
    assert f"{copy} is damaged" in checked.stdout
    assert cli("verify", f"{db}#{inc}").returncode == 0  # the original is untouched


async def test_the_head_of_an_export_checks_its_import_in_another_file(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    head = expected(cli("verify", f"{db}#{inc}").stdout)
    store = await SqliteStore.open(tmp_path / "other.db", playbook=book)
    try:
        await store.create_incident("Something else first", actor="Luis")  # so the seqs differ after import
    finally:
        await store.close()
    exported = tmp_path / "eval.json"
    assert cli("export", f"{db}#{inc}", "-f", "json", "-o", str(exported), "-q").returncode == 0
    assert cli("import", str(exported), str(tmp_path / "other.db"), "--expect-head", head).returncode == 0
    imported = cli("verify", f"{tmp_path / 'other.db'}#{inc}", "--expect-head", head)
    assert imported.returncode == 0, imported.stdout
    assert expected(imported.stdout) == head


async def test_verify_over_a_url_runs_the_servers_audit(serve: ServeFactory, book: Playbook) -> None:
    served = await serve()
    inc = await make_incident(served.db, book)
    url = f"{served.url}/incidents/{inc}"
    operator = {"CRISIS_TUI_TOKEN": await served.token("Ana", "operator")}
    intact = cli("verify", url, env=operator)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    head = expected(intact.stdout)
    with sqlite3.connect(served.db) as raw:
        raw.execute("UPDATE decisions SET status = 'rejected' WHERE id = 1")
        raw.execute("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)")
    checked = cli("verify", url, "--expect-head", head, env=operator)
    assert_clean_refusal(checked)
    assert "table decisions, row 1, column status: is 'rejected' in the file" in checked.stdout
    assert "the log was cut" in checked.stdout
    viewer = cli("verify", url, env={"CRISIS_TUI_TOKEN": await served.token("Wall", "viewer")})
    assert viewer.returncode == 2 and "viewer token" in viewer.stderr and "Traceback" not in viewer.stderr


def rechain_export(doc: dict[str, object]) -> None:
    """The same adversary on a json export: recompute the hashes and the recorded head."""
    prev = GENESIS
    events = doc["events"]
    assert isinstance(events, list)
    for e in events:
        e["prev_hash"] = prev
        e["hash"] = prev = chain_hash(prev, e["incident_id"], e["ts"], e["actor"], e["kind"],
                                      msgspec.json.Encoder(order="sorted").encode(e["payload"]))
    doc["head"] = {"number": len(events), "hash": prev, "seq": 0}


async def test_import_refuses_a_truncated_or_rechained_export(tmp_path: Path, book: Playbook) -> None:
    db = tmp_path / "room.db"
    inc = await make_incident(db, book)
    head = expected(cli("verify", f"{db}#{inc}").stdout)
    exported = tmp_path / "eval.json"
    assert cli("export", f"{db}#{inc}", "-f", "json", "-o", str(exported), "-q").returncode == 0
    doc = msgspec.json.decode(exported.read_bytes())
    assert doc["head"]["number"] == len(doc["events"]) and f"{doc['head']['number']}:{doc['head']['hash']}" == head

    cut = tmp_path / "cut.json"
    cut.write_bytes(msgspec.json.encode({**doc, "events": doc["events"][:-2]}))
    refused = cli("import", str(cut), str(tmp_path / "a.db"))
    assert refused.returncode == 2 and "it was cut or re-chained after the export" in refused.stderr
    assert not (tmp_path / "a.db").exists()

    careful = {**doc, "events": doc["events"][:-2]}
    rechain_export(careful)  # the head now agrees with the cut events
    cut.write_bytes(msgspec.json.encode(careful))
    refused = cli("import", str(cut), str(tmp_path / "a.db"), "--expect-head", head)
    assert refused.returncode == 2 and "does not hold the expected head" in refused.stderr
    assert "the log was cut" in refused.stderr

    rewritten = msgspec.json.decode(exported.read_bytes())
    note = next(e for e in rewritten["events"] if e["kind"] == "note.added")
    note["payload"]["text"] = "no press call"
    rechain_export(rewritten)
    forged = tmp_path / "forged.json"
    forged.write_bytes(msgspec.json.encode(rewritten))
    refused = cli("import", str(forged), str(tmp_path / "b.db"), "--expect-head", head)
    assert refused.returncode == 2 and "rewritten at or before it" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert cli("import", str(exported), str(tmp_path / "c.db"), "--expect-head", head).returncode == 0
