"""The comment detail: the whole text, the author's facts and the thread.

Everything here came from a stranger, so every piece goes through
`untrusted()`; a megabyte of text is trimmed for display (the store keeps it
whole) and scrolls instead of breaking the layout.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from crisis_tui.model import Comment
from crisis_tui.room_state import Row
from crisis_tui.safe_text import DISPLAY_CAP
from crisis_tui.widgets.display import plain, untrusted
from crisis_tui.widgets.stream import PLATFORM, STATUS, age, reach


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "?"


def facts(c: Comment, now: float) -> Content:
    """The author's facts and the triage's view, label: value, one per line."""
    lines: list[Content] = []

    def fact(label: str, value: Content | str) -> None:
        lines.append(Content.assemble(Content.styled(f"{label:<11}", "$text-muted"), value))

    fact("author", untrusted(c.author, single_line=True, max_chars=80))
    fact("platform", untrusted(c.source, single_line=True, max_chars=30))
    followers = reach(c.author_followers) or "?"
    following = str(c.author_following) if c.author_following is not None else "?"
    fact("reach", f"{followers} followers · {following} following" + (" · ✓ verified" if c.author_verified else ""))
    if c.author_created_at:
        fact("account", f"created {_when(c.author_created_at)} ({age(now - c.author_created_at)} ago)")
    fact("engagement", f"{c.likes} likes · {c.shares} shares · {c.replies} replies")
    if c.posted_at is None:
        fact("posted", "not given by the source: ages count from receipt")
    elif c.posted_at > c.received_at:
        fact("posted", f"{_when(c.posted_at)} (ahead of our clock: ages count from receipt)")
    else:
        fact("posted", f"{_when(c.posted_at)} ({age(now - c.posted_at)} ago)")
    fact("received", f"{_when(c.received_at)} ({age(now - c.received_at)} ago)")
    fact("triage", f"priority {c.priority:.2f} · negativity {c.negativity:.2f} · lang {plain(c.lang or '?', 16)}")
    bot = f"⚠ bot suspicion {c.bot_score:.2f}" if c.bot_score >= 0.5 else f"bot suspicion {c.bot_score:.2f}"
    if c.bot_reasons:
        fact("bot", Content.assemble(bot, ": ", untrusted("; ".join(c.bot_reasons), single_line=True, max_chars=200)))
    else:
        fact("bot", bot)
    status = STATUS.get(c.status, c.status)
    holder = Content.assemble(" by ", untrusted(c.holder, single_line=True, max_chars=40)) if c.holder else Content("")
    fact("status", Content.assemble(f"{plain(status, 4)} {plain(c.status.replace('_', ' '), 20)}", holder))
    if c.tags:
        fact("tags", untrusted(", ".join(c.tags), single_line=True, max_chars=200))
    if c.cluster:
        fact("cluster", untrusted(c.cluster, single_line=True, max_chars=60))
    if c.url:
        fact("url", untrusted(c.url, single_line=True, max_chars=300))
    return Content("\n").join(lines)


def thread_lines(thread: list[tuple[str, Row]], now: float) -> Content:
    if not thread:
        return Content.styled("no other comments in this thread", "$text-muted")
    out = []
    for relation, row in thread:
        out.append(Content.assemble(
            Content.styled(
                f"{relation:<12}{age(now - row.since):>4} {PLATFORM.get(row.source, row.source[:2]):<3}", "$text-muted"
            ),
            untrusted(row.author, single_line=True, max_chars=24), ": ",
            untrusted(row.text, single_line=True, max_chars=120),
        ))
    return Content("\n").join(out)


class CommentDetail(ModalScreen[None]):
    """A comment in full. Escape closes."""

    DEFAULT_CSS = """
    CommentDetail { align: center middle; }
    CommentDetail > Vertical {
        width: 90%; max-width: 120; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    CommentDetail #detail-facts { height: auto; margin-bottom: 1; }
    CommentDetail #detail-text-box { height: 1fr; border: tall $panel; }
    CommentDetail #detail-thread { height: auto; max-height: 8; margin-top: 1; }
    CommentDetail #detail-help { color: $text-muted; height: 1; }
    """
    BINDINGS = [Binding("escape,q", "dismiss_detail", "Close", id="detail.close")]

    def __init__(self, comment: Comment, thread: list[tuple[str, Row]], now: float) -> None:
        super().__init__()
        self.comment = comment
        self.thread = thread
        self.now = now

    def compose(self) -> ComposeResult:
        c = self.comment
        with Vertical() as box:
            box.border_title = f"Comment #{c.id}"
            yield Static(facts(c, self.now), id="detail-facts")
            with VerticalScroll(id="detail-text-box"):
                yield Static(untrusted(c.text), id="detail-text")
            if len(c.text) > DISPLAY_CAP:
                yield Static(Content.styled(
                    f"shown: the first {DISPLAY_CAP:,} of {len(c.text):,} characters (the store keeps it whole)",
                    "$text-warning"))
            yield Static(thread_lines(self.thread, self.now), id="detail-thread")
            yield Static("Esc closes", id="detail-help")

    def action_dismiss_detail(self) -> None:
        self.dismiss(None)
