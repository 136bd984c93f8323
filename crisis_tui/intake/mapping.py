"""A TOML mapping from someone else's record (a CSV row, a feed's JSON item) to the native shape.

```toml
[csv]                      # CSV only: how the file is written
delimiter = ";"            # default ","
encoding = "utf-8-sig"     # default; "cp1252" for old spreadsheet exports
timezone = "Europe/Madrid" # for times written without an offset (default UTC)
skip = { "Review Text" = "" }  # rows with all these cells are skipped (counted as skipped, not rejected)

[json]                     # JSON answers: .json and .jsonl files and HTTP feeds ([feed] is the older name)
items = "data.comments"    # where the comments are ("" = the answer is the list); "[]" walks a list:
                           # ["items[].snippet.topLevelComment", "items[].replies.comments[]"] (several places)
replies = "data.replies.data.children[]"  # a reply tree: followed from every item, at any depth;
                           # a reply's in_reply_to is its parent's id unless the mapping gives one
skip = { kind = "more" }   # items with all these values are skipped (counted as skipped, not rejected)
only = { "commit.collection" = "app.bsky.feed.post" }  # items without all these values are skipped too
timezone = "UTC"

[fields]                   # native field = where it comes from
source = { value = "reviews" }                        # a constant
id = "Review ID"                                      # a column (CSV) or a dotted path (feed: "user.id")
author = "Author"
text = "Body"
posted_at = { from = "Date", format = "%d/%m/%Y %H:%M" }  # strptime format; without one: ISO 8601 or epoch
likes = { from = "Helpful", default = 0 }
text = { from = "snippet.textDisplay", html = true }  # HTML to plain text (crisis_tui.intake.html_text)
author = { from = "author_id", join = "includes.users", on = "id", take = "username" }  # a side table
id = { from = "Review Link", match = "reviewId=([^&]+)" }  # a part of the value: a regex's first group

[extra]                    # more values kept with the comment (unknown keys are never dropped)
rating = "Stars"
```

`source`, `id`, `author` and `text` must be mapped. A CSV keeps its unmapped
columns as extra keys too. Counts accept "1,234", "1.234" and "1.2K" (and a
minus sign for `likes`, a net score on some platforms); booleans
accept yes/no, true/false, 1/0, sí/no, sì/no. Every mistake in the mapping file
is one line naming the file and the key. `extends = "youtube"` starts from a
shipped preset (crisis_tui.intake.presets): this file's keys replace the preset's.

Times without a strptime format: ISO 8601, or an epoch number whose unit
(seconds, milliseconds, microseconds, nanoseconds) is told by magnitude
(crisis_tui.comment_shape.EPOCH_UNITS); `format = "epoch_ms"` (or "epoch",
"epoch_us", "epoch_ns") says the unit outright. A join looks the record's
value up in a list elsewhere in the same answer (`join`, from its root), by
the key `on` ("id" by default), and takes `take` from the match; no match
falls back to the field's default. A unit told by magnitude is remembered
per field (`Mapping.guessed`), so the run can say which one it took
("posted_at in epoch milliseconds, told by magnitude"): a wrong guess is seen
at once, not found weeks later in the evaluation.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crisis_tui.comment_shape import EPOCH_UNITS, KNOWN_KEYS, SIGNED_COUNTS
from crisis_tui.errors import CrisisError
from crisis_tui.intake import preset_files
from crisis_tui.intake.html_text import html_to_text

REQUIRED = ("source", "id", "author", "text")
COUNTS = frozenset({"likes", "shares", "replies", "author_followers", "author_following"})
TIMES = frozenset({"posted_at", "author_created_at"})
BOOLEANS = frozenset({"author_verified"})
_TRUE = frozenset({"true", "yes", "y", "1", "si", "sí", "sì", "x", "verified", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "", "f"})
_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,  ']\d{3})+$")
_SUFFIXED = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([kKmM])$")
_MISSING = object()
#: What `dig` gives for a path the record does not have.
MISSING = _MISSING
#: Explicit epoch units for `format`: how many of them make a second.
EPOCH_FORMATS = {"epoch": 1.0, "epoch_s": 1.0, "epoch_ms": 1e3, "epoch_us": 1e6, "epoch_ns": 1e9}
#: The mapping's JSON table; [feed] is its older name, kept for existing mappings.
JSON_KEYS = frozenset({"items", "replies", "skip", "only", "timezone"})
CSV_KEYS = frozenset({"delimiter", "encoding", "timezone", "skip"})


class MappingError(CrisisError):
    """A mapping file that cannot be used: one line naming the file and the key."""

    code = "mapping"


@dataclass(frozen=True)
class FieldSpec:
    source: str | None = None
    value: Any = _MISSING
    format: str = ""
    default: Any = _MISSING
    html: bool = False
    join: str = ""
    on: str = "id"
    take: str = ""
    #: `match = "REGEX"`: the value is the regex's first group (or whole match) in the text.
    pattern: re.Pattern[str] | None = None


@dataclass
class Mapping:
    path: str
    fields: dict[str, FieldSpec]
    extra: dict[str, FieldSpec] = field(default_factory=dict)
    csv: dict[str, Any] = field(default_factory=dict)
    feed: dict[str, Any] = field(default_factory=dict)
    zone: timezone | ZoneInfo = UTC
    #: Epoch units told by magnitude, by field ("posted_at": {"milliseconds"}), for the run's summary.
    guessed: dict[str, set[str]] = field(default_factory=dict)

    # --------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: Path, *, section: str) -> Mapping:
        """Read a mapping file; `section` is "csv" or "json" ("feed" is the same as "json")."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MappingError(f"{path}: no such mapping file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path}: cannot be read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise MappingError(f"{path}: not valid TOML: {exc}") from None
        return cls.parse(data, str(path), section=section)

    @classmethod
    def parse(cls, data: dict[str, Any], where: str, *, section: str) -> Mapping:
        data = _extended(data, where)
        unknown = set(data) - {"fields", "extra", "csv", "feed", "json", "preset"}
        if unknown:
            raise MappingError(f"{where}: unknown table {sorted(unknown)[0]!r} (expected fields, extra, csv, json)")
        if "feed" in data and "json" in data:
            raise MappingError(f"{where}: give [json] or its older name [feed], not both")
        if section in ("feed", "json"):
            section = "feed" if "feed" in data else "json"
        fields_table = data.get("fields")
        if not isinstance(fields_table, dict):
            raise MappingError(f"{where}: a [fields] table is needed (native field = column or path)")
        fields: dict[str, FieldSpec] = {}
        for name, spec in fields_table.items():
            if name not in KNOWN_KEYS:
                raise MappingError(f"{where}: fields.{name}: not a field of the native shape ({', '.join(sorted(KNOWN_KEYS))})")
            fields[name] = _spec(spec, f"{where}: fields.{name}")
        missing = [name for name in REQUIRED if name not in fields]
        if missing:
            raise MappingError(f"{where}: fields.{missing[0]} must be mapped (source, id, author and text are required)")
        extra_table = data.get("extra", {})
        if not isinstance(extra_table, dict):
            raise MappingError(f"{where}: [extra] must be a table")
        extra = {name: _spec(spec, f"{where}: extra.{name}") for name, spec in extra_table.items()}
        options = data.get(section, {})
        if not isinstance(options, dict):
            raise MappingError(f"{where}: [{section}] must be a table")
        allowed = {"csv": CSV_KEYS, "feed": JSON_KEYS, "json": JSON_KEYS}[section]
        for key in options:
            if key not in allowed:
                raise MappingError(f"{where}: {section}.{key}: unknown key (expected {', '.join(sorted(allowed))})")
        zone: timezone | ZoneInfo = UTC
        if options.get("timezone"):
            try:
                zone = ZoneInfo(str(options["timezone"]))
            except (ZoneInfoNotFoundError, ValueError):
                raise MappingError(f"{where}: {section}.timezone: unknown time zone {options['timezone']!r}") from None
        delimiter = options.get("delimiter", ",")
        if section == "csv" and (not isinstance(delimiter, str) or len(delimiter) != 1):
            raise MappingError(f"{where}: csv.delimiter: must be one character, got {delimiter!r}")
        if section != "csv":
            _check_json(options, f"{where}: {section}")
        elif not isinstance(options.get("skip", {}), dict) or not all(
                isinstance(v, str) for v in options.get("skip", {}).values()):
            raise MappingError(f"{where}: csv.skip: must be a table of column = text, such as {{ \"Review Text\" = \"\" }}")
        return cls(
            path=where,
            fields=fields,
            extra=extra,
            csv=options if section == "csv" else {},
            feed=options if section != "csv" else {},
            zone=zone,
        )

    @property
    def items(self) -> list[str]:
        """Where the comments are in an answer (one or more item paths)."""
        items = self.feed.get("items", "")
        return [items] if isinstance(items, str) else list(items)

    @property
    def replies(self) -> str:
        return str(self.feed.get("replies", ""))

    @property
    def skip(self) -> dict[str, Any]:
        return dict(self.feed.get("skip") or self.csv.get("skip") or {})

    @property
    def only(self) -> dict[str, Any]:
        return dict(self.feed.get("only", {}))

    def joins(self) -> set[str]:
        """The side tables the fields look into (paths from the answer's root)."""
        return {s.join for s in (*self.fields.values(), *self.extra.values()) if s.join}

    # --------------------------------------------------------------- mapping
    def apply(
        self, record: Any, *, flat: bool, tables: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """The native dict for one record (`flat`: a CSV row, keys are column names;
        `tables`: the side tables of its answer, by join path, each by key).
        A value that cannot be converted raises MappedValueError ("likes: not a whole number")."""
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = self._value(record, spec, flat=flat, tables=tables, name=name)
            if value is _MISSING:
                continue
            converted = out[name] = _convert(name, value, spec, self.zone)
            if name in TIMES and not spec.format and isinstance(converted, (int, float)) and not isinstance(converted, bool):
                self.guessed.setdefault(name, set()).add(epoch_unit(converted))
        for name, spec in self.extra.items():
            value = self._value(record, spec, flat=flat, tables=tables, name=name)
            if value is not _MISSING and name not in out:
                out[name] = html_to_text(value) if spec.html and isinstance(value, str) else value
        return out

    @staticmethod
    def _value(
        record: Any, spec: FieldSpec, *, flat: bool, tables: dict[str, dict[str, Any]] | None, name: str
    ) -> Any:
        if spec.value is not _MISSING:
            return spec.value
        assert spec.source is not None
        value = record.get(spec.source, _MISSING) if flat else dig(record, spec.source)
        if spec.join and value is not _MISSING and value is not None:
            match = (tables or {}).get(spec.join, {}).get(_key(value), _MISSING)
            if match is _MISSING and spec.default is _MISSING:
                raise MappedValueError(f"{name}: {spec.source} {str(value)[:40]!r} is not in {spec.join}")
            value = _MISSING if match is _MISSING else dig(match, spec.take) if spec.take else match
        if value is _MISSING or value is None or (flat and value == ""):
            return spec.default
        if spec.pattern is not None:
            found = spec.pattern.search(str(value))
            if found is None:
                if spec.default is not _MISSING:
                    return spec.default
                raise MappedValueError(f"{name}: {spec.source} {str(value)[:40]!r} does not match {spec.pattern.pattern!r}")
            return found.group(1) if spec.pattern.groups else found.group(0)
        return value

    def mapped_columns(self) -> set[str]:
        return {s.source for s in (*self.fields.values(), *self.extra.values()) if s.source is not None}


    def units_said(self) -> str:
        """The epoch units told by magnitude so far: "posted_at in epoch milliseconds, told by magnitude" ("" for none)."""
        order = [unit for _, _, unit in EPOCH_UNITS] + ["out of range"]
        parts = [f"{name} in epoch {' and '.join(sorted(units, key=order.index))}"
                 for name, units in sorted(self.guessed.items())]
        return f"{'; '.join(parts)}, told by magnitude" if parts else ""


def epoch_unit(value: float) -> str:
    """The unit the native shape takes an epoch number in (crisis_tui.comment_shape.EPOCH_UNITS)."""
    for below, _, unit in EPOCH_UNITS:
        if abs(value) < below:
            return unit
    return "out of range"


class MappedValueError(ValueError):
    """A record's value that the mapping cannot convert: "field: problem"."""


def _extended(data: dict[str, Any], where: str) -> dict[str, Any]:
    """`extends = "NAME"`: the preset's tables, with this mapping's keys laid over them."""
    if "extends" not in data:
        return data
    name = data["extends"]
    base = preset_files.raw(name) if isinstance(name, str) else None
    if base is None:
        raise MappingError(f"{where}: extends: no preset {name!r} (presets: {', '.join(preset_files.names())})")
    base.pop("preset", None)
    if "feed" in data and "json" in base:
        base["feed"] = base.pop("json")
    for table, value in data.items():
        if table == "extends":
            continue
        if isinstance(value, dict) and isinstance(base.get(table), dict):
            base[table] = {**base[table], **value}
        else:
            base[table] = value
    return base


def _key(value: Any) -> str:
    """A join key as text: X sends ids as strings, other answers as numbers."""
    return str(value)


def side_table(rows: Any, on: str) -> dict[str, Any]:
    """A list of records by their `on` key (records without one are left out)."""
    table: dict[str, Any] = {}
    for row in rows if isinstance(rows, list) else []:
        key = dig(row, on)
        if key is not _MISSING and key is not None:
            table.setdefault(_key(key), row)
    return table


def _check_json(options: dict[str, Any], where: str) -> None:
    items = options.get("items", "")
    paths = [items] if isinstance(items, str) else items
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise MappingError(f"{where}.items: must be a path or a list of paths such as \"items[].replies.comments[]\"")
    if not isinstance(options.get("replies", ""), str):
        raise MappingError(f"{where}.replies: must be a path such as \"data.replies.data.children[]\"")
    for key in ("skip", "only"):
        if not isinstance(options.get(key, {}), dict):
            raise MappingError(f"{where}.{key}: must be a table of path = value, such as {{ kind = \"more\" }}")


def _spec(spec: Any, where: str) -> FieldSpec:
    if isinstance(spec, str):
        if not spec:
            raise MappingError(f"{where}: must name a column or a path")
        return FieldSpec(source=spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {"from", "value", "format", "default", "html", "join", "on", "take", "match"}
        if unknown:
            raise MappingError(
                f"{where}: unknown key {sorted(unknown)[0]!r} "
                "(expected from, value, format, default, html, join, on, take, match)"
            )
        pattern = None
        if "match" in spec:
            if not isinstance(spec["match"], str) or not spec["match"]:
                raise MappingError(f"{where}: match must be a regular expression such as \"reviewId=([^&]+)\"")
            try:
                pattern = re.compile(spec["match"])
            except re.error as exc:
                raise MappingError(f"{where}: match: not a regular expression: {exc}") from None
        if not isinstance(spec.get("html", False), bool):
            raise MappingError(f"{where}: html must be true or false")
        for key in ("join", "on", "take"):
            if not isinstance(spec.get(key, ""), str):
                raise MappingError(f"{where}: {key} must be a path")
        if ("on" in spec or "take" in spec) and not spec.get("join"):
            raise MappingError(f"{where}: on and take go with join = PATH (the side table)")
        if ("from" in spec) == ("value" in spec):
            raise MappingError(f"{where}: give either from = COLUMN or value = CONSTANT")
        if "from" in spec and (not isinstance(spec["from"], str) or not spec["from"]):
            raise MappingError(f"{where}: from must name a column or a path")
        fmt = spec.get("format", "")
        if not isinstance(fmt, str):
            raise MappingError(f"{where}: format must be a strptime format such as \"%d/%m/%Y %H:%M\"")
        return FieldSpec(
            source=spec.get("from"),
            value=spec.get("value", _MISSING),
            format=fmt,
            default=spec.get("default", _MISSING),
            html=bool(spec.get("html", False)),
            join=str(spec.get("join", "")),
            on=str(spec.get("on") or "id"),
            take=str(spec.get("take", "")),
            pattern=pattern,
        )
    raise MappingError(f"{where}: must be a column name or a table like {{ from = \"Column\" }}")


def dig(record: Any, path: str) -> Any:
    """A dotted path into nested JSON: "user.name", "media.0.url"."""
    value = record
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                return _MISSING
            value = value[part]
        elif isinstance(value, list) and part.isdigit():
            index = int(part)
            if index >= len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def _convert(name: str, value: Any, spec: FieldSpec, zone: timezone | ZoneInfo) -> Any:
    """A mapped value in the type the native shape wants (CSV cells are all text)."""
    if spec.html and isinstance(value, str):
        value = html_to_text(value)
    if name in TIMES and spec.format in EPOCH_FORMATS:
        return _epoch(name, value, EPOCH_FORMATS[spec.format])
    if isinstance(value, str):
        text = value.strip()
        if name in COUNTS:
            return _count(name, text)
        if name in BOOLEANS:
            lowered = text.lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise MappedValueError(f"{name}: not yes/no: {text[:40]!r}")
        if name in TIMES:
            return _time(name, text, spec.format, zone)
        return value if name == "text" else text
    if name in ("id", "in_reply_to") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _epoch(name: str, value: Any, per_second: float) -> float | None:
    """An epoch number in the unit the mapping names, as seconds (range-checked by the native shape)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise MappedValueError(f"{name}: not an epoch number: {value!r}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise MappedValueError(f"{name}: not an epoch number: {str(value)[:40]!r}") from None
    return number / per_second


def _count(name: str, text: str) -> int | None:
    if not text:
        return None
    if name in SIGNED_COUNTS and text.startswith("-"):
        magnitude = _count(name, text[1:].strip())
        return None if magnitude is None else -magnitude
    compact = text.replace("_", "")
    if compact.isdigit():
        return int(compact)
    if _THOUSANDS.match(compact):
        return int(re.sub(r"\D", "", compact))
    suffixed = _SUFFIXED.match(compact)
    if suffixed:
        number = float(suffixed.group(1).replace(",", "."))
        return round(number * (1000 if suffixed.group(2).lower() == "k" else 1_000_000))
    raise MappedValueError(f"{name}: not a whole number: {text[:40]!r}")


def _time(name: str, text: str, fmt: str, zone: timezone | ZoneInfo) -> Any:
    if not text:
        return None
    if fmt:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            raise MappedValueError(f"{name}: {text[:40]!r} does not match the format {fmt!r}") from None
    else:
        if re.fullmatch(r"\d{9,20}(?:\.\d+)?", text):
            return float(text)  # seconds, ms, µs or ns: told by magnitude in the native shape
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise MappedValueError(f"{name}: not an ISO 8601 time: {text[:40]!r} (give a format in the mapping)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()
