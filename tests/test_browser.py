"""The default site in real headless Chromium: axe-core (WCAG 2.1 A and AA) in light and dark, and layout.

One site is built for the whole module: the default content (release 1.0), edited (a policy
sentence and an app's permissions) and released as 1.1, so that every kind of page exists: the trust
page, app pages, both version pages, the changes page and the versions index. It is served over
HTTP at its base path, so the 404 page's root-relative links work as on a real host. One Chromium
session visits every page. Screenshots go to ``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import base64
import functools
import http.server
import importlib.util
import os
import shutil
import threading
from pathlib import Path
from typing import Iterator, NamedTuple
from urllib.parse import urlsplit

import pytest

from conftest import REPO_ROOT, build_project
from quality_tools import APT, AXE_JS, CHROMEDRIVER, CHROMIUM, NPM_TOOLS, make_release_history, require, start_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCHEMES = ("light", "dark")
# The page kinds axe must pass on (the list, plus the apps overview and the Marketplace kit), as site paths.
PAGE_KINDS = {
    "trust": "index.html",
    "app": "apps/*/index.html",
    "apps": "apps/index.html",
    "version": "versions/1.0/index.html",
    "versions": "versions/index.html",
    "changes": "changes/*/index.html",
    "marketplace": "marketplace/index.html",
    "404": "404.html",
}
SCREENSHOT_KINDS = ("trust", "app")
WIDTHS = (1280, 375)


# --- the site -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools() -> None:
    require(CHROMIUM.is_file(), "Chromium", APT)
    require(CHROMEDRIVER.is_file(), "chromedriver", APT)
    require(AXE_JS.is_file(), "axe-core", NPM_TOOLS)
    require(importlib.util.find_spec("selenium") is not None, "selenium", "pip install -e '.[test]'")


class BuiltSite(NamedTuple):
    out: Path  # the built site
    base_path: str  # its URL path, e.g. /trust/
    www: Path  # the web server's root: out is www/trust/


@pytest.fixture(scope="module")
def site(tools, tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    root = tmp_path_factory.mktemp("browser-site")
    project = root / "project"
    shutil.copytree(REPO_ROOT / "content", project / "content")
    make_release_history(project)
    from site_builder.errors import Problems
    from site_builder.releases.project import load_project

    loaded = load_project(project, Problems())
    assert loaded is not None
    base_path = urlsplit(loaded.working.site.base_url).path or "/"
    out = root / "www" / base_path.strip("/")
    code, _, err = build_project(project, out)
    assert code == 0, err
    return BuiltSite(out, base_path, root / "www")


@pytest.fixture(scope="module")
def server(site: BuiltSite) -> Iterator[str]:
    """The site over HTTP on a free local port; returns the URL of its root."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site.www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{site.base_path}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def driver(tools, tmp_path_factory: pytest.TempPathFactory):
    browser = start_chromium(tmp_path_factory.mktemp("chromium-profile"), "--hide-scrollbars", "--force-color-profile=srgb")
    browser.set_page_load_timeout(30)
    browser.set_script_timeout(60)
    yield browser
    browser.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """test-artifacts/screenshots/ (git-ignored), or SITE_BUILDER_ARTIFACTS; a temporary folder if read-only."""
    folder = Path(os.environ.get("SITE_BUILDER_ARTIFACTS", REPO_ROOT / "test-artifacts")) / "screenshots"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        folder = tmp_path_factory.mktemp("screenshots")
    return folder


def page_path(out: Path, kind: str) -> str:
    """The site path of one page of ``kind``; fails, naming the page, when the site has none."""
    pattern = PAGE_KINDS[kind]
    found = sorted(p.relative_to(out).as_posix() for p in out.glob(pattern))
    if not found:
        pytest.fail(f"the default site (released 1.0 and 1.1) has no {kind} page ({pattern}): its generator is missing or wrote it elsewhere", pytrace=False)
    return found[0]


# --- the browser ----------------------------------------------------------------------------------


