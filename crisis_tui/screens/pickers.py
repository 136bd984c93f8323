"""Pickers: a fact from the snippet library, the stream's filter, and the seat to take."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from crisis_tui.comment_rows import IN_REVIEW
from crisis_tui.model import COMMENT_STATUSES
from crisis_tui.playbook import Role, Snippet
from crisis_tui.room_state import Filter
from crisis_tui.screens.forms import FORM_CSS, Form, SubmitForm
from crisis_tui.widgets.display import plain, untrusted
from crisis_tui.widgets.plain_input import PlainInput


class SnippetPicker(Form[Snippet | None]):
    """The playbook's facts (links, hours, contact routes), the reply's language first."""

    DEFAULT_CSS = FORM_CSS.format(name="SnippetPicker") + """
    SnippetPicker OptionList { height: auto; max-height: 14; }
    """

    def __init__(self, snippets: list[Snippet], lang: str = "") -> None:
        super().__init__()
        self.snippets = sorted(snippets, key=lambda s: (s.lang not in (lang, ""), s.lang != lang, s.title))

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Insert a fact"
            if not self.snippets:
                yield Static(Content("The playbook has no snippets ([[snippets]] in the playbook TOML)."))
            yield OptionList(*[
                Option(Content.assemble(
                    untrusted(s.title, single_line=True, max_chars=40),
                    Content.styled(f" [{plain(s.lang or 'any', 16)}] ", "$text-muted"),
                    untrusted(s.text, single_line=True, max_chars=60)), id=s.id)
                for s in self.snippets
            ], id="snippet-list")
            yield Static("Enter inserts at the cursor · Esc cancels", classes="form-label")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.snippets[event.option_index])


class FilterStream(SubmitForm[Filter | None]):
    """Which comments the stream shows: statuses, platforms and a text to find."""

    DEFAULT_CSS = FORM_CSS.format(name="FilterStream") + """
    FilterStream > Vertical { width: 80; }
    FilterStream #filter-lists { height: auto; }
    FilterStream SelectionList { width: 1fr; height: auto; max-height: 9; }
    """
    BINDINGS = [
        Binding("ctrl+r", "clear", "Clear filter", id="filter.clear"),
    ]

    def __init__(self, current: Filter, sources: list[str]) -> None:
        super().__init__()
        self.current = current
        self.sources = sources

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Filter the stream"
            yield PlainInput(value=self.current.text, placeholder="text or author to find", id="filter-text")
            with Horizontal(id="filter-lists"):
                yield SelectionList[str](
                    *[(s.replace("_", " "), s, s in self.current.statuses) for s in (*COMMENT_STATUSES, IN_REVIEW)],
                    id="filter-status",
                )
                yield SelectionList[str](
                    *[(untrusted(s, single_line=True, max_chars=20), s, s in self.current.sources) for s in self.sources],
                    id="filter-source",
                )
            yield Static("Nothing ticked = all · Enter applies · ctrl+r clears · Esc cancels", classes="form-label")
            with Horizontal():
                yield Button("Clear", id="clear")
                yield Button("Apply", variant="primary", id="ok")

    def submit(self) -> None:
        self.dismiss(Filter(
            statuses=frozenset(self.query_one("#filter-status", SelectionList).selected),
            sources=frozenset(self.query_one("#filter-source", SelectionList).selected),
            text=self.query_one("#filter-text", Input).value,
        ))

    def other_button(self, button_id: str | None) -> None:
        self.action_clear()

    def action_clear(self) -> None:
        self.dismiss(Filter())


class RolePicker(Form[str | None]):
    """Which of your seats you take in the room: only the roles your credential allows.

    Shown when `open` is given several seats and no --role (a shared host's
    seat with more than one role, or a server token's seats). Esc leaves.
    """

    DEFAULT_CSS = FORM_CSS.format(name="RolePicker") + """
    RolePicker OptionList { height: auto; max-height: 12; }
    """

    def __init__(self, roles: list[Role], preferred: str = "") -> None:
        super().__init__()
        self.roles = roles
        self.preferred = preferred

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Take your seat"
            yield OptionList(*[
                Option(Content.assemble(
                    Content.styled(f"{plain(r.label, 5):<6}", "bold"),
                    untrusted(r.name, single_line=True, max_chars=40),
                    Content.styled(" · decision power" if r.decision_power else "", "$text-muted")), id=r.id)
                for r in self.roles
            ], id="role-list")
            yield Static("Enter takes the seat · Esc leaves", classes="form-label")

    def on_mount(self) -> None:
        ids = [r.id for r in self.roles]
        self.query_one(OptionList).highlighted = ids.index(self.preferred) if self.preferred in ids else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.roles[event.option_index].id)
