"""The room's word-out screens: a department's answer to an escalation, and a page of text
(the outbound log, a situation report just issued).

Both show what people and platforms typed (answers, approved texts, post addresses), so
every line goes through `untrusted()`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Static

from crisis_tui.screens.forms import FORM_CSS, Form, SubmitForm
from crisis_tui.widgets.display import plain, untrusted


class AnswerEscalation(SubmitForm[str | None]):
    """What the department a comment was escalated to answered; it closes the escalation."""

    DEFAULT_CSS = FORM_CSS.format(name="AnswerEscalation")

    def __init__(self, comment_id: int, author: str) -> None:
        super().__init__()
        self.comment_id = comment_id
        self.author = author

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Department's answer"
            yield Static(Content.from_markup("What the department answered about #$cid by $who (goes on the record)",
                                             cid=str(self.comment_id), who=plain(self.author, 40)),
                         classes="form-label")
            yield Input(placeholder="e.g. Legal: no admission of fault, offer the refund", id="escalation-answer",
                        max_length=4000)
            yield Static("", classes="form-error", id="form-error")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Record", variant="primary", id="ok")

    def submit(self) -> None:
        answer = self.query_one("#escalation-answer", Input).value.strip()
        if not answer:
            self.query_one("#form-error", Static).update(Content("an answer needs its words"))
            return
        self.dismiss(answer)


class TextPage(Form[None]):
    """Lines to read, scrolled. Esc closes."""

    DEFAULT_CSS = FORM_CSS.format(name="TextPage") + """
    TextPage > Vertical { width: 100; }
    TextPage #text-page-box { height: auto; max-height: 30; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            with VerticalScroll(id="text-page-box"):
                yield Static(untrusted(self.text), id="text-page-text")
            yield Static(Content("Esc closes"), classes="form-label")

    def on_mount(self) -> None:
        self.query_one("#text-page-box", VerticalScroll).focus()
