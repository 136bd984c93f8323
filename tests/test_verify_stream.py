"""verify streams the log: comments compared as they arrive (and replayed only when the log changes
them) find exactly what one replay of the whole log finds, on an intact file and on files edited
behind the store's back, whatever the page size."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from crisis_tui.model import NewComment
from crisis_tui.playbook import Playbook
from crisis_tui.store import audit
from crisis_tui.store.audit import audit_path, describe
from crisis_tui.store.sqlite import SqliteStore

COMMENTS = 60


async def _incident(db: Path, book: Playbook) -> str:
    """Comments, then work on early and late ones: claims, a release, marks, tags, a reply sent."""
    async with await SqliteStore.open(db, playbook=book) as store:
        inc = (await store.create_incident("Refund delays", actor="Luis")).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        for start in range(0, COMMENTS, 20):
            await store.ingest(inc, [NewComment(source="x", external_id=f"c{i}", author=f"@p{i}", text=f"refund {i}")
                                     for i in range(start, start + 20)])
        await store.claim(inc, 2, actor="Luis")
        await store.claim(inc, 3, actor="Luis")
        await store.release(inc, 3, actor="Luis")
        await store.mark(inc, 30, "ignored", actor="Luis", reason="spam")
        await store.tag(inc, 41, ["refund"], actor="Luis")
        await store.claim(inc, 59, actor="Luis")
        draft = await store.save_draft(inc, "Sorry for the wait: your refund leaves today.", actor="Luis", comment_id=59)
        await store.set_draft_status(inc, draft.id, "in_review", actor="Luis")
        await store.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason="checked by hand")
        await store.set_draft_status(inc, draft.id, "sent", actor="Luis")
    return inc


EDITS: dict[str, Callable[[sqlite3.Connection], object]] = {
    "intact": lambda raw: None,
    "a text changed": lambda raw: raw.execute("UPDATE comments SET text = 'edited' WHERE id = 11"),
    "a claim undone": lambda raw: raw.execute("UPDATE comments SET status = 'new', holder = NULL WHERE id = 2"),
    "a release undone": lambda raw: raw.execute("UPDATE comments SET status = 'claimed', holder = 'Luis' WHERE id = 3"),
    "a reply unsent": lambda raw: raw.execute("UPDATE comments SET status = 'claimed' WHERE id = 59"),
    "rows deleted": lambda raw: raw.execute("DELETE FROM comments WHERE id IN (5, 41, 60)"),
    "a row added": lambda raw: raw.execute(
        "INSERT INTO comments (id, incident_id, source, external_id, author, text, received_at) "
        "SELECT 99, incident_id, 'x', 'forged', '@f', 'forged', 0 FROM comments WHERE id = 1"),
    "a row added between": lambda raw: (raw.execute("DELETE FROM comments WHERE id = 25"), raw.execute(
        "INSERT INTO comments (id, incident_id, source, external_id, author, text, received_at) "
        "SELECT 25, incident_id, 'x', 'c24b', '@f', 'forged', 0 FROM comments WHERE id = 1")),
    "an event removed": lambda raw: raw.execute(
        "DELETE FROM events WHERE seq = (SELECT seq FROM events WHERE kind = 'comment.status')"),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
async def test_pages_find_what_one_replay_finds(tmp_path: Path, book: Playbook, edit: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "incident.db"
    inc = await _incident(db, book)
    raw = sqlite3.connect(db, isolation_level=None)
    EDITS[edit](raw)
    raw.close()
    whole = describe(audit_path(db, inc, at=5))
    for fetch in (1, 3, 7):
        monkeypatch.setattr(audit, "FETCH", fetch)
        copy = tmp_path / f"copy-{fetch}.db"
        shutil.copyfile(db, copy)
        assert [line.replace(str(copy), str(db)) for line in describe(audit_path(copy, inc, at=5))] == whole
    monkeypatch.undo()
    if edit == "intact":
        assert whole[-1].endswith("every table matches a replay of the log, file intact")
    else:
        assert "NOT the log's" in whole[-1]


async def test_what_each_edit_is_named(tmp_path: Path, book: Playbook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit, "FETCH", 7)
    db = tmp_path / "incident.db"
    inc = await _incident(db, book)
    raw = sqlite3.connect(db, isolation_level=None)
    EDITS["a claim undone"](raw)
    EDITS["rows deleted"](raw)
    EDITS["a row added"](raw)
    raw.close()
    report = audit_path(db, inc)
    found = [p.line() for p in report.differences]
    # the kept counts no longer match the comments the edits left: named after the rows
    counts = [line for line in found if line.startswith(("table comment_counts, status ", "table arrival_minutes, "))]
    assert counts[0] == "table comment_counts, status 'claimed': counts 1 comments, the file holds 0"
    assert counts[2] == "table arrival_minutes, minute 0: counts 0 comments (0 negative), the file holds 1 (0 negative)"
    assert found[len(found) - len(counts):] == counts and len(counts) == 4
    assert found[:len(found) - len(counts)] == [
        "table comments, row 2, column status: is 'new' in the file, the log says 'claimed'",
        "table comments, row 2, column holder: is None in the file, the log says 'Luis'",
        "table comments, row 5: is missing from the file, but the log makes it",
        "table comments, row 41: is missing from the file, but the log makes it",
        "table comments, row 60: is missing from the file, but the log makes it",
        "table comments, row 99: is in the file, but no event of the log makes it",
    ]
    assert report.head is not None and report.events == report.head.number


async def test_the_story_incident_is_intact_whatever_the_page(tmp_path: Path, book: Playbook,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event kind the store writes (the vocabulary's story), a newer kind and a broken payload."""
    from tests.event_story import every_kind, newer_and_broken  # noqa: PLC0415

    db = tmp_path / "story.db"
    async with await SqliteStore.open(db, playbook=book) as store:
        inc = await every_kind(store, book)
        await newer_and_broken(store, inc)
    whole = describe(audit_path(db, inc))
    assert whole[-1].endswith("every table matches a replay of the log, file intact")
    monkeypatch.setattr(audit, "FETCH", 1)
    assert describe(audit_path(db, inc)) == whole
