"""Exporting the demo crisis for the evaluation, in every format, with hostile strings aboard."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from crisis_tui import demo_script
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.export import FORMATS, export_incident
from crisis_tui.export.record import comments_from, counts_of
from crisis_tui.export.to_csv import paths_for
from crisis_tui.export.to_json import FORMAT
from crisis_tui.export.to_md import md
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore

HOSTILE_AUTHOR = '<img src="http://evil.example/pixel.png">'
HOSTILE_TEXT = (
    "=HYPERLINK(\"http://evil.example\",\"x\") [click](javascript:alert(1)) \x1b]52;c;aGk=\x07 <script>alert(1)</script>"
)
HOSTILE_DECISION = "Say <b>sorry</b> | [now](http://evil.example) & **loudly**"


async def make_demo(path: Path, book: Playbook) -> str:
    """The demo crisis, plus a hostile comment handled by the committee and a hostile decision."""
    store = await SqliteStore.open(path, playbook=book)
    try:
        inc = await demo_script.create_demo_incident(store)
        await demo_script.play(store, inc, speed=0)
        (hostile,) = (await store.ingest(inc, [parse_comment(
            {"source": "x", "id": "evil-1", "author": HOSTILE_AUTHOR, "text": HOSTILE_TEXT})])).ids
        await store.claim(inc, hostile, actor="Ana")
        draft = await store.save_draft(inc, "-1 is not our answer: we will DM you today.", actor="Ana", comment_id=hostile)
        await store.set_draft_status(inc, draft.id, "in_review", actor="Ana")
        await store.set_draft_status(inc, draft.id, "approved", actor="Luis",
                                     override_reason="<i>apology</i> sent by DM")
        await store.set_draft_status(inc, draft.id, "sent", actor="Ana")
        decision = await store.propose_decision(inc, HOSTILE_DECISION, actor="Sam", rationale="it spreads")
        await store.vote_decision(inc, decision.id, True, actor="Luis")
    finally:
        await store.close()
    return inc


@pytest.fixture
async def demo(tmp_path: Path, book: Playbook) -> tuple[Path, str]:
    db = tmp_path / "demo.db"
    return db, await make_demo(db, book)


async def export(db: Path, inc: str, fmt: str, out: Path | str, book: Playbook) -> list[Path]:
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        return await export_incident(store, inc, fmt, out, playbook=book)
    finally:
        await store.close()


async def test_every_format_exports_the_demo(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    seen: list[tuple[str, str]] = []
    for fmt in FORMATS:
        out = f"{tmp_path}/csv-out/" if fmt == "csv" else str(tmp_path / f"eval.{fmt}")
        written = await export(db, inc, fmt, out, book)
        assert written and all(p.stat().st_size > 0 for p in written)
        seen.append((fmt, ",".join(p.name for p in written)))
    assert seen == [("json", "eval.json"), ("csv", "events.csv,comments.csv,replies.csv,decisions.csv"),
                    ("md", "eval.md"), ("html", "eval.html")]


async def test_json_holds_the_whole_log_and_the_final_state(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    (out,) = await export(db, inc, "json", tmp_path / "eval.json", book)
    doc = msgspec.json.decode(out.read_bytes())
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        raw = await store.raw_events(inc)
        comments = await store.comments(inc)
    finally:
        await store.close()
    assert doc["format"] == FORMAT and doc["version"] == 1
    assert [e["hash"] for e in doc["events"]] == [r[7] for r in raw]
    assert [e["seq"] for e in doc["events"]] == [r[0] for r in raw]
    hostile = next(c for c in doc["state"]["comments"] if c["external_id"] == "evil-1")
    assert hostile["text"] == HOSTILE_TEXT and hostile["author"] == HOSTILE_AUTHOR  # loss-free, escapes and all
    assert len(doc["state"]["comments"]) == len(comments)
    assert doc["state"]["counts"]["total"] == len(comments)
    assert doc["metrics"]["checklist"]["overrides"][0]["reason"] == "<i>apology</i> sent by DM"
    assert doc["state"]["notes"][0]["author"] == "Giulia"


async def test_csv_one_file_per_entity_and_no_formulas(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    written = await export(db, inc, "csv", tmp_path / "refund", book)
    assert [p.name for p in written] == ["refund-events.csv", "refund-comments.csv", "refund-replies.csv",
                                         "refund-decisions.csv"]
    tables = {p.name.split("-")[1].removesuffix(".csv"): list(csv.DictReader(p.open(encoding="utf-8"))) for p in written}
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        assert len(tables["events"]) == len(await store.raw_events(inc))
        assert len(tables["comments"]) == len(await store.comments(inc))
        assert len(tables["replies"]) == len(await store.drafts(inc))
        assert len(tables["decisions"]) == len(await store.decisions(inc))
    finally:
        await store.close()
    hostile = next(r for r in tables["comments"] if r["external_id"] == "evil-1")
    assert hostile["text"].startswith("'=HYPERLINK(")  # a spreadsheet shows it, never runs it
    assert "\x1b" not in hostile["text"] and "\x07" not in hostile["text"]
    assert hostile["status"] == "answered" and float(hostile["response_s"]) >= 0
    reply = next(r for r in tables["replies"] if r["comment_id"] == hostile["id"])
    assert reply["body"].startswith("'-1 is not our answer")
    assert reply["status"] == "sent" and reply["override_reason"] == "<i>apology</i> sent by DM"
    approved = next(r for r in tables["decisions"] if r["title"].startswith("Say"))
    assert approved["status"] == "approved" and approved["present"] and float(approved["latency_s"]) >= 0
    for rows in tables.values():
        for row in rows:
            for value in row.values():
                assert not value.startswith(("=", "+", "@")), value


async def test_the_comments_as_the_log_leaves_them_match_the_store(demo: tuple[Path, str], book: Playbook) -> None:
    """The exports read comments from the log; every status move must land where the projection puts it."""
    db, inc = demo
    store = await SqliteStore.open(db, playbook=book)
    try:
        await store.claim(inc, 3, actor="Ana")
        await store.release(inc, 3, actor="Ana")
        await store.tag(inc, 4, ["refund", "App"], actor="Giulia")
        await store.mark(inc, 5, "escalated", actor="Giulia")
        await store.claim(inc, 5, actor="Luis")
        await store.mark(inc, 6, "ignored", actor="Giulia", reason="spam")
        await store.mark(inc, 6, "new", actor="Giulia", reason="not spam after all")
        await store.claim(inc, 7, actor="Sam")
        await store.mark(inc, 7, "removal_requested", actor="Sam")
        from_log = comments_from(await store.events_after(inc, 0, 100_000), inc)
        assert from_log == await store.comments(inc)
        assert counts_of(from_log) == await store.counts(inc)
    finally:
        await store.close()


async def test_progress_is_reported_phase_by_phase(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    seen: list[tuple[str, int, int | None]] = []
    store = await SqliteStore.open(db, read_only=True, playbook=book)
    try:
        await export_incident(store, inc, "csv", f"{tmp_path}/p/", playbook=book,
                              progress=lambda phase, done, total: seen.append((phase, done, total)))
        events = len(await store.raw_events(inc))
    finally:
        await store.close()
    phases = list(dict.fromkeys(phase for phase, _, _ in seen))
    assert phases == ["reading the log", "reading the final state", "computing metrics", "writing csv"]
    assert ("reading the log", events, events) in seen
    assert seen[-1] == ("writing csv", 4, 4)


def test_csv_output_is_a_folder_or_a_prefix(tmp_path: Path) -> None:
    folder = tmp_path / "exists"
    folder.mkdir()
    assert paths_for(folder)["events"] == folder / "events.csv"
    assert paths_for(tmp_path / "new", str(tmp_path / "new") + "/")["decisions"] == tmp_path / "new" / "decisions.csv"
    assert paths_for(tmp_path / "eval.csv")["comments"] == tmp_path / "eval-comments.csv"
    with pytest.raises(InvalidInput, match="does not exist"):
        paths_for(tmp_path / "missing" / "prefix")


async def test_md_is_the_evaluation_document(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    (out,) = await export(db, inc, "md", tmp_path / "eval.md", book)
    text = out.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## Summary", "## Timeline", "## What was said", "## Decisions", "## Metrics", "## Outbound",
                        "## Review"]
    for number, question in enumerate(book.review.questions, start=1):
        assert f"### {number}. {md(question)}" in text
    assert text.count("> _Answer:_") == len(book.review.questions)
    assert "Luis approved decision: Publish a holding statement" in text
    assert "Ana, Giulia, Luis, Sam" in text  # who was present
    assert "Median response time" in text and "p90 response time" in text and "SLA breaches" in text
    assert "Checklist overrides" in text and "Per operator" in text
    # hostile strings are literal text in every Markdown viewer
    assert not re.search(r"(?<!\\)[<\[\]]", text.split("## Review")[0].replace("[review]", "")), "unescaped < [ ]"
    assert "\\<i\\>apology\\</i\\> sent by DM" in text
    assert "Say \\<b\\>sorry\\</b\\> \\| \\[now\\](http://evil.example) \\& \\*\\*loudly\\*\\*" in text
    assert "\x1b" not in text


async def test_html_escapes_every_untrusted_string(demo: tuple[Path, str], tmp_path: Path, book: Playbook) -> None:
    db, inc = demo
    (out,) = await export(db, inc, "html", tmp_path / "eval.html", book)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<img" not in page and "<b>sorry" not in page
    assert "&lt;b&gt;sorry&lt;/b&gt;" in page and "&lt;i&gt;apology&lt;/i&gt; sent by DM" in page
    assert 'http-equiv="Content-Security-Policy"' in page and "default-src &#x27;none&#x27;" in page
    assert page.count("<svg") == 3
    assert "\x1b" not in page


def test_cli_export_and_its_mistakes(tmp_path: Path, book: Playbook) -> None:
    import asyncio

    db = tmp_path / "demo.db"
    inc = asyncio.run(make_demo(db, book))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                              timeout=120, cwd=tmp_path, env={**os.environ})

    done = cli("export", str(db), "--format", "md")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress display when stderr is not a terminal
    assert done.stdout.strip() == f"wrote {inc}.md" and (tmp_path / f"{inc}.md").exists()
    assert "Traceback" not in done.stderr
    folder = cli("export", f"{db}#{inc}", "-f", "csv")
    assert folder.returncode == 0 and (tmp_path / f"{inc}-csv" / "events.csv").exists()
    for args, message in (
        (("export", str(db), "-f", "html", "-o", str(tmp_path / "nowhere" / "x.html")), "does not exist"),
        (("export", str(db), "-f", "json", "-o", str(tmp_path)), "is a folder"),
        (("export", str(tmp_path / "missing.db")), "no incident file"),
        (("export", f"{db}#nope"), "no incident 'nope'"),
    ):
        failed = cli(*args)
        assert failed.returncode == 2, args
        assert message in failed.stderr and "Traceback" not in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1
    bad_format = cli("export", str(db), "-f", "pdf")
    assert bad_format.returncode == 2 and "pdf" in bad_format.stderr


def test_the_export_and_import_import_no_textual() -> None:
    code = (
        "import sys, crisis_tui.export, crisis_tui.export.charts, crisis_tui.importer, crisis_tui.wallboard.live\n"
        "assert not [m for m in sys.modules if m == 'textual' or m.startswith('textual.')], 'textual imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def test_a_decision_that_was_not_ours_says_so_in_the_evaluation(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "owner.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.heartbeat(inc, actor="Carla", role="client")
        taken = await store.propose_decision(inc, "Take the post down", actor="Luis", rationale="tone-deaf",
                                                 owner_decides=True)
        await store.vote_decision(inc, taken.id, True, actor="Carla")
        await export_incident(store, inc, "md", tmp_path / "eval.md", playbook=book)
        await export_incident(store, inc, "csv", f"{tmp_path}/csv/", playbook=book)  # a folder: one file per entity
    finally:
        await store.close()
    assert "approved (not ours: the owner's call)" in (tmp_path / "eval.md").read_text(encoding="utf-8")
    with (tmp_path / "csv" / "decisions.csv").open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["owner_decides"] == "True" and row["decided_by"] == "Carla"
