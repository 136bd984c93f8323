"""What every part of the room works on: its state, its panes and their repaints.

The room screen is assembled from parts with one job each (the draft desk, the
commands, the sync routing); each part reads and repaints the same panes, so
they live here once, with the selected row and the way a store command runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.screen import Screen

from crisis_tui.errors import ClaimConflict, CrisisError
from crisis_tui.playbook import Playbook
from crisis_tui.playbook_watch import LastGood
from crisis_tui.room_state import RoomState, Row
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.sync import SyncWorker
from crisis_tui.tone import ToneContext
from crisis_tui.widgets.committee import CommitteePane
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.editor import ResponseEditor
from crisis_tui.widgets.header import RoomHeader
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.timeline import TimelinePane


def unexpected(exc: BaseException) -> str:
    """The toast for a failure that is not a CrisisError (a bug): what it was, and that
    nothing of it was written."""
    return f"not done ({type(exc).__name__}: {plain(exc, 300)}); what you typed is kept"


class RoomPanes(Screen[None]):
    """The room's state and panes, shared by the parts of `RoomScreen`."""

    def __init__(
        self,
        store: IncidentStore,
        incident_id: str,
        rules: LastGood,
        me: str,
        role: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.store = store
        self.incident_id = incident_id
        self.rules = rules
        self.me = me
        self.role = role
        self.clock = clock
        self.state = RoomState(incident_id)
        self.loaded = False
        self.load_progress: tuple[int, int] | None = None
        self.sync = SyncWorker(store, incident_id, me, role, rules.playbook, self)
        self.store = self.sync.store  # refuses every write once the witness raised its alarm
        self.tone_ctx: ToneContext | None = None
        self._save_lock = asyncio.Lock()
        self._sla_breached = False
        self._typed_ahead: list[str] | None = None
        """Keys typed between `r` and the editor opening (a claim is a round trip away)."""

    @property
    def playbook(self) -> Playbook:
        return self.rules.playbook

    @property
    def stream(self) -> CommentStream:
        return self.query_one(CommentStream)

    @property
    def editor(self) -> ResponseEditor:
        return self.query_one(ResponseEditor)

    def _repaint_all(self) -> None:
        self._urgency()
        self._stream_title()
        self.stream.refresh_rows()
        self._show_committee()
        self.query_one(TimelinePane).refresh_timeline()
        self.query_one(RoomHeader).tick()

    def _urgency(self) -> None:
        top = self.state.priority_at_rank(9)
        self.stream.urgent_at = top if top > 0 else float("inf")
        self.stream.sla_s = self.playbook.sla_seconds(self.state.severity)

    def _stream_title(self) -> None:
        s = self.state
        title = f"Comments ({s.order})"
        if s.filter.active:
            title += f" · filtered {len(s):,}/{s.total:,}"
        if self.stream.marked:
            title += f" · {len(self.stream.marked):,} marked"
        if self.load_progress:
            done, total = self.load_progress
            title += f" · loading {done * 100 // max(1, total)}%"
        self.stream.border_title = title

    def _show_committee(self) -> None:
        self.query_one(CommitteePane).show(list(self.state.presence.values()), list(self.state.decisions.values()))

    def _row(self) -> Row | None:
        row = self.stream.cursor_row
        if row is None:
            self.notify("no comment selected", severity="warning", markup=False)
        return row

    def _command(
        self,
        make: Callable[[], Awaitable[Any]],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run one store command in a worker; a refusal becomes a one-line toast, and so does
        any other failure (nothing fails without a word); `failed` then gives back what was typed."""

        async def go() -> None:
            try:
                result = await make()
            except ClaimConflict as exc:
                self.notify(str(exc), title="Already claimed", severity="warning", markup=False)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
            except Exception as exc:  # a bug below us: still said, never silently dropped
                self.notify(unexpected(exc), severity="error", markup=False)
            else:
                if done is not None:
                    done(result)
                return
            if failed is not None:
                failed()

        self.run_worker(go(), group="command", exit_on_error=False)
