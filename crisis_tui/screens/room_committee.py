"""The committee's controls in the room: the incident, hand-overs and the approval inbox.

Changing the incident, taking over or reassigning a held comment are for a
member with decision power: the room previews the store's own guard (so a
member without it is told at once, and nothing is sent), and the store decides.
The inbox lists what this member could approve and opens the chosen draft in
the Reply pane, where `a` approves it as always.
"""

from __future__ import annotations

from collections.abc import Callable

from crisis_tui.errors import CrisisError
from crisis_tui.model import Draft
from crisis_tui.room_notices import needs_my_approval
from crisis_tui.room_state import Row
from crisis_tui.screens.approval_inbox import ApprovalInbox
from crisis_tui.screens.committee_forms import HandOver, HandOverForm, IncidentChange, IncidentControls
from crisis_tui.screens.room_draft_desk import DraftDesk
from crisis_tui.store import guards
from crisis_tui.store.rows import CommentState
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.editor import Target


class CommitteeControls(DraftDesk):
    """The keys of a member with decision power, and everyone's approval inbox."""

    def _refused(self, check: Callable[[], object]) -> bool:
        """Run the store's guard on what the room knows; its refusal becomes the toast."""
        try:
            check()
        except CrisisError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return True
        return False

    # --------------------------------------------------------------- incident
    def action_incident(self) -> None:
        if self._refused(lambda: guards.incident_changer(self.me, self.role or None, self.playbook)):
            return
        s = self.state

        def done(change: IncidentChange | None) -> None:
            if change is not None:
                self._command(
                    lambda: self.store.update_incident(self.incident_id, actor=self.me, role=self.role or None,
                                                       reason=change.reason, **change.changes),
                    lambda inc: self.notify(f"incident changed: {plain(inc.severity, 12)} · "
                                            f"{'our fault' if inc.our_fault else 'not our fault'} · "
                                            f"{plain(inc.status, 12)}", markup=False, timeout=3))

        self.app.push_screen(IncidentControls(self.playbook, title=s.title, severity=s.severity,
                                              our_fault=bool(s.our_fault), status=s.status), done)

    # -------------------------------------------------------------- hand-over
    def _present_names(self) -> list[str]:
        return sorted(p.name for p in self.state.present(self.playbook.presence.gone_after_seconds, self.clock()))

    def _held_row(self, *, taking: bool) -> Row | None:
        """The selected comment, when the store would let me hand it over (previewed)."""
        row = self._row()
        if row is None:
            return None
        state = CommentState(row.status, row.holder, row.author)
        if self._refused(lambda: guards.hand_over(
                row.id, state, actor=self.me, role=self.role or None, to=self.me,
                present=self._present_names(), reason="", playbook=self.playbook)):
            return None
        if taking and row.holder == self.me:
            self.notify("you hold this comment already (R gives it to someone else)", markup=False)
            return None
        return row

    def action_take_over(self) -> None:
        row = self._held_row(taking=True)
        if row is None:
            return
        self.app.push_screen(HandOverForm(row.author, row.holder or "?"), lambda h: self._hand_over(row, h))

    def action_reassign(self) -> None:
        row = self._held_row(taking=False)
        if row is None:
            return
        candidates = [n for n in self._present_names() if n != row.holder]
        if not candidates:
            self.notify("nobody else is in the room to give it to", markup=False)
            return
        self.app.push_screen(HandOverForm(row.author, row.holder or "?", candidates),
                             lambda h: self._hand_over(row, h))

    def _hand_over(self, row: Row, answer: HandOver | None) -> None:
        if answer is None:
            return
        to = answer.to
        if to is None:
            self._command(lambda: self.store.take_over(self.incident_id, row.id, actor=self.me, reason=answer.reason),
                          lambda c: self.notify(f"you took over {plain(c.author, 40)}", markup=False, timeout=3))
        else:
            self._command(lambda: self.store.reassign(self.incident_id, row.id, to, actor=self.me,
                                                      reason=answer.reason),
                          lambda c: self.notify(f"{plain(c.author, 40)} is {plain(to, 40)}'s now", markup=False,
                                                timeout=3))

    # ------------------------------------------------------------ the inbox
    def action_inbox(self) -> None:
        drafts = needs_my_approval(self.state, me=self.me, role=self.role or None, playbook=self.playbook)
        self.app.push_screen(ApprovalInbox(drafts, self.state), self._open_for_approval)

    def _open_for_approval(self, draft: Draft | None) -> None:
        if draft is None:
            return
        if draft.kind == "statement":
            self.editor.bind(Target(kind="statement", limit=self.playbook.platform_limit("default")), draft)
            self.tone_ctx = self._tone_context(None, draft)
            self._check_tone()
        else:
            row = self.state.rows.get(draft.comment_id) if draft.comment_id is not None else None
            if row is None:
                self.notify(f"comment #{draft.comment_id} is not loaded yet", markup=False)
                return
            self.stream.select_id(row.id)
            self._bind_reply(row, focus=False)
        self.notify(f"draft {draft.id} v{draft.version} is open in the Reply pane: read it, then a approves",
                    markup=False, timeout=4)
