"""What the quality-gate tests share: the validators, skipping or failing without them, and sites to check.

On CI (``CI=true``) a missing tool fails the test: the gates must run there. Locally it skips, with
the command that installs the tool, so a contributor without Java or Chromium can still run the rest.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURE_SITES, REPO_ROOT, build_project, run_cli

TOOLS = REPO_ROOT / "tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NPM_TOOLS = "(cd tools && npm ci)"
APT = "sudo apt-get install chromium chromium-driver openjdk-17-jre-headless"
ON_CI = os.environ.get("CI", "").lower() == "true"


HEADLESS_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync")


def start_chromium(profile: Path, *extra_flags: str):
    """Headless Debian Chromium under chromedriver with console logging, or fail on CI / skip locally.

    The background-networking flags matter here: without them Chromium's own requests are refused
    by the closed network, many at a time.
    """
    require(CHROMIUM.is_file(), "Chromium", APT)
    require(CHROMEDRIVER.is_file(), "chromedriver", APT)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require(False, "selenium", "pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in HEADLESS_FLAGS + extra_flags:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def require(available: bool, what: str, install: str) -> None:
    """Fail on CI, skip elsewhere, when ``what`` is not installed."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"{what} is missing on CI; .ci/run installs it with: {install}", pytrace=False)
    pytest.skip(f"{what} not found; install it with: {install} (or run bash .ci/run)")


def java() -> str | None:
    return shutil.which("java")


def fixture_sites() -> list[Path]:
    """Every fixture project that is meant to build (``errors/`` holds the ones that are not)."""
    return sorted(p for p in FIXTURE_SITES.iterdir() if (p / "content" / "site.yaml").is_file())


def build_copy(project: Path, target: Path, out: Path, *args: str, parts: tuple[str, ...] = ("content", "templates", "static")) -> Path:
    """Copy a project (by default its content, templates and static files) to ``target``; build it into ``out``."""
    for part in parts:
        if (project / part).is_dir():
            shutil.copytree(project / part, target / part, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = build_project(target, out, *args)
    assert code == 0, f"building {project.name} failed:\n{err}"
    return out


# --- a release history for the default content ------------------------------------------------


def release(project: Path, version: str, day: str, summary: str) -> None:
    code, _, err = run_cli("release", "--project", project, version, "--date", day, "--summary", summary)
    assert code == 0, f"site-builder release {version} failed:\n{err}"


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text("utf-8")
    assert old in text, f"{file}: {old!r} not found; update make_release_history in tests/quality_tools.py"
    file.write_text(text.replace(old, new, 1), "utf-8")


def make_release_history(project: Path) -> None:
    """Release 1.0 (unless the content has it), then a 1.1 that changes text and permissions."""
    if not (project / "content" / "releases.yaml").is_file():
        release(project, "1.0", "2025-07-01", "First published version.")
    edit(project / "content/policy/04-encryption.md", "TLS 1.2 or later", "TLS 1.3 or later")
    edit(project / "content/apps/status-timer/manifest.yml", "    - read:status:jira\n", "    - read:status:jira\n    - read:jira-user\n")
    edit(project / "content/apps/status-timer/app.yaml", "  read:status:jira:", "  read:jira-user: Reads the names of the people who changed the status, to show who moved the issue.\n  read:status:jira:")
    release(project, "1.1", "2025-09-01", "TLS 1.3 required in transit; Status Timer shows who changed the status.")
