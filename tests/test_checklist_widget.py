"""ToneChecklist under Pilot: what it shows, and the Ticked messages it posts."""

from __future__ import annotations

from textual.app import App, ComposeResult

from crisis_tui import playbook as playbook_mod
from crisis_tui.tone import ToneChecker, ToneContext, Verdict
from crisis_tui.widgets.checklist import ToneChecklist

CHECKER = ToneChecker(playbook_mod.load(playbook_mod.shipped_path()))
COMMENT = "My refund has been stuck in processing since the app update"


def verdicts(text: str, ticked: dict[str, bool] | None = None) -> list[Verdict]:
    return CHECKER.check(text, ToneContext(comment_text=COMMENT, our_fault=True, platform="x", ticked=ticked or {}))


class Room(App[None]):
    """Plays the part of the editor: records ticks, re-checks, shows the result."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.ticks: dict[str, bool] = {}
        self.messages: list[tuple[str, bool]] = []

    def compose(self) -> ComposeResult:
        yield ToneChecklist(verdicts(self.text))

    def on_tone_checklist_ticked(self, message: ToneChecklist.Ticked) -> None:
        self.messages.append((message.rule, message.ticked))
        self.ticks[message.rule] = message.ticked
        message.checklist.show(verdicts(self.text, self.ticks))


def first_line(checklist: ToneChecklist) -> str:
    return checklist.render().plain.splitlines()[0]


async def test_it_shows_a_symbol_and_a_word_for_each_rule_and_why_some_fail() -> None:
    app = Room("We will NEVER ignore you. DM us today.")
    async with app.run_test(size=(120, 8)):
        checklist = app.query_one(ToneChecklist)
        lines = checklist.render().plain.splitlines()
        assert lines[0] == ("✗ calm ✗ focus ✗ apology ✓ next step ✓ personal ✓ no threat ✓ length ? real user"
                            "  (←/→ choose, space ticks)")  # focused: how to tick, where the rules are
        assert "✗ calm: shouting: NEVER" in lines[1]
        assert "✗ apology: no apology; the fault is ours" in lines[1]
        assert "? real user: not checked yet" in lines[1]
        assert "SLA" not in lines[0]  # does not apply here, so it takes no room
        checklist.show_inapplicable = True
        assert "– SLA" in first_line(checklist) and "– authority" in first_line(checklist)


async def test_space_ticks_the_selected_rule_and_the_room_shows_it_ticked() -> None:
    app = Room("We will NEVER ignore you. DM us today.")
    async with app.run_test(size=(120, 8)) as pilot:
        checklist = app.query_one(ToneChecklist)
        checklist.focus()
        await pilot.press("space")  # the first tickable rule: focus
        await pilot.press("right", "enter")  # the next: real user
        await pilot.pause()
        assert app.messages == [("focus", True), ("real_user", True)]
        assert "✓ focus" in first_line(checklist) and "✓ real user" in first_line(checklist)
        await pilot.press("space")  # the selection stayed on real user: untick it
        await pilot.pause()
        assert app.messages[-1] == ("real_user", False)
        assert "? real user" in first_line(checklist)


async def test_clicking_a_tickable_rule_ticks_it_and_clicking_another_does_nothing() -> None:
    app = Room("Sorry about the refund stuck since the update, we'll DM you today.")
    async with app.run_test(size=(120, 8)) as pilot:
        checklist = app.query_one(ToneChecklist)
        line = first_line(checklist)
        padding = checklist.styles.padding.left
        await pilot.click(ToneChecklist, offset=(padding + line.index("real user") + 2, 0))
        await pilot.pause()
        assert app.messages == [("real_user", True)]
        await pilot.click(ToneChecklist, offset=(padding + line.index("calm"), 0))
        await pilot.pause()
        assert app.messages == [("real_user", True)]
        assert "✓ real user" in first_line(checklist)


async def test_hostile_text_in_labels_and_reasons_is_shown_literally() -> None:
    app = Room("DM us today.")
    async with app.run_test(size=(120, 8)) as pilot:
        checklist = app.query_one(ToneChecklist)
        checklist.show([
            Verdict(rule="x", label="[b]legal[/b]", kind="manual", passed=None,
                    reason="\x1b]52;c;aGk=\x07like “[/bold] [red [@click=app.quit]x”", ticked=False),
        ])
        await pilot.pause()
        text = checklist.render().plain
        assert "\x1b" not in text and "\x07" not in text
        assert text.splitlines() == ["? [b]legal[/b]  (←/→ choose, space ticks)",
                                     "? [b]legal[/b]: like “[/bold] [red [@click=app.quit]x”"]
        await pilot.click(ToneChecklist, offset=(8, 1))
        await pilot.pause()
        assert app.is_running


async def test_show_keeps_the_selection_on_the_same_rule() -> None:
    app = Room("DM us today.")
    async with app.run_test(size=(120, 8)) as pilot:
        checklist = app.query_one(ToneChecklist)
        checklist.focus()
        await pilot.press("right")
        selected = checklist.verdicts[checklist.cursor].rule
        assert selected == "real_user"
        checklist.show(verdicts("Sorry, DM us today about the refund."))
        assert checklist.verdicts[checklist.cursor].rule == "real_user"
