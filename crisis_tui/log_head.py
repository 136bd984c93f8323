"""The head of an incident's log (its newest event), named the same way in every file.

A head is `NUMBER HASH`: NUMBER counts the incident's own events (1 is its
creation), HASH is that event's chain hash. The file's seq is global to one
file and changes when the incident is imported into another; the number and
the hash do not, so a head written down from one file checks an import of it
too. Since every hash covers the one before it, a log that still holds event
NUMBER with HASH still holds everything up to it unchanged.
"""

from __future__ import annotations

import re

import msgspec

from crisis_tui.errors import InvalidInput
from crisis_tui.eventlog import GENESIS

_EXPECTED = re.compile(r"^\s*(\d+)\s*[:\s]\s*([0-9a-fA-F]{64})\s*$")


class Head(msgspec.Struct, frozen=True, kw_only=True):
    """An event by its place in the incident's log; `seq` is where it sits in the file read."""

    number: int
    hash: str
    seq: int = 0

    def line(self) -> str:
        """The `head NUMBER HASH` line verify ends with."""
        return f"head {self.number} {self.hash}"


EMPTY = Head(number=0, hash=GENESIS)


def head_of(hashes: list[str]) -> Head:
    """The head of a log whose events have these hashes, in order."""
    return Head(number=len(hashes), hash=hashes[-1]) if hashes else EMPTY


def parse_expected(text: str, field: str = "expect-head") -> Head:
    """`NUMBER:HASH` (as verify prints it, or `NUMBER HASH`) from the command line."""
    found = _EXPECTED.match(text)
    if found is None:
        raise InvalidInput(field, f"{text[:80]!r} is not NUMBER:HASH (the `head` line of crisis-tui verify)")
    return Head(number=int(found.group(1)), hash=found.group(2).lower())


def still_holds(expected: Head, found: Head | None, total: int) -> str | None:
    """Why a log of `total` events, whose event numbered `expected.number` is `found`,
    does not hold the expected head (None when it does)."""
    if expected.number == 0:
        return None if expected.hash == GENESIS else "event 0 is the empty log; its hash is all zeros"
    if found is None:
        return (f"the log holds {total:,} events, so event {expected.number} is gone: "
                f"the log was cut (or its last events moved)")
    if found.hash != expected.hash:
        return (f"event {expected.number} now has hash {found.hash[:16]}…, not {expected.hash[:16]}…: "
                f"the log was rewritten at or before it")
    return None
