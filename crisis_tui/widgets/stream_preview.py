"""The highlighted comment in words, under the stream: who, its status, its SLA and its whole text.

At 80 columns the stream's row has room for a third of a tweet and for symbols
only; this strip says the rest in words (so no status is told by a symbol or a
colour alone) and wraps the text over its two lines. All of it came from a
stranger or a colleague, so it is built with `untrusted()`.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from crisis_tui.comment_rows import Row
from crisis_tui.sla import Standing
from crisis_tui.widgets.display import untrusted

#: The SLA standing in words, for the preview.
STANDING_WORDS: dict[Standing, str] = {"within": "", "near": "! near its SLA", "over": "✗ over its SLA"}


def preview(row: Row, me: str, age_text: str, where: Standing) -> Content:
    """One paragraph: "@dan · x · 12m · held by Ana · ✗ over its SLA · ⚠ bot? — the text"."""
    facts: list[Content] = [untrusted(row.author, single_line=True, max_chars=60).stylize("bold"),
                            untrusted(row.source, single_line=True, max_chars=20), Content(age_text)]
    if row.status == "claimed":
        holder = "me" if row.holder == me else row.holder or "?"
        facts.append(Content.assemble("held by ", untrusted(holder, single_line=True, max_chars=40)))
    else:
        facts.append(Content(row.status.replace("_", " ")))
    if STANDING_WORDS[where]:
        facts.append(Content.styled(STANDING_WORDS[where], "$text-error" if where == "over" else "$text-warning"))
    if row.is_bot:
        facts.append(Content.styled("⚠ likely bot", "$text-warning"))
    head = Content(" · ").join(facts)
    return Content.assemble(head, " — ", untrusted(row.text, single_line=True, max_chars=600))


class StreamPreview(Static):
    """Two lines under the stream; the stream fills them when its cursor or its rows change."""

    DEFAULT_CSS = """
    StreamPreview { height: 2; padding: 0 1; color: $text; background: $panel; overflow: hidden; }
    """

    def show(self, content: Content | None) -> None:
        self.update(content if content is not None else Content.styled("no comment selected", "$text-muted"))
