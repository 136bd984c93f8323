"""The shipped mappings of platforms' own answers (crisis_tui/intake/preset_mappings/NAME.toml).

Kept apart from crisis_tui.intake.presets so that a user's mapping can say
`extends = "youtube"` without the mapping module depending on recognition.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

_FOLDER = "preset_mappings"


@cache
def names() -> tuple[str, ...]:
    folder = resources.files("crisis_tui.intake").joinpath(_FOLDER)
    return tuple(sorted(entry.name.removesuffix(".toml") for entry in folder.iterdir() if entry.name.endswith(".toml")))


@cache
def _text(name: str) -> str:
    return resources.files("crisis_tui.intake").joinpath(_FOLDER, f"{name}.toml").read_text(encoding="utf-8")


def raw(name: str) -> dict[str, Any] | None:
    """A preset's TOML tables (a fresh copy each time), or None when there is no such preset."""
    if name not in names():
        return None
    return tomllib.loads(_text(name))
