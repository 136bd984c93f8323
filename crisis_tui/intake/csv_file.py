"""A CSV export (a listening tool, a review site, a spreadsheet) read through a TOML mapping.

The header row names the columns; the mapping (crisis_tui.intake.mapping)
says which column is which native field; unmapped columns are kept as extra
keys. Rows are numbered by the physical line they start on (a quoted cell may
span lines), so "export.csv:57" is where an editor shows it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec

from crisis_tui.comment_shape import parse_comment
from crisis_tui.errors import InvalidInput
from crisis_tui.intake.backlog import file_size, open_source
from crisis_tui.intake.chunk import Chunk, Reject, SourceError
from crisis_tui.intake.mapping import MappedValueError, Mapping
from crisis_tui.model import NewComment

ROWS_PER_CHUNK = 2000
#: The largest cell csv accepts (a long review or e-mail body fits).
csv.field_size_limit(min(sys.maxsize, 1 << 30))


class CsvFile:
    def __init__(self, path: Path, mapping: Mapping) -> None:
        self.path = path
        self.name = path.name
        self.mapping = mapping

    @property
    def size(self) -> int | None:
        return file_size(self.path)

    def _rows(self, text: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, str] | None, str]]:
        """(line, row or None when malformed, reason) for each data row."""
        encoding = text.encoding
        reader = csv.reader(text, delimiter=str(self.mapping.csv.get("delimiter", ",")))
        try:
            header = next(reader)
        except StopIteration:
            return
        except UnicodeError as exc:  # UTF-16 without its byte-order mark is a bare UnicodeError
            raise SourceError(f"{self.path}: the header row is not {encoding} text ({exc}); "
                              "set csv.encoding in the mapping") from None
        except csv.Error as exc:
            raise SourceError(f"{self.path}: the header row cannot be read: {exc}") from None
        header = [h.strip() for h in header]
        missing = sorted(self.mapping.mapped_columns() - set(header))
        if missing:
            raise SourceError(
                f"{self.path}: the mapping names column {missing[0]!r}, which the header does not have "
                f"(columns: {', '.join(header[:12])})"
            )
        line = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeError as exc:
                reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
                raise SourceError(
                    f"{self.path}:{line}: not {encoding} text ({reason}); set csv.encoding in the mapping"
                ) from None
            except csv.Error as exc:
                yield line, None, f"not valid CSV: {exc}"
                line = reader.line_num + 1
                continue
            start, line = line, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield start, None, f"has {len(cells)} cells, the header has {len(header)}"
                continue
            yield start, dict(zip(header, cells, strict=True)), ""

    def _parse(self, batch: list[tuple[int, dict[str, str] | None, str]]) -> tuple[list[NewComment], list[Reject], int]:
        """The batch's comments, its rejects, and how many rows the mapping's csv.skip passed over."""
        comments: list[NewComment] = []
        rejects: list[Reject] = []
        skipped = 0
        mapped = self.mapping.mapped_columns()
        skip = self.mapping.skip
        for line, row, reason in batch:
            where = f"{self.name}:{line}"
            if row is None:
                rejects.append(Reject(where, reason, ""))
                continue
            if skip and all(row.get(column, "").strip() == value for column, value in skip.items()):
                skipped += 1
                continue
            raw = msgspec.json.encode(row).decode()
            try:
                native = self.mapping.apply(row, flat=True)
                for column, value in row.items():
                    if column not in mapped and column not in native and value != "":
                        native[column] = value
                comments.append(parse_comment(native))
            except (MappedValueError, InvalidInput) as exc:
                rejects.append(Reject(where, str(exc), raw))
        return comments, rejects, skipped

    async def chunks(self) -> AsyncIterator[Chunk]:
        handle = open_source(self.path)
        encoding = str(self.mapping.csv.get("encoding", "utf-8-sig"))
        try:
            text = io.TextIOWrapper(handle, encoding=encoding, newline="")
        except LookupError:
            handle.close()
            raise SourceError(f"{self.mapping.path}: csv.encoding: unknown encoding {encoding!r}") from None
        try:
            rows = self._rows(text)
            while True:
                batch = await asyncio.to_thread(_take, rows, ROWS_PER_CHUNK)
                if not batch:
                    return
                comments, rejects, skipped = await asyncio.to_thread(self._parse, batch)
                yield Chunk(comments, rejects, position=handle.tell(), skipped=skipped)
        finally:
            text.close()


def _take(rows: Iterator[tuple[int, dict[str, str] | None, str]], count: int) -> list[tuple[int, dict[str, str] | None, str]]:
    out = []
    for item in rows:
        out.append(item)
        if len(out) >= count:
            break
    return out
