"""The playbook's `[publish.*]` tables: a usable publisher reads, a broken one is one line naming the key."""

from __future__ import annotations

import tomllib

import pytest

from crisis_tui import playbook as playbook_mod
from crisis_tui.errors import PlaybookError


def _with(extra: str) -> dict[str, object]:
    data = tomllib.loads(playbook_mod.shipped_path().read_text())
    data.update(tomllib.loads(extra))
    return data


def test_a_mastodon_publisher_reads_with_its_token_named_not_written() -> None:
    book = playbook_mod.parse(_with('[publish.mastodon]\nbase_url = "https://social.example"\n'
                                    'token_env = "CRISIS_TUI_MASTODON_TOKEN"\n'), "p.toml")
    assert book.publish["mastodon"].base_url == "https://social.example"
    assert book.publish["mastodon"].token_env == "CRISIS_TUI_MASTODON_TOKEN"
    assert playbook_mod.load(playbook_mod.shipped_path()).publish == {}  # the shipped one publishes nowhere


@pytest.mark.parametrize(("table", "message"), [
    ('[publish.myspace]\nbase_url = "https://x"\ntoken_env = "T"', "p.toml: publish.myspace: no publisher for 'myspace'"),
    ('[publish.mastodon]\nbase_url = "social.example"\ntoken_env = "T"',
     "p.toml: publish.mastodon.base_url: must be an http(s) address"),
    ('[publish.mastodon]\nbase_url = "https://x"\ntoken_env = " "', "p.toml: publish.mastodon.token_env: must name"),
    ('[publish.bluesky]\nbase_url = "https://bsky.social"\ntoken_env = "T"',
     "p.toml: publish.bluesky.identifier: must name the account"),
    ('[publish.mastodon]\nbase_url = "https://x"', "p.toml: publish.mastodon: Object missing required field `token_env`"),
    ('[publish.mastodon]\nbase_url = "https://x"\ntoken_env = "T"\ntoken = "secret"',
     "p.toml: publish.mastodon.token: unknown key"),
])
def test_a_broken_publish_table_is_one_line_naming_the_key(table: str, message: str) -> None:
    with pytest.raises(PlaybookError) as raised:
        playbook_mod.parse(_with(table), "p.toml")
    assert str(raised.value).startswith(message), str(raised.value)
    assert "\n" not in str(raised.value)
