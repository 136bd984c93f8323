"""Follow an incident's log and tell other departments, each delivery on the record.

Run it once per incident (`crisis-tui notify INCIDENT`): it starts after the newest
event already notified (the `notify.sent` events are its cursor, so a restart never
sends twice and a first start does not flood anyone with the backlog), sends each
event other departments hear of (crisis_tui.notify.rules) to its targets, and writes
one `notify.sent` with who was reached and why others were not. With a playbook
`[sitrep] every_minutes`, it also issues the situation report on time.

Two runners on one incident (two hosts, a runner started twice) send each notice once: a
runner claims the notice in the store before it sends (`notify.claimed`, held for its
targets' longest wait and a margin), and the other leaves it. A runner that stopped between
its claim and its record leaves a claim that lapses: the next runner waits it out and sends
(a notice may then go out twice, once per runner that died sending it, never silently lost).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable

from crisis_tui import events as ev
from crisis_tui.errors import NoticeTaken
from crisis_tui.model import Event
from crisis_tui.notify import rules, sitrep
from crisis_tui.notify.deliver import Outcome, deliver
from crisis_tui.playbook import Playbook
from crisis_tui.store.guards import MAX_NOTICE_LEASE
from crisis_tui.store.protocol import IncidentStore

ACTOR = "notify"
PAGE = 1000
#: Seconds a claim holds beyond the longest a delivery may take (each target waits its own
#: timeout and one second more, all at once): the record of the delivery fits within it.
CLAIM_MARGIN = 15.0
#: How often a runner waits out another's claim before it leaves the notice to it for good.
CLAIM_TRIES = 3


def runner_name() -> str:
    """This runner as its claims name it: host, process and a start of its own."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


async def issue_sitrep(store: IncidentStore, incident_id: str, playbook: Playbook, *, actor: str,
                       send: bool = True, since: float | None = None, known_since: bool = False) -> tuple[str, Outcome]:
    """Build, send (to the targets that follow "sitrep") and record one situation report."""
    if not known_since:
        since = await sitrep.last_report_at(store, incident_id)
    text = await sitrep.build(store, incident_id, playbook, since=since)
    drill = (await store.get_incident(incident_id)).drill
    targets = rules.chosen(playbook.notify, "sitrep", "", drill=drill, now=time.time(), last_sent={}) if send else []
    outcome = await deliver(targets, text.splitlines()[0], text) if targets else Outcome()
    await store.record_sitrep(incident_id, text, actor=actor, delivered=outcome.delivered, failed=outcome.failed)
    return text, outcome


class Notifier:
    """The follower: `catch_up()` starts it where it left off, `handle(event)` acts on one event."""

    def __init__(self, store: IncidentStore, incident_id: str, playbook: Playbook, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.incident_id = incident_id
        self.playbook = playbook
        self.clock = clock
        self.runner = runner_name()
        self.cursor = 0
        self.last_sitrep: float | None = None
        self.last_sent: dict[str, float] = {}

    async def catch_up(self) -> int:
        """Read the log once: where notifying stopped (or the head, on a first start) and the last report."""
        after, head, notified = 0, 0, 0
        while True:
            page: list[Event] = await self.store.events_after(self.incident_id, after, PAGE)
            if not page:
                break
            for event in page:
                match event.body:
                    case ev.NotificationSent(about_seq=seq, delivered=names):
                        notified = max(notified, seq)
                        for name in names:
                            self.last_sent[name] = event.ts
                    case ev.SitrepIssued():
                        self.last_sitrep = event.ts
            after = head = page[-1].seq
        self.cursor = notified or head
        return self.cursor

    async def handle(self, event: Event) -> Outcome | None:
        if event.seq <= self.cursor:
            return None
        self.cursor = event.seq
        incident = await self.store.get_incident(self.incident_id)
        said = rules.about(event, incident, self.playbook)
        if said is None:
            return None
        kind, department, words = said
        now = self.clock()
        targets = rules.chosen(self.playbook.notify, kind, department, drill=incident.drill, now=now,
                               last_sent=self.last_sent)
        if not targets:
            return None
        # the store holds a claim for at most MAX_NOTICE_LEASE: a target that takes longer to answer may then
        # be sent by a second runner too (the README says so); refusing such a playbook would break old ones
        lease = min(max(t.timeout_seconds for t in targets) + 1.0 + CLAIM_MARGIN, MAX_NOTICE_LEASE)
        if not await self._claim(event.seq, lease):
            return None
        outcome = await deliver(targets, words[:120], words)
        for name in outcome.delivered:
            self.last_sent[name] = now
        await self.store.record_notification(self.incident_id, event.seq, kind, words, actor=ACTOR,
                                             delivered=outcome.delivered, failed=outcome.failed)
        return outcome

    async def _claim(self, about_seq: int, lease: float) -> bool:
        """True when this runner holds the notice now; False when it went out, or another runner
        kept it through every wait (its claim renewed: it is alive, and sends)."""
        for _ in range(CLAIM_TRIES):
            try:
                await self.store.claim_notification(self.incident_id, about_seq, actor=ACTOR, runner=self.runner,
                                                    lease_seconds=lease)
                return True
            except NoticeTaken as taken:
                if taken.retry_after is None:
                    return False
                await asyncio.sleep(min(taken.retry_after, lease) + 0.05)
        return False

    async def sitrep_due(self) -> bool:
        """Issue the periodic report when it is due (playbook `[sitrep] every_minutes`)."""
        every = self.playbook.sitrep.every_minutes * 60
        now = self.clock()
        if not every or (self.last_sitrep is not None and now - self.last_sitrep < every):
            return False
        await issue_sitrep(self.store, self.incident_id, self.playbook, actor=ACTOR, since=self.last_sitrep,
                           known_since=True)
        self.last_sitrep = now
        return True
