"""The room's side of the witness: show its alarm, once, at the top of the screen, for good.

A mixin, so the room screen gains the handler by naming it among its bases; the
refusal of writes is the sync worker's guarded store, not the screen's.
"""

from __future__ import annotations

from textual.screen import Screen

from crisis_tui.sync import WitnessAlarm
from crisis_tui.widgets.rewrite_alarm import RewriteAlarm


class ShowsWitnessAlarm:
    """Mixed into a Screen: `WitnessAlarm` from the sync worker raises the red band and a toast."""

    async def on_witness_alarm(self, msg: WitnessAlarm) -> None:
        assert isinstance(self, Screen)
        if not self.query(RewriteAlarm):
            await self.mount(RewriteAlarm(msg.text), before=0)
        self.notify(msg.text, title="The log was rewritten", severity="error", markup=False, timeout=60)
