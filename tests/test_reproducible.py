"""Identical input gives a byte-identical site, whatever the time zone, hash seed, locale or folder names.

Each build runs in its own process (``python -m site_builder``), because hash randomisation and the
time zone are fixed when an interpreter starts. Only SOURCE_DATE_EPOCH is shared: it is the one
input that may change dated output (security.txt's Expires).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EPOCH = "1751328000"  # 2025-07-01T00:00:00Z


def tree(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def build_in_subprocess(project: Path, out: Path, cwd: Path, repo_root: Path, **env: str) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in ("TZ", "PYTHONHASHSEED", "LC_ALL", "LANG", "SOURCE_DATE_EPOCH")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo_root), os.environ.get("PYTHONPATH", "")]))
    environment["SOURCE_DATE_EPOCH"] = EPOCH
    environment.update(env)
    cwd.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--project", str(project), "--out", str(out)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def assert_identical(a: Path, b: Path) -> None:
    first, second = tree(a), tree(b)
    assert sorted(first) == sorted(second), "the two builds wrote different files"
    differing = [name for name in first if first[name] != second[name]]
    assert differing == [], f"files differ between builds: {differing}"


ENV_A = {"TZ": "UTC", "PYTHONHASHSEED": "0", "LC_ALL": "C", "LANG": "C"}
ENV_B = {"TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


@pytest.mark.slow
def test_default_site_is_byte_identical_across_processes_and_places(repo_root: Path, tmp_path: Path) -> None:
    """Once from the checkout, once from a copy of content/ elsewhere: different TZ, hash seed, locale, cwd, paths."""
    copy = tmp_path / "elsewhere" / "project"
    shutil.copytree(repo_root / "content", copy / "content")
    out_a, out_b = tmp_path / "a" / "build", tmp_path / "b" / "site-output"
    build_in_subprocess(repo_root, out_a, tmp_path / "a", repo_root, **ENV_A)
    build_in_subprocess(copy, out_b, tmp_path / "elsewhere", repo_root, **ENV_B)
    assert "index.html" in tree(out_a)
    assert_identical(out_a, out_b)


@pytest.mark.parametrize("fixture", ["rich-markdown"])  # footnotes, ids, tables: the order-sensitive parts
def test_fixture_sites_are_byte_identical_across_processes(copy_fixture, repo_root: Path, tmp_path: Path, fixture: str) -> None:
    project = copy_fixture(fixture, tmp_path)
    build_in_subprocess(project, tmp_path / "one", tmp_path / "cwd-one", repo_root, **ENV_A)
    build_in_subprocess(project, tmp_path / "two", tmp_path / "cwd-two", repo_root, **ENV_B)
    assert_identical(tmp_path / "one", tmp_path / "two")


def test_rebuild_in_process_is_identical(copy_fixture, build_project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Building twice in one process (warm caches, same interpreter) changes nothing either."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project = copy_fixture("rich-markdown", tmp_path)
    assert build_project(project, tmp_path / "first").code == 0
    assert build_project(project, tmp_path / "second").code == 0
    assert_identical(tmp_path / "first", tmp_path / "second")
