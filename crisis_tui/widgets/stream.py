"""The comment stream: a line-API ScrollView over the room state's visible rows.

Like toolong's LogLines, only the rows on screen are ever built (`render_line`
returns one Strip per visible line and `virtual_size` says how many there are),
so a million comments cost their index cells and a screenful of rows per frame.
A row whose details the room has not cached is drawn as a placeholder, and the
stream asks for the details of the screen around it (`DetailsWanted`); the room
reads them from the store and repaints. The cursor follows a comment, not a
position: rows arriving above it never move the selection to another person's comment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip

from crisis_tui.comment_rows import UNANSWERED
from crisis_tui.room_state import RoomState, Row
from crisis_tui.sla import MARK, standing
from crisis_tui.widgets.display import plain
from crisis_tui.widgets.line_view import LineView
from crisis_tui.widgets.stream_preview import StreamPreview, preview

PLATFORM = {
    "x": "x", "twitter": "x", "instagram": "ig", "facebook": "fb", "tiktok": "tt", "youtube": "yt",
    "reviews": "rv", "email": "em", "mastodon": "md", "support": "sp",
}
#: Status as symbol + word, so colour is never the only signal.
#: A reply draft's state beside the comment's status: being written, in review, approved.
DRAFT_MARK = {"draft": "✎", "in_review": "⧗", "approved": "✔"}
STATUS = {
    "new": "NEW", "claimed": "●", "answered": "✓ans", "escalated": "↑esc", "ignored": "–ign",
    "removal_requested": "✗rm",
}
#: Below this width a row keeps one symbol per column and the words move to the preview.
NARROW = 70
#: The narrow row's status symbol (the preview under the stream says it in words).
STATUS_SYMBOL = {"new": "•", "claimed": "●", "answered": "✓", "escalated": "↑", "ignored": "–",
                 "removal_requested": "✗"}
SLA_SYMBOL = {"within": " ", "near": "!", "over": "✗"}


#: Where a row marked for a bulk action shows its mark (over its age cell).
MARKED = "■"


_LONG_UNITS = (("d", 86400), ("w", 7 * 86400), ("y", 365 * 86400))


def age(seconds: float, width: int = 0) -> str:
    """Compact age: 45s, 12m, 3h, 2d; within `width` cells (0: any), by weeks and years when days
    do not fit, so a comment posted long ago (an old thread pulled in) never loses its unit."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    if width <= 1:
        return f"{s // 86400}d"
    most = 10 ** (width - 1) - 1
    for unit, size in _LONG_UNITS:
        if s // size <= most:
            return f"{s // size}{unit}"
    return f"{most}y"


def reach(followers: int | None) -> str:
    if not followers:
        return ""
    if followers >= 1_000_000:
        return f"{followers / 1_000_000:.0f}M" if followers >= 10_000_000 else f"{followers / 1_000_000:.1f}M"
    if followers >= 1000:
        return f"{followers // 1000}k"
    return str(followers)


def cell(text: str, width: int) -> str:
    """Exactly `width` cells (cropped or padded), wide characters counted as two."""
    if width <= 0:
        return ""
    return set_cell_size(text, width)


