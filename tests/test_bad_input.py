"""Bad input is refused with a reason, and nothing accepted is lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.comment_shape import MAX_TEXT_BYTES, parse_comment
from crisis_tui.errors import InvalidInput, PlaybookError
from crisis_tui.model import NewComment
from crisis_tui.store.protocol import IncidentStore

GOOD = {"source": "x", "id": "1", "author": "@marta", "text": "¿Dónde está mi reembolso?"}


def with_(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = dict(GOOD)
    raw.update(changes)
    return {k: v for k, v in raw.items() if v is not None}


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        (with_(text=None), "text", "is required"),
        (with_(text="   "), "text", "must not be empty"),
        (with_(text=42), "text", "must be a string"),
        (with_(author_followers=-5), "author_followers", "must not be negative"),
        (with_(likes=1.5), "likes", "whole number"),
        (with_(likes=True), "likes", "whole number"),
        (with_(source=None), "source", "is required"),
        (with_(posted_at="yesterday"), "posted_at", "not an ISO 8601 time"),
        (with_(author_verified="yes"), "author_verified", "true or false"),
        (with_(text="ñ" * (MAX_TEXT_BYTES // 2 + 1)), "text", "the limit is 131,072 bytes"),
        (with_(text="x" * 10_000_000), "text", "the limit is 131,072 bytes"),
        ("just a string", "comment", "must be a JSON object"),
    ],
)
def test_a_bad_comment_is_refused_naming_the_field(raw: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_comment(raw)
    assert refused.value.field == field
    assert words in str(refused.value)


def test_the_cap_admits_a_long_review() -> None:
    review = "Una reseña larga. " * 3600  # ~64 KiB: long reviews and e-mails are real
    assert len(review.encode()) > 64 * 1024
    assert parse_comment(with_(text=review)).text == review


def test_hostile_text_is_stored_intact_and_unknown_keys_kept() -> None:
    hostile = "[bold]x[/] \x1b]52;c;aGk=\x07 \u202eevil\x00 [/bold] [red"
    comment = parse_comment(with_(text=hostile, campaign="summer", posted_at="2026-11-23T10:00:00"))
    assert comment.text == hostile.replace("\x00", "\ufffd")  # every other character as it came
    assert comment.extra == {"campaign": "summer"}
    assert comment.posted_at == 1795428000.0


def test_lone_surrogates_become_replacement_characters() -> None:
    assert parse_comment(with_(text="a\ud800b")).text == "a\ufffdb"


async def test_refused_comments_leave_the_incident_as_it_was(store: IncidentStore, incident: str) -> None:
    accepted = await store.ingest(incident, [parse_comment(GOOD)])
    for bad in (with_(text=None), with_(author_followers=-1), with_(text="x" * 10_000_000)):
        with pytest.raises(InvalidInput):
            await store.ingest(incident, [parse_comment(GOOD), parse_comment(bad)])
    comments = await store.comments(incident)
    assert [c.id for c in comments] == accepted.ids
    assert (await store.counts(incident)).total == 1


_NOTIFY = """
[[notify]]
name = "{name}"
url_env = "LEGAL_NOTIFY_URL"
events = ["decision_approved"]
timeout_seconds = {timeout}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "playbook.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda t: t.replace("sla_minutes = 15", 'sla_minutes = "fast"'), "severities[0].sla_minutes", "Expected `int`"),
        (lambda t: t.replace("sla_minutes = 15", "sla_minuts = 15"), "severities[0].sla_minuts", "unknown key"),
        (lambda t: t.replace("sla_minutes = 15", "sla_minutes = -1"), "severities[0].sla_minutes", "must be positive"),
        (lambda t: t.replace('default_severity = "sev2"', 'default_severity = "sev9"'), "default_severity", "not one of"),
        (lambda t: t.replace("decision_power = true", "decision_power = false"), "roles", "decision_power"),
        (lambda t: t.replace('id = "cm"', 'id = "gm"', 1), "roles[2].id", "duplicate id"),
        (lambda t: t + "\n[broken\n", "", "not valid TOML"),
        (lambda t: t.replace('short = "MKT"', 'short = "MARKETING"'), "roles[1].short", "at most 5 characters"),
        (lambda t: t.replace("canned_threshold = 0.85", "canned_threshold = nan"), "tone.canned_threshold", "finite"),
        (lambda t: t.replace("heartbeat_seconds = 5", "heartbeat_seconds = 1e999"), "presence.heartbeat_seconds",
         "finite"),
        (lambda t: t + _NOTIFY.format(name="legal", timeout="1e999"), "notify[0].timeout_seconds", "finite"),
        (lambda t: t + _NOTIFY.format(name="legal\\u001b]52;c;ZXZpbA==\\u0007", timeout="10"), "notify[0].name",
         "control characters"),
    ],
)
def test_a_broken_playbook_gets_one_line_naming_file_key_and_problem(
    tmp_path: Path, edit: Callable[[str], str], key: str, words: str
) -> None:
    path = _write(tmp_path, edit(playbook_mod.shipped_path().read_text(encoding="utf-8")))
    with pytest.raises(PlaybookError) as refused:
        playbook_mod.load(path)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert refused.value.key == key
    assert words in message


