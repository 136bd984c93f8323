"""Playing a drill: a scenario's waves and injects (or a past incident's comments) over time.

The scenario becomes a list of beats, each at its offset in the scenario's
seconds: a comment of a wave, a lead comment, an inject. `play` writes them to
a drill incident through the store, `speed` times faster than written (0: no
waiting), so the room, a second room, the wallboard and the headless command
all see the same drill arrive. Comments carry no posting time: their clock
starts when the drill delivers them, which is what the committee faced.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from crisis_tui import events as ev
from crisis_tui.drill.scenario import KINDS, Inject, Scenario, Wave
from crisis_tui.errors import InvalidInput
from crisis_tui.model import Incident, NewComment, waiting_since
from crisis_tui.store.protocol import IncidentStore

#: Who writes the drill's comments, injects and end on the log.
ACTOR = "drill"
#: Most comments written in one ingest when several are due at once (speed 0, a catch-up).
BATCH = 500
#: The reason recorded when the script runs out.
RAN_OUT = "the script ran out"

Prepare = Callable[[list[NewComment]], list[NewComment]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Beat:
    """What happens `offset` scenario seconds into the drill."""

    offset: float
    comments: list[NewComment] = field(default_factory=list)
    inject: Inject | None = None


_NAMES = ("lu", "sara", "marco", "jen", "pablo", "elena", "giulia", "tom", "ines", "paolo", "amy", "javi")


def _weighted(rng: random.Random, shares: dict[str, float]) -> str:
    keys = [k for k, v in shares.items() if v > 0]
    return rng.choices(keys, weights=[shares[k] for k in keys])[0]


def _wave_comments(scenario: Scenario, index: int, wave: Wave, rng: random.Random, now: float) -> list[Beat]:
    out = []
    step = wave.minutes * 60.0 / wave.count
    for i in range(wave.count):
        kind = _weighted(rng, wave.mix)
        lang = _weighted(rng, wave.langs)
        text = rng.choice([t for t in scenario.lines[kind].get(lang) if t.strip()])
        if kind == "bot":  # a farm: fresh accounts, nobody follows them, the same line pasted
            author = f"@user{rng.randint(10_000, 99_999)}"
            followers, following, likes, shares = rng.randint(0, 3), rng.randint(800, 2000), 0, 0
            created = now - 86400 * rng.randint(1, 5)
        else:
            author = f"@{rng.choice(_NAMES)}_{rng.randint(10, 9999)}"
            followers = int(10 ** rng.uniform(1.3, 4.5))
            following, likes, shares = rng.randint(50, 900), rng.randint(0, 80), rng.randint(0, 15)
            created = now - 86400 * rng.randint(400, 4000)
        comment = NewComment(
            source=rng.choice(wave.sources), external_id=f"drill-{scenario.id or 'scenario'}-{index}-{i}",
            author=author, text=text, lang=lang, author_followers=followers, author_following=following,
            author_created_at=created, likes=likes, shares=shares, extra={"drill_kind": kind},
        )
        out.append(Beat(offset=wave.at_minute * 60.0 + i * step, comments=[comment]))
    return out


def beats(scenario: Scenario, *, now: float | None = None) -> list[Beat]:
    """The scenario's beats in the order they happen (the same for every run: its seed)."""
    now = time.time() if now is None else now
    rng = random.Random(scenario.seed)
    out: list[Beat] = []
    for index, wave in enumerate(scenario.wave):
        out += _wave_comments(scenario, index, wave, rng, now)
    for i, lead in enumerate(scenario.lead):
        out.append(Beat(offset=lead.at_minute * 60.0, comments=[NewComment(
            source=lead.source, external_id=f"drill-{scenario.id or 'scenario'}-lead-{i}", author=lead.author,
            text=lead.text, lang=lead.lang, author_followers=lead.followers, likes=lead.likes, shares=lead.shares,
            author_following=300, author_created_at=now - 86400 * 2000, extra={"drill_kind": "lead"},
        )]))
    out += [Beat(offset=inject.at_minute * 60.0, inject=inject) for inject in scenario.inject]
    # leads before the wave they open, injects after what arrived with them (a stable sort)
    return sorted(out, key=lambda b: (b.offset, 0 if b.inject is None else 1))


