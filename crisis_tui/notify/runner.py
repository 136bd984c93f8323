"""Follow an incident's log and tell other departments, each delivery on the record.

Run it once per incident (`crisis-tui notify INCIDENT`): it starts after the newest
event already notified (the `notify.sent` events are its cursor, so a restart never
sends twice and a first start does not flood anyone with the backlog), sends each
event other departments hear of (crisis_tui.notify.rules) to its targets, and writes
one `notify.sent` with who was reached and why others were not. With a playbook
`[sitrep] every_minutes`, it also issues the situation report on time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from crisis_tui import events as ev
from crisis_tui.model import Event
from crisis_tui.notify import rules, sitrep
from crisis_tui.notify.deliver import Outcome, deliver
from crisis_tui.playbook import Playbook
from crisis_tui.store.protocol import IncidentStore

ACTOR = "notify"
PAGE = 1000


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
        outcome = await deliver(targets, words[:120], words)
        for name in outcome.delivered:
            self.last_sent[name] = now
        await self.store.record_notification(self.incident_id, event.seq, kind, words, actor=ACTOR,
                                             delivered=outcome.delivered, failed=outcome.failed)
        return outcome

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
