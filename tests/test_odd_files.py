"""Corrupted, foreign, read-only and oddly named incident files: one clear line each, and the
read-only commands (verify, export, wallboard) still read what can be read.

Real files, real `crisis-tui` subprocesses, a real tmpfs remounted read-only, a folder made
immutable with chattr.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crisis_tui import locator
from crisis_tui.playbook import Playbook
from crisis_tui.wallboard.app import WallboardApp
from tests.disk_support import cli, comments_jsonl, mounted

pytestmark = pytest.mark.timeout(240)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def an_incident(db: Path, source_dir: Path, comments: int = 40) -> str:
    made = cli("new", str(db), "--title", "Refund delays", "--as", "Luis")
    assert made.returncode == 0, made.stderr
    source = comments_jsonl(source_dir / f"seed-{comments}.jsonl", comments)
    taken = cli("ingest", str(db), str(source))
    assert taken.returncode == 0, taken.stderr
    return made.stdout.splitlines()[-1]


@pytest.mark.parametrize("name", ["what?.db", "100%.db", "a#b.db", "sp ace %3F.db"])
def test_a_name_with_uri_characters_works_for_every_command_and_makes_no_stray_file(
        tmp_path: Path, name: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    source = comments_jsonl(tmp_path / "more.jsonl", 5, start=1000)
    inc = an_incident(work / name, tmp_path)
    verified = cli("verify", name, cwd=work)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"{inc}: 41 events, chain intact" in verified.stdout
    assert cli("verify", f"{name}#{inc}", cwd=work).returncode == 0
    exported = cli("export", name, "-f", "json", "-o", str(tmp_path / "out.json"), "-q", cwd=work)
    assert exported.returncode == 0, exported.stderr
    more = cli("ingest", name, str(source), cwd=work)
    assert more.stdout.strip() == "ingested 5, duplicates 0, rejected 0", more.stderr
    assert cli("token", "create", "--db", name, "--name", "Ana", "--role", "operator", cwd=work).returncode == 0
    left = {p.name for p in work.iterdir()}
    assert left <= {name, f"{name}-wal", f"{name}-shm"}, left


def corrupt(db: Path) -> None:
    """Overwrite every page after the schema's with noise, as a failing disk might."""
    with sqlite3.connect(db) as raw:
        page = int(raw.execute("PRAGMA page_size").fetchone()[0])
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    for start in range(page, len(data), page):
        data[start + 100 : start + page - 100] = bytes((i * 37 + 11) % 256 for i in range(page - 200))
    db.write_bytes(bytes(data))


