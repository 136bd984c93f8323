"""The running timeline: the event log in human words, as a line-API ScrollView.

It follows the tail while the reader's cursor is on the last line and stays put
once they move up to read back (like `tail -f` in a pager); Enter opens the line
under the cursor whole, as a narrow pane cuts it. A one-line input under it adds
a note to the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from crisis_tui.room_state import RoomState
from crisis_tui.room_timeline import TimelineEntry
from crisis_tui.timeline_text import clock
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.line_view import LineView
from crisis_tui.widgets.plain_input import PlainInput


class TimelineLines(LineView, can_focus=True):
    """The timeline entries of the room state, newest at the bottom."""

    COMPONENT_CLASSES = {"timeline--time", "timeline--alert", "timeline--decision", "timeline--cursor"}
    DEFAULT_CSS = """
    TimelineLines {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    TimelineLines > .timeline--time { color: $text-muted; }
    TimelineLines > .timeline--alert { color: $text-error; text-style: bold; }
    TimelineLines > .timeline--decision { color: $text-success; }
    TimelineLines:focus > .timeline--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    TimelineLines:nocolor:focus > .timeline--cursor { text-style: reverse; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="timeline.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="timeline.down"),
        Binding("end", "jump(-1)", "Tail", show=False, id="timeline.tail", tooltip="Back to the newest line, and follow it"),
        Binding("home", "jump(0)", "First", show=False, id="timeline.first"),
        Binding("enter", "open", "Open line", show=False, id="timeline.open", tooltip="Show the line under the cursor whole"),
    ]

    @dataclass
    class Opened(Message):
        """Enter on a line: show it whole."""

        entry: TimelineEntry

    def __init__(self, state: RoomState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        #: The line the reader is on; None follows the newest.
        self.cursor: int | None = None

    @property
    def at_tail(self) -> bool:
        return self.cursor is None

    @property
    def cursor_index(self) -> int:
        return len(self.state.timeline) - 1 if self.cursor is None else self.cursor

    def refresh_timeline(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.state.timeline))
        if self.cursor is None:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
        self.refresh()

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor_index + delta)

    def action_jump(self, where: int) -> None:
        self._move_to(0 if where == 0 else len(self.state.timeline) - 1)

    def action_open(self) -> None:
        entries = self.state.timeline
        if 0 <= self.cursor_index < len(entries):
            self.post_message(self.Opened(entries[self.cursor_index]))

    def _move_to(self, index: int) -> None:
        last = len(self.state.timeline) - 1
        index = max(0, min(last, index))
        self.cursor = None if index >= last else index
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.state.timeline))
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self._style("base")
        entries = self.state.timeline
        if not 0 <= index < len(entries):
            return Strip.blank(width, base)
        entry = entries[index]
        stamp = clock(entry.ts) + " "
        style = base
        if entry.look == "alert":
            style = self._style("timeline--alert")
        elif entry.look == "decision":
            style = self._style("timeline--decision")
        text = plain(entry.text, 400)
        rest = max(0, width - len(stamp))
        segs = [
            Segment(stamp[:width], self._style("timeline--time")),
            Segment(set_cell_size(text, rest), style),
        ]
        strip = Strip(segs).crop_extend(0, width, base)
        if index == self.cursor_index and self.has_focus:
            bar = self.get_component_rich_style("timeline--cursor", partial=True)
            strip = Strip(list(Segment.apply_style(strip, post_style=bar)), width)
        return strip


class NoteInput(PlainInput):
    """The one-line note box under the timeline (Enter adds, Escape leaves)."""

    DEFAULT_CSS = """
    NoteInput { height: 1; border: none; padding: 0 1; display: none; }
    NoteInput.-open { display: block; }
    NoteInput:focus { border: none; }
    """
    BINDINGS = [Binding("escape", "close", "Close", show=False, id="note.close")]

    @dataclass
    class NoteAdded(Message):
        text: str

    def action_close(self) -> None:
        self.value = ""
        self.remove_class("-open")
        self.screen.focus_next()

    async def action_submit(self) -> None:
        text = self.value.strip()
        if text:
            self.post_message(self.NoteAdded(text))
        self.value = ""
        self.remove_class("-open")


class TimelinePane(Vertical):
    """The timeline and its note box."""

    DEFAULT_CSS = """
    TimelinePane { height: 1fr; border: round $panel-lighten-2; border-title-color: $text-muted; }
    TimelinePane:focus-within { border: round $accent; }
    """

    def __init__(self, state: RoomState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.border_title = "Timeline"

    def compose(self) -> ComposeResult:
        yield TimelineLines(self.state, id="timeline-lines")
        yield NoteInput(placeholder="note for the timeline (Enter adds, Esc cancels)", id="note-input")

    def open_note(self) -> None:
        box = self.query_one(NoteInput)
        box.add_class("-open")
        box.focus()

    def refresh_timeline(self) -> None:
        self.query_one(TimelineLines).refresh_timeline()
