"""A json export imported into a fresh file is the same incident: same events, same hashes."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from crisis_tui import demo_script
from crisis_tui.errors import InvalidInput, StoreUnavailable
from crisis_tui.importer import import_file, read_export
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from tests.test_export import export, make_demo


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env={**os.environ})


async def state(db: Path, inc: str, book: Playbook) -> dict[str, object]:
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        return {
            "raw": [row[1:] for row in await store.raw_events(inc)],  # everything but the file-global seq
            "incident": await store.get_incident(inc),
            "comments": await store.comments(inc),
            "drafts": await store.drafts(inc),
            "decisions": await store.decisions(inc),
            "counts": await store.counts(inc),
            # heartbeats are not events: only who joined, in which role, and when they left is the log's
            "presence": [(p.name, p.role, p.joined_at, p.focus, p.left_at) for p in await store.presence(inc)],
        }
    finally:
        await store.close()


async def test_round_trip_is_identical(tmp_path: Path, book: Playbook) -> None:
    original = tmp_path / "demo.db"
    inc = await make_demo(original, book)
    (exported,) = await export(original, inc, "json", tmp_path / "eval.json", book)

    copy = tmp_path / "copy.db"
    result = await import_file(exported, str(copy), playbook=book)
    assert result.incident_id == inc

    before, after = await state(original, inc, book), await state(copy, inc, book)
    assert after["raw"] == before["raw"]  # same ts, actor, kind, payload bytes, prev_hash, hash
    for key in ("incident", "comments", "drafts", "decisions", "counts", "presence"):
        assert after[key] == before[key], key

    (again,) = await export(copy, inc, "json", tmp_path / "again.json", book)
    first_doc, second_doc = msgspec.json.decode(exported.read_bytes()), msgspec.json.decode(again.read_bytes())
    assert second_doc["events"] == first_doc["events"]
    assert second_doc["state"]["comments"] == first_doc["state"]["comments"]

    checked = cli("verify", f"{copy}#{inc}", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "chain intact" in checked.stdout and result.last_hash[:16] in checked.stdout


async def test_import_keeps_ids_beside_another_incident(tmp_path: Path, book: Playbook) -> None:
    original = tmp_path / "demo.db"
    inc = await make_demo(original, book)
    (exported,) = await export(original, inc, "json", tmp_path / "eval.json", book)
    shared = tmp_path / "shared.db"
    other_store = await SqliteStore.open(shared, playbook=book)
    try:
        other = await other_store.create_incident("Another crisis", actor="Luis")
        # the same (source, id) pairs and the same comment ids 1..6 as the demo, in another incident
        await other_store.ingest(other.id, demo_script.viral_comments())
    finally:
        await other_store.close()
    await import_file(exported, str(shared), playbook=book)
    before, after = await state(original, inc, book), await state(shared, inc, book)
    assert after["raw"] == before["raw"] and after["comments"] == before["comments"]
    with pytest.raises(InvalidInput, match="already exists"):
        await import_file(exported, str(shared), playbook=book)


async def test_a_tampered_export_is_refused_and_leaves_no_file(tmp_path: Path, book: Playbook) -> None:
    original = tmp_path / "demo.db"
    inc = await make_demo(original, book)
    (exported,) = await export(original, inc, "json", tmp_path / "eval.json", book)
    doc = msgspec.json.decode(exported.read_bytes())
    note = next(e for e in doc["events"] if e["kind"] == "note.added")
    note["payload"]["text"] = "nothing happened"
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(msgspec.json.encode(doc))

    target = tmp_path / "target.db"
    with pytest.raises(InvalidInput, match="hash chain broken at event .*altered"):
        await import_file(tampered, str(target), playbook=book)
    assert not target.exists()


async def test_import_mistakes_are_one_clear_line(tmp_path: Path, book: Playbook) -> None:
    original = tmp_path / "demo.db"
    inc = await make_demo(original, book)
    (exported,) = await export(original, inc, "json", tmp_path / "eval.json", book)
    (tmp_path / "notjson.json").write_text("{nope", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"hello": 1}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="is not JSON"):
        read_export(tmp_path / "notjson.json")
    with pytest.raises(InvalidInput, match="not a crisis-tui json export"):
        read_export(tmp_path / "other.json")
    with pytest.raises(InvalidInput, match="does not exist"):
        read_export(tmp_path / "missing.json")
    with pytest.raises(InvalidInput, match="cannot become 'renamed'"):
        await import_file(exported, f"{tmp_path / 'x.db'}#renamed", playbook=book)
    with pytest.raises(StoreUnavailable, match="SQLite incident file"):
        await import_file(exported, "http://127.0.0.1:9/incidents/x", playbook=book)

    imported = cli("import", str(exported), str(tmp_path / "cli.db"), cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().splitlines()[-1] == f"{tmp_path / 'cli.db'}#{inc}"
    twice = cli("import", str(exported), str(tmp_path / "cli.db"), cwd=tmp_path)
    assert twice.returncode == 2 and "already exists" in twice.stderr and "Traceback" not in twice.stderr
    with sqlite3.connect(tmp_path / "cli.db") as raw:
        assert raw.execute("SELECT count(*) FROM events").fetchone()[0] == len(msgspec.json.decode(
            exported.read_bytes())["events"])