def test_a_file_with_corrupted_pages_is_said_by_export_ingest_and_verify(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    an_incident(db, tmp_path, comments=300)
    inc = cli("verify", str(db)).stdout.splitlines()[-2].split(":")[0]
    corrupt(db)
    exported = cli("export", f"{db}#{inc}", "-f", "json", "-o", str(tmp_path / "out.json"), "-q")
    assert exported.returncode == 2
    line = one_line(exported)
    assert line.startswith(f"crisis-tui: {db} is damaged (database disk image is malformed): nothing was read; "
                           f"crisis-tui verify {db} says where"), line
    ingested = cli("ingest", f"{db}#{inc}", str(comments_jsonl(tmp_path / "more.jsonl", 5)))
    assert ingested.returncode != 0 and f"{db} is damaged" in one_line(ingested)
    verified = cli("verify", f"{db}#{inc}")
    assert verified.returncode == 1 and "Traceback" not in verified.stderr
    assert "damaged" in verified.stdout or "malformed" in verified.stdout


def test_a_foreign_file_given_as_the_incident_is_named(tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    jsonl = comments_jsonl(tmp_path / "comments.jsonl", 20)
    other_source = comments_jsonl(tmp_path / "other.jsonl", 2)
    for file, what in ((png, "a PNG image"), (jsonl, "JSON or JSONL text (comments to ingest?)")):
        for command in (["verify", str(file)], ["export", str(file), "-q"], ["open", str(file), "--as", "Ana"],
                        ["ingest", str(file), str(other_source)], ["new", str(file), "--title", "x"]):
            done = cli(*command, cwd=tmp_path)
            assert done.returncode == 2, command
            assert one_line(done) == f"crisis-tui: {file} is not a crisis-tui incident file: it looks like {what}"
    assert png.read_bytes().startswith(b"\x89PNG") and jsonl.read_text().count("\n") == 20

    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as raw:
        raw.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    done = cli("new", str(other), "--title", "x")
    assert done.returncode == 2
    assert one_line(done) == (f"crisis-tui: {other} is not a crisis-tui incident file: it is another program's "
                              "SQLite database (tables moz_places)")
    with sqlite3.connect(other) as raw:
        assert [r[0] for r in raw.execute("SELECT name FROM sqlite_master")] == ["moz_places"]


def test_the_incident_file_given_as_the_source_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    an_incident(db, tmp_path)
    for source in (str(db), str(tmp_path / "." / "room.db")):
        done = cli("ingest", str(db), source)
        assert done.returncode == 2
        assert one_line(done) == (f"crisis-tui: {source} is the incident file itself, not comments: give the "
                                  "comments' file (JSONL, JSON or CSV) as SOURCE, after INCIDENT")
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    done = cli("ingest", str(db), str(copy))
    assert done.returncode == 2 and "is a SQLite database, not comments" in one_line(done)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    """An incident file on a tmpfs remounted read-only (no -wal, no -shm beside it)."""
    with mounted(tmp_path / "ro", "8m") as disk:
        an_incident(disk.root / "room.db", tmp_path)
        disk.remount("ro")
        yield disk.root / "room.db"


async def test_read_only_media_open_for_verify_export_and_the_wallboard(
        read_only_disk: Path, tmp_path: Path, book: Playbook) -> None:
    db = read_only_disk
    verified = cli("verify", str(db))
    assert verified.returncode == 0 and "chain intact" in verified.stdout, verified.stdout + verified.stderr
    exported = cli("export", str(db), "-f", "md", "-o", str(tmp_path / "eval.md"), "-q")
    assert exported.returncode == 0, exported.stderr
    assert "Refund delays" in (tmp_path / "eval.md").read_text(encoding="utf-8")
    store, inc = await locator.open_incident(str(db), playbook=book, read_only=True)
    try:
        app = WallboardApp(store, inc, playbook=book)
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(100):
                if app.state.events_seen == 41:
                    break
                await pilot.pause(0.05)
            assert app.state.events_seen == 41
    finally:
        await store.close()
    refused = cli("ingest", str(db), str(comments_jsonl(tmp_path / "more.jsonl", 3)))
    assert refused.returncode == 2
    assert one_line(refused) == (f"crisis-tui: {db} cannot be written here (a read-only file, folder or medium): "
                                 "nothing was written; verify, export and wallboard still read it")
    assert sorted(p.name for p in db.parent.iterdir()) == ["room.db"]


def test_an_immutable_folder_or_file_opens_for_reading_and_refuses_writes_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    db = folder / "room.db"
    an_incident(db, tmp_path)
    for leftover in (folder / "room.db-wal", folder / "room.db-shm"):
        leftover.unlink(missing_ok=True)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not allowed on this filesystem")
    try:
        verified = cli("verify", str(db))
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert cli("export", str(db), "-f", "csv", "-o", str(tmp_path / "csv"), "-q").returncode == 0
        refused = cli("new", str(db), "--title", "Second front")
        assert refused.returncode == 2 and "cannot be written here" in one_line(refused)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode == 0
    try:  # an immutable file in a writable folder: what chmod 444 is to anyone but root
        assert cli("verify", str(db)).returncode == 0
        refused = cli("ingest", str(db), str(comments_jsonl(tmp_path / "more.jsonl", 3)))
        assert refused.returncode != 0 and "cannot be written here" in one_line(refused)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_a_read_only_copy_whose_wal_still_holds_writes_is_refused_in_one_line(tmp_path: Path) -> None:
    """Read without -shm (immutable), SQLite would not see what the -wal holds: said, not hidden."""
    live = tmp_path / "live.db"
    an_incident(live, tmp_path)
    with mounted(tmp_path / "ro", "8m") as disk:
        writer = sqlite3.connect(live, isolation_level=None)
        try:
            writer.execute("PRAGMA wal_autocheckpoint = 0")
            writer.execute("UPDATE incidents SET brand = 'Acme'")
            assert (tmp_path / "live.db-wal").stat().st_size > 0
            shutil.copy(live, disk.root / "room.db")
            shutil.copy(tmp_path / "live.db-wal", disk.root / "room.db-wal")
        finally:
            writer.close()
        disk.remount("ro")
        db = disk.root / "room.db"
        done = cli("verify", str(db))
        assert done.returncode == 2
        assert one_line(done) == (f"crisis-tui: {db} is on a read-only folder or medium and room.db-wal beside it "
                                  "still holds writes a reader there cannot replay: copy both files to a writable "
                                  "folder")
