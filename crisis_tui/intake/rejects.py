"""The rejected file: every item the intake could not take, with where and why.

One JSON object per line: {"where": "backlog.jsonl:12", "reason": "text: is
required", "raw": "<the line as it was>"}. Fix the raw lines and feed them
back (`jq -c .raw` gives them back as JSONL). Opened only when something is
rejected; if it cannot be written, the intake says so once and goes on (the
rejects are still reported on stderr).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

import msgspec

from crisis_tui.intake.chunk import Reject

_encode = msgspec.json.Encoder().encode


class RejectLog:
    def __init__(self, path: Path | None, report: Callable[[str], None]) -> None:
        self.path = path
        self.report = report
        self._files: dict[Path, IO[bytes]] = {}
        self._broken: set[Path] = set()

    def write(self, rejects: Iterable[Reject], path: Path | None = None) -> None:
        target = path or self.path
        rejects = list(rejects)
        if target is None or not rejects or target in self._broken:
            return
        handle = self._files.get(target)
        if handle is None:
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                handle = self._files[target] = target.open("ab")
            except OSError as exc:
                self._broken.add(target)
                self.report(f"cannot keep rejected items in {target}: {exc.strerror or exc}")
                return
        try:
            handle.write(b"".join(_encode(r.record()) + b"\n" for r in rejects))
            handle.flush()
        except OSError as exc:  # a full disk, say: the rejects are still on stderr
            self._broken.add(target)
            self.report(f"cannot keep rejected items in {target}: {exc.strerror or exc}")

    def close(self, path: Path | None = None) -> None:
        """Close one file (a drop folder's per-file log) or all of them."""
        for key in [path] if path is not None else list(self._files):
            handle = self._files.pop(key, None) if key is not None else None
            if handle is not None:
                try:
                    handle.close()
                except OSError as exc:
                    self.report(f"cannot keep rejected items in {key}: {exc.strerror or exc}")
