"""A TOML mapping from someone else's record (a CSV row, a feed's JSON item) to the native shape.

```toml
[csv]                      # CSV only: how the file is written
delimiter = ";"            # default ","
encoding = "utf-8-sig"     # default; "cp1252" for old spreadsheet exports
timezone = "Europe/Madrid" # for times written without an offset (default UTC)

[feed]                     # HTTP feeds only
items = "data.comments"    # where the list of comments is in a response ("" = the response is the list)
timezone = "UTC"

[fields]                   # native field = where it comes from
source = { value = "reviews" }                        # a constant
id = "Review ID"                                      # a column (CSV) or a dotted path (feed: "user.id")
author = "Author"
text = "Body"
posted_at = { from = "Date", format = "%d/%m/%Y %H:%M" }  # strptime format; without one: ISO 8601 or epoch
likes = { from = "Helpful", default = 0 }

[extra]                    # more values kept with the comment (unknown keys are never dropped)
rating = "Stars"
```

`source`, `id`, `author` and `text` must be mapped. A CSV keeps its unmapped
columns as extra keys too. Counts accept "1,234", "1.234" and "1.2K"; booleans
accept yes/no, true/false, 1/0, sí/no, sì/no. Every mistake in the mapping file
is one line naming the file and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crisis_tui.comment_shape import KNOWN_KEYS
from crisis_tui.errors import CrisisError

REQUIRED = ("source", "id", "author", "text")
COUNTS = frozenset({"likes", "shares", "replies", "author_followers", "author_following"})
TIMES = frozenset({"posted_at", "author_created_at"})
BOOLEANS = frozenset({"author_verified"})
_TRUE = frozenset({"true", "yes", "y", "1", "si", "sí", "sì", "x", "verified", "t"})
_FALSE = frozenset({"false", "no", "n", "0", "", "f"})
_THOUSANDS = re.compile(r"^\d{1,3}(?:[.,  ']\d{3})+$")
_SUFFIXED = re.compile(r"^(\d+(?:[.,]\d+)?)\s*([kKmM])$")
_MISSING = object()


class MappingError(CrisisError):
    """A mapping file that cannot be used: one line naming the file and the key."""

    code = "mapping"


@dataclass(frozen=True)
class FieldSpec:
    source: str | None = None
    value: Any = _MISSING
    format: str = ""
    default: Any = _MISSING


@dataclass
class Mapping:
    path: str
    fields: dict[str, FieldSpec]
    extra: dict[str, FieldSpec] = field(default_factory=dict)
    csv: dict[str, Any] = field(default_factory=dict)
    feed: dict[str, Any] = field(default_factory=dict)
    zone: timezone | ZoneInfo = UTC

    # --------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: Path, *, section: str) -> Mapping:
        """Read a mapping file; `section` is "csv" or "feed" (the other one is ignored)."""
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
        unknown = set(data) - {"fields", "extra", "csv", "feed"}
        if unknown:
            raise MappingError(f"{where}: unknown table {sorted(unknown)[0]!r} (expected fields, extra, csv, feed)")
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
        allowed = {"csv": {"delimiter", "encoding", "timezone"}, "feed": {"items", "timezone"}}[section]
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
        return cls(
            path=where,
            fields=fields,
            extra=extra,
            csv=options if section == "csv" else {},
            feed=options if section == "feed" else {},
            zone=zone,
        )

    # --------------------------------------------------------------- mapping
    def apply(self, record: Any, *, flat: bool) -> dict[str, Any]:
        """The native dict for one record (`flat`: a CSV row, keys are column names).
        A value that cannot be converted raises MappedValueError ("likes: not a whole number")."""
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = self._value(record, spec, flat=flat)
            if value is _MISSING:
                continue
            out[name] = _convert(name, value, spec, self.zone)
        for name, spec in self.extra.items():
            value = self._value(record, spec, flat=flat)
            if value is not _MISSING and name not in out:
                out[name] = value
        return out

    @staticmethod
    def _value(record: Any, spec: FieldSpec, *, flat: bool) -> Any:
        if spec.value is not _MISSING:
            return spec.value
        assert spec.source is not None
        value = record.get(spec.source, _MISSING) if flat else dig(record, spec.source)
        if value is _MISSING or value is None or (flat and value == ""):
            return spec.default
        return value

    def mapped_columns(self) -> set[str]:
        return {s.source for s in (*self.fields.values(), *self.extra.values()) if s.source is not None}


class MappedValueError(ValueError):
    """A record's value that the mapping cannot convert: "field: problem"."""


def _spec(spec: Any, where: str) -> FieldSpec:
    if isinstance(spec, str):
        if not spec:
            raise MappingError(f"{where}: must name a column or a path")
        return FieldSpec(source=spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {"from", "value", "format", "default"}
        if unknown:
            raise MappingError(f"{where}: unknown key {sorted(unknown)[0]!r} (expected from, value, format, default)")
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


def _count(name: str, text: str) -> int | None:
    if not text:
        return None
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
        if re.fullmatch(r"\d{9,11}(?:\.\d+)?", text):
            return float(text)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise MappedValueError(f"{name}: not an ISO 8601 time: {text[:40]!r} (give a format in the mapping)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()
