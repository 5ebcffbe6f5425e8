"""The Nu HTML Checker (vnu.jar, pinned in tools/package.json) over every page of every site we ship or test.

One Java process checks every file: the JVM's start-up is most of the cost. A deliberately invalid
page goes along in the same run, so a checker that silently checks nothing cannot pass.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import REPO_ROOT, build_project
from quality_tools import NPM_TOOLS, VNU_JAR, build_copy, fixture_sites, java, make_release_history, require

pytestmark = [pytest.mark.validator, pytest.mark.slow]

CANARY = '<!doctype html>\n<html lang="en">\n<head><title>canary</title></head>\n<body><p><img src="a.png"></p></body>\n</html>\n'


def built_sites(root: Path) -> dict[str, Path]:
    """The default site (released, as a draft, and with a release 1.1 after it) and every fixture site."""
    sites = {"default": build_copy(REPO_ROOT, root / "default", root / "out" / "default", parts=("content",))}
    if (REPO_ROOT / "content" / "releases.yaml").is_file():
        sites["default-draft"] = build_copy(REPO_ROOT, root / "default-draft", root / "out" / "default-draft", "--draft", parts=("content",))
    history = root / "default-1.1"
    shutil.copytree(REPO_ROOT / "content", history / "content")
    make_release_history(history)  # a second release, so that there is a changes page
    code, _, err = build_project(history, root / "out" / "default-1.1")
    assert code == 0, err
    sites["default-1.1"] = root / "out" / "default-1.1"
    for project in fixture_sites():
        sites[project.name] = build_copy(project, root / project.name, root / "out" / project.name)
    return sites


@pytest.fixture(scope="module")
def vnu_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], Path, list[dict]]:
    require(java() is not None, "Java (for the Nu HTML Checker)", "sudo apt-get install openjdk-17-jre-headless")
    require(VNU_JAR.is_file(), f"the Nu HTML Checker ({VNU_JAR.relative_to(REPO_ROOT)})", NPM_TOOLS)
    root = tmp_path_factory.mktemp("vnu")
    sites = built_sites(root)
    pages = {name: sorted(page.relative_to(out).as_posix() for page in out.rglob("*.html")) for name, out in sites.items()}
    styles = sorted(css for out in sites.values() for css in out.rglob("*.css"))
    canary = root / "canary.html"
    canary.write_text(CANARY, "utf-8")
    files = [canary, *(sites[name] / page for name, found in pages.items() for page in found), *styles]
    # -Xss: the checker's schema needs a deep stack; C1 only: a short run never pays back C2's compile time
    command = [java(), "-Xss8m", "-XX:TieredStopAtLevel=1", "-jar", str(VNU_JAR), "--errors-only", "--also-check-css", "--format", "json", *map(str, files)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    try:
        messages = json.loads(result.stderr)["messages"]
    except (ValueError, KeyError):
        pytest.fail(f"the Nu HTML Checker did not report JSON (exit {result.returncode}):\n{result.stderr[-2000:]}")
    return pages, canary, messages


def message_file(message: dict) -> Path:
    return Path(unquote(urlsplit(message.get("url", "")).path))


def describe(message: dict) -> str:
    where = f"{message_file(message)}:{message.get('lastLine', '?')}:{message.get('firstColumn', message.get('lastColumn', '?'))}"
    return f"{where}: {message.get('type')}: {message.get('message')}\n    {message.get('extract', '').strip()}"


def test_every_page_is_valid_html(vnu_report) -> None:
    """One test, so that one Java run serves it even when pytest-xdist spreads tests over workers."""
    pages, canary, messages = vnu_report
    assert {"index.html", "404.html", "apps/index.html"} <= set(pages["default"]), pages["default"]
    assert any(page.startswith("changes/") for page in pages["default-1.1"]), pages["default-1.1"]
    assert all(pages.values()), f"a site built no pages: {pages}"
    found = [m for m in messages if message_file(m) == canary]
    assert found and all("alt" in m["message"] for m in found), "the checker did not report the canary page's missing alt: is it checking anything?"
    errors = [m for m in messages if message_file(m) != canary]
    count = sum(map(len, pages.values()))
    assert not errors, f"{len(errors)} Nu HTML Checker errors in {count} pages:\n" + "\n".join(map(describe, errors))
