"""The seats file of a shared host: who sits in the room, in which roles, with which SSH key.

    [[seats]]
    name = "Ana Ruiz"
    roles = ["cm", "care"]
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... ana@laptop"

Read with tomllib, validated with msgspec (an unknown key is refused), then
checked for what a schema cannot say. A name becomes an argument of the
command sshd runs, so it must be one printable line; a key must be exactly a
public key (type, base64 blob whose own type matches, optional comment), never
authorized_keys options smuggled in front of it. Every problem is one
SeatsError naming the file and the key.
"""

from __future__ import annotations

import base64
import binascii
import tomllib
from pathlib import Path

import msgspec

from crisis_tui.errors import InvalidInput, SeatsError
from crisis_tui.playbook import Playbook
from crisis_tui.tokens import check_name

KEY_TYPES: tuple[str, ...] = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class Seat(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: str
    roles: list[str]
    key: str


class SeatsFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    seats: list[Seat] = []


class PublicKey(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    blob: str
    comment: str = ""

    @property
    def line(self) -> str:
        return " ".join(p for p in (self.kind, self.blob, self.comment) if p)


def parse_key(text: str) -> PublicKey:
    """An OpenSSH public key line (`type base64 [comment]`), or InvalidInput("key", why)."""
    if any(not ch.isprintable() for ch in text):
        raise InvalidInput("key", "must be one line of printable text (no control characters)")
    parts = text.strip().split(" ", 2)
    kind = parts[0]
    if kind not in KEY_TYPES:
        raise InvalidInput("key", f"must start with the key type ({', '.join(KEY_TYPES)}), not {kind[:40]!r}; "
                                  "authorized_keys options are not allowed here")
    if len(parts) < 2 or not parts[1]:
        raise InvalidInput("key", f"has the type {kind} but no base64 key after it")
    blob = parts[1]
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("key", "the part after the type is not base64") from None
    size = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else -1
    if size < 0 or raw[4:4 + size] != kind.encode():
        raise InvalidInput("key", f"the base64 part is not a {kind} key (it names another type, or is cut)")
    return PublicKey(kind=kind, blob=blob, comment=parts[2].strip() if len(parts) > 2 else "")


def _key_path(path: str) -> str:
    return path.removeprefix("$").removeprefix(".")


def load(path: str | Path, playbook: Playbook) -> list[tuple[Seat, PublicKey]]:
    """Every seat of the file with its parsed key, or SeatsError naming the file and the key."""
    where = str(path)
    try:
        data = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SeatsError(where, "", "no such file") from None
    except OSError as exc:
        raise SeatsError(where, "", f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SeatsError(where, "", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SeatsError(where, "", f"not valid TOML: {exc}") from None
    try:
        book = msgspec.convert(data, SeatsFile, strict=True)
    except msgspec.ValidationError as exc:
        problem, _, at = str(exc).partition(" - at `")
        key = _key_path(at.rstrip("`")) if at else ""
        if problem.startswith("Object contains unknown field"):
            field = problem.split("`")[1]
            key, problem = (f"{key}.{field}" if key else field), "unknown key (a typo?)"
        elif problem.startswith("Object missing required field"):
            field = problem.split("`")[1]
            key, problem = (f"{key}.{field}" if key else field), "is required"
        raise SeatsError(where, key, problem) from None
    if not book.seats:
        raise SeatsError(where, "seats", "no seat: add [[seats]] entries with name, roles and key")
    seen_names: dict[str, int] = {}
    seen_keys: dict[str, int] = {}
    out: list[tuple[Seat, PublicKey]] = []
    for index, seat in enumerate(book.seats):
        at = f"seats[{index}]"
        try:
            name = check_name(seat.name)
        except InvalidInput as exc:
            raise SeatsError(where, f"{at}.name", exc.problem) from None
        if name in seen_names:
            raise SeatsError(where, f"{at}.name", f"{name!r} already sits at seats[{seen_names[name]}]")
        seen_names[name] = index
        if not seat.roles:
            raise SeatsError(where, f"{at}.roles", "name at least one role of the playbook")
        for r, role in enumerate(seat.roles):
            if playbook.role(role) is None:
                known = ", ".join(x.id for x in playbook.roles)
                raise SeatsError(where, f"{at}.roles[{r}]", f"{role!r} is not a role of the playbook ({known})")
        try:
            public = parse_key(seat.key)
        except InvalidInput as exc:
            raise SeatsError(where, f"{at}.key", exc.problem) from None
        if public.blob in seen_keys:
            raise SeatsError(where, f"{at}.key", f"the same key as seats[{seen_keys[public.blob]}]: sshd would seat "
                                                 "both people as the first")
        seen_keys[public.blob] = index
        roles = list(dict.fromkeys(seat.roles))
        out.append((msgspec.structs.replace(seat, name=name, roles=roles), public))
    return out
