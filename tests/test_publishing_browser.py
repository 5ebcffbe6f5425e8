"""In real headless Chromium: the site works under its own strict policy, over HTTP with ``_headers`` and from disk.

The publishing fixture is built at ``https://example.com/trust/`` and served at ``/trust/`` by a
small server that sends the headers ``_headers`` asks for, as Netlify or Cloudflare Pages would.
Every page must load with no Content Security Policy violation, its style sheet applied and every
image decoded. A deliberate inline ``<style>`` must be blocked, which shows the policy is in force.
The same pages are then opened from ``file://``, as a reader who downloaded the folder would.
"""

from __future__ import annotations

import fnmatch
import functools
import http.server
import threading
from pathlib import Path
from typing import Iterator

import pytest

from publishing_support import build_fixture, parse_headers_file
from quality_tools import start_chromium

pytestmark = [pytest.mark.browser]

PAGE_STATE = """
const images = Array.from(document.images);
return {
  styled: getComputedStyle(document.body).marginTop === '0px' && getComputedStyle(document.querySelector('.site-header')).borderBottomStyle === 'solid',
  images: images.length,
  broken: images.filter(img => !img.complete || img.naturalWidth === 0).map(img => img.getAttribute('src')),
};
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, Path]:
    """(the served root folder, the site folder inside it at trust/)."""
    root = tmp_path_factory.mktemp("publishing-browser")
    _, out = build_fixture(root)
    www = root / "www"
    www.mkdir()
    return www, out.rename(www / "trust")


@pytest.fixture(scope="module")
def server(site) -> Iterator[str]:
    www, out = site
    rules = parse_headers_file((out / "_headers").read_text("utf-8"))

    class WithHeaders(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            path = self.path.split("?", 1)[0]
            for pattern, headers in rules.items():
                if fnmatch.fnmatchcase(path, pattern):
                    for name, value in headers:
                        if name.lower() != "content-type":  # the server has already sent one
                            self.send_header(name, value)
            super().end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(WithHeaders, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/trust/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[object]:
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def pages(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if p.name != "404.html")


def visit(driver, url: str) -> tuple[dict, list[str]]:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    state = driver.execute_script(PAGE_STATE)
    return state, [entry["message"] for entry in driver.get_log("browser")]


def test_every_page_loads_under_the_header_policy_with_nothing_blocked(browser, server, site):
    _, out = site
    visited = pages(out)
    assert "marketplace/index.html" in visited and "apps/notes-keeper/index.html" in visited
    images = 0
    for page in visited:
        state, messages = visit(browser, server + page)
        assert state["styled"], f"{page}: the style sheet was not applied"
        assert state["broken"] == [], f"{page}: images not loaded: {state['broken']}"
        assert messages == [], f"{page}: {messages}"
        images += state["images"]
    assert images >= 3  # the kit's badge previews were among them
    # the policy is in force: an inline style is refused and reported
    browser.execute_script("document.head.insertAdjacentHTML('beforeend', '<style>body { margin-top: 77px }</style>')")
    assert browser.execute_script("return getComputedStyle(document.body).marginTop") == "0px"
    assert any("Content Security Policy" in entry["message"] for entry in browser.get_log("browser"))


def test_every_page_works_opened_from_disk(browser, site):
    _, out = site
    for page in pages(out):
        state, messages = visit(browser, (out / page).as_uri())
        assert state["styled"], f"{page}: the style sheet was not applied from disk"
        assert state["broken"] == [], f"{page}: images not loaded from disk: {state['broken']}"
        assert not [m for m in messages if "Content Security Policy" in m or "Failed to load" in m], f"{page}: {messages}"
