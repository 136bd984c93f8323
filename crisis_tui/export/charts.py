"""Inline SVG charts for the html export: comment volume, negative share, response times.

Plain SVG text, no script and no external reference, so the page stays one
self-contained file that draws offline. Each chart names what it shows in words
(title, axis labels, values), never by colour alone. Labels are escaped even
though they are built from numbers here, so a later caller cannot forget.
"""

from __future__ import annotations

from html import escape

from crisis_tui.export import wording as w
from crisis_tui.export.metrics import Curve, Histogram

WIDTH = 760
HEIGHT = 200
LEFT = 48
RIGHT = 12
TOP = 14
BOTTOM = 40


def _frame(title: str, body: list[str], y_top: str, y_bottom: str, x_left: str, x_right: str) -> str:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'class="chart" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
        f'<text class="axis" x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end">{escape(y_top)}</text>',
        f'<text class="axis" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">{escape(y_bottom)}</text>',
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 12}">{escape(x_left)}</text>',
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 12}" text-anchor="end">{escape(x_right)}</text>',
        *body,
        "</svg>",
    ]
    return "\n".join(parts)


def volume(c: Curve) -> str:
    """Bars: comments per bucket."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max(c.volume, default=0) or 1
    n = max(1, len(c.volume))
    bar = plot_w / n
    body = []
    for index, value in enumerate(c.volume):
        if not value:
            continue
        h = value / top * plot_h
        x = LEFT + index * bar
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{max(bar - 1, 0.6):.1f}" height="{h:.1f}">'
            f"<title>{escape(w.clock_s(c.start + index * c.step))}: {value} comments</title></rect>"
        )
    end = c.start + n * c.step
    return _frame(f"Comments per {w.duration(c.step)}", body, f"{top:,}", "0",
                  w.clock_s(c.start), w.clock_s(end))


def negative_share(c: Curve) -> str:
    """A line of the negative share per bucket (gaps where nothing arrived), with the 50% mark."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    shares = c.negative_share()
    n = max(1, len(shares))
    step = plot_w / n
    runs: list[list[str]] = [[]]
    dots = []
    for index, share in enumerate(shares):
        if share is None:
            if runs[-1]:
                runs.append([])
            continue
        x = LEFT + (index + 0.5) * step
        y = TOP + plot_h - share * plot_h
        runs[-1].append(f"{x:.1f},{y:.1f}")
        if len(shares) <= 90:
            dots.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.2">'
                        f"<title>{escape(w.clock_s(c.start + index * c.step))}: {share * 100:.0f}% negative</title></circle>")
    mid = TOP + plot_h / 2
    body = [f'<line class="grid" x1="{LEFT}" y1="{mid:.1f}" x2="{WIDTH - RIGHT}" y2="{mid:.1f}"/>',
            f'<text class="axis" x="{LEFT - 6}" y="{mid + 4:.1f}" text-anchor="end">50%</text>']
    body += [f'<polyline class="line" points="{" ".join(run)}"/>' for run in runs if len(run) > 1]
    body += dots
    return _frame("Share of negative comments (negativity at least 0.5)", body, "100%", "0%",
                  w.clock_s(c.start), w.clock_s(c.start + n * c.step))


def responses(h: Histogram, sla_s: float) -> str:
    """Bars: how many replies came within each response-time range; ranges past the SLA are marked."""
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    top = max(h.counts, default=0) or 1
    n = len(h.counts)
    slot = plot_w / n
    body = []
    for index, count in enumerate(h.counts):
        low = h.edges[index - 1] if index > 0 else None
        high = h.edges[index] if index < len(h.edges) else None
        late = (low is not None and low >= sla_s)
        label = w.edge_label(low, high)
        height = count / top * plot_h
        x = LEFT + index * slot + 6
        body.append(
            f'<rect class="{"bar late" if late else "bar"}" x="{x:.1f}" y="{TOP + plot_h - height:.1f}" '
            f'width="{slot - 12:.1f}" height="{height:.1f}"><title>{escape(label)}: {count} replies'
            f'{" (over the SLA)" if late else ""}</title></rect>'
        )
        if late:
            body.append(f'<text class="axis" x="{x + (slot - 12) / 2:.1f}" y="{HEIGHT - 6}" '
                        'text-anchor="middle">✗ over SLA</text>')
        body.append(f'<text class="value" x="{x + (slot - 12) / 2:.1f}" y="{TOP + plot_h - height - 3:.1f}" '
                    f'text-anchor="middle">{count}</text>')
        body.append(f'<text class="axis" x="{x + (slot - 12) / 2:.1f}" y="{HEIGHT - 22}" '
                    f'text-anchor="middle">{escape(label)}</text>')
    return _frame(f"Replies by response time (SLA {w.duration(sla_s)})", body, f"{top:,}", "0", "", "")
