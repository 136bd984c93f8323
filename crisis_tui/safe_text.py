"""Untrusted text (comments, names, drafts, notes, playbook strings) made safe to show.

Comments come from hostile strangers. The stored original stays intact; what a
screen shows is the *display form* built here: escape sequences (CSI, OSC such
as OSC 52 that writes the clipboard, DCS, ...) are dropped whole, other control
characters, bidi overrides and zero-width characters are dropped, lone
surrogates become U+FFFD, and the length is capped. The result is plain text;
turning it into Textual `Content` (never markup) is done in
`crisis_tui.widgets.display`, the only place the UI takes untrusted text from.
This module imports no Textual, so the export and the server use it too.
"""

from __future__ import annotations

import re

# ESC-introduced sequences: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC strings up to
# BEL or ST, and two-byte escapes. Also the 8-bit C1 introducers (0x9b CSI, 0x9d OSC...).
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?          # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])     # OSC, DCS, SOS, PM, APC
    [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?       #   ... up to BEL or ST
  | \x1b[ -/]*[0-~]?                            # other ESC sequences
    """,
    re.VERBOSE,
)
_INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width
    "\u200e\u200f\u061c"  # direction marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
_DROP: dict[int, str | None] = {c: None for c in range(0x20) if c not in (0x09, 0x0A)}
_DROP.update({c: None for c in range(0x7F, 0xA0)})
_DROP.update({ord(c): None for c in _INVISIBLE})
_DROP[0x09] = " "
_SURROGATES = re.compile("[\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

#: Longest display form; the full text stays in the store and the detail view pages it.
DISPLAY_CAP = 20_000


def display_text(text: str, max_chars: int | None = DISPLAY_CAP) -> str:
    """The display form of untrusted text: no escapes, no controls, capped.

    `max_chars=None` keeps every character (the editor, where a cut would be saved back)."""
    if max_chars is not None and len(text) > max_chars * 2:
        text = text[: max_chars * 2]
    text = _SURROGATES.sub("\ufffd", text)
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").translate(_DROP)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text


def one_line(text: str, max_chars: int = 500) -> str:
    """Display form squeezed onto one row (the stream, the timeline)."""
    flat = display_text(text, max_chars * 2)
    flat = " ".join(flat.split())
    if len(flat) > max_chars:
        flat = flat[: max_chars - 1] + "…"
    return flat


def storable(text: str) -> str:
    """Lone surrogates (valid JSON, invalid UTF-8) cannot be stored; they become U+FFFD. So does
    NUL (U+0000, valid JSON too): PostgreSQL's text refuses it, and SQLite's string functions end
    a text at it, so a record holding one would read differently on each engine."""
    return _UNSTORABLE.sub("\ufffd", text) if _UNSTORABLE.search(text) else text
