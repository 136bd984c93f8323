"""Seats: the committee roles a credential may take, so a seat is bound to who holds it.

A role with decision power, or one that speaks for the owner (`owner = true`),
approves statements and decisions: only a lead token may sit in one. A token
stores the seats it was given, or nothing, which means the default of its
token role: lead, every role of the playbook; operator, every role without
decision power that is not owner; viewer, none (it reads only). Tokens made
before seats existed get that default too, so none of them gains a vote.
Stored seats are filtered again against the playbook in force when a token is
used: a role that has since gained decision power, or left the playbook,
drops out of an operator's seats instead of widening them.
"""

from __future__ import annotations

from collections.abc import Sequence

from crisis_tui.errors import Forbidden, InvalidInput
from crisis_tui.playbook import Playbook


def has_power(playbook: Playbook, role_id: str) -> bool:
    """Decision power or owner: what only a lead token may be seated as."""
    return playbook.has_decision_power(role_id) or playbook.is_owner(role_id)


def default_seats(playbook: Playbook, token_role: str) -> tuple[str, ...]:
    if token_role == "lead":
        return tuple(r.id for r in playbook.roles)
    if token_role == "operator":
        return tuple(r.id for r in playbook.roles if not has_power(playbook, r.id))
    return ()


def parse_list(text: str) -> list[str]:
    """`cm, care` -> ["cm", "care"] (the --seat-roles option)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def check_seats(playbook: Playbook, token_role: str, asked: Sequence[str], *,
                field: str = "--seat-roles") -> tuple[str, ...]:
    """The seats a new token may be given, or InvalidInput saying in one line why not."""
    if token_role == "viewer":
        raise InvalidInput(field, "a viewer token has no seat: it reads only (give it no --seat-roles)")
    if not asked:
        raise InvalidInput(field, "name at least one role of the playbook, e.g. cm,care")
    chosen: list[str] = []
    for role_id in asked:
        role = playbook.role(role_id)
        if role is None:
            known = ", ".join(r.id for r in playbook.roles)
            raise InvalidInput(field, f"{role_id!r} is not a role of the playbook ({known})")
        if token_role != "lead" and has_power(playbook, role_id):
            what = "speaks for the owner (owner = true)" if role.owner else "has decision power"
            raise InvalidInput(field, f"{role_id} {what}: only a lead token may sit as {role_id}")
        if role_id not in chosen:
            chosen.append(role_id)
    return tuple(chosen)


def seats_in_force(playbook: Playbook, token_role: str, stored: Sequence[str] | None) -> tuple[str, ...]:
    """The roles a token may take now, under the playbook in force."""
    if stored is None:
        return default_seats(playbook, token_role)
    allowed = default_seats(playbook, token_role)
    return tuple(r for r in stored if r in allowed)


def require_seat(name: str, seats: Sequence[str], role: str, action: str) -> None:
    """Forbidden unless `role` is one of the caller's seats."""
    if role in seats:
        return
    if not seats:
        raise Forbidden(f"{name}'s token has no seat in the committee, so it cannot {action}")
    raise Forbidden(f"{name}'s token may sit only as {', '.join(seats)}, not as {role}: it cannot {action} as {role}")
