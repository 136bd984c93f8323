"""An escalation to a department waits for its answer, which someone records in the room: on every
transport, from the CLI, over raw HTTP and in the room (E). The answer and the time it took go into
the evaluation export as the time to loop the department in."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crisis_tui import events as ev
from crisis_tui.cli import main
from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput, NotFound
from crisis_tui.export import export_incident
from crisis_tui.notify.loop_in import loop_ins, waiting
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import describe
from tests.room_support import loaded, make_app, screen_text, wait_for
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

ANSWER = "Legal: no admission of fault [b]yet[/b]; offer the refund"


async def _two_comments(store: IncidentStore, incident: str) -> list[int]:
    raw = [{"source": "x", "id": f"c{n}", "author": f"@u{n}", "text": f"¿Y mi reembolso? {n}"} for n in range(2)]
    return (await store.ingest(incident, [parse_comment(r) for r in raw])).ids


async def test_an_escalation_waits_for_its_answer_and_the_answer_closes_it_once(
    store: IncidentStore, incident: str, tmp_path: Path, book: Playbook
) -> None:
    first, second = await _two_comments(store, incident)
    with pytest.raises(InvalidInput, match=f"comment #{first} has no escalation waiting for an answer"):
        await store.answer_escalation(incident, first, ANSWER, actor="Luis")
    await store.mark(incident, first, "escalated", actor="Ana", reason="they threaten to sue", to="Legal")
    assert [w.to for w in waiting(await store.events_after(incident))] == ["Legal"]
    with pytest.raises(InvalidInput, match="answer: must not be empty"):
        await store.answer_escalation(incident, first, "  ", actor="Luis")
    with pytest.raises(NotFound):
        await store.answer_escalation(incident, 999, ANSWER, actor="Luis")

    answered = await store.answer_escalation(incident, first, ANSWER, actor="Luis")
    assert isinstance(answered.body, ev.EscalationAnswered)
    assert (answered.body.comment_id, answered.body.to, answered.body.answer, answered.body.author) == (
        first, "Legal", ANSWER, "@u0")
    with pytest.raises(InvalidInput, match="no escalation waiting"):
        await store.answer_escalation(incident, first, "again", actor="Luis")
    assert (await store.get_comment(incident, first)).status == "escalated"  # the commenter still waits

    events = await store.events_after(incident)
    [item] = loop_ins(events)
    escalated = next(e for e in events if isinstance(e.body, ev.CommentMarked))
    assert (item.answered_by, item.answer, item.seconds) == ("Luis", ANSWER, answered.ts - escalated.ts)
    assert waiting(events) == []
    line = describe(answered)
    assert line.startswith(f"Legal answered the escalation of @u0 (#{first}) after 0m00s, recorded by Luis: ")

    # A second escalation of another comment nobody answered: listed as waiting in the export.
    await store.mark(incident, second, "escalated", actor="Ana", reason="logistics lost the parcel", to="logistics")
    [out] = await export_incident(store, incident, "json", tmp_path / "out.json", playbook=book)
    exported = json.loads(out.read_text())["loop_ins"]
    assert [(x["to"], x["answer"], x["answered_by"]) for x in exported] == [
        ("Legal", ANSWER, "Luis"), ("logistics", "", "")]
    assert exported[0]["seconds"] == pytest.approx(item.seconds) and exported[1]["seconds"] is None
    [md] = await export_incident(store, incident, "md", tmp_path / "out.md", playbook=book)
    report = md.read_text()
    assert "Time to loop in" in report and "no answer recorded" in report
    assert "no admission of fault" in report


async def test_a_raw_client_records_the_answer_and_a_comment_without_escalation_is_422(
    serve: ServeFactory,  # noqa: F811
) -> None:
    served = await serve(triage=False)
    luis = await served.store("Luis", "lead")
    inc = (await luis.create_incident("Refund delays", actor="Luis")).id
    first, _ = await _two_comments(luis, inc)
    raw = served.raw(await served.token("Ana", "operator"))
    refused = await raw.post(f"/incidents/{inc}/comments/{first}/escalation-answer", json={"answer": ANSWER})
    assert refused.status_code == 422 and "no escalation waiting" in refused.json()["detail"]
    await luis.mark(inc, first, "escalated", actor="Luis", reason="a claim", to="legal")
    made = await raw.post(f"/incidents/{inc}/comments/{first}/escalation-answer", json={"answer": ANSWER})
    assert made.status_code == 201, made.text
    assert made.json()["kind"] == "escalation.answered" and made.json()["actor"] == "Ana"
    assert (await raw.post(f"/incidents/{inc}/comments/{first}/escalation-answer", json={})).status_code == 422


async def test_the_store_says_which_escalation_waits_by_the_rule_its_write_applies(
    store: IncidentStore, incident: str
) -> None:
    first, second = await _two_comments(store, incident)
    assert await store.open_escalation(incident, first) is None
    with pytest.raises(NotFound):
        await store.open_escalation(incident, 999)
    await store.mark(incident, first, "escalated", actor="Ana", reason="a claim", to="Legal")
    await store.mark(incident, first, "new", actor="Ana")  # put back to waiting: the escalation still waits
    again = await store.mark(incident, first, "escalated", actor="Ana", reason="they sue now", to="Legal")
    waiting_for = await store.open_escalation(incident, first)
    assert waiting_for is not None and isinstance(waiting_for.body, ev.CommentMarked)
    assert (waiting_for.body.to, waiting_for.body.reason) == ("Legal", "they sue now")
    assert again.status == "escalated"
    assert await store.open_escalation(incident, second) is None
    answered = await store.answer_escalation(incident, first, ANSWER, actor="Luis")
    assert isinstance(answered.body, ev.EscalationAnswered) and answered.body.escalated_seq == waiting_for.seq
    assert await store.open_escalation(incident, first) is None


async def test_e_on_a_comment_nobody_escalated_says_so_before_any_typing(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2")).id
        first, _ = await _two_comments(store, inc)
        app = make_app(store, inc, book)
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await loaded(pilot)
            assert app.room.stream.select_id(first)
            await pilot.press("E")
            await wait_for(pilot, lambda: f"comment #{first} has no escalation waiting" in screen_text(app))
            assert "Department's answer" not in screen_text(app)
        assert [e for e in await store.events_after(inc) if isinstance(e.body, ev.EscalationAnswered)] == []
    finally:
        await store.close()


def test_the_cli_records_the_answer_and_lists_what_waits(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    runner = CliRunner()
    assert runner.invoke(main, ["new", str(db), "--title", "Refund delays", "--as", "Luis"]).exit_code == 0

    async def prepare() -> None:
        store = await SqliteStore.open(db)
        try:
            inc = (await store.list_incidents())[0].id
            first, second = await _two_comments(store, inc)
            await store.mark(inc, first, "escalated", actor="Ana", reason="a claim", to="legal")
            await store.mark(inc, second, "escalated", actor="Ana", reason="lost parcel", to="logistics")
        finally:
            await store.close()

    asyncio.run(prepare())
    said = runner.invoke(main, ["escalation-answer", str(db), "1", "Legal says: refund, no admission", "--as", "Marta"])
    assert said.exit_code == 0, said.output
    assert said.output.startswith("legal answered the escalation of @u0 (#1) after ")
    assert said.output.rstrip().endswith("recorded by Marta: Legal says: refund, no admission")
    again = runner.invoke(main, ["escalation-answer", str(db), "1", "twice", "--as", "Marta"])
    assert again.exit_code != 0 and "no escalation waiting" in again.output and "Traceback" not in again.output
    listed = runner.invoke(main, ["escalations", str(db)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].startswith("#1 to legal by Ana (a claim): answered after ")
    assert lines[0].endswith("recorded by Marta: Legal says: refund, no admission")
    assert lines[1].startswith("#2 to logistics by Ana (lost parcel): waiting for an answer for ")


async def test_e_in_the_room_records_the_departments_answer(tmp_path: Path, book: Playbook) -> None:
    store = await SqliteStore.open(tmp_path / "incident.db", playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2")).id
        first, _ = await _two_comments(store, inc)
        await store.mark(inc, first, "escalated", actor="Ana", reason="a claim", to="Legal")
        app = make_app(store, inc, book)
        async with app.run_test(size=(120, 36), notifications=True) as pilot:
            await loaded(pilot)
            assert app.room.stream.select_id(first)
            await pilot.press("E")
            await wait_for(pilot, lambda: "Department's answer" in screen_text(app))
            await pilot.press("enter")
            await wait_for(pilot, lambda: "an answer needs its words" in screen_text(app))
            for key in "offer the refund":
                await pilot.press("space" if key == " " else key)
            await pilot.press("enter")
            await wait_for(pilot, lambda: "Legal answered the escalation" in screen_text(app))
        [item] = loop_ins(await store.events_after(inc))
        assert (item.answer, item.answered_by) == ("offer the refund", "Ana")
    finally:
        await store.close()


def test_sitrep_with_no_send_says_it_was_only_recorded(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    runner = CliRunner()
    assert runner.invoke(main, ["new", str(db), "--title", "Refund delays", "--as", "Luis"]).exit_code == 0
    kept = runner.invoke(main, ["sitrep", str(db), "--no-send", "--as", "Luis"])
    assert kept.exit_code == 0, kept.output
    assert kept.output.startswith("Situation report · Refund delays")
    assert kept.output.splitlines()[-1] == "recorded, not sent (--no-send)"