def open_page(driver, url: str, *, scheme: str = "light", width: int = 1280, height: int = 900) -> list[dict]:
    """Load ``url`` in ``scheme`` at ``width`` CSS pixels; return what the page logged to the console."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "", "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    driver.get(url)
    assert driver.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches") == (scheme == "dark")
    assert driver.execute_script("return window.innerWidth") == width
    return driver.get_log("browser")


def axe_violations(driver) -> list[dict]:
    driver.execute_script(AXE_JS.read_text("utf-8"))
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        // preload: axe would fetch the style sheets itself, which the page's CSP (connect-src 'none') forbids
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations'], preload: false})
          .then(r => done({violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}))}))
          .catch(e => done({error: String(e)}));
        """,
        WCAG_TAGS,
    )
    assert "error" not in result, f"axe-core failed: {result['error']}"
    return result["violations"]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            summary = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}: {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def foreign_requests(driver, origin: str) -> list[str]:
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [name for name in names if not name.startswith(origin)]


def full_page_png(driver, width: int) -> bytes:
    height = min(driver.execute_script("return document.scrollingElement.scrollHeight"), 16000)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    return base64.b64decode(shot["data"])


LAYOUT_SCRIPT = """
const fits = r => r.left >= -0.5 && r.right <= innerWidth + 0.5;
const name = t => t.id ? '#' + t.id : (t.className ? 'table.' + t.className : 'table') + (t.caption ? ' "' + t.caption.textContent.trim().slice(0, 40) + '"' : '');
const tables = [];
for (const table of document.querySelectorAll('table')) {
  if (fits(table.getBoundingClientRect())) { tables.push([name(table), 'reflows']); continue; }
  let box = table.parentElement, how = 'overflows the page';
  for (; box && box !== document.body; box = box.parentElement) {
    if (['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      how = fits(box.getBoundingClientRect()) ? 'scrolls in its box' : 'its scroll box overflows the page';
      break;
    }
  }
  tables.push([name(table), how]);
}
const wide = [];
for (const e of document.querySelectorAll('body *')) {
  const r = e.getBoundingClientRect();
  if (r.right > innerWidth + 0.5 && !e.closest('.table-scroll, pre')) wide.push(e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + Math.round(r.right) + 'px: ' + (e.textContent || '').trim().slice(0, 50));
}
return {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: innerWidth, tables: tables, wide: wide.slice(0, 10)};
"""


# --- the tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_axe_finds_no_wcag_violations(site, server, driver, kind: str, scheme: str) -> None:
    out = site.out
    path = page_path(out, kind)
    console = open_page(driver, server + path, scheme=scheme)
    errors = [entry["message"] for entry in console if entry["level"] == "SEVERE"]
    assert not errors, f"{path}: the browser reported errors (a CSP violation or a missing file):\n" + "\n".join(errors)
    origin = server.split("/", 3)[:3]
    assert foreign_requests(driver, "/".join(origin)) == []
    violations = axe_violations(driver)
    assert not violations, f"{path} in the {scheme} scheme: {len(violations)} axe-core violations\n{describe_violations(violations)}"


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_no_horizontal_scrolling_on_a_phone(site, server, driver, kind: str) -> None:
    out = site.out
    path = page_path(out, kind)
    open_page(driver, server + path, width=375, height=800)
    layout = driver.execute_script(LAYOUT_SCRIPT)
    assert layout["scrollWidth"] <= layout["innerWidth"] == 375, f"{path} scrolls sideways at 375 px ({layout['scrollWidth']} px wide); too wide: {layout['wide']}"
    bad = [(table, how) for table, how in layout["tables"] if how not in ("reflows", "scrolls in its box")]
    assert not bad, f"{path}: tables that neither reflow nor scroll in their own box at 375 px: {bad}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", SCREENSHOT_KINDS)
def test_screenshots(site, server, driver, screenshots: Path, kind: str, width: int) -> None:
    out = site.out
    path = page_path(out, kind)
    for scheme in SCHEMES:
        open_page(driver, server + path, scheme=scheme, width=width, height=900)
        layout = driver.execute_script(LAYOUT_SCRIPT)
        assert layout["scrollWidth"] <= width, f"{path} is {layout['scrollWidth']} px wide at {width} px: {layout['wide']}"
        png = full_page_png(driver, width)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
        (screenshots / f"{kind}-{width}-{scheme}.png").write_bytes(png)


def test_wide_tables_are_exercised(site, server, driver) -> None:
    """The layout test means something only if some table is wider than a phone and scrolls in its box."""
    out = site.out
    open_page(driver, server + page_path(out, "app"), width=375, height=800)
    layout = driver.execute_script(LAYOUT_SCRIPT)
    assert ("scrolls in its box" in {how for _, how in layout["tables"]}), layout["tables"]
