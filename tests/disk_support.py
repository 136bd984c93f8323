"""Support for the I/O fault tests (no tests here): a small real tmpfs to fill, and files to break.

Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the tests that need the
disk are skipped, saying so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

FILLER_PIECE = 256 * 1024


class SmallDisk:
    """A tmpfs of a few MiB at `root`: fill it to the last byte, give space back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pieces: list[Path] = []

    def fill(self) -> None:
        """Write filler until the disk says ENOSPC (a last small piece takes the tail)."""
        for size in (FILLER_PIECE, 4096, 512):
            while True:
                piece = self.root / f"filler-{len(self._pieces)}"
                try:
                    with piece.open("wb") as handle:
                        handle.write(b"\0" * size)
                        handle.flush()
                        os.fsync(handle.fileno())
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    with contextlib.suppress(OSError):
                        piece.unlink()
                    break
                self._pieces.append(piece)

    def free(self, size: int | None = None) -> None:
        """Give back `size` bytes (about), or all the filler."""
        given = 0
        while self._pieces and (size is None or given < size):
            piece = self._pieces.pop()
            given += piece.stat().st_size
            piece.unlink()

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.root)], check=True, capture_output=True)


@contextlib.contextmanager
def mounted(where: Path, size: str) -> Iterator[SmallDisk]:
    where.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        pytest.skip("no mount command here: the full-disk tests need a small tmpfs")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'mount failed'}): "
                    "the full-disk and read-only tests need root or CAP_SYS_ADMIN")
    try:
        yield SmallDisk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 24 MiB tmpfs, unmounted at the end of the test."""
    with mounted(tmp_path / "disk", "24m") as disk:
        yield disk


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crisis_tui", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})})


def comments_jsonl(path: Path, count: int, *, text_size: int = 600, start: int = 0) -> Path:
    """`count` valid native comments, each with `text_size` characters of text."""
    filler = ("Refund still not here, support closes the chat. " * (text_size // 48 + 1))[:text_size]
    with path.open("w", encoding="utf-8") as handle:
        for n in range(start, start + count):
            handle.write(f'{{"source": "x", "id": "c-{n}", "author": "@user_{n % 97}", "text": "{filler} #{n}"}}\n')
    return path
