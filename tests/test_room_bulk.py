"""Bulk actions in the room: mark with space (or a whole copy-paste cluster with *), then
i, b, g or u act on every marked comment in one store call, each on the record."""

from __future__ import annotations

from crisis_tui.bulk_words import summary
from crisis_tui.model import BulkResult, BulkSkip
from crisis_tui.playbook import Playbook
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.widgets.stream import MARKED, CommentStream
from tests.room_support import comments, loaded, make_app, screen_text, sqlite, wait_for  # noqa: F401 - the fixtures

WAVE: list[dict[str, object]] = [
    {"source": "x", "id": f"w-{n}", "author": f"@bot_{n}", "text": "BOYCOTT LUMO NOW"} for n in range(4)]
OTHERS: list[dict[str, object]] = [{"source": "x", "id": "x-9", "author": "@marta_viaja", "text": "¿Y mi reembolso?"}]


async def _incident(store: SqliteStore) -> str:
    incident = (await store.create_incident("Refund delays", actor="Luis")).id
    wave = comments(WAVE + OTHERS, priorities=[0.9, 0.8, 0.7, 0.6, 0.1])
    for item in wave[:4]:
        item.cluster = "boycott"
    await store.ingest(incident, wave)
    return incident


def notes(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_marked_comments_are_ignored_in_one_step_each_on_the_record(sqlite: SqliteStore, book: Playbook) -> None:
    inc = await _incident(sqlite)
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot)
        stream = app.room.query_one(CommentStream)
        stream.focus()
        await pilot.press("space", "down", "space")
        assert len(stream.marked) == 2
        await wait_for(pilot, lambda: "2 marked" in screen_text(app))
        assert sum(line.lstrip("│ ").startswith(MARKED) for line in screen_text(app).splitlines()) == 2
        await pilot.press("i")
        await wait_for(pilot, lambda: not stream.marked)
        assert "ignored 2 comments" in notes(app)
        statuses = {c.external_id: c.status for c in await sqlite.comments(inc)}
        assert sorted(k for k, v in statuses.items() if v == "ignored") == ["w-0", "w-1"]
        marks = [e for e in await sqlite.events_after(inc, 0) if e.kind == "comment.status"]
        assert [e.actor for e in marks] == ["Ana", "Ana"]


async def test_a_cluster_is_tagged_at_once_and_a_held_comment_is_skipped_with_why(
        sqlite: SqliteStore, book: Playbook) -> None:
    inc = await _incident(sqlite)
    held = next(c for c in await sqlite.comments(inc) if c.external_id == "w-2")
    await sqlite.claim(inc, held.id, actor="Luis")
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(120, 30)) as pilot:
        await loaded(pilot)
        stream = app.room.query_one(CommentStream)
        stream.focus()
        await pilot.press("asterisk")
        assert len(stream.marked) == 4  # the copy-paste wave, not marta
        await pilot.press("g")
        await wait_for(pilot, lambda: "added to each of the 4 marked comments" in screen_text(app))
        await pilot.press(*"bots, wave", "enter")
        await wait_for(pilot, lambda: not stream.marked)
        assert notes(app)[-1] == f"tagged 3 comments; 1 skipped: #{held.id} comment {held.id} is held by Luis"
        tags = {c.external_id: c.tags for c in await sqlite.comments(inc)}
        assert tags == {"w-0": ["bots", "wave"], "w-1": ["bots", "wave"], "w-2": [], "w-3": ["bots", "wave"],
                        "x-9": []}
        await pilot.press("asterisk", "asterisk")  # again: the cluster is unmarked
        assert not stream.marked


def test_the_summary_names_the_first_skipped_and_counts_the_rest() -> None:
    result = BulkResult(action="release", done=[1], unchanged=[],
                        skipped=[BulkSkip(comment_id=n, reason="comment is held by \x1b]52;c;eA==\x07Ana")
                                 for n in range(2, 7)])
    line = summary(result)
    assert line.startswith("released 1 comment; 5 skipped: #2 ") and line.endswith("; and 2 more")
    assert "\x1b" not in line and "\x07" not in line