def replay_beats(path: Path) -> list[Beat]:
    """A past incident's comments (a json export) at their original relative times."""
    where = str(path)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InvalidInput("--from", f"{where}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InvalidInput("--from", f"{where}: not a json export ({exc})") from None
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        raise InvalidInput("--from", f"{where}: not a json export of crisis-tui export -f json (no events)")
    arrived: list[ev.ArrivedComment] = []
    for number, raw in enumerate(events):
        if not isinstance(raw, dict) or raw.get("kind") != ev.kind_of(ev.CommentIngested):
            continue
        body = ev.decode(str(raw["kind"]), raw.get("payload"))
        if not isinstance(body, ev.CommentIngested):
            raise InvalidInput("--from", f"{where}: events[{number}] is not a readable comment")
        arrived.append(body.comment)
    if not arrived:
        raise InvalidInput("--from", f"{where}: the export holds no comments to replay")
    first = min(c.since for c in arrived)
    out = []
    for c in sorted(arrived, key=lambda c: (c.since, c.id)):
        fields: dict[str, Any] = msgspec.structs.asdict(c)
        for key in ("id", "received_at", "posted_at"):
            fields.pop(key)
        out.append(Beat(offset=waiting_since(c.posted_at, c.received_at) - first, comments=[NewComment(**fields)]))
    return out


async def start(store: IncidentStore, scenario: Scenario, *, lang: str, speed: float, actor: str,
                replayed: str = "") -> Incident:
    """A fresh drill incident for `scenario`, its start (and targets) on the log."""
    s = scenario.setting
    incident = await store.create_incident(s.title.get(lang), actor=actor, brand=s.brand, severity=s.severity,
                                           our_fault=s.our_fault, again=True, drill=True)
    t = scenario.targets
    started = ev.DrillStarted(scenario=scenario.id or scenario.source, name=scenario.name.get(lang),
                              speed=_pace(speed), lang=lang, first_response_minutes=t.first_response_minutes,
                              holding_statement_minutes=t.holding_statement_minutes, top_reach=t.top_reach,
                              source=replayed, duration_minutes=scenario.duration_minutes)
    await store.alert(incident.id, *ev.encode(started), actor=actor)
    return incident


def _pace(speed: float) -> float:
    return 0.0 if speed == float("inf") else speed


async def ended(store: IncidentStore, incident_id: str) -> bool:
    """Whether someone (or the script) has ended this drill."""
    after = 0
    while page := await store.events_after(incident_id, after, 5000):
        if any(isinstance(e.body, ev.DrillEnded) for e in page):
            return True
        after = page[-1].seq
    return False


async def end(store: IncidentStore, incident_id: str, *, actor: str, reason: str = "") -> None:
    """End the drill now (`crisis-tui drill end`): the report measures up to here."""
    incident = await store.get_incident(incident_id)
    if not incident.drill:
        raise InvalidInput("INCIDENT", f"{incident_id} is a real incident, not a drill: there is no drill to end")
    if await ended(store, incident_id):
        raise InvalidInput("INCIDENT", f"the drill {incident_id} has already ended")
    await store.alert(incident_id, *ev.encode(ev.DrillEnded(reason=reason)), actor=actor)


async def play(
    store: IncidentStore,
    incident_id: str,
    plan: Sequence[Beat],
    *,
    speed: float,
    lang: str,
    duration_s: float,
    prepare: Prepare | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Sleep = asyncio.sleep,
    on_beat: Callable[[Beat], Awaitable[None]] | None = None,
) -> bool:
    """Play `plan` to its end (then `duration_s`, the scenario's length) and record the end.

    Each beat waits for its moment from the start (so slow writes never add up to drift);
    beats already due are written together. Returns False when someone ended the drill
    while it waited (nothing more is played), True when the script ran out.
    """
    pace = _pace(speed)
    if clock is None:
        def clock() -> float:  # looked up on each call: a test's frozen time.time is the drill's clock too
            return time.time()
    first = next((b.comments for b in plan if b.comments), [])
    if prepare is not None and first:
        prepare(list(first))  # the triage loads its models on first use (seconds): before the clock starts
    begun = clock()
    pending: list[NewComment] = []

    async def flush() -> None:
        while pending:
            batch = pending[:BATCH]
            del pending[:BATCH]
            await store.ingest(incident_id, prepare(batch) if prepare else batch, actor=ACTOR)

    def due(offset: float) -> bool:
        return not pace or begun + offset / pace <= clock()

    async def wait_for(offset: float) -> bool:
        """Sleep until `offset` is due; False when the drill was ended meanwhile."""
        if due(offset):
            return True
        await sleep((begun + offset / pace) - clock())
        return not await ended(store, incident_id)

    for index, beat in enumerate(plan):
        if not await wait_for(beat.offset):
            return False
        pending.extend(beat.comments)
        following = plan[index + 1] if index + 1 < len(plan) else None
        if len(pending) >= BATCH or following is None or not due(following.offset):
            await flush()  # nothing else is due yet: what arrived goes out now, not with the next beat
        if beat.inject is not None:
            await flush()
            inject = ev.DrillInject(minute=beat.inject.at_minute, text=beat.inject.text.get(lang))
            await store.alert(incident_id, *ev.encode(inject), actor=ACTOR)
        if on_beat is not None:
            await flush()
            await on_beat(beat)
    await flush()
    if not await wait_for(duration_s):
        return False
    if await ended(store, incident_id):
        return False
    await store.alert(incident_id, *ev.encode(ev.DrillEnded(reason=RAN_OUT)), actor=ACTOR)
    return True


def kinds_of(plan: Sequence[Beat]) -> dict[str, int]:
    """How many comments of each kind the plan holds (the headless command's first line)."""
    counts = dict.fromkeys((*KINDS, "lead", "replayed"), 0)
    for beat in plan:
        for c in beat.comments:
            kind = str(c.extra.get("drill_kind", "replayed"))  # a replayed comment keeps its own extra
            counts[kind] = counts.get(kind, 0) + 1
    return {k: v for k, v in counts.items() if v}
