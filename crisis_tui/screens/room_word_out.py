"""The room's word-out keys: a department's answer to an escalation, a situation report on
demand, and the outbound log (everything that left the room).

Each is the same store step as its CLI (`crisis-tui escalation-answer`, `crisis-tui sitrep`,
`crisis-tui outbound`), run in a worker, so a slow notification target never holds a key.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from crisis_tui.model import Event
from crisis_tui.publish.outbound import line, outbound
from crisis_tui.screens.room_panes import RoomPanes
from crisis_tui.screens.word_out_forms import AnswerEscalation, TextPage
from crisis_tui.store import guards
from crisis_tui.widgets.display import plain

if TYPE_CHECKING:
    from crisis_tui.notify.deliver import Outcome

#: The outbound log is derived from the whole log, read a page at a time so the room's keys
#: keep their turn between pages.
PAGE = 2000


def delivery_words(outcome: Outcome) -> str:
    """"sent to leadership; not to legal ($LEGAL_URL is not set)", or "sent to no target"."""
    said = f"sent to {', '.join(outcome.delivered)}" if outcome.delivered else "sent to no target"
    missed = "; ".join(f"not to {name} ({why})" for name, why in outcome.failed.items())
    return plain(f"{said}{'; ' + missed if missed else ''}", 400)


class WordOutCommands(RoomPanes):
    """Escalation answers, situation reports and the outbound log."""

    def action_answer_escalation(self) -> None:
        """The store is asked first whether an escalation waits (the rule its write applies): an
        answer typed for a comment nobody escalated would only be refused after the typing."""
        row = self._row()
        if row is None:
            return

        def done(answer: str | None) -> None:
            if answer:
                self._command(lambda: self.store.answer_escalation(self.incident_id, row.id, answer, actor=self.me),
                              lambda _e: self.notify("the department's answer is on the record", markup=False,
                                                     timeout=3))

        def ask(waiting: Event | None) -> None:
            if waiting is None:
                self.notify(guards.nothing_waits(row.id), severity="warning", markup=False)
            else:
                self.app.push_screen(AnswerEscalation(row.id, row.author), done)

        self._command(lambda: self.store.open_escalation(self.incident_id, row.id), ask)

    def action_sitrep(self) -> None:
        # Apprise takes about 150 ms to import (measured here): only a room that issues a report pays it.
        from crisis_tui.notify.runner import issue_sitrep  # noqa: PLC0415

        def done(result: tuple[str, Outcome]) -> None:
            text, outcome = result
            self.notify(f"situation report issued: {delivery_words(outcome)}",
                        severity="warning" if outcome.failed else "information", markup=False, timeout=6)
            self.app.push_screen(TextPage("Situation report", text))

        self._command(lambda: issue_sitrep(self.store, self.incident_id, self.playbook, actor=self.me), done)

    def action_outbound(self) -> None:
        async def read() -> str:
            events: list[Event] = []
            while page := await self.store.events_after(self.incident_id, events[-1].seq if events else 0, PAGE):
                events.extend(page)
                await asyncio.sleep(0)
            items = outbound(events)
            return "\n".join(line(item) for item in items) or "Nothing has left the room yet."

        def show(text: str) -> None:
            self.app.push_screen(TextPage("Outbound: everything that left the room", text))

        self._command(read, show)
