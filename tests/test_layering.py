"""The layering at run time: what importing a headless module actually loads.

lint-imports (in .ci/run) checks the import graph statically; this checks the
interpreter, package __init__ files and all, in a fresh process each time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(done.stdout.split())


def test_the_http_client_loads_neither_the_server_nor_starlette() -> None:
    loaded = loaded_after("crisis_tui.store.http")
    assert "crisis_tui.wire" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("starlette", "uvicorn") or m.startswith("crisis_tui.server")}


@pytest.mark.parametrize("module", ["crisis_tui.store", "crisis_tui.server.app", "crisis_tui.intake.runner",
                                    "crisis_tui.triage", "crisis_tui.wire", "crisis_tui.cli"])
def test_the_headless_packages_and_the_cli_load_no_textual(module: str) -> None:
    assert not {m for m in loaded_after(module) if m.split(".")[0] == "textual"}, module
