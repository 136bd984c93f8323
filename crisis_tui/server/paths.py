"""Ids in URL paths: whole numbers SQLite can hold, or no route at all.

Starlette's `int` convertor takes any run of digits, and a 23-digit comment id
then overflowed SQLite's 64-bit integer deep in a query (a 500). The `id`
convertor takes at most 18 digits (always below 2**63), so a longer one matches
no route and is a plain 404.
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor

#: Digits an id in a path may have: every 18-digit number fits in a signed 64-bit integer.
ID_DIGITS = 18


class IdConvertor(Convertor[int]):
    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value < 10**ID_DIGITS:
            raise ValueError(f"an id in a path is a whole number of at most {ID_DIGITS} digits, got {value}")
        return str(value)


register_url_convertor("id", IdConvertor())


def id_param(name: str) -> str:
    """A path segment matching an id, e.g. `{comment_id:id}`."""
    return f"{{{name}:id}}"
