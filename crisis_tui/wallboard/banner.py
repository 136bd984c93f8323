"""The severity banner across the top of the wallboard.

The severity is a word and a symbol ("▲▲ SEV1 · Viral, press involved"); the
background colour repeats it. The incident title comes from a person, so it
goes through `untrusted()` like any other name.
"""

from __future__ import annotations

import time

from textual.content import Content
from textual.widgets import Static

from crisis_tui.model import Incident
from crisis_tui.playbook import Playbook
from crisis_tui.widgets.display import plain, untrusted

#: Symbol by rank in the playbook's severity list (first = gravest).
MARKS = ("▲▲▲", "▲▲", "▲")


def elapsed(seconds: float) -> str:
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


class SeverityBanner(Static):
    """One line (three on a large screen): severity, title, brand, status, elapsed, clock."""

    DEFAULT_CSS = """
    SeverityBanner {
        width: 1fr;
        height: 1;
        padding: 0 1;
        background: $primary-muted;
        color: $foreground;
        text-style: bold;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    SeverityBanner.-rank-0 { background: $error; color: $text; }
    SeverityBanner.-rank-1 { background: $warning-muted; }
    SeverityBanner.-closed { background: $success-muted; }
    """

    def __init__(self, playbook: Playbook, *, id: str | None = None) -> None:
        super().__init__(Content(""), id=id)
        self.playbook = playbook

    def show(self, incident: Incident, now: float | None = None) -> None:
        now = time.time() if now is None else now
        ids = [s.id for s in self.playbook.severities]
        rank = ids.index(incident.severity) if incident.severity in ids else len(ids)
        severity = self.playbook.severity(incident.severity)
        name = plain(severity.name if severity else incident.severity.upper(), 40)
        mark = MARKS[rank] if rank < len(MARKS) else "●"
        end = incident.closed_at if incident.closed_at is not None else now
        state = "CLOSED" if incident.status == "closed" else plain(incident.status.upper(), 20)
        parts: list[Content | str | tuple[str, str]] = [("DRILL │ ", "bold")] if incident.drill else []
        parts += [
            (f"{mark} {name}", "bold"), " │ ",
            untrusted(incident.title, single_line=True, max_chars=120),
        ]
        if incident.brand:
            parts += [" · ", untrusted(incident.brand, single_line=True, max_chars=40)]
        parts += [" │ ", (state, "bold"), f" {elapsed(end - incident.opened_at)}",
                  " │ ", time.strftime("%H:%M:%S", time.localtime(now))]
        if severity and severity.description:
            parts += [" │ ", untrusted(severity.description, single_line=True, max_chars=60)]
        self.update(Content.assemble(*parts))
        for index in range(len(MARKS)):
            self.set_class(index == rank and incident.status != "closed", f"-rank-{index}")
        self.set_class(incident.status == "closed", "-closed")
