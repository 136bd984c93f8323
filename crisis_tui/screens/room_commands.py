"""The room's commands on the stream and the committee: one key, one guarded store command.

Claim, release, mark, tag, decide, vote, note, and the stream's own filter and
order; the detail of a comment and the snippet picker. What a command changes
comes back through the log like anyone else's change.
"""

from __future__ import annotations

import contextlib

from crisis_tui.bulk_words import summary as bulk_summary
from crisis_tui.errors import CrisisError
from crisis_tui.model import BulkResult
from crisis_tui.playbook import Snippet
from crisis_tui.room_state import Filter
from crisis_tui.screens.detail import CommentDetail
from crisis_tui.screens.forms import EscalateComment, Escalation, Proposal, ProposeDecision, TagComment, Vote, VoteDecision
from crisis_tui.screens.pickers import FilterStream, SnippetPicker
from crisis_tui.screens.room_word_out import WordOutCommands
from crisis_tui.store import guards
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.stream import CommentStream
from crisis_tui.widgets.timeline import NoteInput, TimelinePane

#: The bulk action of each single mark (i and b on marked comments): the store's own table, turned round.
BULK_STATUS = {status: action for action, status in guards.BULK_MARKS.items()}


class RoomCommands(WordOutCommands):
    """The stream's and the committee's keys (and, from WordOutCommands, word out's)."""

    def action_claim(self) -> None:
        row = self._row()
        if row is not None:
            self._command(lambda: self.store.claim(self.incident_id, row.id, actor=self.me),
                          lambda c: self.notify(f"claimed {plain(c.author, 40)}", markup=False, timeout=2))

    def action_release(self) -> None:
        if self.stream.marked:
            self._bulk("release")
            return
        row = self._row()
        if row is not None:
            self._command(lambda: self.store.release(self.incident_id, row.id, actor=self.me))

    def action_mark(self, status: str) -> None:
        if self.stream.marked and status in BULK_STATUS:
            self._bulk(BULK_STATUS[status])
            return
        if self.stream.marked:
            self.notify(f"{status.replace('_', ' ')} is one comment at a time: unmark (space) first, or use "
                        "i, b, g or u on the marked ones", severity="warning", markup=False)
            return
        row = self._row()
        if row is None:
            return
        if status != "escalated":
            self._command(lambda: self.store.mark(self.incident_id, row.id, status, actor=self.me))
            return

        def done(escalation: Escalation | None) -> None:
            if escalation is not None:
                self._command(lambda: self.store.mark(self.incident_id, row.id, status, actor=self.me,
                                                      reason=escalation.reason, to=escalation.to))

        self.app.push_screen(EscalateComment(), done)

    def action_tag(self) -> None:
        if self.stream.marked:
            def add(tags: list[str] | None) -> None:
                if tags:
                    self._bulk("tag", tags)

            self.app.push_screen(TagComment((), marked=len(self.stream.marked)), add)
            return
        row = self._row()
        if row is None:
            return

        def done(tags: list[str] | None) -> None:
            if tags is not None:
                self._command(lambda: self.store.tag(self.incident_id, row.id, tags, actor=self.me))

        self.app.push_screen(TagComment(row.tags), done)

    def _bulk(self, action: str, tags: list[str] | None = None) -> None:
        """One store call for every marked comment; the marks go once it is done, and the toast
        says what was done and what each skipped comment's guard said."""
        ids = sorted(self.stream.marked)

        def done(result: BulkResult) -> None:
            self.stream.clear_marks()
            self.notify(bulk_summary(result), severity="warning" if result.skipped else "information",
                        markup=False, timeout=6 if result.skipped else 3)

        self._command(lambda: self.store.bulk(self.incident_id, ids, action, tags=tags or [], actor=self.me), done)

    def on_comment_stream_marks_changed(self, _message: CommentStream.MarksChanged) -> None:
        self._stream_title()

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
        self._command(lambda: self.store.add_note(self.incident_id, msg.text, actor=self.me),
                      failed=lambda: self._give_back_note(msg.text))
        self.stream.focus()

    def _give_back_note(self, text: str) -> None:
        """A note the store refused goes back into the note box, to send again with Enter."""
        box = self.query_one(NoteInput)
        if not box.value:
            box.value = text
        self.query_one(TimelinePane).open_note()

    def action_filter(self) -> None:
        sources = sorted(set(self.state.sources()) | set(self.playbook.platforms) - {"default"})

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

    def on_comment_stream_opened(self, msg: CommentStream.Opened) -> None:
        async def go() -> None:
            try:
                comment = await self.store.get_comment(self.incident_id, msg.comment_id)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            with contextlib.suppress(CrisisError):  # the thread is context: the comment shows without it
                self.state.add_details(await self.store.comments_by_id(
                    self.incident_id, self.state.missing(self.state.thread_ids(comment.id))))
            await self.app.push_screen(CommentDetail(comment, self.state.thread(comment.id), self.clock()))

        self.run_worker(go(), group="command", exit_on_error=False)
