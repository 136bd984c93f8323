"""Meta's webhooks pointed straight at `serve`: their own bodies read through a preset, their handshake answered.

The bodies are written here in the shape Meta documents for a Page's feed
subscription and for Instagram's comments subscription.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.test_server_support import Served, ServeFactory, serve  # noqa: F401 - the fixture

CLI = [sys.executable, "-m", "crisis_tui"]


def page_feed(*values: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": "1010", "time": 1773151320,
                                         "changes": [{"field": "feed", "value": v} for v in values]}]}


def fb_comment(cid: str, text: str, *, parent: str = "1010_2020", verb: str = "add") -> dict[str, Any]:
    return {"from": {"id": "77" + cid[-1], "name": "Marta Ruiz"}, "item": "comment", "comment_id": cid,
            "post_id": "1010_2020", "parent_id": parent, "verb": verb, "created_time": 1773151320, "message": text}


def ig_comments(*values: dict[str, Any], field: str = "comments") -> dict[str, Any]:
    return {"object": "instagram", "entry": [{"id": "1784", "time": 1773151320,
                                              "changes": [{"field": field, "value": v} for v in values]}]}


def ig_comment(cid: str, text: str, parent: str = "") -> dict[str, Any]:
    value: dict[str, Any] = {"id": cid, "text": text, "from": {"id": "55", "username": "marta.viaja"},
                             "media": {"id": "1790", "media_product_type": "FEED"}}
    if parent:
        value["parent_id"] = parent
    return value


async def incident(served: Served) -> str:
    lead = served.raw(await served.token("Luis", "lead"))
    made = await lead.post("/incidents", json={"title": "Refund delays"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def stored(served: Served, inc: str) -> dict[str, dict[str, Any]]:
    viewer = served.raw(await served.token("Wall", "viewer"))
    got = await viewer.get(f"/incidents/{inc}/comments")
    assert got.status_code == 200
    return {c["external_id"]: c for c in got.json()}


async def test_a_facebook_page_webhook_body_goes_in_with_its_preset_and_reactions_are_skipped(
    serve: ServeFactory,
) -> None:
    served = await serve()
    inc = await incident(served)
    meta = served.raw(await served.token("meta", "operator"))
    reaction = {"from": {"id": "9", "name": "Pat"}, "item": "reaction", "reaction_type": "angry", "verb": "add",
                "post_id": "1010_2020", "created_time": 1773151330}
    body = page_feed(fb_comment("1010_2021", "Tres semanas sin reembolso"), reaction,
                     fb_comment("1010_2022", "Same here", parent="1010_2021"),
                     fb_comment("1010_2021", "edited text", verb="edited"))
    sent = await meta.post(f"/incidents/{inc}/comments?preset=facebook-webhook", json=body)
    assert sent.status_code == 200, sent.text
    assert (sent.json()["ingested"], sent.json()["duplicates"]) == (2, 0)
    rows = await stored(served, inc)
    assert sorted(rows) == ["1010_2021", "1010_2022"]
    assert rows["1010_2021"]["source"] == "facebook" and rows["1010_2021"]["author"] == "Marta Ruiz"
    assert rows["1010_2022"]["in_reply_to"] == "1010_2021"
    assert rows["1010_2021"]["posted_at"] == 1773151320
    only_reaction = await meta.post(f"/incidents/{inc}/comments?preset=facebook-webhook", json=page_feed(reaction))
    assert only_reaction.status_code == 200 and only_reaction.json()["ingested"] == 0
    native = await meta.post(f"/incidents/{inc}/comments", json=body)
    assert native.status_code == 422  # without a preset the native shape is expected, as before


async def test_a_token_with_a_fixed_preset_posts_in_the_query_as_meta_does_and_cannot_be_switched(
    serve: ServeFactory,
) -> None:
    served = await serve()
    inc = await incident(served)
    _, secret = await served.tokens.create("instagram", "operator", preset="instagram-webhook")
    anonymous = served.raw(None)
    body = ig_comments(ig_comment("17900000000000001", "¿Y mi reembolso?"),
                       ig_comment("17900000000000002", "Escríbenos por DM", parent="17900000000000001"))
    sent = await anonymous.post(f"/incidents/{inc}/comments?access_token={secret}", json=body)
    assert sent.status_code == 200, sent.text
    assert sent.json()["ingested"] == 2
    rows = await stored(served, inc)
    assert rows["17900000000000002"]["in_reply_to"] == "17900000000000001"
    assert rows["17900000000000001"]["author"] == "marta.viaja"
    mention = await anonymous.post(f"/incidents/{inc}/comments?access_token={secret}",
                                   json=ig_comments({"media_id": "1790", "comment_id": "1"}, field="mentions"))
    assert mention.status_code == 200 and mention.json()["ingested"] == 0
    switched = await anonymous.post(f"/incidents/{inc}/comments?access_token={secret}&preset=facebook-webhook",
                                    json=body)
    assert switched.status_code == 422
    assert "reads every body as 'instagram-webhook'" in switched.json()["detail"]
    wrong = await anonymous.post(f"/incidents/{inc}/comments?access_token=ctk_nope", json=body)
    assert wrong.status_code == 401


async def test_a_body_with_one_unreadable_item_is_refused_whole_naming_its_place(serve: ServeFactory) -> None:
    served = await serve()
    inc = await incident(served)
    meta = served.raw(await served.token("meta", "operator"))
    broken = fb_comment("1010_2023", "x")
    del broken["message"]
    sent = await meta.post(f"/incidents/{inc}/comments?preset=facebook-webhook",
                           json=page_feed(fb_comment("1010_2024", "fine"), broken))
    assert sent.status_code == 422
    assert sent.json()["detail"] == "entry[0].changes[1]: text: is required"
    assert await stored(served, inc) == {}
    elsewhere = await meta.post(f"/incidents/{inc}/comments?preset=facebook-webhook", json={"object": "page"})
    assert elsewhere.status_code == 422 and "no list at 'entry[].changes[]'" in elsewhere.json()["detail"]
    unknown = await meta.post(f"/incidents/{inc}/comments?preset=myspace", json={})
    assert unknown.status_code == 422 and "no preset 'myspace'" in unknown.json()["detail"]


async def test_metas_subscription_handshake_answers_the_challenge_for_a_token_that_may_post(
    serve: ServeFactory,
) -> None:
    served = await serve()
    inc = await incident(served)
    secret = await served.token("meta", "operator")
    viewer = await served.token("Wall", "viewer")
    anonymous = served.raw(None)

    async def verify(token: str, mode: str = "subscribe", incident_id: str = inc) -> httpx.Response:
        return await anonymous.get(f"/incidents/{incident_id}/comments", params={
            "hub.mode": mode, "hub.challenge": "1158201444", "hub.verify_token": token})

    ok = await verify(secret)
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    assert (await verify("ctk_not_a_token")).status_code == 401
    assert (await verify(viewer)).status_code == 403
    assert (await verify(secret, mode="unsubscribe")).status_code == 422
    assert (await verify(secret, incident_id="nope")).status_code == 404


def test_token_create_fixes_a_preset_and_refuses_one_that_is_not_shipped_or_on_a_viewer(tmp_path: Path) -> None:
    db = tmp_path / "room.db"
    made = subprocess.run([*CLI, "token", "create", "--db", str(db), "--name", "meta", "--role", "operator",
                           "--preset", "facebook-webhook"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert "bodies read as preset facebook-webhook" in made.stdout
    for role, preset, said in (("operator", "myspace", "no preset 'myspace'"),
                               ("viewer", "facebook-webhook", "a viewer token reads only"),
                               ("operator", "google-play", "google-play reads a CSV export file")):
        refused = subprocess.run([*CLI, "token", "create", "--db", str(db), "--name", "x", "--role", role,
                                  "--preset", preset], capture_output=True, text=True, timeout=60)
        assert refused.returncode == 2 and said in refused.stderr and "Traceback" not in refused.stderr
