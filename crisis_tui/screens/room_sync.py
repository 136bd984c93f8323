"""Sync routing: the sync worker's messages become repaints of the panes that changed.

The first load, more comments, new events (toasts for urgent comments and
alerts, and for what concerns me: hand-overs, submissions I can approve, my
drafts approved or sent back, see crisis_tui.room_notices), presence, the connection coming and going, and the Reply pane
following a draft someone else saved. The operator's own focus goes out as presence.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from textual import work
from textual.widget import Widget

from crisis_tui import events as ev
from crisis_tui.errors import CrisisError
from crisis_tui.model import BY_ID_MAX
from crisis_tui.room_notices import notices
from crisis_tui.room_state import Row
from crisis_tui.screens.room_draft_desk import DraftDesk
from crisis_tui.sync import ConnectionChanged, EventsArrived, Loaded, MoreComments, PresenceRefreshed, SyncTrouble
from crisis_tui.widgets.committee import CommitteePane
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.header import RoomHeader
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.timeline import TimelineLines, TimelinePane

#: A new comment this high in the priority order raises a toast.
TOAST_RANK = 3
#: While a large incident loads, the stream and its counts repaint at most this often (the last page always).
LOAD_REPAINT_S = 0.5


class SyncRouting(DraftDesk):
    """The sync worker's part of the room (it follows the draft desk's editor)."""

    #: When a page of the background load last repainted the stream (time.monotonic).
    _load_painted: float = 0.0

    def on_loaded(self, msg: Loaded) -> None:
        s = self.state
        inc = msg.incident
        s.title, s.severity, s.opened_at, s.our_fault, s.status, s.drill = (
            inc.title, inc.severity, inc.opened_at, inc.our_fault, inc.status, inc.drill)
        s.load_comments(msg.rows)
        s.load_drafts(msg.drafts)
        s.load_decisions(msg.decisions)
        s.load_presence(msg.presence)
        s.backfill_timeline(msg.backlog)
        s.last_seq = msg.last_seq
        self.loaded = True
        self.load_progress = (len(msg.rows), msg.total) if len(msg.rows) < msg.total else None
        self._repaint_all()
        self._resume_my_claim()
        self.call_after_refresh(self.sync.first_screen_shown.set)

    def on_more_comments(self, msg: MoreComments) -> None:
        self.state.load_keys(msg.keys)
        if msg.taken is not None:
            msg.taken.release()
        self.load_progress = None if msg.done else (msg.loaded, msg.total)
        now = time.monotonic()
        if msg.done:
            self.state.settle()
        elif now - self._load_painted < LOAD_REPAINT_S:
            return  # a page every few tens of ms: each repaint would merge the order again
        self._load_painted = now
        self._stream_title()
        self.stream.refresh_rows()
        self.query_one(RoomHeader).tick()

    def on_events_arrived(self, msg: EventsArrived) -> None:
        fresh = [e for e in msg.events if e.seq > self.state.last_seq]
        ch = self.state.apply(msg.events)
        if self.loaded:
            for notice in notices(fresh, self.state, me=self.me, role=self.role or None, playbook=self.playbook):
                self.notify(notice.text, title=notice.title, severity=notice.severity, markup=False, timeout=6)
        if ch.comments:
            self._urgency()
            self.stream.refresh_rows()
            self._stream_title()
            self._toast_new(ch.new_comments)
        if ch.presence or ch.decisions:
            self._show_committee()
        if ch.timeline:
            self.query_one(TimelinePane).refresh_timeline()
        if ch.incident and self.tone_ctx is not None:
            self.tone_ctx = replace(self.tone_ctx, our_fault=bool(self.state.our_fault), severity=self.state.severity)
            self._check_tone()
        self._follow_editor(ch.drafts, ch.changed_ids)
        for alert in ch.alerts:
            match alert.body:
                case ev.SpikeAlert(per_minute=per_minute, factor=factor):
                    self.notify(f"Spike: {plain(per_minute, 12)}/min (x{plain(factor, 8)})",
                                severity="warning", markup=False)
                case ev.SlaAlert(detail=detail):
                    self.notify(f"SLA breached: {plain(detail, 80)}", severity="error", markup=False)
                case ev.DrillInject(minute=minute, text=text):
                    self.notify(plain(text, 300), title=f"DRILL inject · minute {minute:g}", severity="warning",
                                markup=False, timeout=12)
        self.query_one(RoomHeader).tick()

    def on_comment_stream_details_wanted(self, msg: CommentStream.DetailsWanted) -> None:
        self._read_details(msg.ids)

    @work(group="details", exit_on_error=False)
    async def _read_details(self, ids: list[int]) -> None:
        """The details of the rows around the screen, from the store (a failure is the sync's to say)."""
        try:
            self.state.add_details(await self.store.comments_by_id(self.incident_id, ids[:BY_ID_MAX]))
        except (CrisisError, OSError):
            self.stream.details_arrived(ids, failed=True)
        else:
            self.stream.details_arrived(ids)

    def on_presence_refreshed(self, msg: PresenceRefreshed) -> None:
        self.state.load_presence(msg.people)
        self._show_committee()

    def on_connection_changed(self, msg: ConnectionChanged) -> None:
        self.state.connection = msg.state
        self.query_one(RoomHeader).tick()
        if msg.state == "live":
            self.notify("reconnected: back in sync with the server", severity="information", markup=False)
            # A draft typed while the server was away was refused, not lost: save it now.
            self.run_worker(self.flush_draft(), group="save", exit_on_error=False)
        else:
            self.notify("server out of reach: reconnecting... (writes are refused until it is back)",
                        severity="warning", markup=False)

    def on_sync_trouble(self, msg: SyncTrouble) -> None:
        self.notify(msg.message, severity="information" if msg.recovered else "warning", markup=False)

    def _toast_new(self, rows: list[Row]) -> None:
        """A new comment among the most urgent raises one toast per batch."""
        if not self.loaded or not rows:
            return
        threshold = self.playbook.triage.toast_priority
        urgent = [r for r in rows if r.priority > 0 and (
            r.priority >= threshold if threshold is not None else self.state.rank(r.priority) < TOAST_RANK)]
        if not urgent:
            return
        top = max(urgent, key=lambda r: r.priority)
        more = f" (+{len(urgent) - 1} more)" if len(urgent) > 1 else ""
        self.notify(f"High priority on {plain(top.source, 12)}: {plain(top.author, 30)}: {plain(top.text, 80)}{more}",
                    title="New comment", severity="warning", markup=False)

    def _follow_editor(self, drafts: set[int], comments: set[int]) -> None:
        target = self.editor.target
        if target is None:
            return
        if target.draft_id is None and target.comment_id is not None and drafts:
            # Someone (maybe us, from another terminal) started the draft for this comment.
            draft = self.state.draft_for(target.comment_id)
            if draft is not None and draft.id in drafts and not self.editor.dirty:
                self.editor.bind(target, draft)
        if target.draft_id in drafts:
            draft = self.state.drafts[target.draft_id]
            self.editor.show_remote(draft)
            if self.tone_ctx is not None:
                self.tone_ctx = replace(self.tone_ctx, ticked=dict(draft.checklist))
            self._check_tone()
        if target.comment_id is not None and target.comment_id in comments:
            row = self.state.row(target.comment_id)
            if row is None:
                return
            holder = row.holder if row.holder and row.holder != self.me else None
            if holder != target.holder:
                self._bind_reply(row, focus=False)

    def on_descendant_focus(self, event: Any) -> None:
        widget: Widget | None = getattr(event, "widget", None)
        if isinstance(widget, TimelineLines):
            self.sync.set_focus("reading the timeline")
        elif isinstance(widget, CommentStream):
            self.sync.set_focus("watching the stream")
        elif isinstance(widget, CommitteePane):
            self.sync.set_focus("watching the committee")
