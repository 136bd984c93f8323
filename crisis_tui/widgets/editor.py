"""The response editor: a reply to the claimed comment, or a public statement.

The text is autosaved a moment after the operator stops typing (debounced), so
a dropped SSH connection loses at most that moment. Each save carries the
version it was based on; when someone else saved in between, the store refuses
and this editor keeps the operator's text and says who saved what. When another
operator holds the comment, the editor shows their draft read-only and says who.
The tone checklist sits under the text and updates on every keystroke.

The text comes from any client (another operator, a raw HTTP client) and from
the playbook's snippets, and Textual's TextArea draws its document as it is: an
OSC 52 in it would write the operator's clipboard, a clear-screen blank the
room on every repaint. So the document only ever holds the display form
(`crisis_tui.safe_text.display_text`, uncapped: escapes and control characters
dropped, newlines kept, a tab as a space), whether loaded, inserted or pasted.
What is stored stays intact while the operator only reads it; once they edit,
the save stores the display form, which is exactly the text they saw and edited.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TextArea

from crisis_tui.model import Draft
from crisis_tui.safe_text import display_text
from crisis_tui.tone import Verdict
from crisis_tui.widgets.checklist import ToneChecklist
from crisis_tui.widgets.display import untrusted

AUTOSAVE_SECONDS = 0.7


@dataclass
class Target:
    """What the editor is bound to."""

    kind: str  # "reply" | "statement"
    comment_id: int | None = None
    author: str = ""  # the comment's author (untrusted)
    source: str = ""
    limit: int = 2000
    holder: str | None = None  # someone else holding the comment: read-only
    draft_id: int | None = None
    base_version: int = 0
    status: str = ""


class ReplyText(TextArea):
    """The TextArea, with the editor's own keys."""

    BINDINGS = [
        Binding("escape", "leave", "Back to stream", id="editor.leave", tooltip="Leave the editor (the draft is kept)"),
        Binding("ctrl+t", "screen.snippet", "Insert fact", id="editor.snippet", tooltip="Insert a fact from the snippet library"),
        Binding("ctrl+g", "screen.submit", "Submit", id="editor.submit", tooltip="Submit the draft for approval"),
        Binding("ctrl+n", "screen.send", "Send", id="editor.send",
                tooltip="Send the approved draft (the same chord as out of the editor)"),
        Binding("ctrl+o", "screen.keep_mine", "Keep mine", show=False, id="editor.keep_mine",
                tooltip="After a conflict: save your text over the newer version"),
        Binding("ctrl+l", "screen.load_theirs", "Load theirs", show=False, id="editor.load_theirs",
                tooltip="After a conflict: replace your text with the newer version"),
    ]

    def action_leave(self) -> None:
        self.post_message(ResponseEditor.Leave())

    async def _on_paste(self, event: events.Paste) -> None:
        """A paste lands as its display form (TextArea's own handler, next in the MRO, inserts it)."""
        event.text = display_text(event.text, None)


