"""How numbers and times read in the human exports (md and html), so both say the same.

Times are local with their UTC offset (the committee reads them in its own
zone); durations read as "4m 12s"; missing values read as a dash with a reason
where the writer has one.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

DASH = "—"


def when(ts: float | None) -> str:
    """`2026-11-23 14:02:05 +01:00`, or a dash."""
    if ts is None:
        return DASH
    moment = datetime.fromtimestamp(ts).astimezone()
    offset = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M:%S ") + (offset[:3] + ":" + offset[3:] if offset else "")


def clock_s(ts: float | None) -> str:
    """`14:02:05` local, or a dash."""
    return DASH if ts is None else datetime.fromtimestamp(ts).strftime("%H:%M:%S")


@functools.lru_cache(maxsize=8192)
def iso(ts: float | None) -> str:
    """ISO 8601 in UTC for machines (csv), or empty. Cached: a batch of comments shares one time."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(seconds: float | None) -> str:
    """`4m 12s`, `1h 05m`, `0.4s`; a dash for None."""
    if seconds is None:
        return DASH
    if seconds < 0:
        return "-" + duration(-seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m {secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"


def percent(share: float | None) -> str:
    return DASH if share is None else f"{share * 100:.1f}%"


def edge_label(low: float | None, high: float | None) -> str:
    """A histogram bar's range: `≤1m`, `1m–5m`, `>2h`."""
    if low is None:
        return f"≤{duration(high)}"
    if high is None:
        return f">{duration(low)}"
    return f"{duration(low)}–{duration(high)}"
