"""What the versions tests share: the two-state fixture, releasing it, and building it.

``tests/fixtures/versions/v1`` and ``v2`` are one project's working copy before release 1.0 and
before release 1.1 (their README lists the known changes). Everything happens in a copy under a
temporary folder; the fixture itself is only read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

from conftest import REPO_ROOT, CliRun, build_project, run_cli

VERSIONS = REPO_ROOT / "tests" / "fixtures" / "versions"
WORKING = ("site.yaml", "policy", "apps")
TODAY = date(2025, 10, 1)  # "today" for every release in these tests: after the fixture's dates


def epoch(day: date) -> str:
    return str(int(datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc).timestamp()))


@contextmanager
def today(day: date = TODAY) -> Iterator[None]:
    """Pin site-builder's idea of today (SOURCE_DATE_EPOCH), as a reproducible build does."""
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = epoch(day)
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def new_project(root: Path, state: str = "v1") -> Path:
    """A fresh project folder under ``root`` whose working copy is the fixture's ``state``."""
    project = root / "project"
    project.mkdir(parents=True)
    shutil.copytree(VERSIONS / state / "content", project / "content")
    return project


def set_working(project: Path, state: str) -> None:
    """Replace the working copy (site.yaml, policy/, apps/) with the fixture's ``state``; releases stay."""
    content = project / "content"
    for name in WORKING:
        target = content / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    for name in WORKING:
        source = VERSIONS / state / "content" / name
        if source.is_dir():
            shutil.copytree(source, content / name)
        elif source.exists():
            shutil.copy2(source, content / name)


def release(project: Path, version: str, day: str, summary: str = "", *, on: date = TODAY) -> CliRun:
    with today(on):
        return run_cli("release", version, "--date", day, "--summary", summary or f"Version {version}", "--project", project)


def build(project: Path, out: Path, *args: str, on: date = TODAY) -> CliRun:
    with today(on):
        return build_project(project, out, *args)


def tree(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones too) with each file's SHA-256."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        found[relative] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() and not path.is_symlink() else "<dir>"
    return found


def files_under(out: Path, prefix: str) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / prefix).rglob("*")) if p.is_file()}


class History:
    """One project released three times, with the site built after each release.

    ``snapshots[v]`` is a copy of the project right after release ``v`` (for tests that tamper
    with it); ``builds[v]`` is the site built then, each on a different day, as in real life.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = new_project(root / "work")
        self.snapshots: dict[str, Path] = {}
        self.builds: dict[str, Path] = {}
        self.runs: dict[str, CliRun] = {}
        self._step("1.0", "2025-07-01", "First published version.", date(2025, 7, 2))
        set_working(self.project, "v2")
        self._step("1.1", "2025-09-01", "TLS 1.3, incident response; Alpha sends issue keys to its own service.", date(2025, 9, 3))
        intro = self.project / "content/policy/01-introduction.md"
        intro.write_text(intro.read_text("utf-8").replace("keeps this policy", "keeps this short policy"), "utf-8")
        self._step("1.2", "2025-11-15", "Wording of the introduction.", date(2025, 12, 1))

    def _step(self, version: str, day: str, summary: str, built_on: date) -> None:
        run = release(self.project, version, day, summary, on=built_on)
        assert run.code == 0, run.err
        self.runs[version] = run
        snapshot = self.root / f"after-{version}"
        shutil.copytree(self.project, snapshot, symlinks=True)
        self.snapshots[version] = snapshot
        out = self.root / f"site-{version}"
        built = build(self.project, out, on=built_on)
        assert built.code == 0, built.err
        self.builds[version] = out
