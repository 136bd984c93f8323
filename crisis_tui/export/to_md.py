"""The md export: the evaluation document, in Markdown, for the meeting after the crisis.

It renders `crisis_tui.export.report`; every value there is plain text and is
escaped here, so a comment author called `[click](javascript:...)` or
`<img src=x>` reads literally in any Markdown viewer and loads nothing. Every
string is also its display form (`crisis_tui.safe_text`), so a `cat` of the
file sends the terminal no escape and no control character.
"""

from __future__ import annotations

import re
from pathlib import Path

from crisis_tui.export import report as rpt
from crisis_tui.export.metrics import Metrics
from crisis_tui.export.record import IncidentRecord, Progress, no_progress
from crisis_tui.playbook import Playbook
from crisis_tui.safe_text import display_text

_SPECIAL = re.compile(r"([\\`*_\[\]{}<>#|~&!$])")
ANSWER_LINES = 4


def md(text: str) -> str:
    """Plain text safe inside a Markdown line or table cell (and on a terminal)."""
    return _SPECIAL.sub(r"\\\1", display_text(text, None))


def _table(table: rpt.Table) -> list[str]:
    out: list[str] = []
    if table.caption:
        out += [f"**{md(table.caption)}**", ""]
    out.append("| " + " | ".join(md(h) for h in table.headers) + " |")
    out.append("|" + "|".join(" --- " for _ in table.headers) + "|")
    out.extend("| " + " | ".join(md(c) for c in row) + " |" for row in table.rows)
    out.append("")
    return out


def _said(said: rpt.Said) -> list[str]:
    out = [f"### {md(said.heading)}", ""]
    out += [f"- **{md(label)}**: {md(value)}" for label, value in said.facts]
    out += ["", *(f"> {md(line)}" if line.strip() else ">" for line in said.lines), ""]
    out += ["Checklist:", "", *(f"- {md(item)}" for item in said.checklist), ""]
    return out


def _block(block: rpt.Block) -> list[str]:
    if isinstance(block, rpt.Paragraph):
        return [md(block.text), ""]
    if isinstance(block, rpt.Bullets):
        return [f"- {md(item)}" for item in block.items] + [""]
    if isinstance(block, rpt.Table):
        return _table(block)
    if isinstance(block, rpt.Timeline):
        lines = [f"- {md(line)}" for line in block.lines] or ["_The log is empty._"]
        if block.left_out:
            half = len(block.lines) // 2
            lines.insert(half, f"- … {block.left_out:,} lines left out here (the json and csv exports hold every event) …")
        return [*lines, ""]
    if isinstance(block, rpt.Chart):
        return [f"**{md(block.title)}**: {md(block.fallback)}", ""]
    if isinstance(block, rpt.Said):
        return _said(block)
    out: list[str] = []
    for number, question in enumerate(block.items, start=1):
        out += [f"### {number}. {md(question)}", "", "> _Answer:_", *([">"] * ANSWER_LINES), ""]
    return out


def render(report: rpt.Report) -> str:
    lines = [f"# {md(report.title)}", "", f"_{md(report.subtitle)}_", ""]
    for section in report.sections:
        lines += [f"## {md(section.title)}", ""]
        for block in section.blocks:
            lines += _block(block)
    return "\n".join(lines)


def write(record: IncidentRecord, metrics: Metrics, playbook: Playbook, out: Path, *,
          exported_at: float, progress: Progress = no_progress) -> list[Path]:
    progress("writing md", 0, 1)
    out.write_text(render(rpt.build(record, metrics, playbook, exported_at)), encoding="utf-8")
    progress("writing md", 1, 1)
    return [out]
