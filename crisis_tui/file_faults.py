"""A failing disk, or a file that is not what it should be, said in one line.

SQLite and the OS report a full disk, a read-only medium, damaged pages or a
foreign file as codes (SQLITE_FULL, ENOSPC, EROFS, SQLITE_CORRUPT, ...). The
operator needs to know what became of their write and what to do next, and the
room, the CLI and the server must say the same thing: every reader and writer
of a file turns its failures into a StorageFault here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from crisis_tui.errors import DamagedFile, DiskFull, StorageFault, StoreUnavailable

_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})

#: What the first bytes of a file that is not an incident file say it is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format 3\x00", "a SQLite database"),
)


def looks_like(file: Path) -> str | None:
    """What `file` seems to hold, judged from its first bytes; None when it cannot be read."""
    try:
        with file.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return None
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"{", b"["):
        return "JSON or JSONL text (comments to ingest?)"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            return "binary data"
    return "plain text" if head else "an empty file"


def not_an_incident_file(file: Path, detail: str = "") -> StorageFault:
    what = looks_like(file)
    said = f"it looks like {what}" if what and what != "a SQLite database" else detail or "SQLite cannot read it"
    return StorageFault(f"{file} is not a crisis-tui incident file: {said}")


def from_sqlite(exc: sqlite3.Error, file: Path, *, writing: bool) -> StoreUnavailable:
    """The StorageFault (or, for a lock, the StoreUnavailable) that `exc` means for `file`."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    message = str(exc)
    if code == sqlite3.SQLITE_FULL or "disk is full" in message:
        return disk_full(file)
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreUnavailable(f"{file} is busy or locked: {message}")
    if code == sqlite3.SQLITE_READONLY or "readonly database" in message:
        return read_only(file)
    if code == sqlite3.SQLITE_CORRUPT or "malformed" in message:
        return DamagedFile(f"{file} is damaged ({message}): nothing was {'written' if writing else 'read'}; "
                            f"crisis-tui verify {file} says where, and a copy of the file restores it")
    if code == sqlite3.SQLITE_NOTADB or "not a database" in message:
        return not_an_incident_file(file, f"SQLite says: {message}")
    if code == sqlite3.SQLITE_CANTOPEN:
        if writing and file.exists() and not os.access(file.parent, os.W_OK):
            return read_only(file)
        return StorageFault(f"cannot open {file}: {message} (is its folder there and readable?)")
    if code == sqlite3.SQLITE_IOERR or name.startswith("SQLITE_IOERR"):
        if writing:
            return StorageFault(f"the disk holding {file} failed a write ({name or message}): nothing was written; "
                                "check the disk and try again")
        return StorageFault(f"the disk holding {file} failed a read ({name or message}); check the disk")
    return StorageFault(f"{file}: {message}")


def from_os(exc: OSError, file: Path, *, writing: bool) -> StorageFault:
    """The StorageFault an OSError on `file` means."""
    if exc.errno in _FULL_ERRNOS:
        return disk_full(file)
    if writing and exc.errno in _READ_ONLY_ERRNOS:
        return read_only(file)
    verb = "write" if writing else "read"
    return StorageFault(f"cannot {verb} {file}: {exc.strerror or exc}")


def disk_full(file: Path) -> DiskFull:
    return DiskFull(f"the disk holding {file} is full: nothing was written; free space and try again")


def read_only(file: Path) -> StorageFault:
    return StorageFault(f"{file} cannot be written here (a read-only file, folder or medium): nothing was "
                        "written; verify, export and wallboard still read it")


def translated(exc: BaseException, file: Path, *, writing: bool) -> BaseException:
    """The StorageFault an I/O failure on `file` means; anything else (SQLite's complaints
    about our own SQL, such as IntegrityError, are bugs, not faults of the disk) unchanged."""
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.NotSupportedError)):
        return exc
    if isinstance(exc, sqlite3.DatabaseError):
        return from_sqlite(exc, file, writing=writing)
    if isinstance(exc, OSError):
        return from_os(exc, file, writing=writing)
    return exc


@contextlib.contextmanager
def said(file: Path, *, writing: bool) -> Iterator[None]:
    """Run a block on `file`; SQLite's and the OS's I/O failures leave it as a StorageFault."""
    try:
        yield
    except (sqlite3.DatabaseError, OSError) as exc:
        fault = translated(exc, file, writing=writing)
        if fault is exc:
            raise
        raise fault from exc