def test_init_writes_an_editable_copy_that_loads_the_same(tmp_path: Path) -> None:
    written = playbook_mod.write_copy(tmp_path / "mine.toml")
    mine, shipped = playbook_mod.load(written), playbook_mod.load(playbook_mod.shipped_path())
    mine.source = shipped.source = ""
    assert mine == shipped
    with pytest.raises(PlaybookError, match="already exists"):
        playbook_mod.write_copy(tmp_path / "mine.toml")


def test_the_readmes_word_out_blocks_appended_to_an_init_copy_load(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```")[0] for b in readme.split("```toml\n")[1:]]
    wanted = [b for b in blocks if "[[notify]]" in b or "statement_token_env" in b]
    assert len(wanted) == 2
    written = playbook_mod.write_copy(tmp_path / "mine.toml")
    with written.open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(wanted))
    book = playbook_mod.load(written)
    assert [t.name for t in book.notify] == ["legal", "leadership"] and book.sitrep.every_minutes == 30
    assert sorted(book.publish) == ["bluesky", "mastodon"] and book.publish["mastodon"].statements


def test_the_playbook_is_found_option_then_env_then_user_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv(playbook_mod.ENV_VAR, raising=False)
    assert playbook_mod.locate() == playbook_mod.shipped_path()
    user = playbook_mod.write_copy(playbook_mod.user_path())
    assert playbook_mod.locate() == user
    monkeypatch.setenv(playbook_mod.ENV_VAR, str(tmp_path / "env.toml"))
    assert playbook_mod.locate() == tmp_path / "env.toml"
    assert playbook_mod.locate(str(tmp_path / "opt.toml")) == tmp_path / "opt.toml"


async def test_a_nul_is_kept_as_a_replacement_character_on_every_engine(store: IncidentStore, incident: str) -> None:
    """PostgreSQL's text refuses U+0000 (the whole batch failed with a server error) and SQLite's
    string functions end a text at it: like a lone surrogate, it becomes U+FFFD, on every engine."""
    result = await store.ingest(incident, [parse_comment(with_(id="nul-1", author="@a\x00b", text="see\x00this",
                                                               campaign="x\x00y"))])
    stored = await store.get_comment(incident, result.ids[0])
    assert (stored.author, stored.text, stored.extra) == ("@a\ufffdb", "see\ufffdthis", {"campaign": "x\ufffdy"})
    # a comment that never passed intake (a drill's script, a replayed export of an older file): the store's own
    scripted = await store.ingest(incident, [NewComment(source="x", external_id="nul-2", author="@c\x00d",
                                                        text="no\x00intake", extra={"k": ["v\x00"]})])
    again = await store.get_comment(incident, scripted.ids[0])
    assert (again.author, again.text, again.extra) == ("@c\ufffdd", "no\ufffdintake", {"k": ["v\ufffd"]})
    note = await store.add_note(incident, "call\x00legal", actor="Ana")
    assert "\x00" not in note.text and note.text == "call\ufffdlegal"
    draft = await store.save_draft(incident, "Hola\x00Marta", actor="Ana", kind="statement")
    assert draft.body == "Hola\ufffdMarta"
    # the incident's brand and the tags too (an alert's payload lives in the log alone: it is kept as it came)
    other = await store.create_incident("Second\x00one", actor="Luis", brand="Ac\x00me")
    assert (other.title, other.brand) == ("Second\ufffdone", "Ac\ufffdme")
    await store.tag(incident, result.ids[0], ["re\x00fund"], actor="Ana")
    stored = await store.get_comment(incident, result.ids[0])
    assert stored.tags == ["re\ufffdfund"]
    await store.alert(incident, "alert.sla", {"detail": "late\x00", "k\x00": "v"})
    events = await store.latest_events(incident, 1)
    assert events[-1].payload == {"detail": "late\x00", "k\x00": "v"}
