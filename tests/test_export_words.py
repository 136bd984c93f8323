"""The evaluation with the words in it: what was sent, under whose approval, and escalations.

The md and html exports carry every reply and statement text sent, with its
approval (who, which version, the override's reason) and its checklist, whole
timeline lines, and each escalation's target and reason, which the store
records over every transport and the room asks for in its escalate form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crisis_tui.errors import InvalidInput
from crisis_tui.events import CommentMarked
from crisis_tui.export import export_incident
from crisis_tui.export.to_md import md
from crisis_tui.playbook import Playbook
from crisis_tui.screens.forms import EscalateComment
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from tests.room_support import comments, loaded, make_app, wait_for

LONG_NOTE = "The courier confirmed the delay " + "and every refund goes out through the bank's batch, " * 6 + "END."
FIRST = "Sorry for the wait. Your refund is on its way: the link is in your messages today."
SECOND = "Sorry for the wait, Marta. Your refund is paid today: the tracking link is in your messages."
STATEMENT = "We're sorry: since Tuesday's update some refunds are stuck.\nThe error is ours; each is paid within 48 hours."


@pytest.fixture
async def sqlite(tmp_path: Path, book: Playbook) -> AsyncIterator[SqliteStore]:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        yield store
    finally:
        await store.close()


async def answered(store: SqliteStore) -> str:
    """A reply approved, edited after approval (v2), approved again with an override and sent;
    a two-line statement; an escalation to Legal; a long note."""
    inc = (await store.create_incident("Refund delays", actor="Luis")).id
    await store.heartbeat(inc, actor="Luis", role="gm")
    await store.heartbeat(inc, actor="Ana", role="cm")
    await store.heartbeat(inc, actor="Sam", role="marketing")
    ids = (await store.ingest(inc, comments())).ids
    await store.claim(inc, ids[0], actor="Ana")
    draft = await store.save_draft(inc, FIRST, actor="Ana", comment_id=ids[0])
    await store.set_draft_status(inc, draft.id, "in_review", actor="Ana")
    await store.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason="first look")
    draft = await store.save_draft(inc, SECOND, actor="Ana", comment_id=ids[0], draft_id=draft.id,
                                   base_version=draft.version)
    await store.set_draft_status(inc, draft.id, "approved", actor="Luis", override_reason="the apology is in the DM")
    await store.set_draft_status(inc, draft.id, "sent", actor="Ana")
    statement = await store.save_draft(inc, STATEMENT, actor="Luis", kind="statement")
    await store.set_draft_status(inc, statement.id, "in_review", actor="Luis")
    await store.set_draft_status(inc, statement.id, "approved", actor="Sam", override_reason="cleared with legal")
    await store.set_draft_status(inc, statement.id, "sent", actor="Luis")
    await store.mark(inc, ids[1], "escalated", actor="Ana", to="Legal", reason="threatens to sue <b>today</b>")
    await store.add_note(inc, LONG_NOTE, actor="Ana")
    return inc


async def test_md_holds_every_text_sent_with_its_approval_and_checklist(
    sqlite: SqliteStore, tmp_path: Path, book: Playbook
) -> None:
    inc = await answered(sqlite)
    await export_incident(sqlite, inc, "md", tmp_path / "eval.md", playbook=book)
    text = (tmp_path / "eval.md").read_text(encoding="utf-8")
    said = text.split("## What was said")[1].split("## Decisions")[0]
    assert f"> {md(SECOND)}" in said
    assert md(FIRST) not in said  # only the version that went out
    for line in STATEMENT.splitlines():
        assert f"> {md(line)}" in said
    reply, statement = said.split("### Reply to")[1], said.split("### Statement")[1]
    assert "v2 of draft 1" in reply and "by Ana" in reply
    assert "Luis at" in reply and ", v2" in reply and "the apology is in the DM" in reply
    assert "first look" not in reply  # that approval was for v1
    assert "Checklist:" in reply and "✓ calm" in reply
    assert "Sam at" in statement and "v1 of draft 2" in statement
    assert "- – SLA: no comment to time" in statement and "- ✓ SLA" not in statement  # no comment: not timed
    # the timeline's lines whole, the escalation with whom and why
    timeline = text.split("## Timeline")[1].split("## What was said")[0]
    assert md(LONG_NOTE) in timeline
    assert "escalated to Legal: threatens to sue \\<b\\>today\\</b\\>" in timeline
    decisions = text.split("## Decisions")[1].split("## Metrics")[0]
    assert "**Escalations**" in decisions
    assert "| Legal | threatens to sue \\<b\\>today\\</b\\> |" in decisions


async def test_html_holds_the_same_words_escaped(sqlite: SqliteStore, tmp_path: Path, book: Playbook) -> None:
    inc = await answered(sqlite)
    await export_incident(sqlite, inc, "html", tmp_path / "eval.html", playbook=book)
    page = (tmp_path / "eval.html").read_text(encoding="utf-8")
    assert '<section id="s-what-was-said">' in page
    assert SECOND in page and FIRST not in page
    assert "We&#x27;re sorry: since Tuesday&#x27;s update some refunds are stuck.<br>" in page
    assert "the apology is in the DM" in page and "Checklist:" in page
    assert LONG_NOTE.replace("'", "&#x27;") in page
    assert "<td>Legal</td><td>threatens to sue &lt;b&gt;today&lt;/b&gt;</td>" in page
    assert "<b>today" not in page


async def test_an_escalation_records_to_whom_over_every_transport(store: IncidentStore, incident: str) -> None:
    (cid,) = (await store.ingest(incident, comments()[:1])).ids
    with pytest.raises(InvalidInput, match="only an escalation goes to someone"):
        await store.mark(incident, cid, "ignored", actor="Luis", to="Legal")
    await store.mark(incident, cid, "escalated", actor="Luis", to="  Legal  ", reason="a lawyer wrote")
    (marked,) = [e.body for e in await store.events_after(incident, 0, 100) if isinstance(e.body, CommentMarked)]
    assert (marked.status, marked.to, marked.reason) == ("escalated", "Legal", "a lawyer wrote")
    assert (await store.get_comment(incident, cid)).status == "escalated"


async def test_the_room_asks_whom_and_why_before_it_escalates(sqlite: SqliteStore, book: Playbook) -> None:
    inc = (await sqlite.create_incident("Refund delays", actor="Luis")).id
    await sqlite.ingest(inc, comments(priorities=[0.6, 0.3, 0.9]))
    app = make_app(sqlite, inc, book)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EscalateComment))
        await pilot.press(*"Legal", "enter", "enter")
        assert isinstance(app.screen, EscalateComment)  # no reason yet: refused in place
        await pilot.press(*"a lawyer wrote", "enter")
        await wait_for(pilot, lambda: app.room.state.rows[3].status == "escalated")
    events = await sqlite.events_after(inc, 0, 100)
    (marked,) = [e.body for e in events if isinstance(e.body, CommentMarked)]
    assert (marked.comment_id, marked.to, marked.reason) == (3, "Legal", "a lawyer wrote")

