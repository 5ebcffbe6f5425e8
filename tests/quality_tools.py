"""What the quality-gate tests share: where the validators are, and skipping or failing without them.

On CI (``CI=true``) a missing tool fails the test: the gates must run there. Locally it skips, with
the command that installs the tool, so a contributor without Java or Chromium can still run the rest.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURE_SITES, REPO_ROOT, build_project

TOOLS = REPO_ROOT / "tools" / "node_modules"
VNU_JAR = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = TOOLS / "axe-core" / "axe.min.js"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NPM_TOOLS = "(cd tools && npm ci)"
APT = "sudo apt-get install chromium chromium-driver openjdk-17-jre-headless"
ON_CI = os.environ.get("CI", "").lower() == "true"


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
