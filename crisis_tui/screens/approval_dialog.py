"""The approval confirmation: the approver sees exactly what they put their name under.

It always shows, also when every rule passes: the stored text of the draft
(through `untrusted()`, literal, scrollable when long), its version and who
saved it, and the failing automatic rules with a field for the written reason
the store requires to approve over them. The room passes the version shown
here to the store, so a draft saved meanwhile is refused, never approved unseen.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from crisis_tui.model import Draft
from crisis_tui.safe_text import DISPLAY_CAP
from crisis_tui.screens.forms import FORM_CSS, SubmitForm
from crisis_tui.widgets.display import untrusted
from crisis_tui.widgets.plain_input import PlainInput


def heading(draft: Draft, replying_to: str | None) -> Content:
    """Which draft, which version, whose words: "Reply to @dan · draft 3 v2 · saved by Ana"."""
    what = (Content.assemble("Reply to ", untrusted(replying_to or "?", single_line=True, max_chars=40))
            if draft.kind == "reply" else Content("Public statement"))
    return Content.assemble(what.stylize("bold"), f" · draft {draft.id} ",
                            Content.styled(f"v{draft.version}", "bold"), " · saved by ",
                            untrusted(draft.author, single_line=True, max_chars=40))


class ConfirmApproval(SubmitForm[str | None]):
    """Answers the override reason ("" when every rule passes), or None when cancelled."""

    DEFAULT_CSS = FORM_CSS.format(name="ConfirmApproval") + """
    ConfirmApproval > Vertical { width: 90; }
    ConfirmApproval #approve-text-box { height: auto; max-height: 35vh; border: tall $panel; margin-bottom: 1; }
    ConfirmApproval #approve-text-box:focus { border: tall $accent; }
    ConfirmApproval .approve-ok { color: $text-success; }
    ConfirmApproval .approve-failing { color: $text-warning; }
    """
    BINDINGS = [Binding("enter", "approve", "Approve", show=False, id="approve.confirm")]

    def __init__(self, draft: Draft, failing: list[str], replying_to: str | None = None) -> None:
        super().__init__()
        self.draft = draft
        self.failing = failing
        self.replying_to = replying_to

    def compose(self) -> ComposeResult:
        draft = self.draft
        with Vertical() as box:
            box.border_title = f"Approve draft {draft.id} v{draft.version}?"
            yield Static(heading(draft, self.replying_to), id="approve-heading")
            with VerticalScroll(id="approve-text-box"):
                yield Static(untrusted(draft.body), id="approve-text")
            if len(draft.body) > DISPLAY_CAP:
                yield Static(Content.styled(
                    f"shown: the first {DISPLAY_CAP:,} of {len(draft.body):,} characters", "$text-warning"))
            if self.failing:
                yield Static(Content.assemble("✗ failing rules: ",
                                              untrusted(", ".join(self.failing), single_line=True)),
                             classes="approve-failing", id="approve-failing")
                yield PlainInput(placeholder="why approving anyway is right (recorded and exported)",
                            id="override-reason", max_length=4000)
            else:
                yield Static("✓ every automatic rule passes", classes="approve-ok", id="approve-failing")
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Approve with reason" if self.failing else f"Approve v{draft.version}",
                             variant="warning" if self.failing else "success", id="ok")

    def on_mount(self) -> None:
        if self.failing:
            self.query_one("#override-reason", Input).focus()
        else:
            self.query_one("#approve-text-box", VerticalScroll).focus()

    def action_approve(self) -> None:
        self.submit()

    def submit(self) -> None:
        if not self.failing:
            self.dismiss("")
            return
        reason = self.query_one("#override-reason", Input).value.strip()
        if not reason:
            self.query_one("#form-error", Static).update(Content("a written reason is required to override"))
            self.query_one("#override-reason", Input).focus()
            return
        self.dismiss(reason)
