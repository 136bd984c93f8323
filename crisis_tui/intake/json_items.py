"""The comments inside one JSON answer, found through a mapping's item paths and reply trees.

Platforms do not hand out flat lists: YouTube nests replies under each thread
(`items[].replies.comments[]`), Reddit nests a tree (`data.replies.data.children[]`
at every level), X keeps the authors in a side table (`includes.users`). An
item path is dotted, with `[]` where a list is walked; a reply path is
followed again from every item it reaches, so a tree of any depth comes in
whole, and a reply keeps its thread (its `in_reply_to` is the parent's id
unless the mapping maps one). Each item is named by its place in the answer
("answer.json: items[2].replies.comments[0]"), so a reject says where to look.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msgspec

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.chunk import Reject
from crisis_tui.intake.mapping import MISSING, MappedValueError, Mapping, dig, side_table
from crisis_tui.model import NewComment


@dataclass
class Mapped:
    """What one or more answers gave: comments, rejects, items skipped by the mapping's `skip`/`only`."""

    comments: list[NewComment] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    skipped: int = 0
    replies: int = 0


def split_path(path: str) -> list[tuple[str, bool]]:
    """"items[].replies.comments[]" as [("items", True), ("replies", False), ("comments", True)]."""
    parts: list[tuple[str, bool]] = []
    for part in path.split(".") if path else []:
        many = part.endswith("[]")
        parts.append((part[:-2] if many else part, many))
    return parts


def walk(value: Any, path: str, place: str = "") -> Iterator[tuple[str, Any]]:
    """(place, value) for everything an item path reaches; nothing where the answer has nothing.
    A path that ends at a list means the list's items ("data.mentions" as "data.mentions[]")."""
    stack: list[tuple[Any, list[tuple[str, bool]], str]] = [(value, split_path(path), place)]
    while stack:
        current, parts, where = stack.pop()
        if not parts:
            if isinstance(current, list):
                stack.extend((item, [], f"{where}[{i}]") for i, item in reversed(list(enumerate(current))))
            else:
                yield where, current
            continue
        (name, many), rest = parts[0], parts[1:]
        if name:
            current = dig(current, name)
            if current is MISSING:
                continue
            where = f"{where}.{name}" if where else name
        if many:
            if isinstance(current, list):
                # an item of the list that is no object where the path digs on is yielded as it is,
                # so the caller refuses it with its place (dropped, it would be counted nowhere)
                stack.extend((item, rest if not rest or isinstance(item, (dict, list)) else [], f"{where}[{i}]")
                             for i, item in reversed(list(enumerate(current))))
        else:
            stack.append((current, rest, where))


def missing_items(answer: Any, mapping: Mapping) -> str:
    """Why an answer holds no items at all ("" when a list is where the mapping looks, even
    an empty one): the first list of some item path must be in the answer."""
    paths = mapping.items
    if paths == [""]:
        return "" if isinstance(answer, (list, dict)) else "the answer is not a JSON list (set json.items in the mapping)"
    for path in paths:
        parts = split_path(path)
        upto = next((i for i, (_, many) in enumerate(parts) if many), len(parts) - 1)
        head = ".".join(name for name, _ in parts[: upto + 1] if name)
        found = dig(answer, head) if head else answer
        if isinstance(found, list) or (isinstance(found, dict) and not any(many for _, many in parts)):
            return ""  # a list of items, or the one item a path without [] names (a thread's root)
    return f"no list at {paths[0]!r} in the answer"


def _tables(answer: Any, mapping: Mapping) -> dict[str, dict[str, Any]]:
    specs = [s for s in (*mapping.fields.values(), *mapping.extra.values()) if s.join]
    return {s.join: side_table(dig(answer, s.join), s.on) for s in specs}


def _skipped(item: Any, skip: dict[str, Any], only: dict[str, Any]) -> bool:
    if skip and all(dig(item, path) == value for path, value in skip.items()):
        return True
    return bool(only) and not all(dig(item, path) == value for path, value in only.items())


def _items(answer: Any, mapping: Mapping) -> Iterator[tuple[str, Any]]:
    for path in mapping.items:
        yield from walk(answer, path)


def _json_type(value: Any) -> str:
    """The JSON word for a decoded value's type (a user wrote JSON, not Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "a string" if isinstance(value, str) else "a list" if isinstance(value, list) else type(value).__name__


def map_answer(answer: Any, mapping: Mapping, label: str, into: Mapped | None = None) -> Mapped:
    """Every comment of one JSON answer (a file's document, a JSONL line, a feed's body)."""
    out = into if into is not None else Mapped()
    tables = _tables(answer, mapping)
    skip, only = mapping.skip, mapping.only
    stack: list[tuple[str, Any, str]] = [(place, item, "") for place, item in _items(answer, mapping)]
    stack.reverse()
    refused: set[str] = set()
    while stack:
        place, item, parent = stack.pop()
        where = f"{label}: {place}" if place else label
        raw = msgspec.json.encode(item).decode("utf-8", "replace")
        if not isinstance(item, dict):
            if place in refused:  # reached by two item paths: refused once
                continue
            refused.add(place)
            out.rejects.append(Reject(where, f"an item must be a JSON object, got {_json_type(item)}", raw))
            continue
        if _skipped(item, skip, only):
            out.skipped += 1
            continue
        try:
            native = mapping.apply(item, flat=False, tables=tables)
            if parent and not native.get("in_reply_to"):
                native["in_reply_to"] = parent
            comment = parse_comment(native)
        except (MappedValueError, InvalidInput) as exc:
            out.rejects.append(Reject(where, str(exc), raw))
            continue
        out.comments.append(comment)
        if parent or comment.in_reply_to:
            out.replies += 1
        if mapping.replies:
            children = [(f"{place}.{p}", child, comment.external_id) for p, child in walk(item, mapping.replies)]
            stack.extend(reversed(children))
    return out
