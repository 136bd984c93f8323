"""Where a long-running source keeps its position between runs.

A follow keeps its file identity, byte offset and line number; a feed its
ETag and Last-Modified; Mastodon its newest status id. The state is a small
JSON file replaced atomically (write, then rename) after each stored chunk, so
a restart resumes exactly after the last stored line. By default it sits next
to the incident file (`room.db.intake/`), or in the user's state folder when
the incident is on a server; `--state FILE` puts it elsewhere.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

import msgspec
import platformdirs

from crisis_tui.errors import StorageFault


class StateFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        """The saved state, or {} when there is none or it is unreadable."""
        try:
            value = msgspec.json.decode(self.path.read_bytes())
        except (OSError, msgspec.DecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def save(self, state: dict[str, Any]) -> None:
        """Replace the saved state; a disk that refuses leaves the last one whole (a rerun
        takes again what was stored since, as duplicates)."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(msgspec.json.encode(state))
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StorageFault(f"cannot save the intake position in {self.path} ({exc.strerror or exc}): what was "
                               "read so far is stored, and a rerun takes the rest") from exc


def default_path(incident_file: Path | None, incident_id: str, kind: str, source: str) -> Path:
    """The state file for (incident, kind of source, source) when --state is not given."""
    key = hashlib.sha1(f"{incident_id}\0{kind}\0{source}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if incident_file is not None:
        folder = incident_file.with_name(incident_file.name + ".intake")
    else:
        folder = Path(platformdirs.user_state_dir("crisis-tui")) / "intake"
    return folder / f"{kind}-{key}.json"


def rejected_path(state_path: Path) -> Path:
    """A feed's (Mastodon's, stdin's) rejected items: beside its state, `feed-KEY.rejected.jsonl`."""
    return state_path.with_name(state_path.stem + ".rejected.jsonl")
