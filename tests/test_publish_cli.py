"""`crisis-tui send` and `crisis-tui outbound` as real processes, on a real file, publishing to a
Mastodon-shaped server on loopback (the token in the environment the playbook names)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import tomli_w

from crisis_tui import approval
from crisis_tui import playbook as playbook_mod
from crisis_tui.model import NewComment
from crisis_tui.store.sqlite import SqliteStore
from tests.mastodon_loopback import TOKEN, FakeMastodon, mastodon  # noqa: F401 - the fixture
from tests.test_cli_core import cli
from tests.test_publish_mastodon import COMMENT, GOOD

TOKEN_ENV = "CRISIS_TUI_CLI_MASTODON_TOKEN"
BY_HAND_TEXT = "Hola Marta, lo sentimos mucho: tres semanas sin reembolso es demasiado. Te escribimos por privado."


def playbook_file(tmp_path: Path, url: str) -> Path:
    data = tomllib.loads(playbook_mod.shipped_path().read_text())
    data["publish"] = {"mastodon": {"base_url": url, "token_env": TOKEN_ENV, "timeout_seconds": 5}}
    path = tmp_path / "playbook.toml"
    path.write_text(tomli_w.dumps(data))
    return path


async def two_approved_replies(db: Path, book: playbook_mod.Playbook) -> tuple[str, int, int]:
    """One reply to a Mastodon comment, one to an X comment, both approved by Luis."""
    store = await SqliteStore.open(db, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        toot, tweet = (await store.ingest(inc, [COMMENT, NewComment(
            source="x", external_id="x-77", author="@marta_x", text="¿Y mi reembolso?", lang="es",
            url="https://x.example/marta_x/status/77")])).ids
        drafts = []
        for comment_id, text in ((toot, GOOD), (tweet, BY_HAND_TEXT)):
            draft = await store.save_draft(inc, text, actor="Ana", comment_id=comment_id)
            await approval.submit(store, inc, draft.id, actor="Ana")
            await approval.approve(store, None, inc, draft.id, actor="Luis")
            drafts.append(draft.id)
        return inc, drafts[0], drafts[1]
    finally:
        await store.close()


async def test_send_publishes_or_marks_by_hand_and_outbound_lists_what_left(
    tmp_path: Path, mastodon: FakeMastodon  # noqa: F811
) -> None:
    pb = playbook_file(tmp_path, mastodon.url)
    db = tmp_path / "room.db"
    inc, toot_draft, tweet_draft = await two_approved_replies(db, playbook_mod.load(pb))
    target = f"{db}#{inc}"
    env = {TOKEN_ENV: TOKEN}

    mastodon.fail_next = [500]
    failed = cli("--playbook", str(pb), "send", target, str(toot_draft), "--as", "Ana", env=env)
    assert failed.returncode == 2
    assert failed.stderr.startswith("crisis-tui: draft 1 v1 was not published on mastodon: Mastodon answered HTTP 500")
    assert "Traceback" not in failed.stderr and failed.stderr.count("\n") == 1

    sent = cli("--playbook", str(pb), "send", target, str(toot_draft), "--as", "Ana", env=env)
    assert sent.returncode == 0, sent.stderr
    [post] = mastodon.posts
    assert sent.stdout.strip() == f"sent draft {toot_draft} v1: published on mastodon {post['id']} {post['url']}"
    assert [r.form["status"] for r in mastodon.received] == [GOOD, GOOD]
    assert mastodon.received[0].key == mastodon.received[1].key

    by_hand = cli("--playbook", str(pb), "send", target, str(tweet_draft), "--as", "Ana", env=env)
    assert by_hand.returncode == 0, by_hand.stderr
    assert by_hand.stdout.strip() == (f"marked draft {tweet_draft} v1 sent by hand at https://x.example/marta_x/status/77: "
                                      "no publisher for this platform, so post the approved text yourself")
    assert len(mastodon.received) == 2

    listed = cli("--playbook", str(pb), "outbound", target)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 4
    assert f"draft {toot_draft} v1 reply to #1 on mastodon; approved by Luis, sent by Ana: " \
           f"mastodon {post['id']} {post['url']}" in lines[0]
    assert lines[1].strip() == GOOD.replace("\n", " ")  # one line on the terminal; the post got the break
    assert f"draft {tweet_draft} v1 reply to #2 on x; approved by Luis, sent by Ana: by hand at " \
           "https://x.example/marta_x/status/77" in lines[2]
    assert lines[3].strip() == BY_HAND_TEXT

    exported = cli("--playbook", str(pb), "export", target, "-f", "json", "-o", str(tmp_path / "out.json"), "-q")
    assert exported.returncode == 0, exported.stderr
    gone = json.loads((tmp_path / "out.json").read_text())["outbound"]
    assert [(o["draft_id"], o["how"], o["post_id"], o["url"], o["text"], o["approved_by"]) for o in gone] == [
        (toot_draft, "mastodon", post["id"], post["url"], GOOD, "Luis"),
        (tweet_draft, "by hand", "", "", BY_HAND_TEXT, "Luis"),
    ]
    report = cli("--playbook", str(pb), "export", target, "-f", "md", "-o", str(tmp_path / "out.md"), "-q")
    assert report.returncode == 0, report.stderr
    section = (tmp_path / "out.md").read_text().split("## Outbound\n", 1)[1].split("\n## ", 1)[0]
    rows = [row for row in section.splitlines() if row.startswith("| ") and "draft" in row]
    assert len(rows) == 2
    assert f"mastodon {post['id']} https://social.example/@brand/{post['id']}" in rows[0]
    assert "by hand at https://x.example/marta\\_x/status/77" in rows[1]


async def test_send_shows_a_hostile_comment_address_literally(tmp_path: Path) -> None:
    book = playbook_mod.load(playbook_mod.shipped_path())
    db = tmp_path / "room.db"
    store = await SqliteStore.open(db, playbook=book)
    try:
        inc = (await store.create_incident("Refund delays", actor="Luis", severity="sev1", our_fault=True)).id
        await store.heartbeat(inc, actor="Luis", role="gm")
        [tweet] = (await store.ingest(inc, [NewComment(
            source="x", external_id="x-78", author="@marta_x", text="¿Y mi reembolso?", lang="es",
            url="https://x.example/\x1b]8;;https://evil.example\x07status/78\x1b[2J")])).ids
        draft = await store.save_draft(inc, BY_HAND_TEXT, actor="Ana", comment_id=tweet)
        await approval.submit(store, inc, draft.id, actor="Ana")
        await approval.approve(store, None, inc, draft.id, actor="Luis")
    finally:
        await store.close()
    sent = cli("send", f"{db}#{inc}", str(draft.id), "--as", "Ana")
    assert sent.returncode == 0, sent.stderr
    assert "\x1b" not in sent.stdout and "\x07" not in sent.stdout
    assert "sent by hand at https://x.example/" in sent.stdout
