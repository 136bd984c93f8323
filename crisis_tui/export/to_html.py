"""The html export: the evaluation document as one self-contained page with charts.

Same content as the md export (crisis_tui.export.report), plus inline SVG
charts (crisis_tui.export.charts). The page has no script, no external style,
font or image, and a Content-Security-Policy that forbids loading anything, so
it opens offline in any browser and cannot call home even if a string slipped
through. Every string is its display form (`crisis_tui.safe_text`: no escape
or control character, so a `cat` of the file cannot drive a terminal) and goes
through `html.escape`.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from crisis_tui.export import charts
from crisis_tui.export import report as rpt
from crisis_tui.export.metrics import Metrics
from crisis_tui.export.record import IncidentRecord, Progress, no_progress
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import display_text

#: Longer timelines start folded (a <details> element: no script needed).
OPEN_TIMELINE = 400
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STYLE = """
:root { color-scheme: light dark; --fg: #1d232a; --bg: #ffffff; --muted: #5b6570; --line: #d5dbe1;
        --bar: #2f6db3; --late: #b3412f; --neg: #b3412f; --band: #f3f5f7; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6e9ec; --bg: #15191d; --muted: #9aa4ad; --line: #39424b; --bar: #6aa3e6; --late: #e6806a;
          --neg: #e6806a; --band: #1d2329; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px; font: 15px/1.5 system-ui, sans-serif;
       color: var(--fg); background: var(--bg); }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { margin-top: 2em; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05em; margin: 1.4em 0 0.4em; }
.subtitle { color: var(--muted); margin: 0 0 1em; }
nav a { margin-right: 1em; color: inherit; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; width: 100%; font-size: 0.92em; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: var(--band); overflow-wrap: normal; }
ol.timeline { font-family: ui-monospace, monospace; font-size: 0.88em; padding-left: 0; list-style: none; }
ol.timeline li { border-bottom: 1px dotted var(--line); padding: 1px 0; overflow-wrap: anywhere; }
details > summary { cursor: pointer; font-weight: 600; margin: 0.4em 0; }
figure { margin: 0.8em 0 1.4em; }
figcaption { font-weight: 600; }
.fallback { color: var(--muted); font-size: 0.88em; margin: 2px 0 0; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg .plot { fill: var(--band); stroke: var(--line); }
svg .bar { fill: var(--bar); }
svg .bar.late { fill: var(--late); }
svg .line { fill: none; stroke: var(--neg); stroke-width: 2; }
svg .dot { fill: var(--neg); }
svg .grid { stroke: var(--muted); stroke-dasharray: 4 4; }
svg text { fill: var(--fg); font: 11px system-ui, sans-serif; }
article.said dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0.4em 0; }
article.said dt { color: var(--muted); }
article.said dd { margin: 0; overflow-wrap: anywhere; }
article.said blockquote { margin: 0.4em 0; padding: 6px 12px; border-left: 4px solid var(--bar);
                          background: var(--band); overflow-wrap: anywhere; }
.answer { min-height: 7em; border: 1px dashed var(--muted); border-radius: 4px; padding: 8px; color: var(--muted); }
@media print { nav { display: none; } .answer { min-height: 10em; } }
"""


def _e(text: str) -> str:
    return escape(display_text(text, None), quote=True)


def _table(table: rpt.Table) -> str:
    parts = ["<table>"]
    if table.caption:
        parts.append(f"<caption>{_e(table.caption)}</caption>")
    if any(table.headers):
        parts.append("<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in table.headers) + "</tr></thead>")
        parts.append("<tbody>")
        parts.extend("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    else:
        parts.append("<tbody>")
        parts.extend(
            "<tr>" + f"<th scope=\"row\">{_e(row[0])}</th>" + "".join(f"<td>{_e(c)}</td>" for c in row[1:]) + "</tr>"
            for row in table.rows
        )
    parts.append("</tbody></table>")
    return "\n".join(parts)


def _chart(chart: rpt.Chart, metrics: Metrics, sla_s: float) -> str:
    if chart.kind == "volume":
        svg = charts.volume(metrics.curve)
    elif chart.kind == "negative":
        svg = charts.negative_share(metrics.curve)
    else:
        svg = charts.responses(metrics.responses.histogram, sla_s)
    return (f"<figure><figcaption>{_e(chart.title)}</figcaption>\n{svg}\n"
            f"<p class=\"fallback\">{_e(chart.fallback)}</p></figure>")


def _said(said: rpt.Said) -> str:
    facts = "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in said.facts)
    words = "<br>\n".join(_e(line) for line in said.lines)
    checks = "".join(f"<li>{_e(item)}</li>" for item in said.checklist)
    return (f'<article class="said"><h3>{_e(said.heading)}</h3><dl>{facts}</dl>\n'
            f"<blockquote>{words}</blockquote>\n<p>Checklist:</p><ul>{checks}</ul></article>")


def _block(block: rpt.Block, metrics: Metrics, sla_s: float) -> str:
    if isinstance(block, rpt.Paragraph):
        return f"<p>{_e(block.text)}</p>"
    if isinstance(block, rpt.Bullets):
        return "<ul>" + "".join(f"<li>{_e(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, rpt.Table):
        return _table(block)
    if isinstance(block, rpt.Chart):
        return _chart(block, metrics, sla_s)
    if isinstance(block, rpt.Said):
        return _said(block)
    if isinstance(block, rpt.Timeline):
        if not block.lines:
            return "<p>The log is empty.</p>"
        items = [f"<li>{_e(line)}</li>" for line in block.lines]
        if block.left_out:
            items.insert(len(items) // 2, f"<li>… {block.left_out:,} lines left out here "
                                          "(the json and csv exports hold every event) …</li>")
        listing = '<ol class="timeline">\n' + "\n".join(items) + "\n</ol>"
        if len(block.lines) <= OPEN_TIMELINE:
            return listing
        # a long story stays one click away, so the decisions and metrics below are not buried
        return f"<details><summary>{len(block.lines):,} lines: open the whole timeline</summary>\n{listing}\n</details>"
    return "\n".join(
        f"<h3>{number}. {_e(question)}</h3>\n<div class=\"answer\">Answer:</div>"
        for number, question in enumerate(block.items, start=1)
    )


def _anchor(title: str) -> str:
    return "s-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())


def render(report: rpt.Report, sla_s: float) -> str:
    nav = " ".join(f'<a href="#{_anchor(s.title)}">{_e(s.title)}</a>' for s in report.sections)
    body: list[str] = []
    for section in report.sections:
        body.append(f'<section id="{_anchor(section.title)}"><h2>{_e(section.title)}</h2>')
        body.extend(_block(block, report.metrics, sla_s) for block in section.blocks)
        body.append("</section>")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        '<link rel="icon" href="data:,">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<header><h1>{_e(report.title)}</h1><p class=\"subtitle\">{_e(report.subtitle)}</p><nav>{nav}</nav></header>",
        *body,
        "</body></html>",
        "",
    ])


def write(record: IncidentRecord, metrics: Metrics, playbook: Playbook, out: Path, *,
          exported_at: float, progress: Progress = no_progress) -> list[Path]:
    progress("writing html", 0, 1)
    report = rpt.build(record, metrics, playbook, exported_at)
    out.write_text(render(report, playbook.sla_seconds(record.incident.severity)), encoding="utf-8")
    progress("writing html", 1, 1)
    return [out]
