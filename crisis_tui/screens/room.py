"""The incident room: one screen, four panes, keyboard first.

The screen owns the room's `RoomState` and turns the sync worker's messages
into repaints of the panes that changed; the operator's keys become guarded
store commands run in workers, whose refusals (someone else holds the comment,
a stale draft) come back as one-line toasts. What a command changes reaches the
panes the same way as anyone else's change: through the log.

The screen is assembled from parts with one job each: `RoomPanes` (the state
and the panes), `DraftDesk` (the Reply pane), `RoomCommands` (the stream's and
the committee's keys) and `SyncRouting` (the sync worker's messages). Here:
the layout, the keys, mounting and the clock's tick. `CommitteeControls` holds the
incident, hand-over and approval-inbox keys.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from crisis_tui.screens.room_commands import RoomCommands
from crisis_tui.screens.room_committee import CommitteeControls
from crisis_tui.screens.room_sync import SyncRouting
from crisis_tui.screens.timeline_line import TimelineLineView
from crisis_tui.screens.witness_alarm import ShowsWitnessAlarm
from crisis_tui.widgets.committee import CommitteePane
from crisis_tui.widgets.editor import ResponseEditor
from crisis_tui.widgets.header import RoomHeader, minutes
from crisis_tui.widgets.room_footer import RoomFooter
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.stream_preview import StreamPreview
from crisis_tui.widgets.timeline import TimelineLines, TimelinePane

#: The bindings of the committee's controls: offered only to a seat with decision power.
DECISION_POWER_KEYS = frozenset({"room.incident", "room.take_over", "room.reassign"})


class RoomScreen(ShowsWitnessAlarm, RoomCommands, CommitteeControls, SyncRouting):
    """The room of one incident, for one operator."""

    #: A seat's room on a shared host (set by the app): it offers no link to open.
    confined: bool = False

    BINDINGS = [
        Binding("c", "claim", "Claim", id="room.claim", tooltip="Claim the selected comment (only one operator can)"),
        Binding("u", "release", "Release", show=False, id="room.release", tooltip="Release a comment you hold"),
        Binding("r", "reply", "Reply", id="room.reply", tooltip="Write a reply to the selected comment (claims it)"),
        Binding("w", "statement", "Statement", show=False, id="room.statement", tooltip="Write a public statement"),
        # Submit and send are the same chords in the editor and out of it (s and m are shortcuts
        # here only: typed in the editor they are letters of the reply).
        Binding("ctrl+g,s", "submit", "Submit", key_display="^g", show=False, id="room.submit",
                tooltip="Submit the draft for approval (ctrl+g, in the editor too; s here)"),
        Binding("a", "approve", "Approve", id="room.approve",
                tooltip="Approve the reply or statement open in the Reply pane (shows its text first)"),
        Binding("ctrl+n,m", "send", "Send", key_display="^n", show=False, id="room.send",
                tooltip="Send the approved draft: published where the playbook has a publisher, else marked sent "
                        "by hand (ctrl+n, in the editor too; m here)"),
        Binding("y", "copy_text", "Copy text", show=False, id="room.copy",
                tooltip="Copy the approved reply or statement to the clipboard"),
        Binding("o", "open_link", "Open link", show=False, id="room.open_link",
                tooltip="Open the selected comment's page in the browser"),
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
        Binding("x", "inbox", "Needs my approval", show=False, id="room.inbox",
                tooltip="The replies and statements in review that you can approve"),
        Binding("I", "incident", "Incident", show=False, id="room.incident",
                tooltip="Change severity, whose error it is, title; close or reopen (decision power)"),
        Binding("T", "take_over", "Take over", show=False, id="room.take_over",
                tooltip="Take over the comment someone else holds (decision power; they are told)"),
        Binding("E", "answer_escalation", "Dept. answered", show=False, id="room.answer_escalation",
                tooltip="Record what the department the comment was escalated to answered (time to loop it in)"),
        Binding("S", "sitrep", "Sitrep", show=False, id="room.sitrep",
                tooltip="Issue a situation report now: sent to the targets that follow it, kept on the timeline"),
        Binding("O", "outbound", "Outbound", show=False, id="room.outbound",
                tooltip="Everything that left the room: what, where, when, approved by whom, post or by hand"),
        Binding("R", "reassign", "Reassign", show=False, id="room.reassign",
                tooltip="Give the held comment to someone in the room (decision power; the holder is told)"),
    ]

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
                stream.preview = StreamPreview(id="stream-preview")
                yield stream.preview
                yield ResponseEditor(id="editor")
            with Vertical(id="room-right"):
                committee = CommitteePane(self.playbook, self.me, id="committee")
                committee.clock = self.clock
                yield committee
                yield TimelinePane(self.state, id="timeline")
        yield RoomFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one(CommentStream).focus()
        self.query_one(ResponseEditor).unbind()
        self.set_interval(1.0, self.tick)
        self.run_worker(self.sync.run(), name="sync", group="sync", exclusive=True, exit_on_error=False)

    def tick(self) -> None:
        header = self.query_one(RoomHeader)
        header.tick()
        self._show_committee()
        if header.breached and not self._sla_breached and self.loaded:
            oldest = self.state.oldest_unanswered()
            waited = self.clock() - oldest.since if oldest else 0.0
            self.notify(
                f"⚠ SLA breached: a comment has waited {minutes(waited)} unanswered "
                f"(SLA {minutes(self.playbook.sla_seconds(self.state.severity))})",
                severity="error", markup=False, timeout=8,
            )
        if self.loaded:
            self._sla_breached = header.breached
        if int(self.clock()) % 10 == 0:
            self._urgency()
            self.stream.refresh()

    def on_timeline_lines_opened(self, event: TimelineLines.Opened) -> None:
        self.app.push_screen(TimelineLineView(event.entry))

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
        """Every room action, for the command palette; the committee's controls only for a seat
        with decision power (the store would refuse anyone else)."""
        bindings: list[Binding] = list(self.BINDINGS)  # type: ignore[arg-type]
        if self.confined:
            bindings = [b for b in bindings if b.id != "room.open_link"]
        if self.playbook.has_decision_power(self.role or ""):
            return bindings
        return [b for b in bindings if b.id not in DECISION_POWER_KEYS]
