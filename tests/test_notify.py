"""Word out: situation reports and notifications delivered by Apprise to a real JSON receiver
on loopback, each delivery and failure on the timeline, a failing target blocking no other."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from crisis_tui import events as ev
from crisis_tui.cli import main
from crisis_tui.comment_shape import parse_comment
from crisis_tui.notify import sitrep
from crisis_tui.notify.runner import Notifier, issue_sitrep
from crisis_tui.playbook import NotifyTarget, Playbook, SitrepSettings
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import describe
from tests.notify_receiver import Receiver, receiver  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(60)


def _book(book: Playbook, *targets: NotifyTarget, every: float = 0.0) -> Playbook:
    return msgspec.structs.replace(book, notify=list(targets), sitrep=SitrepSettings(every_minutes=every))


async def _incident(store: SqliteStore) -> tuple[str, list[int]]:
    inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2")).id
    raw = [{"source": "x", "id": f"c{n}", "author": f"@u{n}", "text": f"¿Y mi reembolso? {n}"} for n in range(4)]
    ids = (await store.ingest(inc, [parse_comment(r) for r in raw])).ids
    return inc, ids


async def test_a_sitrep_on_a_hand_built_incident_says_its_counts(tmp_path: Path, book: Playbook) -> None:
    async with await SqliteStore.open(tmp_path / "room.db", playbook=book) as store:
        inc, ids = await _incident(store)
        await store.mark(inc, ids[0], "answered", actor="Ana")
        await store.mark(inc, ids[1], "escalated", actor="Ana", to="legal", reason="a lawyer writes")
        await store.claim(inc, ids[2], actor="Ana")
        await store.heartbeat(inc, actor="Luis", role="gm")
        await store.propose_decision(inc, "Publish a holding statement", actor="Luis", rationale="it spreads")
        incident = await store.get_incident(inc)
        text = await sitrep.build(store, inc, book, since=None, now=incident.opened_at + 125)
        lines = text.splitlines()
        assert lines[0] == "Situation report · Refund delays · SEV2 · not our fault · open"
        assert lines[1].endswith("open 2m05s, first report")
        assert lines[2] == ("comments 4: unanswered 3 (new 1, claimed 1, escalated 1), answered 1, ignored 0, "
                            "removal asked 0")
        assert lines[3].startswith("oldest unanswered waits 2m0") and "(within SLA: 30m00s)" in lines[3]
        assert lines[4:-1] == ["decisions since the last report: 1",
                               "  proposed: Publish a holding statement (by Luis)",
                               "public statements sent: 0", "decisions waiting for a vote: 1", "open escalations: 1"]
        assert lines[-1].startswith(f"  waiting for legal's answer: #{ids[1]} for 2m0")
        await store.answer_escalation(inc, ids[1], "legal: refund, no admission", actor="Luis")
        answered = await sitrep.build(store, inc, book, since=None, now=incident.opened_at + 125)
        assert answered.splitlines()[-1] == "open escalations: 1"
        said, outcome = await issue_sitrep(store, inc, book, actor="Luis")
        assert outcome.delivered == [] and said.startswith("Situation report")
        again = await sitrep.build(store, inc, book, since=await sitrep.last_report_at(store, inc))
        assert "no decision since the last report" in again and ", last report 0m0" in again


async def test_events_reach_their_targets_a_failing_one_blocks_none_and_a_restart_sends_nothing_twice(
        tmp_path: Path, book: Playbook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARE_URL", receiver.url("ok/care"))
    monkeypatch.setenv("LEGAL_URL", receiver.url("ok/legal"))
    monkeypatch.setenv("DOWN_URL", receiver.url("down/teams"))
    targets = (NotifyTarget(name="care", url_env="CARE_URL", events=["decision_proposed", "escalation",
                                                                     "escalation_answered"]),
               NotifyTarget(name="legal", url_env="LEGAL_URL", department="legal"),
               NotifyTarget(name="teams", url_env="DOWN_URL", events=["decision_proposed"], timeout_seconds=3),
               NotifyTarget(name="unset", url_env="NOBODY_SET_THIS", events=["decision_proposed"]))
    monkeypatch.delenv("NOBODY_SET_THIS", raising=False)
    playbook = _book(book, *targets)
    async with await SqliteStore.open(tmp_path / "room.db", playbook=playbook) as store:
        inc, ids = await _incident(store)
        notifier = Notifier(store, inc, playbook)
        start = await notifier.catch_up()
        await store.heartbeat(inc, actor="Luis", role="gm")
        await store.propose_decision(inc, "Publish a holding statement", actor="Luis", rationale="it spreads")
        await store.mark(inc, ids[1], "escalated", actor="Ana", to="Legal", reason="a lawyer writes")
        await store.answer_escalation(inc, ids[1], "no admission; refund", actor="Luis")
        began = time.monotonic()
        for event in await store.events_after(inc, start):
            await notifier.handle(event)
        assert time.monotonic() - began < 8  # the failing target had its own 3 s, not everyone's
        assert [m["message"] for m in receiver.got["care"]] == [
            "[SEV2] Refund delays: Luis proposes: Publish a holding statement (it spreads)",
            f"[SEV2] Refund delays: Ana escalates comment {ids[1]} to Legal: a lawyer writes",
            f"[SEV2] Refund delays: Legal answered on comment {ids[1]} after 0m00s: no admission; refund"]
        assert [m["message"] for m in receiver.got["legal"]] == [receiver.got["care"][1]["message"]]  # its department
        events = [e for e in await store.events_after(inc, 0) if isinstance(e.body, ev.NotificationSent)]
        sent = [e.body for e in events if isinstance(e.body, ev.NotificationSent)]
        assert [(b.about, b.delivered) for b in sent] == [
            ("decision_proposed", ["care"]), ("escalation", ["care", "legal"]), ("escalation_answered", ["care"])]
        failed = sent[0].failed
        assert set(failed) == {"teams", "unset"} and "$NOBODY_SET_THIS is not set" in failed["unset"]
        assert describe(events[0]).startswith("told care of decision_proposed; failed: teams: ")
        # a restart resumes after the last notified event: nothing is sent twice
        again = Notifier(store, inc, playbook)
        resumed = await again.catch_up()
        assert resumed == sent[-1].about_seq
        for event in await store.events_after(inc, 0):
            assert await again.handle(event) is None
        assert len(receiver.got["care"]) == 3


async def test_a_quiet_period_holds_a_second_notice_and_the_sitrep_goes_out_on_time(
        tmp_path: Path, book: Playbook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARE_URL", receiver.url("ok/care"))
    playbook = _book(book, NotifyTarget(name="care", url_env="CARE_URL", events=["escalation", "sitrep"],
                                        quiet_seconds=600), every=1.0)
    now = [time.time()]
    async with await SqliteStore.open(tmp_path / "room.db", playbook=playbook) as store:
        inc, ids = await _incident(store)
        notifier = Notifier(store, inc, playbook, clock=lambda: now[0])
        start = await notifier.catch_up()
        for comment_id in ids[:2]:
            await store.mark(inc, comment_id, "escalated", actor="Ana", to="care")
        for event in await store.events_after(inc, start):
            await notifier.handle(event)
        assert len(receiver.got["care"]) == 1  # the second fell inside the quiet period
        assert await notifier.sitrep_due() is True
        assert await notifier.sitrep_due() is False  # not again within the minute
        now[0] += 61
        notifier.last_sent.clear()
        assert await notifier.sitrep_due() is True
        reports = [e.body for e in await store.events_after(inc, 0) if isinstance(e.body, ev.SitrepIssued)]
        assert len(reports) == 2 and reports[-1].delivered == ["care"]


def test_crisis_tui_sitrep_prints_sends_and_records(tmp_path: Path, receiver: Receiver,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "room.db"
    playbook = tmp_path / "book.toml"
    from crisis_tui import playbook as playbook_mod
    playbook.write_text(playbook_mod.shipped_path().read_text(encoding="utf-8") +
                        '\n[[notify]]\nname = "leadership"\nurl_env = "LEAD_URL"\nevents = ["sitrep"]\n',
                        encoding="utf-8")
    monkeypatch.setenv("LEAD_URL", receiver.url("ok/leadership"))
    runner = CliRunner()
    made = runner.invoke(main, ["--playbook", str(playbook), "new", str(db), "--title", "Refund delays", "--as", "Luis"])
    assert made.exit_code == 0, made.output
    said = runner.invoke(main, ["--playbook", str(playbook), "sitrep", str(db), "--as", "Luis"])
    assert said.exit_code == 0, said.output
    assert said.output.splitlines()[0].startswith("Situation report · Refund delays")
    assert said.output.splitlines()[-1] == "sent to leadership"
    assert receiver.got["leadership"][0]["message"].startswith("Situation report · Refund delays")