class ResponseEditor(Vertical):
    """Target line, text, tone checklist, status line."""

    DEFAULT_CSS = """
    ResponseEditor {
        height: 1fr;
        min-height: 7;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        background: $surface;
    }
    ResponseEditor:focus-within { border: round $accent; }
    ResponseEditor > #editor-target { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ResponseEditor > ReplyText { height: 1fr; min-height: 2; border: none; padding: 0 1; background: $surface; }
    ResponseEditor > ReplyText:focus { border: none; }
    ResponseEditor > ToneChecklist { height: auto; max-height: 4; }
    ResponseEditor > #editor-status { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; color: $text-muted; }
    ResponseEditor.-conflict > #editor-status { color: $text-error; text-style: bold; }
    """

    class Edited(Message):
        """The operator changed the text (every keystroke)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class SaveDue(Message):
        """The operator paused: time to autosave."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Leave(Message):
        """Escape: back to the stream."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Response"
        self.target: Target | None = None
        self.conflict: Draft | None = None
        self.saved_text = ""
        self._loading = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("select a comment: r replies, w writes a public statement", "$text-muted"),
                     id="editor-target")
        yield ReplyText("", id="editor-text", read_only=True, soft_wrap=True, show_line_numbers=False,
                        placeholder="")
        yield ToneChecklist(id="editor-checks")
        yield Static(Content(""), id="editor-status")

    # ------------------------------------------------------------------- state
    @property
    def text_area(self) -> ReplyText:
        return self.query_one(ReplyText)

    @property
    def text(self) -> str:
        return self.text_area.text

    @property
    def dirty(self) -> bool:
        return self.target is not None and self.text != self.saved_text

    def bind(self, target: Target, draft: Draft | None) -> None:
        """Point the editor at a reply or statement, with its stored draft if any."""
        self.cancel_autosave()
        self.target = target
        self.conflict = None
        self.remove_class("-conflict")
        if draft is not None:
            target.draft_id = draft.id
            target.base_version = draft.version
            target.status = draft.status
        self._set_text(draft.body if draft else "")
        area = self.text_area
        area.read_only = target.holder is not None or target.status in ("sent", "withdrawn")
        if target.kind == "statement":
            self.border_title = "Public statement"
            head = Content.styled("Public statement (needs approval by decision power)", "bold")
        else:
            self.border_title = "Reply"
            head = Content.assemble(Content.styled("Reply to ", "bold"),
                                    untrusted(target.author, single_line=True, max_chars=40).stylize("bold"),
                                    Content.styled(f" on {target.source}", "$text-muted"))
            if target.holder is not None:
                head = Content.assemble(Content.styled("held by ", "$text-warning"),
                                        untrusted(target.holder, single_line=True, max_chars=30),
                                        Content.styled(" (read-only) · ", "$text-warning"), head)
        self.query_one("#editor-target", Static).update(head)
        self.refresh_status()

    def unbind(self, reason: str = "select a comment: r replies, w writes a public statement") -> None:
        self.cancel_autosave()
        self.target = None
        self.conflict = None
        self.remove_class("-conflict")
        self._set_text("")
        self.text_area.read_only = True
        self.border_title = "Response"
        self.query_one("#editor-target", Static).update(Content.styled(reason, "$text-muted"))
        self.query_one(ToneChecklist).show([])
        self.query_one("#editor-status", Static).update(Content(""))

    def _set_text(self, stored: str) -> None:
        """Show a stored body as its display form; it counts as saved until the operator edits it."""
        self._loading = True
        text = display_text(stored, None)
        area = self.text_area
        area.load_text(text)
        area.move_cursor(area.document.end)
        self.saved_text = text
        self.call_after_refresh(self._loaded)

    def _loaded(self) -> None:
        self._loading = False

    def show_verdicts(self, verdicts: list[Verdict]) -> None:
        self.query_one(ToneChecklist).show(verdicts, can_tick=not self.text_area.read_only)

    def show_remote(self, draft: Draft) -> None:
        """Someone else saved this draft: follow it when we have nothing unsaved (or are read-only)."""
        target = self.target
        if target is None or target.draft_id != draft.id:
            return
        target.status = draft.status
        if draft.version > target.base_version and (not self.dirty or self.text_area.read_only):
            target.base_version = draft.version
            self._set_text(draft.body)
        if draft.status in ("sent", "withdrawn"):
            self.text_area.read_only = True
        self.refresh_status()

    # -------------------------------------------------------------- autosave
    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._loading or self.target is None or self.text_area.read_only:
            self.refresh_status()
            return
        self.post_message(self.Edited(self.text))
        self.cancel_autosave()
        self._timer = self.set_timer(AUTOSAVE_SECONDS, self._autosave)
        self.refresh_status()

    def _autosave(self) -> None:
        self._timer = None
        if self.dirty and self.conflict is None:
            self.post_message(self.SaveDue(self.text))

    def cancel_autosave(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def saved(self, draft: Draft, text: str) -> None:
        """The store took `text` as `draft` (a later keystroke may already be pending)."""
        target = self.target
        if target is None:
            return
        target.draft_id = draft.id
        target.base_version = draft.version
        target.status = draft.status
        self.saved_text = text
        self.refresh_status()

    def conflicted(self, current: Draft) -> None:
        """A stale save: keep the operator's text, say who saved which version."""
        self.cancel_autosave()
        self.conflict = current
        self.add_class("-conflict")
        self.refresh_status()

    def resolve_keep_mine(self) -> None:
        """Save over the newer version: base the next save on it."""
        if self.conflict is None or self.target is None:
            return
        self.target.base_version = self.conflict.version
        self.conflict = None
        self.remove_class("-conflict")
        self.saved_text = ""  # force the next save
        self.post_message(self.SaveDue(self.text))

    def resolve_load_theirs(self) -> None:
        if self.conflict is None or self.target is None:
            return
        current = self.conflict
        self.conflict = None
        self.remove_class("-conflict")
        self.target.base_version = current.version
        self.target.status = current.status
        self._set_text(current.body)
        self.refresh_status()

    def insert(self, text: str) -> None:
        if self.target is None or self.text_area.read_only:
            return
        self.text_area.insert(display_text(text, None))
        self.text_area.focus()

    # ----------------------------------------------------------------- status
    def refresh_status(self) -> None:
        target = self.target
        status = self.query_one("#editor-status", Static)
        if target is None:
            status.update(Content(""))
            return
        count = len(self.text)
        parts: list[Content] = []
        if target.holder is not None:
            parts.append(Content.assemble("read-only: ", untrusted(target.holder, single_line=True, max_chars=30),
                                          " holds it"))
        if count > target.limit:
            parts.append(Content.styled(f"✗ {count}/{target.limit} over the limit", "bold $text-error"))
        else:
            parts.append(Content(f"{count}/{target.limit}"))
        if self.conflict is not None:
            c = self.conflict
            parts.append(Content.assemble(
                "✗ conflict: ", untrusted(c.author, single_line=True, max_chars=30),
                f" saved v{c.version} while you edited v{target.base_version}; your text is kept · "
                "ctrl+o keep mine · ctrl+l load theirs",
            ))
        elif target.draft_id is None:
            parts.append(Content("not saved yet" if self.text else "empty"))
        else:
            state = (target.status or "draft").replace("_", " ")
            saved = "saving…" if self.dirty else "saved"
            parts.append(Content(f"draft {target.draft_id} v{target.base_version} {state} · {saved}"))
        status.update(Content(" · ").join(parts))
