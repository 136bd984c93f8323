"""The forms of the committee's controls: change the incident, hand a held comment over.

Each only gathers what the store command needs, with a "why" for the record; the
store decides whether the member may do it (the room says so before opening them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, OptionList, Select, Static
from textual.widgets.option_list import Option

from crisis_tui.model import INCIDENT_STATUSES
from crisis_tui.playbook import Playbook
from crisis_tui.screens.forms import FORM_CSS, SubmitForm
from crisis_tui.widgets.display import untrusted


@dataclass
class IncidentChange:
    """The fields that differ from the incident as the room knew it, and why."""

    changes: dict[str, object] = field(default_factory=dict)
    reason: str = ""


class IncidentControls(SubmitForm[IncidentChange | None]):
    """Title, severity, whose error it is and the status of the incident (the SLA and the
    apology rule follow them), with the reason that goes on the timeline."""

    DEFAULT_CSS = FORM_CSS.format(name="IncidentControls") + """
    IncidentControls Select { margin-bottom: 1; }
    IncidentControls Checkbox { margin-bottom: 1; }
    """

    def __init__(self, playbook: Playbook, *, title: str, severity: str, our_fault: bool, status: str) -> None:
        super().__init__()
        self.playbook = playbook
        self.current = {"title": title, "severity": severity, "our_fault": our_fault, "status": status}

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "The incident"
            yield Static("Title", classes="form-label")
            yield Input(value=str(self.current["title"]), id="incident-title", max_length=200)
            yield Static("Severity (the SLA follows it)", classes="form-label")
            yield Select([(f"{s.id} · {s.name} · {s.sla_minutes} min SLA", s.id) for s in self.playbook.severities],
                         value=self.current["severity"] or Select.NULL, allow_blank=False, id="incident-severity")
            yield Checkbox("The error is ours: replies must apologise", bool(self.current["our_fault"]),
                           id="incident-fault")
            yield Select([(s, s) for s in INCIDENT_STATUSES], value=self.current["status"], allow_blank=False,
                         id="incident-status")
            yield Static("Why (goes on the timeline)", classes="form-label")
            yield Input(placeholder="e.g. the press picked it up", id="incident-why", max_length=4000)
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Change", variant="primary", id="ok")

    def submit(self) -> None:
        wanted = {
            "title": self.query_one("#incident-title", Input).value.strip(),
            "severity": self.query_one("#incident-severity", Select).value,
            "our_fault": self.query_one("#incident-fault", Checkbox).value,
            "status": self.query_one("#incident-status", Select).value,
        }
        changes = {k: v for k, v in wanted.items() if v != self.current[k] and v is not Select.NULL}
        if not changes:
            self.query_one("#form-error", Static).update(Content("nothing changed (Esc closes)"))
            return
        self.dismiss(IncidentChange(changes, self.query_one("#incident-why", Input).value.strip()))


@dataclass
class HandOver:
    """To whom (None: I take it over) and why."""

    to: str | None
    reason: str


class HandOverForm(SubmitForm[HandOver | None]):
    """Take over a held comment, or give it to someone in the room; the holder is told."""

    DEFAULT_CSS = FORM_CSS.format(name="HandOverForm") + """
    HandOverForm OptionList { height: auto; max-height: 8; margin-bottom: 1; }
    """

    def __init__(self, comment: str, holder: str, candidates: list[str] | None = None) -> None:
        """`candidates`: the members present to give it to; None takes it over."""
        super().__init__()
        self.comment = comment
        self.holder = holder
        self.candidates = candidates

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Take over" if self.candidates is None else "Reassign"
            yield Static(Content.assemble(untrusted(self.comment, single_line=True, max_chars=60),
                                          " is held by ", untrusted(self.holder, single_line=True, max_chars=40),
                                          " (their draft stays with the comment)"))
            if self.candidates is not None:
                yield Static("Give it to", classes="form-label")
                yield OptionList(*[Option(untrusted(n, single_line=True, max_chars=40), id=f"m{i}")
                                   for i, n in enumerate(self.candidates)], id="handover-to")
            yield Static("Why (goes on the record, and the holder is told) · Enter hands it over",
                         classes="form-label")
            yield Input(placeholder="e.g. care has the refund", id="handover-why", max_length=4000)
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Take over" if self.candidates is None else "Reassign", variant="primary", id="ok")

    def on_mount(self) -> None:
        if self.candidates:
            options = self.query_one("#handover-to", OptionList)
            options.highlighted = 0
            options.focus()
        else:
            self.query_one("#handover-why", Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a member chooses them and moves on to the why."""
        self.query_one("#handover-why", Input).focus()

    def submit(self) -> None:
        to: str | None = None
        if self.candidates is not None:
            index = self.query_one("#handover-to", OptionList).highlighted
            if index is None:
                self.query_one("#form-error", Static).update(Content("choose whom to give it to"))
                return
            to = self.candidates[index]
        self.dismiss(HandOver(to, self.query_one("#handover-why", Input).value.strip()))
