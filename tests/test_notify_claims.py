"""Two notify runners on one incident send each notice once: a runner claims the notice in the
store before it sends (notify.claimed), the store refuses a second claim while the first holds
and every claim once the notice went out; a claim left by a runner that stopped lapses, and the
next runner sends. On every transport, and with real runners and a real receiver."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import msgspec
import pytest

from crisis_tui import events as ev
from crisis_tui.errors import InvalidInput, NoticeTaken
from crisis_tui.notify.runner import Notifier
from crisis_tui.playbook import NotifyTarget, Playbook
from crisis_tui.store.audit import audit_path
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.timeline_text import describe
from tests.notify_receiver import Receiver, receiver  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(60)


async def test_one_runner_holds_a_notice_until_it_went_out_or_its_claim_lapsed(
    store: IncidentStore, incident: str
) -> None:
    await store.add_note(incident, "press call at 3", actor="Luis")
    about = (await store.latest_events(incident, 1))[-1].seq
    claimed = await store.claim_notification(incident, about, actor="notify", runner="host-a:1", lease_seconds=30)
    assert isinstance(claimed.body, ev.NotificationClaimed) and claimed.body.runner == "host-a:1"
    assert claimed.body.until == pytest.approx(claimed.ts + 30, abs=1)
    with pytest.raises(NoticeTaken, match="notify runner host-a:1 is sending the notice of event") as taken:
        await store.claim_notification(incident, about, actor="notify", runner="host-b:2", lease_seconds=30)
    assert taken.value.retry_after is not None and 25 < taken.value.retry_after <= 30
    await store.claim_notification(incident, about, actor="notify", runner="host-a:1", lease_seconds=30)  # renewed
    await store.record_notification(incident, about, "note", "press call at 3", actor="notify", delivered=["care"])
    for runner in ("host-b:2", "host-a:1"):
        with pytest.raises(NoticeTaken, match="went out already") as gone:
            await store.claim_notification(incident, about, actor="notify", runner=runner, lease_seconds=30)
        assert gone.value.retry_after is None

    await store.add_note(incident, "legal is on it", actor="Luis")
    other = (await store.latest_events(incident, 1))[-1].seq
    await store.claim_notification(incident, other, actor="notify", runner="host-a:1", lease_seconds=0.2)
    await asyncio.sleep(0.3)  # host-a stopped before it sent: its claim lapses
    taken_over = await store.claim_notification(incident, other, actor="notify", runner="host-b:2", lease_seconds=30)
    assert isinstance(taken_over.body, ev.NotificationClaimed) and taken_over.body.runner == "host-b:2"
    assert describe(taken_over).startswith("notify (host-b:2) is sending the notice of event")

    for about_seq, runner, lease, field in ((other, "host-c:3", 0.0, "lease_seconds"),
                                            (other, "host-c:3", 601.0, "lease_seconds"),
                                            (other, "  ", 30.0, "runner"), (0, "host-c:3", 30.0, "about_seq")):
        with pytest.raises(InvalidInput, match=field):
            await store.claim_notification(incident, about_seq, actor="notify", runner=runner, lease_seconds=lease)


def _book(book: Playbook, target: NotifyTarget) -> Playbook:
    return msgspec.structs.replace(book, notify=[target])


async def test_two_runners_on_one_incident_send_a_notice_once_and_a_dead_runners_claim_is_sent_after_it(
        tmp_path: Path, book: Playbook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARE_URL", receiver.url("ok/care"))
    playbook = _book(book, NotifyTarget(name="care", url_env="CARE_URL", events=["decision_proposed"],
                                        timeout_seconds=3))
    file = tmp_path / "room.db"
    async with await SqliteStore.open(file, playbook=playbook) as one, \
            await SqliteStore.open(file, playbook=playbook) as two:
        inc = (await one.create_incident("Refund delays", actor="Luis", severity="sev2")).id
        first, second = Notifier(one, inc, playbook), Notifier(two, inc, playbook)
        start = await first.catch_up()
        await second.catch_up()
        await one.heartbeat(inc, actor="Luis", role="gm")
        await one.propose_decision(inc, "Publish a holding statement", actor="Luis", rationale="it spreads")
        events = await one.events_after(inc, start)

        async def follow(notifier: Notifier) -> None:
            for event in events:
                await notifier.handle(event)

        await asyncio.gather(follow(first), follow(second))
        assert [m["message"] for m in receiver.got["care"]] == [
            "[SEV2] Refund delays: Luis proposes: Publish a holding statement (it spreads)"]
        log = await one.events_after(inc, 0)
        assert len([e for e in log if isinstance(e.body, ev.NotificationSent)]) == 1

        # a runner that claimed the next notice and died: the next runner waits its claim out, then sends
        await one.propose_decision(inc, "Pause the ads", actor="Luis", rationale="they mock the delay")
        proposal = (await one.events_after(inc, log[-1].seq))[-1]
        await one.claim_notification(inc, proposal.seq, actor="notify", runner="gone:1", lease_seconds=0.5)
        began = time.monotonic()
        outcome = await Notifier(two, inc, playbook).handle(proposal)
        assert outcome is not None and outcome.delivered == ["care"] and time.monotonic() - began >= 0.4
        assert len(receiver.got["care"]) == 2
    report = audit_path(file, inc)  # the notices table is the log's, like every projection
    assert report.intact, report.differences


async def test_a_target_slower_than_the_longest_claim_still_gets_its_notice(
        tmp_path: Path, book: Playbook, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A playbook may give a target any timeout; the claim is held for at most the store's longest."""
    monkeypatch.setenv("CARE_URL", receiver.url("ok/care"))
    playbook = _book(book, NotifyTarget(name="care", url_env="CARE_URL", events=["decision_proposed"],
                                        timeout_seconds=5000))
    async with await SqliteStore.open(tmp_path / "room.db", playbook=playbook) as store:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev2")).id
        notifier = Notifier(store, inc, playbook)
        start = await notifier.catch_up()
        await store.heartbeat(inc, actor="Luis", role="gm")
        await store.propose_decision(inc, "Publish a holding statement", actor="Luis", rationale="it spreads")
        outcomes = [await notifier.handle(event) for event in await store.events_after(inc, start)]
        assert [o.delivered for o in outcomes if o is not None] == [["care"]]
        [claim] = [e.body for e in await store.events_after(inc, 0) if isinstance(e.body, ev.NotificationClaimed)]
        assert claim.until - time.time() <= 600