class CommentStream(LineView, can_focus=True):
    """The incoming comments, worst first (or newest first)."""

    COMPONENT_CLASSES = {
        "stream--cursor",
        "stream--bot",
        "stream--mine",
        "stream--held",
        "stream--done",
        "stream--urgent",
        "stream--dim",
        "stream--marked",
    }
    DEFAULT_CSS = """
    CommentStream {
        height: 1fr;
        background: $surface;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    CommentStream > .stream--cursor { background: $block-cursor-blurred-background; }
    CommentStream:focus > .stream--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    CommentStream:nocolor > .stream--cursor { text-style: reverse; }
    CommentStream:nocolor:focus > .stream--cursor { text-style: reverse bold; }
    CommentStream > .stream--bot { color: $text-warning; }
    CommentStream > .stream--mine { color: $text-success; text-style: bold; }
    CommentStream > .stream--held { color: $text-accent; }
    CommentStream > .stream--done { color: $text-muted; }
    CommentStream > .stream--urgent { color: $text-error; text-style: bold; }
    CommentStream > .stream--dim { color: $text-muted; }
    CommentStream > .stream--marked { color: $text-accent; text-style: bold; }
    """
    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="stream.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="stream.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="stream.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="stream.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="stream.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="stream.last"),
        Binding("enter", "open", "Detail", show=False, id="stream.open", tooltip="Show the whole comment"),
        Binding("space", "toggle_mark", "Mark", show=False, id="stream.mark",
                tooltip="Mark or unmark the comment for a bulk action (i, b, g, u then act on every marked one)"),
        Binding("asterisk", "mark_cluster", "Mark copies", key_display="*", show=False, id="stream.mark_cluster",
                tooltip="Mark every comment of the highlighted one's copy-paste cluster (again: unmark them)"),
    ]

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another comment."""

        comment_id: int | None

    @dataclass
    class MarksChanged(Message):
        """The set of comments marked for a bulk action changed."""

        count: int

    @dataclass
    class Opened(Message):
        """Enter on a comment: show its detail."""

        comment_id: int

    @dataclass
    class DetailsWanted(Message):
        """Rows on (or next to) the screen are placeholders: the room reads their details."""

        ids: list[int]


    def __init__(self, state: RoomState, me: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = state
        self.me = me
        self.cursor_id: int | None = None
        self._cursor_index = 0
        self.urgent_at = float("inf")
        #: The SLA in force (the room sets it from the playbook and the incident's severity).
        self.sla_s = float("inf")
        self.clock = time.time
        #: Where the highlighted comment is told in words (the room mounts one under the stream).
        self.preview: StreamPreview | None = None
        #: Comments marked for a bulk action (view state, like the cursor: the store holds the comments).
        self.marked: set[int] = set()
        self._wanting = False
        self._asked: set[int] = set()  # details asked for and not settled yet
        self._absent: set[int] = set()  # asked, answered, and not in the store: never asked again

    def on_focus(self) -> None:
        self._styles.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._styles.clear()
        self.refresh()

    # ---------------------------------------------------------------- updates
    def refresh_rows(self) -> None:
        """The state changed: keep the cursor on its comment and the view steady."""
        old_index = self._cursor_index
        old_top = self.scroll_offset.y
        total = len(self.state)
        self.virtual_size = Size(self.scrollable_content_region.width, total)
        index = self.state.index_of(self.cursor_id) if self.cursor_id is not None else None
        if index is None:
            index = min(old_index, max(0, total - 1))
            row = self.state.row_at(index)
            new_id = row.id if row else None
            if new_id != self.cursor_id:
                self.cursor_id = new_id
                self.post_message(self.Highlighted(new_id))
        self._cursor_index = index
        shift = index - old_index
        if shift and old_top > 0:
            self.scroll_to(y=old_top + shift, animate=False, immediate=True)
        self._keep_cursor_visible()
        self.refresh()
        self.show_preview()

    def show_preview(self) -> None:
        """Tell the highlighted comment in words under the stream."""
        if self.preview is None:
            return
        row = self.cursor_row
        if row is None:
            self.preview.show(None)
            return
        waited = self.clock() - row.since
        where = standing(waited, self.sla_s) if row.status in UNANSWERED else "within"
        self.preview.show(preview(row, self.me, age(waited), where))

    def _keep_cursor_visible(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if self._cursor_index < top:
            self.scroll_to(y=self._cursor_index, animate=False, immediate=True)
        elif self._cursor_index >= top + height:
            self.scroll_to(y=self._cursor_index - height + 1, animate=False, immediate=True)

    def select(self, index: int) -> None:
        total = len(self.state)
        if total == 0:
            return
        index = max(0, min(total - 1, index))
        self._cursor_index = index
        row = self.state.row_at(index)
        new_id = row.id if row else None
        if new_id != self.cursor_id:
            self.cursor_id = new_id
            self.post_message(self.Highlighted(new_id))
        self._keep_cursor_visible()
        self.refresh()
        self.show_preview()

    def select_id(self, comment_id: int) -> bool:
        index = self.state.index_of(comment_id)
        if index is None:
            return False
        self.select(index)
        return True

    @property
    def cursor_row(self) -> Row | None:
        return self.state.rows.get(self.cursor_id) if self.cursor_id is not None else None

    # ---------------------------------------------------------------- actions
    def action_cursor(self, delta: int) -> None:
        self.select(self._cursor_index + delta)

    def action_page(self, direction: int) -> None:
        self.select(self._cursor_index + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, where: int) -> None:
        self.select(0 if where == 0 else len(self.state) - 1)

    def action_toggle_mark(self) -> None:
        if self.cursor_id is None:
            return
        self.marked ^= {self.cursor_id}
        self._marks_changed()

    def action_mark_cluster(self) -> None:
        if self.cursor_id is None:
            return
        same = self.state.cluster_ids(self.cursor_id)
        if same <= self.marked:
            self.marked -= same
        else:
            self.marked |= same
        self._marks_changed()

    def clear_marks(self) -> None:
        if self.marked:
            self.marked = set()
            self._marks_changed()

    def _marks_changed(self) -> None:
        self.refresh()
        self.post_message(self.MarksChanged(len(self.marked)))

    def action_open(self) -> None:
        if self.cursor_id is not None:
            self.post_message(self.Opened(self.cursor_id))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if isinstance(y, int):
            self.select(self.scroll_offset.y + y)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.state))
        self._keep_cursor_visible()

    # -------------------------------------------------------------- rendering
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        row = self.state.row_at(index)
        base = self._style("base")
        if row is None:
            return Strip.blank(width, base)
        if not row.complete and not self._wanting:
            self._wanting = True
            self.call_later(self._want_details)
        segments = self._segments(row, width, base) if width >= NARROW else self._narrow_segments(row, width, base)
        if row.id in self.marked:
            # A mark in words' place, not colour alone: the age cell becomes the marker (the preview has the age).
            first = segments[0]
            segments[0] = Segment(cell(MARKED, cell_len(first.text)), self._style("stream--marked"))
        strip = Strip(segments).crop_extend(0, width, base)
        if index == self._cursor_index:
            # Over the row's own styles (their backgrounds would hide it), across the whole width.
            bar = self.get_component_rich_style("stream--cursor", partial=True)
            strip = Strip(list(Segment.apply_style(strip, post_style=bar)), width)
        return strip

    def _want_details(self) -> None:
        """Ask for the details of the screen, one screen above and two below (scrolling finds them)."""
        self._wanting = False
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        ids = [cid for i in range(max(0, top - height), top + 3 * height)
               if (cid := self.state.id_at(i)) is not None]
        wanted = [cid for cid in self.state.missing(ids) if cid not in self._asked and cid not in self._absent]
        if wanted:
            self._asked.update(wanted)
            self.post_message(self.DetailsWanted(wanted))

    def details_arrived(self, ids: list[int], *, failed: bool = False) -> None:
        """The room cached the details asked for: repaint the rows and the preview. After a
        failure they are asked again at the next repaint (the clock's, a scroll), not at once."""
        self._asked.difference_update(ids)
        if failed:
            return
        if len(self._absent) > 10_000:
            self._absent.clear()
        self._absent.update(self.state.missing(ids))
        self.refresh()
        self.show_preview()

    def _status_style(self, row: Row, base: Style) -> Style:
        if row.holder == self.me and row.status == "claimed":
            return self._style("stream--mine")
        if row.status == "claimed":
            return self._style("stream--held")
        if row.status not in ("new", "escalated"):
            return self._style("stream--dim")
        if row.priority >= self.urgent_at:
            return self._style("stream--urgent")
        return base

    def _narrow_segments(self, row: Row, width: int, base: Style) -> list[Segment]:
        """Age, SLA, flag and status as one symbol each, a short author, and the rest for the text:
        platform and reach are dropped first (the preview under the stream has them in words)."""
        dim = self._style("stream--dim")
        waited = self.clock() - row.since
        where = standing(waited, self.sla_s) if row.status in UNANSWERED else "within"
        sla_style = self._style("stream--urgent") if where == "over" else self._style("stream--bot")
        draft = self.state.draft_for(row.id)
        flag = ""
        if row.is_bot:
            flag = "⚠"
        elif draft is not None and draft.status in DRAFT_MARK:
            flag = DRAFT_MARK[draft.status]
        elif row.verified:
            flag = "✓"
        author_w = 9 if width >= 48 else 7
        segs = [
            Segment(cell(age(waited, 3), 3), dim),
            Segment(SLA_SYMBOL[where], sla_style),
            Segment(cell(flag, 1), self._style("stream--bot") if flag == "⚠" else base),
            Segment(cell(STATUS_SYMBOL.get(row.status, "?"), 1) + " ", self._status_style(row, base)),
            Segment(cell(plain(row.author, 60), author_w) + " ", base),
        ]
        rest = width - (3 + 1 + 1 + 2 + author_w + 1)
        if rest > 0:
            text = set_cell_size(plain(row.text, rest + 20), rest)
            segs.append(Segment(text, dim if row.status not in UNANSWERED else base))
        return segs

    def _segments(self, row: Row, width: int, base: Style) -> list[Segment]:
        wide = width >= 70
        author_w = 16 if wide else max(8, min(14, (width - 20) // 2))
        dim = self._style("stream--dim")
        status_style = base
        if row.holder == self.me and row.status == "claimed":
            status_style = self._style("stream--mine")
        elif row.status == "claimed":
            status_style = self._style("stream--held")
        elif row.status not in ("new", "escalated"):
            status_style = dim
        elif row.priority >= self.urgent_at:
            status_style = self._style("stream--urgent")
        src = PLATFORM.get(row.source, plain(row.source, 2)[:2])
        if row.status == "claimed":
            holder = "me" if row.holder == self.me else plain(row.holder or "?", 10)
            status = f"●{holder}"
        else:
            status = STATUS.get(row.status, plain(row.status, 4))
        draft = self.state.draft_for(row.id)
        if draft is not None and draft.status in DRAFT_MARK:
            status = DRAFT_MARK[draft.status] + status
        status_w = 10 if wide else 7
        flag = ""
        if row.is_bot:
            flag = "⚠bot" if wide else "⚠b"
        elif row.verified:
            flag = "✓"
        flag_w = 5 if wide else 3
        reach_w = 5 if wide else 0  # narrow: the SLA's column is worth more than the reach's
        waited = self.clock() - row.since
        where = standing(waited, self.sla_s) if row.status in UNANSWERED else "within"
        sla_mark = MARK[where]
        sla_w = len(MARK["over"]) + 1
        sla_style = self._style("stream--urgent") if where == "over" else self._style("stream--bot")
        segs = [
            Segment(cell(age(waited, 4), 4), dim),
            Segment(cell(sla_mark, sla_w), sla_style if sla_mark else dim),
            Segment(cell(src, 3), dim),
            Segment(cell(plain(row.author, 60), author_w) + " ", base),
            Segment(cell(reach(row.followers), reach_w), dim),
            Segment(cell(flag, flag_w), self._style("stream--bot") if flag.startswith("⚠") else base),
            Segment(cell(status, status_w), status_style),
        ]
        used = 4 + sla_w + 3 + author_w + 1 + reach_w + flag_w + status_w
        rest = width - used
        if rest > 0:
            text = plain(row.text, max(rest, 1) + 20)
            if cell_len(text) > rest:
                text = set_cell_size(text, rest)
            segs.append(Segment(text, dim if row.status not in ("new", "claimed", "escalated") else base))
        return segs
