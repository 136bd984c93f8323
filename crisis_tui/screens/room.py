"""The incident room: one screen, four panes, keyboard first.

The screen owns the room's `RoomState` and turns the sync worker's messages
into repaints of the panes that changed; the operator's keys become guarded
store commands run in workers, whose refusals (someone else holds the comment,
a stale draft) come back as one-line toasts. What a command changes reaches the
panes the same way as anyone else's change: through the log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from crisis_tui import approval
from crisis_tui.errors import ClaimConflict, CrisisError, DraftConflict
from crisis_tui.model import Comment, Draft
from crisis_tui.playbook import Playbook, Snippet
from crisis_tui.playbook_watch import LastGood
from crisis_tui.room_state import Filter, RoomState, Row
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.screens.forms import OverrideReason, Proposal, ProposeDecision, TagComment, Vote, VoteDecision
from crisis_tui.screens.pickers import FilterStream, SnippetPicker
from crisis_tui.screens.witness_alarm import ShowsWitnessAlarm
from crisis_tui.store.protocol import IncidentStore
from crisis_tui.sync import ConnectionChanged, EventsArrived, Loaded, MoreComments, PresenceRefreshed, SyncTrouble, SyncWorker
from crisis_tui.tone import ToneContext
from crisis_tui.widgets.checklist import ToneChecklist
from crisis_tui.widgets.committee import CommitteePane
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.editor import ResponseEditor, Target
from crisis_tui.widgets.header import RoomHeader, minutes
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.timeline import NoteInput, TimelineLines, TimelinePane

#: A new comment this high in the priority order raises a toast.
TOAST_RANK = 3


class RoomScreen(ShowsWitnessAlarm, Screen[None]):
    """The room of one incident, for one operator."""

    BINDINGS = [
        Binding("c", "claim", "Claim", id="room.claim", tooltip="Claim the selected comment (only one operator can)"),
        Binding("u", "release", "Release", show=False, id="room.release", tooltip="Release a comment you hold"),
        Binding("r", "reply", "Reply", id="room.reply", tooltip="Write a reply to the selected comment (claims it)"),
        Binding("w", "statement", "Statement", show=False, id="room.statement", tooltip="Write a public statement"),
        Binding("s", "submit", "Submit", show=False, id="room.submit", tooltip="Submit the draft for approval"),
        Binding("a", "approve", "Approve", id="room.approve", tooltip="Approve the draft in review"),
        Binding("m", "send", "Mark sent", show=False, id="room.send", tooltip="Mark the approved draft as sent"),
        Binding("d", "decide", "Decide", id="room.decide", tooltip="Propose a decision to the committee"),
        Binding("v", "vote", "Vote", show=False, id="room.vote", tooltip="Approve or reject a proposed decision"),
        Binding("n", "note", "Note", id="room.note", tooltip="Add a note to the timeline"),
        Binding("slash", "filter", "Filter", key_display="/", id="room.filter", tooltip="Filter the stream"),
        Binding("p", "order('priority')", "Priority", show=False, id="room.by_priority", tooltip="Order by priority"),
        Binding("t", "order('time')", "Time", show=False, id="room.by_time", tooltip="Order by time, newest first"),
        Binding("A", "mark('answered')", "Answered", show=False, id="room.answered", tooltip="Mark answered"),
        Binding("e", "mark('escalated')", "Escalate", show=False, id="room.escalate", tooltip="Mark escalated"),
        Binding("i", "mark('ignored')", "Ignore", show=False, id="room.ignore", tooltip="Mark ignored"),
        Binding("b", "mark('removal_requested')", "Removal", show=False, id="room.removal",
                tooltip="Request removal (bots, fake accounts)"),
        Binding("N", "mark('new')", "Mark new", show=False, id="room.mark_new", tooltip="Put the comment back to new"),
        Binding("g", "tag", "Tag", show=False, id="room.tag", tooltip="Tag the selected comment"),
        Binding("ctrl+t", "snippet", "Insert fact", show=False, id="room.snippet", tooltip="Insert a fact from the snippet library"),
    ]

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

    # ---------------------------------------------------------------- compose
    def compose(self) -> ComposeResult:
        header = RoomHeader(self.state, self.playbook, id="room-header")
        header.clock = self.clock
        yield header
        with Horizontal(id="room-body"):
            with Vertical(id="room-left"):
                stream = CommentStream(self.state, self.me, id="stream")
                stream.clock = self.clock
                stream.border_title = "Comments (priority)"
                yield stream
                yield ResponseEditor(id="editor")
            with Vertical(id="room-right"):
                committee = CommitteePane(self.playbook, self.me, id="committee")
                committee.clock = self.clock
                yield committee
                yield TimelinePane(self.state, id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(CommentStream).focus()
        self.query_one(ResponseEditor).unbind()
        self.set_interval(1.0, self.tick)
        self.run_worker(self.sync.run(), name="sync", group="sync", exclusive=True, exit_on_error=False)

    @property
    def stream(self) -> CommentStream:
        return self.query_one(CommentStream)

    @property
    def editor(self) -> ResponseEditor:
        return self.query_one(ResponseEditor)

    # ------------------------------------------------------------ sync intake
    def on_loaded(self, msg: Loaded) -> None:
        s = self.state
        inc = msg.incident
        s.title, s.severity, s.opened_at, s.our_fault, s.status = (
            inc.title, inc.severity, inc.opened_at, inc.our_fault, inc.status)
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

    def on_more_comments(self, msg: MoreComments) -> None:
        self.state.load_comments(msg.rows)
        self.load_progress = None if msg.done else (msg.loaded, msg.total)
        self._stream_title()
        self.stream.refresh_rows()
        self.query_one(RoomHeader).tick()

    def on_events_arrived(self, msg: EventsArrived) -> None:
        ch = self.state.apply(msg.events)
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
            if alert.kind == "alert.spike":
                p = alert.payload
                self.notify(f"Spike: {plain(p.get('per_minute'), 12)}/min (x{plain(p.get('factor'), 8)})",
                            severity="warning", markup=False)
            elif alert.kind == "alert.sla":
                self.notify(f"SLA breached: {plain(alert.payload.get('detail'), 80)}", severity="error", markup=False)
        self.query_one(RoomHeader).tick()

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

    # -------------------------------------------------------------- repaints
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

    def _stream_title(self) -> None:
        s = self.state
        title = f"Comments ({s.order})"
        if s.filter.active:
            title += f" · filtered {len(s):,}/{s.total:,}"
        if self.load_progress:
            done, total = self.load_progress
            title += f" · loading {done * 100 // max(1, total)}%"
        self.stream.border_title = title

    def _show_committee(self) -> None:
        self.query_one(CommitteePane).show(list(self.state.presence.values()), list(self.state.decisions.values()))

    def tick(self) -> None:
        header = self.query_one(RoomHeader)
        header.tick()
        self._show_committee()
        if header.breached and not self._sla_breached and self.loaded:
            oldest = self.state.oldest_unanswered()
            waited = self.clock() - oldest.received_at if oldest else 0.0
            self.notify(
                f"⚠ SLA breached: a comment has waited {minutes(waited)} unanswered "
                f"(SLA {minutes(self.playbook.sla_seconds(self.state.severity))})",
                severity="error", markup=False, timeout=8,
            )
        if self.loaded:
            self._sla_breached = header.breached
        if int(self.clock()) % 10 == 0:
            self.stream.refresh()

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

    # ----------------------------------------------------------- the editor
    def _resume_my_claim(self) -> None:
        """Back after a dropped connection: reopen the comment we hold, with its saved draft."""
        mine = [r for r in self.state.rows.values() if r.holder == self.me and r.status == "claimed"]
        if mine:
            row = max(mine, key=lambda r: r.id)
            self.stream.select_id(row.id)
            self._bind_reply(row, focus=False)

    @work(group="bind", exclusive=True, exit_on_error=False)
    async def _bind_reply(self, row: Row, focus: bool = True) -> None:
        try:
            await self._open_reply(row, focus)
        finally:
            if focus:  # the keys typed meanwhile are placed, or the reply did not open: stop holding them
                self._typed_ahead = None

    async def _open_reply(self, row: Row, focus: bool) -> None:
        try:
            comment = await self.store.get_comment(self.incident_id, row.id)
        except CrisisError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        draft = self.state.draft_for(row.id)
        holder = comment.holder if comment.holder and comment.holder != self.me else None
        target = Target(kind="reply", comment_id=comment.id, author=comment.author, source=comment.source,
                        limit=self.playbook.platform_limit(comment.source), holder=holder)
        self.editor.bind(target, draft)
        self.tone_ctx = self._tone_context(comment, draft)
        self._check_tone()
        if focus and holder is None:
            self.set_focus(self.editor.text_area)  # now, not after a refresh: the next key is the reply's
        if focus:
            self._place_typed_ahead(holder)
        self.sync.set_focus(f"replying to {plain(comment.author, 40)}" if holder is None
                            else f"reading {plain(comment.author, 40)}")

    def _place_typed_ahead(self, holder: str | None) -> None:
        """What was typed while the reply opened goes into it, or is shown if the reply is not ours."""
        typed, self._typed_ahead = "".join(self._typed_ahead or ()), None
        if not typed:
            return
        if holder is None:
            self.editor.text_area.insert(typed)
        else:
            self.notify(f"Not typed into the reply (it is held): {plain(typed, 200)}", severity="warning", markup=False)

    def on_key(self, event: events.Key) -> None:
        """While a reply opens, letters belong to it, not to the stream's one-key bindings (`a` approves)."""
        if self._typed_ahead is not None and event.key == "escape":
            self._typed_ahead = None  # changed their mind: the keys go back to the stream
        elif self._typed_ahead is not None and event.is_printable and event.character:
            self._typed_ahead.append(event.character)
            event.stop()
            event.prevent_default()

    def _tone_context(self, comment: Comment | None, draft: Draft | None) -> ToneContext:
        drafts = self.state.drafts.values()
        earlier = tuple(
            d.body for d in drafts
            if (draft is None or d.id != draft.id) and d.status != "withdrawn" and d.body.strip()
            and (draft is None or d.id < draft.id or d.status == "sent")
        )
        roles = {p.name: p.role for p in self.state.presence.values()}
        approved = bool(draft and any(self.playbook.has_decision_power(roles.get(n, "")) for n in draft.approvals))
        return ToneContext(
            lang=comment.lang if comment else "",
            kind=draft.kind if draft else ("reply" if comment else "statement"),
            comment_text=comment.text if comment else "",
            platform=comment.source if comment else "",
            our_fault=bool(self.state.our_fault),
            severity=self.state.severity,
            comment_received_at=comment.received_at if comment else None,
            earlier_replies=earlier,
            approved_by_decision_power=approved,
            ticked=dict(draft.checklist) if draft else {},
            bot_reasons=tuple(comment.bot_reasons) if comment else (),
        )

    def _check_tone(self) -> None:
        if self.tone_ctx is None or self.editor.target is None:
            return
        ctx = replace(self.tone_ctx, now=self.clock())
        self.editor.show_verdicts(self.rules.checker.check(self.editor.text, ctx))

    def on_response_editor_edited(self, msg: ResponseEditor.Edited) -> None:
        self._check_tone()

    def on_response_editor_save_due(self, msg: ResponseEditor.SaveDue) -> None:
        self.run_worker(self._save(msg.text), group="save", exit_on_error=False)

    def on_response_editor_leave(self, msg: ResponseEditor.Leave) -> None:
        self.stream.focus()

    async def _save(self, text: str) -> Draft | None:
        """One save at a time, each based on the version the last one returned."""
        async with self._save_lock:
            editor = self.editor
            target = editor.target
            if target is None or editor.text_area.read_only or editor.conflict is not None:
                return None
            if target.draft_id is not None and text == editor.saved_text:
                return self.state.drafts.get(target.draft_id)
            try:
                draft = await self.store.save_draft(
                    self.incident_id, text, actor=self.me, base_version=target.base_version,
                    draft_id=target.draft_id, comment_id=target.comment_id, kind=target.kind,
                )
            except DraftConflict as exc:
                if editor.target is target:
                    editor.conflicted(exc.current)
                self.notify(str(exc), severity="warning", markup=False, timeout=8)
                return None
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return None
            if editor.target is target:
                editor.saved(draft, text)
            if draft.id not in self.state.drafts:
                self.state.load_drafts([draft])
            return draft

    async def flush_draft(self) -> None:
        """Save what is typed now (before quitting, submitting or switching)."""
        editor = self.editor
        if editor.target is not None and editor.dirty and not editor.text_area.read_only:
            editor.cancel_autosave()
            await self._save(editor.text)

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
            row = self.state.rows.get(target.comment_id)
            if row is None:
                return
            holder = row.holder if row.holder and row.holder != self.me else None
            if holder != target.holder:
                self._bind_reply(row, focus=False)

    # ---------------------------------------------------------------- actions
    def _row(self) -> Row | None:
        row = self.stream.cursor_row
        if row is None:
            self.notify("no comment selected", severity="warning", markup=False)
        return row

    def _command(self, make: Callable[[], Awaitable[Any]], done: Callable[[Any], None] | None = None) -> None:
        """Run one store command in a worker; a refusal becomes a one-line toast."""

        async def go() -> None:
            try:
                result = await make()
            except ClaimConflict as exc:
                self.notify(str(exc), title="Already claimed", severity="warning", markup=False)
                return
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if done is not None:
                done(result)

        self.run_worker(go(), group="command", exit_on_error=False)

    def action_claim(self) -> None:
        row = self._row()
        if row is not None:
            self._command(lambda: self.store.claim(self.incident_id, row.id, actor=self.me),
                          lambda c: self.notify(f"claimed {plain(c.author, 40)}", markup=False, timeout=2))

    def action_release(self) -> None:
        row = self._row()
        if row is not None:
            self._command(lambda: self.store.release(self.incident_id, row.id, actor=self.me))

    def action_reply(self) -> None:
        row = self._row()
        if row is None:
            return
        self._typed_ahead = []
        if row.holder == self.me or row.status not in ("new", "escalated"):
            self._bind_reply(row)
            return

        async def claim_then_bind() -> None:
            opened = False
            try:
                try:
                    await self.store.claim(self.incident_id, row.id, actor=self.me)
                except ClaimConflict as exc:
                    self.notify(str(exc), title="Already claimed", severity="warning", markup=False)
                except CrisisError as exc:
                    self.notify(str(exc), severity="error", markup=False)
                    return
                self._bind_reply(row)
                opened = True
            finally:
                if not opened:  # the reply will not open: the keys go back to the stream
                    self._typed_ahead = None

        self.run_worker(claim_then_bind(), group="command", exit_on_error=False)

    def action_statement(self) -> None:
        live = [d for d in self.state.statements() if d.status not in ("sent", "withdrawn")]
        draft = max(live, key=lambda d: d.id) if live else None
        self.editor.bind(Target(kind="statement", limit=self.playbook.platform_limit("default")), draft)
        self.tone_ctx = self._tone_context(None, draft)
        self._check_tone()
        self.editor.text_area.focus()
        self.sync.set_focus("writing a public statement")

    def _draft_to_act_on(self, wanted: tuple[str, ...]) -> Draft | None:
        """The editor's draft, else the selected comment's, else the newest statement in that state."""
        target = self.editor.target
        if target is not None and target.draft_id is not None:
            draft = self.state.drafts.get(target.draft_id)
            if draft is not None and draft.status in wanted:
                return draft
        row = self.stream.cursor_row
        if row is not None:
            draft = self.state.draft_for(row.id)
            if draft is not None and draft.status in wanted:
                return draft
        statements = [d for d in self.state.statements() if d.status in wanted]
        return max(statements, key=lambda d: d.id) if statements else None

    def action_submit(self) -> None:
        async def go() -> None:
            await self.flush_draft()
            draft = self._draft_to_act_on(("draft",))
            if draft is None:
                self.notify("no draft to submit: write a reply (r) or a statement (w) first", markup=False)
                return
            try:
                await approval.submit(self.store, self.incident_id, draft.id, actor=self.me)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.notify(f"draft {draft.id} submitted for approval", markup=False, timeout=3)

        self.run_worker(go(), group="command", exit_on_error=False)

    def action_approve(self) -> None:
        draft = self._draft_to_act_on(("in_review",))
        if draft is None:
            self.notify("nothing in review to approve (s submits a draft)", markup=False)
            return

        async def go() -> None:
            try:
                fresh = await self.store.get_draft(self.incident_id, draft.id)
                failing = await approval.failing_for_approval(self.store, self.rules.checker, self.incident_id,
                                                              fresh, actor=self.me)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            reason = ""
            if failing:
                answer = await self.app.push_screen_wait(OverrideReason(failing))
                if not answer:
                    return
                reason = answer
            try:
                await approval.approve(self.store, self.rules.checker, self.incident_id, draft.id,
                                       actor=self.me, override_reason=reason)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.notify(f"draft {draft.id} approved", markup=False, timeout=3)

        self.run_worker(go(), group="command", exit_on_error=False)

    def action_send(self) -> None:
        draft = self._draft_to_act_on(("approved",))
        if draft is None:
            self.notify("no approved draft to mark sent", markup=False)
            return
        self._command(lambda: approval.send(self.store, self.incident_id, draft.id, actor=self.me),
                      lambda d: self.notify(f"draft {d.id} marked sent", markup=False, timeout=3))

    def action_mark(self, status: str) -> None:
        row = self._row()
        if row is not None:
            self._command(lambda: self.store.mark(self.incident_id, row.id, status, actor=self.me))

    def action_tag(self) -> None:
        row = self._row()
        if row is None:
            return

        def done(tags: list[str] | None) -> None:
            if tags is not None:
                self._command(lambda: self.store.tag(self.incident_id, row.id, tags, actor=self.me))

        self.app.push_screen(TagComment(row.tags), done)

    def action_decide(self) -> None:
        def done(proposal: Proposal | None) -> None:
            if proposal is not None:
                self._command(lambda: self.store.propose_decision(
                    self.incident_id, proposal.title, actor=self.me, rationale=proposal.rationale,
                    owner_decides=proposal.owner_decides))

        self.app.push_screen(ProposeDecision([r.name for r in self.playbook.owners()]), done)

    def action_vote(self) -> None:
        proposed = sorted((d for d in self.state.decisions.values() if d.status == "proposed"), key=lambda d: d.id)
        if not proposed:
            self.notify("no decision is waiting for a vote (d proposes one)", markup=False)
            return

        def done(vote: Vote | None) -> None:
            if vote is not None:
                self._command(lambda: self.store.vote_decision(
                    self.incident_id, vote.decision_id, vote.approve, actor=self.me))

        self.app.push_screen(VoteDecision(proposed), done)

    def action_note(self) -> None:
        self.query_one(TimelinePane).open_note()

    def on_note_input_note_added(self, msg: NoteInput.NoteAdded) -> None:
        self._command(lambda: self.store.add_note(self.incident_id, msg.text, actor=self.me))
        self.stream.focus()

    def action_filter(self) -> None:
        sources = sorted({r.source for r in self.state.rows.values()} | set(self.playbook.platforms) - {"default"})

        def done(new: Filter | None) -> None:
            if new is not None:
                self.state.set_filter(new)
                self._stream_title()
                self.stream.refresh_rows()

        self.app.push_screen(FilterStream(self.state.filter, sources), done)

    def action_order(self, order: str) -> None:
        self.state.set_order("time" if order == "time" else "priority")
        self._stream_title()
        self.stream.refresh_rows()

    def action_snippet(self) -> None:
        editor = self.editor
        if editor.target is None or editor.text_area.read_only:
            self.notify("open a reply (r) or a statement (w) to insert a fact", markup=False)
            return
        lang = self.tone_ctx.lang if self.tone_ctx else ""

        def done(snippet: Snippet | None) -> None:
            if snippet is not None:
                editor.insert(snippet.text)

        self.app.push_screen(SnippetPicker(self.playbook.snippets, lang), done)

    def action_keep_mine(self) -> None:
        self.editor.resolve_keep_mine()

    def action_load_theirs(self) -> None:
        self.editor.resolve_load_theirs()
        self._check_tone()

    def on_comment_stream_opened(self, msg: CommentStream.Opened) -> None:
        async def go() -> None:
            try:
                comment = await self.store.get_comment(self.incident_id, msg.comment_id)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            await self.app.push_screen(CommentDetail(comment, self.state.thread(comment.id), self.clock()))

        self.run_worker(go(), group="command", exit_on_error=False)

    def on_tone_checklist_ticked(self, msg: ToneChecklist.Ticked) -> None:
        async def go() -> None:
            draft = await self._save(self.editor.text)
            if draft is None:
                self.notify("save the draft before ticking (type something first)", markup=False)
                return
            try:
                updated = await self.store.tick(self.incident_id, draft.id, msg.rule, msg.ticked, actor=self.me)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.state.load_drafts([updated])
            if self.tone_ctx is not None:
                self.tone_ctx = replace(self.tone_ctx, ticked=dict(updated.checklist))
            self._check_tone()

        self.run_worker(go(), group="command", exit_on_error=False)

    def on_descendant_focus(self, event: Any) -> None:
        widget: Widget | None = getattr(event, "widget", None)
        if isinstance(widget, TimelineLines):
            self.sync.set_focus("reading the timeline")
        elif isinstance(widget, CommentStream):
            self.sync.set_focus("watching the stream")
        elif isinstance(widget, CommitteePane):
            self.sync.set_focus("watching the committee")

    # ------------------------------------------------------------- playbook
    def playbook_changed(self) -> None:
        """The rules were reloaded: re-check the draft and repaint with the new playbook."""
        book = self.playbook
        self.sync.playbook = book
        self.query_one(RoomHeader).playbook = book
        self.query_one(CommitteePane).playbook = book
        target = self.editor.target
        if target is not None and target.kind == "reply":
            target.limit = book.platform_limit(target.source)
        self.editor.refresh_status()
        self._check_tone()
        self._repaint_all()

    def command_bindings(self) -> list[Binding]:
        """Every room action, for the command palette."""
        return list(self.BINDINGS)  # type: ignore[arg-type]
