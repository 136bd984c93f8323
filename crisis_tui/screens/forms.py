"""Small modal forms: propose a decision, tags, a vote.

Each returns its answer through `dismiss()` (None when cancelled) and refuses
an empty required field in place with one line, so nothing typed is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, OptionList, Static
from textual.widgets.option_list import Option

from crisis_tui.model import Decision
from crisis_tui.widgets.display import plain, untrusted
from crisis_tui.widgets.plain_input import PlainInput

FORM_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 70; max-width: 95%; height: auto; max-height: 90%;
    border: round $accent; background: $surface; padding: 0 1;
}}
{name} Input {{ margin-bottom: 1; }}
{name} .form-label {{ color: $text-muted; }}
{name} .form-error {{ color: $text-error; height: auto; }}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 1; min-width: 10; }}
"""


ResultT = TypeVar("ResultT")


class Form(ModalScreen[ResultT]):
    """A modal form or picker: Esc cancels it, answering None.

    Tab and shift+Tab move focus as priority bindings: the app then moves focus before it
    forwards the next key, so keys typed ahead of a Tab land in the next field. As an ordinary
    binding the Tab reaches the screen only after the field has taken the keys typed behind it.
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("tab", "move_focus(1)", show=False, priority=True),
        Binding("shift+tab", "move_focus(-1)", show=False, priority=True),
    ]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_move_focus(self, direction: int) -> None:
        if direction > 0:
            self.focus_next()
        else:
            self.focus_previous()


class SubmitForm(Form[ResultT]):
    """A form with an "ok" button: it, or Enter in any of its inputs, submits; any other button cancels."""

    def submit(self) -> None:
        raise NotImplementedError

    def other_button(self, button_id: str | None) -> None:
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.submit()
        else:
            self.other_button(event.button.id)


@dataclass
class Proposal:
    title: str
    rationale: str
    owner_decides: bool = False


class ProposeDecision(SubmitForm[Proposal | None]):
    """Title and rationale of a decision for the committee, and whether it is ours to take."""

    DEFAULT_CSS = FORM_CSS.format(name="ProposeDecision")
    BINDINGS = [Binding("enter", "to_rationale", show=False, priority=True)]

    def __init__(self, owners: list[str] | None = None) -> None:
        """`owners`: the playbook's roles that approve a decision that is not ours (none: no such choice)."""
        super().__init__()
        self.owners = owners or []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Propose a decision"
            yield Static("What do we decide?", classes="form-label")
            yield PlainInput(placeholder="e.g. publish a holding statement on X", id="decision-title", max_length=300)
            yield Static("Why (required: it goes on the record, and the voters read it)", classes="form-label")
            yield PlainInput(placeholder="rationale", id="decision-rationale", max_length=4000)
            if self.owners:
                yield Checkbox(Content.assemble("Not ours to take: the ", untrusted(" / ".join(self.owners), single_line=True,
                                                                            max_chars=80), " approves it"),
                               id="decision-owner")
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Propose", variant="primary", id="ok")

    def action_to_rationale(self) -> None:
        """Enter in the title moves to the rationale before the next key is read, so a quick
        typist's "title, Enter, why" never lands the why in the title (Input.Submitted would
        arrive after those keys). Anywhere else Enter does what it always does."""
        if self.focused is not self.query_one("#decision-title", Input):
            raise SkipAction()
        self.set_focus(self.query_one("#decision-rationale", Input))

    def submit(self) -> None:
        title = self.query_one("#decision-title", Input).value.strip()
        if not title:
            self.query_one("#form-error", Static).update(Content("the decision needs a title"))
            self.query_one("#decision-title", Input).focus()
            return
        rationale = self.query_one("#decision-rationale", Input).value.strip()
        if not rationale:
            self.query_one("#form-error", Static).update(
                Content("the decision needs its rationale: say why (the store refuses a decision without one)"))
            self.query_one("#decision-rationale", Input).focus()
            return
        owner = bool(self.owners) and self.query_one("#decision-owner", Checkbox).value
        self.dismiss(Proposal(title, rationale, owner))


@dataclass
class Escalation:
    to: str
    reason: str


