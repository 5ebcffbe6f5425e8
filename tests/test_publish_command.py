"""site-builder publish: a whole-folder swap into DIR, and reproducible archives with SHA256SUMS."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tarfile
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import yaml

from publishing_support import make_project
from site_builder.emit.archive import checksums_text, fixed_mtime
from site_builder.cli import main
from site_builder.emit.staging import MARKER

EPOCH = int(datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc).timestamp())
WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "github-pages.yml"


def site_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MARKER}


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    return make_project(tmp_path)


def test_publish_swaps_the_whole_site_in_and_removes_stale_files(project, tmp_path):
    target = tmp_path / "www" / "trust"
    assert main(["publish", str(target), "--project", str(project)]) == 0
    first = site_files(target)
    assert (target / MARKER).is_file() and "index.html" in first and ".well-known/security.txt" in first
    assert main(["build", "--project", str(project), "--out", str(tmp_path / "build")]) == 0
    assert first == site_files(tmp_path / "build")  # the same site as build writes
    (target / "old-page.html").write_text("stale", "utf-8")
    (target / "apps" / "gone").mkdir()
    (target / "apps" / "gone" / "index.html").write_text("stale", "utf-8")
    shutil.rmtree(project / "content" / "apps" / "sync-bridge")
    assert main(["publish", str(target), "--project", str(project)]) == 0
    second = site_files(target)
    assert "old-page.html" not in second and "apps/gone/index.html" not in second
    assert not any(path.startswith("apps/sync-bridge/") for path in second)
    assert second["index.html"] != first["index.html"]
    assert not [p.name for p in target.parent.iterdir() if p.name != "trust"]  # no staging folder left behind


def test_publish_refuses_a_folder_it_did_not_write(project, tmp_path, capsys):
    target = tmp_path / "docroot"
    target.mkdir()
    (target / "precious.txt").write_text("keep me", "utf-8")
    assert main(["publish", str(target), "--project", str(project)]) == 1
    assert "not written by site-builder" in capsys.readouterr().err
    assert [p.name for p in target.iterdir()] == ["precious.txt"]
    assert (target / "precious.txt").read_text("utf-8") == "keep me"


def test_publish_with_broken_content_leaves_the_published_site_as_it_was(project, tmp_path, capsys):
    target = tmp_path / "www"
    assert main(["publish", str(target), "--project", str(project)]) == 0
    before = site_files(target)
    site = project / "content" / "site.yaml"
    site.write_text(site.read_text("utf-8").replace("base_url: https://example.com/trust/", "base_url: http://example.com/trust/"), "utf-8")
    assert main(["publish", str(target), "--archive", str(tmp_path / "dist" / "site.zip"), "--project", str(project)]) == 1
    assert "site.yaml" in capsys.readouterr().err
    assert site_files(target) == before
    assert not (tmp_path / "dist").exists()


def test_publish_needs_a_folder_or_an_archive(project, capsys):
    assert main(["publish", "--project", str(project)]) == 1
    assert "--archive" in capsys.readouterr().err


def test_publish_refuses_an_archive_name_it_cannot_write(project, tmp_path, capsys):
    assert main(["publish", "--archive", str(tmp_path / "site.rar"), "--project", str(project)]) == 1
    assert ".tar.gz" in capsys.readouterr().err
    assert not (tmp_path / "site.rar").exists()
    # nor inside the folder it is about to replace, or inside the content it reads
    for inside in (tmp_path / "www" / "site.zip", project / "content" / "site.zip"):
        assert main(["publish", str(tmp_path / "www"), "--archive", str(inside), "--project", str(project)]) == 1
        assert "write it elsewhere" in capsys.readouterr().err
        assert not inside.exists() and not (tmp_path / "www").exists()


@pytest.mark.parametrize("name", ["site.tar.gz", "site.zip"])
def test_archives_are_reproducible_byte_for_byte(project, tmp_path, name):
    first, second = tmp_path / "one" / name, tmp_path / "two" / name
    assert main(["publish", "--archive", str(first), "--project", str(project)]) == 0
    assert main(["publish", "--archive", str(second), "--project", str(project)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert (first.parent / "SHA256SUMS").read_bytes() == (second.parent / "SHA256SUMS").read_bytes()


def test_tar_gz_entries_are_sorted_with_fixed_times_owners_and_modes(project, tmp_path):
    archive = tmp_path / "dist" / "site.tar.gz"
    assert main(["publish", str(tmp_path / "www"), "--archive", str(archive), "--project", str(project)]) == 0
    assert archive.read_bytes()[4:8] == EPOCH.to_bytes(4, "little")  # gzip header MTIME
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names)
        assert MARKER not in names and not any(n.startswith(("/", "./")) or ".." in n.split("/") for n in names)
        for member in members:
            assert (member.mtime, member.uid, member.gid, member.uname, member.gname) == (EPOCH, 0, 0, "", "")
            assert member.mode == (0o755 if member.isdir() else 0o644), member.name
            assert member.isdir() or member.isfile()
        contents = {m.name: tar.extractfile(m).read() for m in members if m.isfile()}
    assert contents == site_files(tmp_path / "www")


def test_zip_entries_are_sorted_with_fixed_times_and_modes(project, tmp_path):
    archive = tmp_path / "dist" / "site.zip"
    assert main(["publish", str(tmp_path / "www"), "--archive", str(archive), "--project", str(project)]) == 0
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
        names = [i.filename for i in infos]
        assert names == sorted(names)
        for info in infos:
            assert info.date_time == (2025, 7, 1, 12, 0, 0)
            assert info.create_system == 3
            assert info.external_attr >> 16 == (0o40755 if info.is_dir() else 0o100644), info.filename
        contents = {i.filename: zf.read(i) for i in infos if not i.is_dir()}
    assert contents == site_files(tmp_path / "www")


def test_sha256sums_lists_every_archive_and_sha256sum_accepts_it(project, tmp_path):
    dist = tmp_path / "dist"
    assert main(["publish", "--archive", str(dist / "site.tar.gz"), "--project", str(project)]) == 0
    assert main(["publish", "--archive", str(dist / "site.zip"), "--project", str(project)]) == 0
    lines = (dist / "SHA256SUMS").read_text("utf-8").splitlines()
    assert [line.split("  ")[1] for line in lines] == ["site.tar.gz", "site.zip"]
    for line in lines:
        digest, name = line.split("  ")
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
    sha256sum = shutil.which("sha256sum")
    if sha256sum:  # GNU coreutils, where present, reads the same file
        result = subprocess.run([sha256sum, "--check", "--strict", "SHA256SUMS"], cwd=dist, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_checksums_text_replaces_this_files_line_and_keeps_others():
    existing = "aa  other.zip\nbb  site.zip\n"
    assert checksums_text(existing, "site.zip", "cc") == "aa  other.zip\ncc  site.zip\n"
    assert checksums_text("", "a.tar.gz", "dd") == "dd  a.tar.gz\n"


def test_archive_time_without_source_date_epoch_comes_from_content(project, tmp_path, monkeypatch):
    assert fixed_mtime({"SOURCE_DATE_EPOCH": "1751371200"}, date(2020, 1, 1)) == 1751371200
    assert fixed_mtime({}, date(2025, 7, 1)) == int(datetime(2025, 7, 1, tzinfo=timezone.utc).timestamp())
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    archive = tmp_path / "site.tar.gz"
    assert main(["publish", "--archive", str(archive), "--project", str(project)]) == 0
    with tarfile.open(archive) as tar:  # no release in the fixture project: the policy's last-reviewed date
        assert {m.mtime for m in tar.getmembers()} == {int(datetime(2025, 6, 15, tzinfo=timezone.utc).timestamp())}


def test_the_github_pages_workflow_publishes_hidden_files_and_rebuilds_on_a_schedule():
    workflow = yaml.safe_load(WORKFLOW.read_text("utf-8"))
    triggers = workflow[True] if True in workflow else workflow["on"]  # PyYAML reads the key 'on' as true
    assert "push" in triggers and triggers["schedule"], "a scheduled build keeps security.txt's Expires in the future"
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "site-builder publish" in runs
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["include-hidden-files"] is True  # or /.well-known/security.txt is silently dropped
    assert any(str(step.get("uses", "")).startswith("actions/deploy-pages@") for step in steps)
