"""Shared fixtures: where things are, a copy of a fixture site, and the CLI run in-process.

Fixture sites live in ``tests/fixtures/sites/<name>/`` (a project folder with ``content/`` and maybe
``templates/`` and ``static/``). Tests never build inside the repository: they copy a fixture to
``tmp_path`` first, then build it there, and assert on the written files.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path
from typing import Callable, NamedTuple

import pytest

from site_builder.cli import main

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURE_SITES = REPO_ROOT / "tests" / "fixtures" / "sites"


class CliRun(NamedTuple):
    """What one CLI invocation did: unpacks as ``code, out, err``."""

    code: int
    out: str
    err: str


def run_cli(*argv: str | Path) -> CliRun:
    """Run ``site-builder ARGV...`` in this process, capturing its exit code and both streams.

    argparse's ``--help``/``--version`` and usage errors end in SystemExit; that becomes the code.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return CliRun(code, out.getvalue(), err.getvalue())


def build_project(project_dir: Path, out: Path, *args: str) -> CliRun:
    """``site-builder build --project PROJECT_DIR --out OUT ARGS...`` in-process."""
    return run_cli("build", "--project", project_dir, "--out", out, *args)


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """Copy ``tests/fixtures/sites/NAME`` to ``tmp_path/NAME`` (a new folder) and return the copy."""
    source = FIXTURE_SITES / name
    if not source.is_dir():
        raise FileNotFoundError(f"no fixture site {name!r} in {FIXTURE_SITES}")
    target = tmp_path / name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "build"))
    return target


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository checkout (its content/ is TechLead's default site)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir(repo_root: Path) -> Path:
    """``../shared`` beside the checkout: the seed policy and reference files (read-only on CI)."""
    return repo_root.parent / "shared"


@pytest.fixture(name="build_project", scope="session")
def build_project_fixture() -> Callable[..., CliRun]:
    """``build_project(project_dir, out, *args) -> (code, stdout, stderr)``."""
    return build_project


@pytest.fixture(name="copy_fixture", scope="session")
def copy_fixture_fixture() -> Callable[[str, Path], Path]:
    """``copy_fixture(name, tmp_path) -> Path`` of the copied project."""
    return copy_fixture


@pytest.fixture(name="run_cli", scope="session")
def run_cli_fixture() -> Callable[..., CliRun]:
    """``run_cli(*argv) -> (code, stdout, stderr)`` for commands other than build."""
    return run_cli
