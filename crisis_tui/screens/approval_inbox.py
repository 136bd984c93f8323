"""The approval inbox: the replies and statements in review that I could approve.

Choosing one opens it in the Reply pane, read-only, where `a` approves it after
showing its text (crisis_tui.screens.approval_dialog): the inbox approves nothing.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from crisis_tui.model import Draft
from crisis_tui.room_state import RoomState
from crisis_tui.screens.forms import FORM_CSS, Form
from crisis_tui.widgets.display import untrusted


def _label(draft: Draft, state: RoomState) -> Content:
    if draft.kind == "statement":
        what = Content.styled("statement", "bold")
    else:
        row = state.rows.get(draft.comment_id) if draft.comment_id is not None else None
        who = row.author if row is not None else f"#{draft.comment_id}"
        what = Content.assemble(Content.styled("reply to ", "bold"), untrusted(who, single_line=True, max_chars=30))
    return Content.assemble(
        what, Content.styled(f" · draft {draft.id} v{draft.version} by ", "$text-muted"),
        untrusted(draft.author, single_line=True, max_chars=30), "\n  ",
        untrusted(draft.body, single_line=True, max_chars=90),
    )


class ApprovalInbox(Form[Draft | None]):
    """What needs my approval, oldest first; Enter opens it in the Reply pane."""

    DEFAULT_CSS = FORM_CSS.format(name="ApprovalInbox") + """
    ApprovalInbox > Vertical { width: 100; }
    ApprovalInbox OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, drafts: list[Draft], state: RoomState) -> None:
        super().__init__()
        self.drafts = drafts
        self.state = state

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Needs my approval ({len(self.drafts)})"
            if not self.drafts:
                yield Static(Content("Nothing waits for your approval."))
            yield OptionList(*[Option(_label(d, self.state), id=f"d{d.id}") for d in self.drafts], id="inbox-list")
            yield Static("Enter opens it in the Reply pane (then a approves) · Esc closes", classes="form-label")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.drafts[event.option_index])
