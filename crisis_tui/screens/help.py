"""The help screen: every key that works where the operator stands, and what it does now.

It is read from the bindings Textual itself would dispatch (`Screen.active_bindings`:
the focused pane, its containers, the screen, the app), never from a hand-kept
list, so a key moved by the playbook's keymap, a binding added to a pane or an
action switched off right now shows here as it is. Keys come through the app's
key display and words through `untrusted()`: a keymap is a file someone edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from crisis_tui.widgets.display import untrusted


@dataclass
class KeyHelp:
    """One action and the keys that run it."""

    keys: list[str]
    name: str
    does: str
    enabled: bool


@dataclass
class HelpSection:
    """The keys one part of the screen (a pane, the room, the app) answers."""

    title: str
    keys: list[KeyHelp] = field(default_factory=list)


def _place(node: DOMNode, screen: Screen[object]) -> str:
    """What to call the part that owns a binding: its pane's border title where it has one."""
    if isinstance(node, App):
        return "Everywhere"
    if node is screen:
        return "This screen"
    for ancestor in node.ancestors_with_self:
        title = getattr(ancestor, "border_title", None)
        if title:
            return str(title)
        if ancestor is screen:
            break
    return type(node).__name__


def help_sections(screen: Screen[object]) -> list[HelpSection]:
    """The screen's live bindings grouped by the part that owns them, focused pane first."""
    app = screen.app
    sections: dict[int, HelpSection] = {}
    by_action: dict[tuple[int, str], KeyHelp] = {}
    for active in screen.active_bindings.values():
        node, binding = active.node, active.binding
        section = sections.setdefault(id(node), HelpSection(_place(node, screen)))
        key = app.get_key_display(binding)
        entry = by_action.get((id(node), binding.action))
        if entry is not None:
            if key not in entry.keys:
                entry.keys.append(key)
            continue
        entry = KeyHelp([key], binding.description or binding.action, active.tooltip or binding.tooltip,
                        active.enabled)
        by_action[(id(node), binding.action)] = entry
        section.keys.append(entry)
    return [s for s in sections.values() if s.keys]


def render_sections(sections: list[HelpSection]) -> Content:
    """The sections as aligned lines: keys, name, what it does; "not now" when switched off."""
    width = max((len(" ".join(k.keys)) for s in sections for k in s.keys), default=4)
    width = min(width, 18)
    lines: list[Content] = []
    for section in sections:
        if lines:
            lines.append(Content(""))
        lines.append(untrusted(section.title, single_line=True, max_chars=60).stylize("bold $text-accent"))
        for k in section.keys:
            keys = untrusted(" ".join(k.keys), single_line=True, max_chars=40)
            pad = Content(" " * max(1, width + 2 - keys.cell_length))
            name = untrusted(k.name, single_line=True, max_chars=40).stylize("bold")
            parts = [Content("  "), keys.stylize("$text-warning"), pad, name]
            if k.does:
                parts += [Content(" — "), untrusted(k.does, single_line=True, max_chars=200)]
            if not k.enabled:
                parts.append(Content.styled(" (not now)", "$text-muted"))
            lines.append(Content.assemble(*parts))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """The keys of the pane that had focus, and of the room around it. Esc, q, ? or F1 close."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 100; max-width: 95%; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-keys { height: 1fr; }
    HelpScreen #help-hint { height: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "close", "Close", id="help.close")]

    def __init__(self, sections: list[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Keys here and now"
            with VerticalScroll(id="help-keys"):
                yield Static(render_sections(self.sections), id="help-text")
            yield Static("Esc closes · ctrl+p searches every command", id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-keys", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss(None)
