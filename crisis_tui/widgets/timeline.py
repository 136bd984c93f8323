"""The running timeline: the event log in human words, as a line-API ScrollView.

It follows the tail while the reader is at the bottom and stays put once they
scroll up to read back (like `tail -f` in a pager). A one-line input under it
adds a note to the log.
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
from crisis_tui.timeline_text import clock
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.line_view import LineView
from crisis_tui.widgets.plain_input import PlainInput


class TimelineLines(LineView, can_focus=True):
    """The timeline entries of the room state, newest at the bottom."""

    COMPONENT_CLASSES = {"timeline--time", "timeline--alert", "timeline--decision"}
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
    """
    BINDINGS = [
        Binding("up,k", "scroll_up", "Up", show=False, id="timeline.up"),
        Binding("down,j", "scroll_down", "Down", show=False, id="timeline.down"),
        Binding("end", "scroll_end", "Tail", show=False, id="timeline.tail"),
        Binding("home", "scroll_home", "First", show=False, id="timeline.first"),
    ]

    def __init__(self, state: RoomState, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state

    @property
    def at_tail(self) -> bool:
        return self.scroll_offset.y >= self.max_scroll_y - 1

    def refresh_timeline(self) -> None:
        following = self.at_tail
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.state.timeline))
        if following:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
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
        return Strip(segs).crop_extend(0, width, base)


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
