"""The tone checklist under the reply editor: "✓ calm ✗ apology ? real user".

It renders the verdicts it is given and owns nothing: ticking a rule (space or
enter on the selected rule, or a click on it) posts `ToneChecklist.Ticked`;
whoever holds the draft records the tick in the store, re-checks, and calls
`show()` with the new verdicts. Every state has a symbol and the row carries
the label, so colour is never the only signal (NO_COLOR, colour-blind
operators). Labels come from the playbook and reasons may quote the draft, so
both reach the screen through `untrusted()`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.style import Style
from textual.widget import Widget

from crisis_tui.tone import Verdict
from crisis_tui.widgets.display import untrusted

_STATE_STYLE = {"pass": "$text-success", "fail": "bold $text-error", "pending": "$text-warning", "n/a": "$text-muted"}


#: How a person ticks a rule, said where the rules are (from the editor, and once on the checklist).
TICK_HINT = "(tab, space ticks)"
TICK_HINT_HERE = "(←/→ choose, space ticks)"


class ToneChecklist(Widget, can_focus=True):
    """One line of verdicts, and below it why the failing or pending ones are so."""

    DEFAULT_CSS = """
    ToneChecklist {
        height: auto;
        padding: 0 1;
    }
    ToneChecklist:focus {
        background-tint: $foreground 5%;
    }
    """

    BINDINGS = [
        Binding("left", "move(-1)", "Previous rule", show=False, id="checklist.previous",
                tooltip="Select the previous rule a person can tick"),
        Binding("right", "move(1)", "Next rule", show=False, id="checklist.next",
                tooltip="Select the next rule a person can tick"),
        Binding("space,enter", "tick", "Tick", id="checklist.tick",
                tooltip="Tick or untick the selected rule (e.g. real user checked)"),
    ]

    #: Index (into the verdicts) of the selected tickable rule, -1 when none.
    cursor: reactive[int] = reactive(-1)
    #: Show the second line with the reasons of failing and pending rules.
    show_reasons: reactive[bool] = reactive(True, layout=True)
    #: Show rules that do not concern this draft ("– SLA" on a statement).
    show_inapplicable: reactive[bool] = reactive(False, layout=True)

    class Ticked(Message):
        """A person ticked (or unticked) a rule on this checklist."""

        def __init__(self, checklist: ToneChecklist, rule: str, ticked: bool) -> None:
            super().__init__()
            self.checklist = checklist
            self.rule = rule
            self.ticked = ticked

        @property
        def control(self) -> ToneChecklist:
            return self.checklist

    def __init__(
        self,
        verdicts: Sequence[Verdict] = (),
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._verdicts: tuple[Verdict, ...] = ()
        #: Whether this person may tick here (not on a draft someone else holds, or one sent).
        self._can_tick = True
        self.show(verdicts)

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self._verdicts

    def _tickable(self) -> list[int]:
        if not self._can_tick:
            return []
        return [i for i, v in enumerate(self._verdicts) if v.ticked is not None]

    def show(self, verdicts: Sequence[Verdict], *, can_tick: bool = True) -> None:
        """Replace the verdicts shown (keeps the selection on the same rule); `can_tick`: False
        on a read-only draft, where no rule is offered for ticking and no hint says otherwise."""
        selected = self._verdicts[self.cursor].rule if 0 <= self.cursor < len(self._verdicts) else None
        self._verdicts = tuple(verdicts)
        self._can_tick = can_tick
        tickable = self._tickable()
        same = [i for i in tickable if self._verdicts[i].rule == selected]
        self.set_reactive(ToneChecklist.cursor, same[0] if same else (tickable[0] if tickable else -1))
        self.refresh(layout=True)

    def render(self) -> Content:
        focused = self.has_focus
        items: list[Content] = []
        for index, verdict in enumerate(self._verdicts):
            if verdict.state == "n/a" and not self.show_inapplicable:
                continue
            item = Content.assemble((verdict.symbol, _STATE_STYLE[verdict.state]), " ",
                                    untrusted(verdict.label, single_line=True, max_chars=40))
            if verdict.ticked is not None and self._can_tick:
                item = item.stylize(Style.from_meta({"@click": f"tick({index})"}))
                if focused and index == self.cursor:
                    item = item.stylize("reverse")
            items.append(item)
        line = Content(" ").join(items)
        if self._tickable():  # said on the line that is always shown
            line = Content.assemble(line, "  ", (TICK_HINT_HERE if focused else TICK_HINT, "$text-muted"))
        if not self.show_reasons:
            return line
        # Failing rules first (they block approval), then the ones waiting for a person's tick.
        waiting = sorted((v for v in self._verdicts if v.state in ("fail", "pending")), key=lambda v: v.state != "fail")
        reasons = [
            Content.assemble(f"{v.symbol} ", untrusted(v.label, single_line=True, max_chars=40), ": ",
                             untrusted(v.reason, single_line=True, max_chars=120))
            for v in waiting
        ]
        if not reasons:
            return line
        return Content("\n").join([line, Content(" · ").join(reasons).stylize("$text-muted")])

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        tickable = self._tickable()
        if not tickable:
            return
        position = tickable.index(self.cursor) if self.cursor in tickable else 0
        self.cursor = tickable[(position + step) % len(tickable)]

    def action_tick(self, index: int | None = None) -> None:
        """Ask for the selected (or clicked) rule's tick to flip."""
        target = self.cursor if index is None else index
        if target not in self._tickable():
            self.app.bell()
            return
        verdict = self._verdicts[target]
        self.cursor = target
        self.post_message(self.Ticked(self, verdict.rule, not verdict.ticked))
