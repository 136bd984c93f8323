"""The html evaluation in a real headless Chromium: it renders, and it asks nothing of the network.

The page is served from a loopback server that is also Chromium's proxy, so
every request the browser makes, to any host, lands in the server's log. A
control page with one external image proves the trap catches what it should.
"""

from __future__ import annotations

import http.server
import re
import shutil
import socketserver
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from crisis_tui.playbook import Playbook
from tests.test_export import export, make_demo

pytestmark = pytest.mark.slow


URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "srcset", "background", "xlink:href"}


class Tags(HTMLParser):
    """Every real tag and attribute of a page (text that merely looks like a tag is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.extend((tag, name.lower(), value or "") for name, value in attrs)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    assert found, "headless Chromium is needed: apt-get install chromium (bash .ci/run installs it)"
    return found


#: The browser's own services (sign-in, component updates, network time) would call Google
#: whatever the page holds: they are switched off or pointed at a dead loopback port, so
#: that what reaches the trap is what the page asks for.
QUIET_BROWSER = [
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,OptimizationGuideModelDownloading",
    "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--no-pings",
    "--metrics-recording-only", "--safebrowsing-disable-auto-update", "--disable-extensions",
    "--gaia-url=http://127.0.0.1:9/", "--google-apis-url=http://127.0.0.1:9/", "--lso-url=http://127.0.0.1:9/",
    "--component-updater=url-source=http://127.0.0.1:9/",
]


class _Logged(http.server.SimpleHTTPRequestHandler):
    """Serves its folder, and logs every request, proxied ones (absolute URL, CONNECT) included."""

    log: list[str]
    own: str

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        return

    def do_GET(self) -> None:
        self.log.append(f"GET {self.path}")
        if self.path.startswith(self.own + "/"):
            self.path = self.path[len(self.own):]
        if self.path.startswith("/"):
            super().do_GET()
        else:
            self.send_error(502, "no network in this test")

    def do_CONNECT(self) -> None:
        self.log.append(f"CONNECT {self.path}")
        self.send_error(502, "no network in this test")


@pytest.fixture
def trap(tmp_path: Path) -> Iterator[tuple[str, list[str], Path]]:
    """(base URL, request log, served folder) of a loopback server that is also the proxy."""
    log: list[str] = []
    site = tmp_path / "site"
    site.mkdir()
    class Handler(_Logged):
        pass

    Handler.log, Handler.own = log, ""

    def make(request: Any, client_address: Any, server: socketserver.BaseServer) -> _Logged:
        return Handler(request, client_address, server, directory=str(site))

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make)
    Handler.own = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log, site
    finally:
        server.shutdown()
        server.server_close()


def shoot(url: str, proxy: str, shot: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
        f"--user-data-dir={profile}", *QUIET_BROWSER,
        # every request, to any host and to loopback too, goes through the trap
        f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>",
        "--window-size=1280,1800", f"--screenshot={shot}", "--hide-scrollbars", url,
    ], capture_output=True, text=True, timeout=120)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB(A) PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        filter_type, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = prev[i], prev[i - channels] if i >= channels else 0
            if filter_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def test_the_page_loads_nothing_from_other_hosts_by_construction(tmp_path: Path, book: Playbook) -> None:
    import asyncio

    db = tmp_path / "demo.db"
    inc = asyncio.run(make_demo(db, book))
    (page,) = asyncio.run(export(db, inc, "html", tmp_path / "eval.html", book))
    html = page.read_text(encoding="utf-8")
    tags = Tags()
    tags.feed(html)
    references = [value for _, name, value in tags.attributes if name in URL_ATTRIBUTES]
    assert "#s-review" in references, "the page links its own sections"
    assert all(ref.startswith(("#", "data:")) for ref in references), references
    assert not {"script", "iframe", "object", "embed", "img", "video", "audio", "form"} & tags.names
    assert not re.search(r"url\(|@import", html, re.IGNORECASE)
    # the hostile author's <img src="http://..."> is there, as text only
    assert '&lt;img src=&quot;http://evil.example/pix' in html


def test_chromium_renders_the_page_offline(tmp_path: Path, book: Playbook, trap: tuple[str, list[str], Path]) -> None:
    import asyncio

    base, log, site = trap
    db = tmp_path / "demo.db"
    inc = asyncio.run(make_demo(db, book))
    asyncio.run(export(db, inc, "html", site / "eval.html", book))

    shot = tmp_path / "eval.png"
    run = shoot(f"{base}/eval.html", base, shot, tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    assert log == [f"GET {base}/eval.html"], log  # the page itself, and nothing else, from anywhere

    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1800)
    background = rows[5][:3]
    inked = sum(1 for row in rows[::4] for x in range(0, len(row), 16) if row[x:x + 3] != background)
    colours = {row[x:x + 3] for row in rows[::8] for x in range(0, len(row), 12)}
    assert inked > 1000, "the screenshot is blank"
    assert len(colours) > 20, "the screenshot has almost no variety: nothing rendered"


def test_the_trap_catches_an_external_request(tmp_path: Path, trap: tuple[str, list[str], Path]) -> None:
    """Control: a page that does load an external image is caught by the same setup."""
    base, log, site = trap
    (site / "leaky.html").write_text('<!DOCTYPE html><p>hello</p><img src="http://evil.example/pixel.png">',
                                     encoding="utf-8")
    run = shoot(f"{base}/leaky.html", base, tmp_path / "leaky.png", tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    assert f"GET {base}/leaky.html" in log
    assert "GET http://evil.example/pixel.png" in log, log
