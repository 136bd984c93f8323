"""Where a waiting comment stands against its SLA, in one vocabulary for the room and the wallboard.

A comment is near its SLA in the last quarter of it, and over it after; each
standing has a symbol and a word, so no screen says it with colour alone. The
wait counts from when the comment was posted (model.waiting_since).
"""

from __future__ import annotations

from typing import Literal

Standing = Literal["within", "near", "over"]
#: The share of the SLA after which a waiting comment is "near" it.
NEAR_SHARE = 0.75
#: What a row shows for a standing: symbol and word (nothing while well within).
MARK: dict[Standing, str] = {"within": "", "near": "!near", "over": "✗over"}


def standing(waited_s: float, sla_s: float) -> Standing:
    if waited_s > sla_s:
        return "over"
    if waited_s > NEAR_SHARE * sla_s:
        return "near"
    return "within"
