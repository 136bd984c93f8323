"""Spike detection: comments per minute against a rolling baseline.

"Act before the fail goes viral" (the source articles): the committee must
learn that the stream is accelerating while it still can act. Each comment is
counted at the time it was posted (its arrival when the platform gave no
time), in one-second buckets; the last minute is compared with the average
minute of the `baseline_minutes` before it (never below `min_baseline`, so a
quiet stream does not alert on a handful of comments). Old comments from a
backlog fall outside the window and cannot raise an alert about the past.
After an alert, the next one waits for `cooldown_minutes` unless the rate
doubles again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from crisis_tui.events import SpikeAlert, encode
from crisis_tui.playbook import SpikeRules

MINUTE = 60.0
#: How far in the future a posted time may be (clock skew) before it counts as "now".
SKEW = 300.0


@dataclass(frozen=True)
class Spike:
    per_minute: int
    baseline: float
    factor: float
    sources: dict[str, int]

    def alert(self, baseline_minutes: int) -> SpikeAlert:
        """The spike alert's event body (crisis_tui.timeline_text prints the first three figures)."""
        return SpikeAlert(per_minute=self.per_minute, baseline=self.baseline, factor=self.factor,
                          baseline_minutes=baseline_minutes, sources=dict(self.sources))

    def payload(self, baseline_minutes: int) -> dict[str, object]:
        """The alert's payload, for the server's webhook path (crisis_tui.server), which writes
        kind and payload until the store takes bodies."""
        payload: dict[str, object] = encode(self.alert(baseline_minutes))[1]
        return payload


class SpikeDetector:
    """Counts comments by second and says when the last minute is a spike."""

    def __init__(self, rules: SpikeRules, started_at: float) -> None:
        self.rules = rules
        self.started_at = started_at
        self._per_second: Counter[int] = Counter()
        self._sources: dict[int, Counter[str]] = {}
        self._last_alert_at: float | None = None
        self._last_alert_rate = 0

    @property
    def window(self) -> float:
        return (self.rules.baseline_minutes + 1) * MINUTE

    def observe(self, when: float | None, now: float, source: str = "") -> None:
        """Count one comment posted at `when` (None: it arrived now)."""
        t = now if when is None else when
        if t > now:
            if t - now > SKEW:
                return
            t = now
        if t < now - self.window:
            return
        second = int(t)
        self._per_second[second] += 1
        if source:
            sources = self._sources.get(second)
            if sources is None:  # not setdefault: it would build a Counter for every comment
                sources = self._sources[second] = Counter()
            sources[source] += 1
        self.started_at = min(self.started_at, t)

    def _prune(self, now: float) -> None:
        horizon = int(now - self.window)
        if len(self._per_second) > 4 * self.window:
            for second in [s for s in self._per_second if s < horizon]:
                del self._per_second[second]
                self._sources.pop(second, None)

    def check(self, now: float) -> Spike | None:
        """A spike in the minute ending `now`, if there is one and it is worth an alert."""
        self._prune(now)
        rules = self.rules
        minute_start = now - MINUTE
        base_start = max(minute_start - rules.baseline_minutes * MINUTE, self.started_at)
        last = 0
        base = 0
        sources: Counter[str] = Counter()
        for second, count in self._per_second.items():
            if second > now:
                continue
            if second >= minute_start:
                last += count
                sources.update(self._sources.get(second, {}))
            elif second >= base_start:
                base += count
        base_minutes = max((minute_start - base_start) / MINUTE, 1.0)
        baseline = max(base / base_minutes, rules.min_baseline)
        factor = last / baseline
        if last < rules.min_per_minute or factor < rules.factor:
            return None
        if self._last_alert_at is not None:
            cooled = now - self._last_alert_at >= rules.cooldown_minutes * MINUTE
            if not cooled and last < 2 * self._last_alert_rate:
                return None
        self._last_alert_at = now
        self._last_alert_rate = last
        return Spike(
            per_minute=last,
            baseline=round(baseline, 1),
            factor=round(factor, 1),
            sources=dict(sources.most_common(3)),
        )
