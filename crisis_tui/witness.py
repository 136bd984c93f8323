"""Every room and wallboard is a witness of the log it has seen.

A log rewritten with recomputed hashes chains perfectly, and a log cut at its
tail chains too: nothing inside the file can tell. Someone who saw the log
before can. The witness keeps, in the user's state folder, the newest head it
has seen of each incident (per file or server, and incident), and checks that
the log still extends it: on opening, with each batch of events (each must
chain onto the last one seen), and every `CHECK_S` seconds (the event at that
place still has that hash). When it does not, the alarm is raised and stays:
the head seen is written down and never moved on, so reopening alarms again,
and `GuardedStore` refuses every write of the room with the alarm's words.

Headless: the room's sync worker and the wallboard drive it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from crisis_tui.errors import CrisisError
from crisis_tui.log_head import Head
from crisis_tui.model import Event
from crisis_tui.store.protocol import IncidentStore

STATE_VAR = "CRISIS_TUI_STATE_DIR"
CHECK_S = 0.5
#: The store commands that write; a guarded store refuses them all once the alarm is up.
WRITES = frozenset({
    "create_incident", "update_incident", "ingest", "claim", "release", "take_over", "reassign", "mark", "tag", "bulk",
    "save_draft", "tick",
    "set_draft_status", "propose_decision", "vote_decision", "heartbeat", "leave", "expire_presence",
    "add_note", "alert", "import_events", "record_sitrep", "claim_notification", "record_notification",
    "answer_escalation",
})


def state_folder() -> Path:
    """Where the heads seen are kept: $CRISIS_TUI_STATE_DIR, else the user's state folder."""
    given = os.environ.get(STATE_VAR)
    return Path(given).expanduser() / "witness" if given else Path(platformdirs.user_state_dir("crisis-tui")) / "witness"


def location_of(store: IncidentStore) -> str:
    """What names the log's home: the file's full path, or the server's URL."""
    path = getattr(store, "path", None)
    if path is not None:
        return str(Path(path).resolve())
    return str(getattr(store, "base_url", "") or repr(store))


class Seen(msgspec.Struct, kw_only=True):
    """The newest head seen of one incident at one location, and when it was first seen."""

    location: str
    incident_id: str
    number: int
    hash: str
    seq: int
    seen_at: float


class Rewritten(msgspec.Struct, frozen=True, kw_only=True):
    """The alarm: the log no longer extends what we saw."""

    number: int
    seen_at: float
    detail: str

    @property
    def message(self) -> str:
        at = time.strftime("%H:%M", time.localtime(self.seen_at))
        return (f"the log was rewritten before event {self.number}, which you saw at {at} ({self.detail}); "
                f"nothing more is written from here: check it with crisis-tui verify")


class LogRewritten(CrisisError):
    """A write refused because this room witnessed a rewrite of the log."""

    status_code = 409
    code = "log_rewritten"


class Witness:
    """The witness of one incident for one room or wallboard (see the module docstring)."""

    def __init__(self, store: IncidentStore, incident_id: str, *, folder: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.incident_id = incident_id
        self.location = location_of(store)
        self.folder = folder or state_folder()
        self.clock = clock
        self.seen: Seen | None = None
        self.alarm: Rewritten | None = None
        self._dirty = False

    @property
    def file(self) -> Path:
        key = hashlib.sha256(f"{self.location}\n{self.incident_id}".encode()).hexdigest()[:32]
        return self.folder / f"{key}.json"

    # ------------------------------------------------------------- on disk
    def _load(self) -> Seen | None:
        try:
            seen = msgspec.json.decode(self.file.read_bytes(), type=Seen)
        except (OSError, msgspec.MsgspecError):
            return None  # nothing seen yet (or an unreadable note of it: start witnessing afresh)
        return seen if (seen.location, seen.incident_id) == (self.location, self.incident_id) else None

    def save(self) -> None:
        """Write the head seen (atomically: a crash leaves the old one, never half a file)."""
        if self.seen is None or not self._dirty:
            return
        with contextlib.suppress(OSError):  # a read-only home must not stop the room; it only forgets
            self.folder.mkdir(parents=True, exist_ok=True)
            spare = self.file.with_suffix(f".{os.getpid()}.tmp")
            spare.write_bytes(msgspec.json.encode(self.seen))
            os.replace(spare, self.file)
            self._dirty = False

    # ------------------------------------------------------------ witnessing
    async def open(self) -> Head | None:
        """Check what an earlier session saw, then witness from the log's head now (returned)."""
        self.seen = self._load()
        head = await self.store.log_head(self.incident_id)
        if self.seen is not None and await self.check() is not None:
            return head
        if head is not None and (self.seen is None or head.number > self.seen.number):
            self._advance(head.number, head.hash, head.seq)
            self.save()
        return head

    def _advance(self, number: int, digest: str, seq: int) -> None:
        self.seen = Seen(location=self.location, incident_id=self.incident_id, number=number, hash=digest,
                         seq=seq, seen_at=self.clock())
        self._dirty = True

    def _raise(self, detail: str) -> Rewritten:
        assert self.seen is not None
        self.alarm = Rewritten(number=self.seen.number, seen_at=self.seen.seen_at, detail=detail)
        self.save()  # the head seen before the rewrite: never moved on again, so reopening alarms again
        return self.alarm

    def saw(self, events: Iterable[Event]) -> Rewritten | None:
        """Events that arrived in order: each must chain onto the newest one seen."""
        if self.alarm is not None:
            return self.alarm
        for event in events:
            seen = self.seen
            if seen is not None and event.seq <= seen.seq:
                continue
            if seen is not None and event.prev_hash != seen.hash:
                return self._raise(f"the next event does not follow event {seen.number} as you saw it")
            self._advance((seen.number if seen else 0) + 1, event.hash, event.seq)
        return None

    async def check(self) -> Rewritten | None:
        """Does the log still hold the newest event seen, at its place, with its hash?"""
        seen = self.seen
        if self.alarm is not None or seen is None:
            return self.alarm
        found = await self.store.events_after(self.incident_id, seen.seq - 1, 1)
        if found and found[0].seq == seen.seq and found[0].hash == seen.hash:
            self.save()
            return None
        at = await self.store.log_head(self.incident_id, seen.number)
        if at is not None and at.hash == seen.hash:  # the same log under other seqs (a file rebuilt by import)
            seen.seq = at.seq
            self._dirty = True
            self.save()
            return None
        if at is None:
            now = await self.store.log_head(self.incident_id)
            return self._raise(f"it now holds {now.number if now else 0:,} events")
        return self._raise(f"event {seen.number} now has another hash")


class GuardedStore:
    """The room's store: reads pass through; once the witness raised the alarm, every write is
    refused with its words (the room writes nothing more to a log it cannot trust)."""

    def __init__(self, inner: IncidentStore, witness: Witness) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_witness", witness)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in WRITES:
            return value
        witness = self._witness

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if witness.alarm is not None:
                raise LogRewritten(witness.alarm.message)
            return await value(*args, **kwargs)

        return guarded

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)
