"""Secrets around Meta's webhooks: its X-Hub-Signature-256 checked when the app secret is known, and the
`?access_token=` a callback URL carries kept out of the access log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from crisis_tui.secret_query import scrubbed
from crisis_tui.store.sqlite import SqliteStore
from crisis_tui.tokens import TokenBook
from tests.test_server_platform_webhook import fb_comment, incident, page_feed, stored
from tests.test_server_process import free_port
from tests.test_server_support import ServeFactory, serve  # noqa: F401 - the fixture

APP_SECRET = "6c1d0e2f9a8b7c6d5e4f3a2b1c0d9e8f"


def signed(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_with_metas_app_secret_set_only_bodies_signed_with_it_go_in(serve: ServeFactory) -> None:
    served = await serve(meta_app_secret=APP_SECRET)
    inc = await incident(served)
    _, secret = await served.tokens.create("facebook", "operator", preset="facebook-webhook")
    meta = served.raw(None)
    url = f"/incidents/{inc}/comments?access_token={secret}"
    body = json.dumps(page_feed(fb_comment("2020_3031", "¿Dónde está mi reembolso?"))).encode()
    headers = {"content-type": "application/json"}
    unsigned = await meta.post(url, content=body, headers=headers)
    forged = await meta.post(url, content=body, headers={**headers, "X-Hub-Signature-256": signed(body, "guess")})
    sha1 = await meta.post(url, content=body, headers={**headers, "X-Hub-Signature-256": "sha1=" + "0" * 40})
    changed = await meta.post(url, content=body.replace(b"reembolso", b"reembolsO"),
                              headers={**headers, "X-Hub-Signature-256": signed(body)})
    for refused in (unsigned, forged, sha1, changed):
        assert refused.status_code == 401, refused.text
    assert "no X-Hub-Signature-256 header" in unsigned.json()["detail"]
    assert "does not match the body" in forged.json()["detail"]
    assert await stored(served, inc) == {}
    good = await meta.post(url, content=body, headers={**headers, "X-Hub-Signature-256": signed(body).upper()
                                                       .replace("SHA256=", "sha256=")})
    assert good.status_code == 200, good.text
    assert good.json()["ingested"] == 1
    # the committee's own clients post the native shape, which Meta does not sign
    lead = served.raw(await served.token("Luis", "lead"))
    native = await lead.post(f"/incidents/{inc}/comments", json=[{"source": "x", "id": "n1", "author": "@a",
                                                                  "text": "refund?"}])
    assert native.status_code == 200, native.text
    csv_preset = await lead.post(f"/incidents/{inc}/comments?preset=google-play", content=b"Package Name,Review Text\n")
    assert csv_preset.status_code == 422 and "reads a CSV export file" in csv_preset.json()["detail"]


def test_the_access_log_never_shows_a_token_from_the_query(tmp_path: Path) -> None:
    assert scrubbed("POST /i/1/comments?preset=facebook-webhook&access_token=ctk_abc HTTP/1.1") == (
        "POST /i/1/comments?preset=facebook-webhook&access_token=REDACTED HTTP/1.1")
    db = tmp_path / "room.db"

    async def prepare() -> tuple[str, str]:
        store = await SqliteStore.open(db)
        try:
            inc = (await store.create_incident("Refund delays", actor="Luis")).id
        finally:
            await store.close()
        book = await TokenBook.open(db)
        try:
            return inc, (await book.create("facebook", "operator", preset="facebook-webhook"))[1]
        finally:
            await book.close()

    inc, secret = asyncio.run(prepare())
    port = free_port()
    env = {**os.environ, "META_APP_SECRET": APP_SECRET}
    proc = subprocess.Popen([sys.executable, "-m", "crisis_tui", "serve", "--db", str(db), "--port", str(port),
                             "--access-log", "--log-level", "info"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        body = json.dumps(page_feed(fb_comment("2020_3031", "¿Y mi reembolso?"))).encode()
        sent = httpx.post(f"{base}/incidents/{inc}/comments?access_token={secret}", content=body, timeout=10,
                          headers={"content-type": "application/json", "X-Hub-Signature-256": signed(body)})
        assert sent.status_code == 200, sent.text
        assert sent.json()["ingested"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode()
    assert "X-Hub-Signature-256 (app secret from META_APP_SECRET)" in output
    assert "access_token=REDACTED" in output
    assert secret not in output and APP_SECRET not in output


def test_serve_refuses_a_named_meta_secret_variable_that_is_not_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CRISIS_QA_META_SECRET"}
    out = subprocess.run([sys.executable, "-m", "crisis_tui", "serve", "--db", str(tmp_path / "r.db"),
                          "--port", str(free_port()), "--meta-secret-env", "CRISIS_QA_META_SECRET"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "$CRISIS_QA_META_SECRET is not set, so Meta's webhook bodies would go in unsigned" in out.stderr
    assert "serving" not in out.stdout and "Traceback" not in out.stderr
