"""The draft desk: the reply or statement open in the Reply pane, from opening to sent.

Opening a reply (claiming its comment first), a public statement, the keys
typed while a claim travels, autosave one version at a time, a stale save's
keep-mine / load-theirs, the tone checklist, and submit / approve / send.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from textual import events, work

from crisis_tui import approval
from crisis_tui.errors import ClaimConflict, CrisisError, DraftConflict
from crisis_tui.model import Comment, Draft
from crisis_tui.room_state import Row
from crisis_tui.screens.approval_dialog import ConfirmApproval
from crisis_tui.screens.room_panes import RoomPanes, unexpected
from crisis_tui.tone import ToneContext
from crisis_tui.widgets.checklist import ToneChecklist
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.editor import ResponseEditor, Target


class DraftDesk(RoomPanes):
    """The Reply pane's part of the room."""

    def _resume_my_claim(self) -> None:
        """Back after a dropped connection: reopen the comment we hold, with its saved draft."""
        mine = self.state.held_by(self.me)
        row = self.state.row(mine[-1]) if mine else None
        if row is not None:
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
            comment_received_at=comment.since if comment else None,
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
                self.notify(f"not saved, still in the editor: {exc}", severity="error", markup=False)
                return None
            except Exception as exc:  # a bug below us: said, and the text stays in the editor
                self.notify(unexpected(exc), severity="error", markup=False)
                return None
            if editor.target is target:
                editor.saved(draft, text)
            if draft.id not in self.state.drafts:
                self.state.load_drafts([draft])
            return draft

    async def flush_draft(self) -> bool:
        """Save what is typed now (before quitting, submitting or switching); False when
        something typed could not be saved (it stays in the editor)."""
        editor = self.editor
        if editor.target is not None and editor.dirty and not editor.text_area.read_only:
            editor.cancel_autosave()
            saved = await self._save(editor.text)
            return saved is not None or editor.conflict is not None  # a stale save's text is in the log
        return True

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

    def action_keep_mine(self) -> None:
        self.editor.resolve_keep_mine()

    def action_load_theirs(self) -> None:
        self.editor.resolve_load_theirs()
        self._check_tone()

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
        """Approve the draft open in the Reply pane, and only that one, once its text has been shown."""
        target = self.editor.target
        if target is None:
            self.notify("nothing open to approve: open the reply (r on its comment) or the statement (w) "
                        "in the Reply pane, read it, then press a", markup=False)
            return

        async def go() -> None:
            await self.flush_draft()
            if target.draft_id is None:
                what = "statement" if target.kind == "statement" else "reply"
                self.notify(f"the {what} in the Reply pane is not saved yet: write it and submit it (ctrl+g) first",
                            markup=False)
                return
            try:
                draft = await self.store.get_draft(self.incident_id, target.draft_id)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if draft.status != "in_review":
                self.notify(_not_in_review(draft), markup=False)
                return
            try:
                failing = await approval.failing_for_approval(self.store, self.rules.checker, self.incident_id,
                                                              draft, actor=self.me)
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            replying_to = target.author if target.kind == "reply" else None
            reason = await self.app.push_screen_wait(ConfirmApproval(draft, failing, replying_to))
            if reason is None:
                return
            try:
                await approval.approve(self.store, self.rules.checker, self.incident_id, draft.id,
                                       actor=self.me, override_reason=reason, version=draft.version)
            except CrisisError as exc:
                await self._approval_refused(draft, exc)
                return
            self.notify(f"draft {draft.id} v{draft.version} approved", markup=False, timeout=3)

        self.run_worker(go(), group="command", exit_on_error=False)

    async def _approval_refused(self, shown: Draft, exc: CrisisError) -> None:
        """Say why, in the approver's terms when the draft moved on while they read it."""
        try:
            now = await self.store.get_draft(self.incident_id, shown.id)
        except CrisisError:
            now = shown
        if now.version != shown.version:
            self.notify(f"not approved: draft {shown.id} changed to v{now.version} (saved by "
                        f"{plain(now.author, 40)}) while you read v{shown.version}; read it again, then press a",
                        title="Draft changed", severity="warning", markup=False, timeout=10)
        else:
            self.notify(f"not approved: {exc}", severity="error", markup=False)

    def action_send(self) -> None:
        draft = self._draft_to_act_on(("approved",))
        if draft is None:
            self.notify("no approved draft to mark sent", markup=False)
            return
        row = self.state.rows.get(draft.comment_id) if draft.comment_id is not None else None
        platform = row.source if row is not None else ""
        # Where it went, as the store decides it: the platform's publisher when the playbook has one.
        where = (f"published on {plain(platform, 20)} as a reply (its link is on the timeline)"
                 if platform in self.playbook.publish else "marked sent by hand")
        if draft.kind == "statement":
            on = [name for name, settings in self.playbook.publish.items() if settings.statements]
            where = (f"published as a statement on {', '.join(on)} (the links are on the timeline)" if on
                     else "marked sent by hand")
        if self.state.drill:
            where = "marked sent: a drill publishes nothing"  # the store's rule (SqliteStore._publish)
        self._command(lambda: approval.send(self.store, self.incident_id, draft.id, actor=self.me),
                      lambda d: self.notify(f"draft {d.id} v{d.version} {where}", markup=False, timeout=4))

    def action_copy_text(self) -> None:
        """The approved (or sent) text to the clipboard, to paste where it is published; only
        approved words leave the room this way."""
        draft = self._draft_to_act_on(("approved", "sent"))
        if draft is None:
            self.notify("no approved draft to copy (a approves one)", markup=False)
            return
        self.app.copy_to_clipboard(draft.body)
        self.notify(f"draft {draft.id} v{draft.version} copied to the clipboard ({len(draft.body)} characters)"
                    + ("; ctrl+n sends it" if draft.status == "approved" else ""), markup=False, timeout=4)

    def action_open_link(self) -> None:
        row = self._row()
        if row is None:
            return

        async def go() -> None:
            try:
                url = (await self.store.get_comment(self.incident_id, row.id)).url
            except CrisisError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            if not link_opens(url):
                self.notify("this comment has no web link to open", markup=False, timeout=3)
                return
            self.app.open_url(url)

        self.run_worker(go(), group="command", exit_on_error=False)


def link_opens(url: str) -> bool:
    """Only a plain http(s) address is handed to a browser: a comment's URL is untrusted."""
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(ord(ch) < 32 for ch in url)


def _not_in_review(draft: Draft) -> str:
    if draft.status == "draft":
        return f"draft {draft.id} v{draft.version} is not submitted yet: ctrl+g submits it for approval"
    if draft.status == "approved":
        return f"draft {draft.id} v{draft.version} is already approved (m marks it sent)"
    return f"draft {draft.id} is {draft.status.replace('_', ' ')}: nothing to approve"