class EscalateComment(SubmitForm[Escalation | None]):
    """Whom a comment is escalated to and why: both go on the record."""

    DEFAULT_CSS = FORM_CSS.format(name="EscalateComment")
    BINDINGS = [Binding("enter", "to_reason", show=False, priority=True)]

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Escalate"
            yield Static("To whom (a person, a team, a role)", classes="form-label")
            yield Input(placeholder="e.g. Legal, the duty manager", id="escalate-to", max_length=200)
            yield Static("Why (goes on the record)", classes="form-label")
            yield Input(placeholder="reason", id="escalate-reason", max_length=4000)
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Escalate", variant="primary", id="ok")

    def action_to_reason(self) -> None:
        """Enter in "to whom" moves on before the next key is read (see ProposeDecision)."""
        if self.focused is not self.query_one("#escalate-to", Input):
            raise SkipAction()
        self.set_focus(self.query_one("#escalate-reason", Input))

    def submit(self) -> None:
        to = self.query_one("#escalate-to", Input).value.strip()
        reason = self.query_one("#escalate-reason", Input).value.strip()
        missing = "#escalate-to" if not to else "#escalate-reason" if not reason else None
        if missing is not None:
            what = "whom it goes to" if not to else "why"
            self.query_one("#form-error", Static).update(Content(f"an escalation needs {what}"))
            self.query_one(missing, Input).focus()
            return
        self.dismiss(Escalation(to, reason))


class TagComment(Form[list[str] | None]):
    """Tags for a comment, comma separated."""

    DEFAULT_CSS = FORM_CSS.format(name="TagComment")

    def __init__(self, current: tuple[str, ...], marked: int = 0) -> None:
        super().__init__()
        self.current = current
        #: How many marked comments the tags go to (a bulk tag adds, it never replaces).
        self.marked = marked

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Tags"
            label = (f"Comma-separated tags, added to each of the {self.marked:,} marked comments" if self.marked
                     else "Comma-separated tags (replace the current ones)")
            yield Static(label, classes="form-label")
            yield PlainInput(value=plain(", ".join(self.current), 400), id="tags", max_length=400)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss([t.strip() for t in event.value.split(",") if t.strip()])


@dataclass
class Vote:
    decision_id: int
    approve: bool


class VoteDecision(Form[Vote | None]):
    """Approve or reject one of the proposed decisions."""

    DEFAULT_CSS = FORM_CSS.format(name="VoteDecision") + """
    VoteDecision OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [
        Binding("y", "vote(True)", "Approve", id="vote.approve"),
        Binding("n", "vote(False)", "Reject", id="vote.reject"),
    ]

    def __init__(self, proposed: list[Decision]) -> None:
        super().__init__()
        self.proposed = proposed

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Vote on a decision"
            yield OptionList(*[
                Option(Content.assemble(f"#{d.id} ", untrusted(d.title, single_line=True, max_chars=80),
                                        Content.styled(" by ", "$text-muted"),
                                        untrusted(d.proposer, single_line=True, max_chars=30)), id=str(d.id))
                for d in self.proposed
            ], id="vote-list")
            yield Static("Why", classes="form-label")
            yield Static(self._rationale(0), id="vote-rationale")
            yield Static("y approve · n reject · Esc cancel", classes="form-label")
            with Horizontal():
                yield Button("Reject", variant="error", id="reject")
                yield Button("Approve", variant="success", id="approve")

    def _rationale(self, index: int | None) -> Content:
        """The highlighted decision's rationale, whole: the voters read why before they vote."""
        if index is None or not 0 <= index < len(self.proposed):
            return Content("")
        why = self.proposed[index].rationale
        return untrusted(why) if why.strip() else Content.styled("(no rationale was given)", "$text-muted")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#vote-rationale", Static).update(self._rationale(event.option_index))

    def _chosen(self) -> int | None:
        options = self.query_one(OptionList)
        index = options.highlighted
        if index is None:
            return None
        return self.proposed[index].id

    def action_vote(self, approve: bool) -> None:
        chosen = self._chosen()
        if chosen is not None:
            self.dismiss(Vote(chosen, approve))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_vote(event.button.id == "approve")
