"""A labelled multi-row sparkline: one bar per minute of the last hour, newest at the right.

Drawn from eighth blocks so a 2-row trend still has 16 levels. Minutes with no
data (no comment arrived, so no negative share) show a dot on the baseline,
not a zero. A bar past the alert line is drawn in the alert colour *and* the
label says it in words.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

EIGHTHS = " ▁▂▃▄▅▆▇█"


def columns(values: list[float | None], width: int) -> list[float | None]:
    """Stretch or squeeze `values` to `width` columns (each column shows its minute's value,
    squeezed columns the largest of theirs)."""
    n = len(values)
    if n == 0 or width <= 0:
        return []
    out: list[float | None] = []
    for col in range(width):
        lo = col * n // width
        hi = max(lo + 1, (col + 1) * n // width)
        chunk = [v for v in values[lo:hi] if v is not None]
        out.append(max(chunk) if chunk else None)
    return out


def bars(values: list[float | None], width: int, height: int, top: float, alert: float | None = None,
         style: str = "$primary", alert_style: str = "$error") -> list[Content]:
    """`height` rows of bars, top row first."""
    cols = columns(values, width)
    rows: list[Content] = []
    for row in range(height):
        floor = (height - 1 - row) * 8
        parts: list[tuple[str, str]] = []
        for value in cols:
            if value is None:
                parts.append(("·" if row == height - 1 else " ", "$text-muted"))
                continue
            level = round(value / top * height * 8) if top > 0 else 0
            if value > 0:
                level = max(level, 1)
            fill = min(8, max(0, level - floor))
            parts.append((EIGHTHS[fill], alert_style if alert is not None and value >= alert else style))
        rows.append(Content.assemble(*parts))
    return rows


class Trend(Widget):
    """Label on the first row, bars below; `show()` sets both."""

    DEFAULT_CSS = """
    Trend {
        height: 3;
        width: 1fr;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._label = Content("")
        self._values: list[float | None] = []
        self._top = 1.0
        self._alert: float | None = None

    def show(self, label: Content, values: list[float | None], *, top: float | None = None,
             alert: float | None = None) -> None:
        self._label = label
        self._values = values
        self._top = top if top is not None else max((v for v in values if v is not None), default=0.0) or 1.0
        self._alert = alert
        self.refresh()

    @property
    def label(self) -> str:
        return str(self._label)

    def render(self) -> Content:
        width = max(1, self.content_size.width)
        height = max(0, self.content_size.height - 1)
        lines = [self._label.truncate(width, ellipsis=True)]
        lines += bars(self._values, width, height, self._top, self._alert)
        return Content("\n").join(lines)
