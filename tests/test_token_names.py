"""Token names are unique among active tokens: every write is recorded under the name.

Real `crisis-tui token` subprocesses on a real incident file; the migration on a file made
as schema 6 left it, with twins already in it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from crisis_tui.playbook import Playbook
from crisis_tui.store.schema import MIGRATIONS
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook, digest
from tests.test_cli_core import cli

pytestmark = pytest.mark.timeout(120)


def token_create(db: Path, name: str, role: str = "operator") -> tuple[int, str, str]:
    done = cli("token", "create", "--db", str(db), "--name", name, "--role", role)
    return done.returncode, done.stdout, done.stderr


def test_a_second_active_token_of_a_name_is_refused_and_a_revoked_name_may_be_given_again(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    code, out, _ = token_create(db, "Ana")
    assert code == 0 and out.startswith("token 1 for Ana (operator")
    code, out, err = token_create(db, "Ana", "lead")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"crisis-tui: name: 'Ana' is the name of active token 1: every write is recorded by name, so choose "
        f"another, or revoke that token first (crisis-tui token revoke --db {db} --id 1) to give the name a new token"
    ]
    code, _, err = token_create(db, "  Ana ")  # the name is stripped before it is compared
    assert code == 2 and "active token 1" in err
    listed = cli("token", "list", "--db", str(db)).stdout.splitlines()
    assert [line.split()[-1] for line in listed[1:]] == ["Ana"]

    assert cli("token", "revoke", "--db", str(db), "--name", "Ana").returncode == 0
    code, out, _ = token_create(db, "Ana", "lead")
    assert code == 0 and out.startswith("token 2 for Ana (lead")
    every = cli("token", "list", "--db", str(db), "--all").stdout.splitlines()[1:]
    assert [(line.split()[0], line.split()[1], line.split()[-1]) for line in every] == [
        ("1", "operator", "Ana"), ("2", "lead", "Ana")]


def test_the_file_itself_refuses_twins_whoever_writes_it(tmp_path: Path, book: Playbook) -> None:
    """The rule is a unique index in the file: a raw INSERT of a second active Ana fails too."""
    db = tmp_path / "room.db"

    async def make() -> None:
        await (await SqliteStore.open(db, playbook=book)).close()
        tokens = await TokenBook.open(db)
        try:
            await tokens.create("Ana", "operator")
        finally:
            await tokens.close()

    asyncio.run(make())
    with sqlite3.connect(db) as raw:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            raw.execute("INSERT INTO tokens (name, role, digest, created_at) VALUES ('Ana', 'lead', 'x', 0)")
        raw.execute("INSERT INTO tokens (name, role, digest, created_at, revoked_at) VALUES ('Ana', 'lead', 'y', 0, 1)")


def test_twins_in_an_older_file_are_renamed_not_revoked(tmp_path: Path, book: Playbook) -> None:
    """A file from before the rule may hold two active Anas: the oldest keeps the name, the other
    becomes 'Ana #2' (its holder can still work, and is told by `token list`); revoked ones stay."""
    db = tmp_path / "old.db"
    unique_from = next(i for i, script in enumerate(MIGRATIONS) if "tokens_active_name" in script)
    with sqlite3.connect(db) as raw:
        for script in MIGRATIONS[:unique_from]:
            raw.executescript(script)
        raw.execute(f"PRAGMA user_version = {unique_from}")
        for name, secret, revoked in (("Ana", "ctk_a1", None), ("Ana", "ctk_a2", None), ("Ana", "ctk_a0", 5.0),
                                      ("Luis", "ctk_l1", None)):
            raw.execute("INSERT INTO tokens (name, role, digest, created_at, revoked_at) VALUES (?, 'lead', ?, 0, ?)",
                        (name, digest(secret), revoked))

    async def upgrade() -> list[tuple[str, bool, str | None]]:
        await (await SqliteStore.open(db, playbook=book)).close()
        tokens = await TokenBook.open(db)
        try:
            found = [await tokens.lookup(secret) for secret in ("ctk_a1", "ctk_a2", "ctk_l1")]
            return [(t.name, t.active, None) for t in await tokens.list()] + [
                (t.name, True, "looked up") for t in found if t is not None]
        finally:
            await tokens.close()

    assert asyncio.run(upgrade()) == [
        ("Ana", True, None), ("Ana #2", True, None), ("Ana", False, None), ("Luis", True, None),
        ("Ana", True, "looked up"), ("Ana #2", True, "looked up"), ("Luis", True, "looked up"),
    ]
