"""One JSONL line (or one JSON value) into a comment in the native shape, or a reason.

Everything a line can be wrong about ends up as one short reason: too long,
not UTF-8, not JSON, not an object, a field that breaks the native shape
(crisis_tui.comment_shape names it). Blank lines are skipped, not rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from crisis_tui import json_input
from crisis_tui.comment_shape import MAX_TEXT_BYTES, parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.chunk import Reject
from crisis_tui.intake.json_items import Mapped, map_answer, missing_items
from crisis_tui.intake.mapping import Mapping
from crisis_tui.model import NewComment

#: Longest line read as a comment: the text cap plus room for the other fields.
MAX_LINE_BYTES = MAX_TEXT_BYTES * 2 + 64 * 1024
_decode = json_input.decode


def raw_text(raw: bytes) -> str:
    """A rejected line as text for the rejected file (bytes that are not UTF-8 kept as \\xNN)."""
    return raw.decode("utf-8", "backslashreplace")


def _json_problem(exc: Exception) -> str:
    message = str(exc)
    if message.startswith("Input data was truncated"):
        return "not valid JSON: it ends in the middle of a value"
    if "invalid utf-8" in message.lower():
        return "not UTF-8 text"
    return f"not valid JSON: {message[:120]}"


def _utf8_problem(data: bytes) -> str:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start + 1})"
    return ""


def parse_value(value: Any, where: str, raw: str) -> NewComment | Reject:
    """A decoded JSON value into a comment or a reject."""
    try:
        return parse_comment(value)
    except InvalidInput as exc:
        return Reject(where, str(exc), raw)


def parse_line(raw: bytes, where: str) -> NewComment | Reject | None:
    """One line (without its newline) into a comment, a reject, or None when blank."""
    if len(raw) > MAX_LINE_BYTES:
        return Reject(where, f"line is {len(raw):,} bytes, the limit is {MAX_LINE_BYTES:,}", raw_text(raw[:4096]) + "…")
    stripped = raw.strip()
    if not stripped:
        return None
    if stripped.startswith(b"\xef\xbb\xbf"):
        stripped = stripped[3:]
    try:
        value = _decode(stripped)
    except msgspec.DecodeError as exc:
        return Reject(where, _utf8_problem(stripped) or _json_problem(exc), raw_text(raw))
    try:
        return parse_comment(value)
    except InvalidInput as exc:
        return Reject(where, str(exc), raw_text(raw))


def parse_lines(lines: Iterable[bytes], name: str, first_line: int) -> tuple[list[NewComment], list[Reject], int]:
    """Parse numbered lines; return comments, rejects and how many lines were read."""
    comments: list[NewComment] = []
    rejects: list[Reject] = []
    number = first_line - 1
    for number, line in enumerate(lines, first_line):
        result = parse_line(line.rstrip(b"\r\n"), f"{name}:{number}")
        if result is None:
            continue
        if isinstance(result, Reject):
            rejects.append(result)
        else:
            comments.append(result)
    return comments, rejects, number - first_line + 1


def parse_document(data: bytes, name: str) -> tuple[list[NewComment], list[Reject]]:
    """A .json file: one comment object, or an array of them ("name: item 3" in reasons)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        value = _decode(data)
    except msgspec.DecodeError as exc:
        return [], [Reject(name, _utf8_problem(data) or _json_problem(exc), raw_text(data[:4096]))]
    items = value if isinstance(value, list) else [value]
    comments: list[NewComment] = []
    rejects: list[Reject] = []
    for index, item in enumerate(items, 1):
        where = f"{name}: item {index}" if isinstance(value, list) else name
        result = parse_value(item, where, "")
        if isinstance(result, Reject):
            rejects.append(Reject(result.where, result.reason, msgspec.json.encode(item).decode("utf-8", "replace")))
        else:
            comments.append(result)
    return comments, rejects


def without_assignment(data: bytes) -> bytes:
    """A Twitter archive's `tweets.js` is JSON behind `window.YTD.tweets.part0 = `: the JSON."""
    head = data[:200].lstrip()
    if head.startswith(b"window.YTD.") and b"=" in head:
        return data[data.index(b"=") + 1 :]
    return data


def parse_mapped_document(data: bytes, name: str, mapping: Mapping) -> Mapped:
    """A .json file (or an archive's .js) that is someone else's answer, through the mapping's item paths."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = without_assignment(data)
    try:
        value = _decode(data)
    except msgspec.DecodeError as exc:
        return Mapped(rejects=[Reject(name, _utf8_problem(data) or _json_problem(exc), raw_text(data[:4096]))])
    problem = missing_items(value, mapping)
    if problem:
        return Mapped(rejects=[Reject(name, f"{problem} ({mapping.path})", raw_text(data[:4096]))])
    return map_answer(value, mapping, name)


def parse_mapped_lines(lines: Iterable[bytes], name: str, first_line: int, mapping: Mapping) -> tuple[Mapped, int]:
    """JSONL whose every line is an answer (a page of an API, one event) through the mapping."""
    out = Mapped()
    number = first_line - 1
    for number, line in enumerate(lines, first_line):
        raw = line.rstrip(b"\r\n")
        where = f"{name}:{number}"
        if len(raw) > MAX_LINE_BYTES:
            out.rejects.append(Reject(where, f"line is {len(raw):,} bytes, the limit is {MAX_LINE_BYTES:,}",
                                      raw_text(raw[:4096]) + "…"))
            continue
        stripped = raw.strip().removeprefix(b"\xef\xbb\xbf")
        if not stripped:
            continue
        try:
            value = _decode(stripped)
        except msgspec.DecodeError as exc:
            out.rejects.append(Reject(where, _utf8_problem(stripped) or _json_problem(exc), raw_text(raw)))
            continue
        map_answer(value, mapping, where, into=out)
    return out, number - first_line + 1
