"""Making a release: freeze site.yaml, policy/ and apps/ into content/releases/<version>/.

Two halves. ``plan_release`` reads and checks everything and decides every byte to be written:
the frozen files, the record, releases.yaml with one entry appended to the user's own text (their
comments and layout kept; never re-dumped) and the lock with the new files appended. Nothing is
written unless every check passes. ``commit_release`` writes the plan: the frozen folder is
staged beside ``content/releases/``, checked by loading it, then renamed into place, and the lock
and releases.yaml are replaced by renames; if anything fails, what was done is undone. A file the
user saved meanwhile is never overwritten: the plan remembers the bytes it started from.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..releases import lockfile
from ..errors import Position, Problems
from ..releases.project import load_edition, load_project
from ..content.model import Version
from ..pipeline import BuildOptions, render_project
from ..releases.history import (
    RECORD_FILE,
    RELEASES_FILE,
    VERSION_TEXT,
    freezable_files,
    numeric_key,
    record_text,
    yaml_string,
)
from ..content.source import parse_yaml
from ..content.validate import validate

MAX_SUMMARY = 300
MAX_FILES = 10_000  # a release is a policy and some manifests, not an app's source tree
MAX_BYTES = 64 * 1_048_576
NEW_RELEASES_FILE = (
    "# Every published version of the policy, oldest first. 'site-builder release' appends to this\n"
    "# file; the frozen content of each version is in releases/<version>/ and the SHA-256 of every\n"
    "# frozen file in releases.lock. Comments are kept. A published entry never changes.\n"
    "releases:\n"
)
_ITEM_PREFIX = re.compile(r"^( *)- +$")
_EMPTY_FLOW = re.compile(r"\[\s*\]")


@dataclass(frozen=True)
class ReleasePlan:
    """Every byte a release writes, and the bytes of the files it replaces as they were when planned."""

    version: str
    date: date
    summary: str
    files: tuple[tuple[str, bytes], ...]  # paths relative to the release folder, the record included
    releases_before: bytes | None
    releases_after: bytes
    lock_before: bytes | None
    lock_after: bytes

    @property
    def folder(self) -> str:
        return f"{lockfile.RELEASES_DIR}/{self.version}"


def check_arguments(version: str, summary: str, problems: Problems) -> str:
    """The version must be a plain dotted number and the summary one printable line."""
    if not VERSION_TEXT.match(version):
        problems.error(Position("VERSION"), f"{version!r} is not a version number", hint="use dotted numbers without leading zeros, such as 1.0, 1.1 or 2.0.1")
    summary = " ".join(summary.split())  # one line: line breaks and runs of spaces become one space
    if not summary:
        problems.error(Position("--summary"), "is empty", hint="say in one line what changed, e.g. --summary 'Adds the Status Timer app'")
    elif not summary.isprintable():
        problems.error(Position("--summary"), "contains control or invisible formatting characters", hint="write plain text on one line")
    elif len(summary) > MAX_SUMMARY:
        problems.error(Position("--summary"), f"is {len(summary)} characters long, over {MAX_SUMMARY}", hint="one line; the changes page lists the details")
    return summary


def plan_release(root: Path, version: str, effective: date, summary: str, today: date, problems: Problems, *, strict: bool = False) -> ReleasePlan | None:
    """Check that ``version`` may be released from the working copy now; None, with reasons, if not."""
    summary = check_arguments(version, summary, problems)
    if problems.has_errors():
        return None
    content = root / "content"
    loaded = Problems()
    project = load_project(root, loaded)  # quick: checks the lock and the history before the full build
    if project is None or loaded.has_errors():
        problems.extend(loaded.items)
        problems.error(Position("content/"), "the project has errors, so it cannot be released", hint="fix the problems listed above first; a release is a permanent record")
        return None
    wanted = Version.parse(version)
    latest = project.latest
    for release in project.releases:
        if numeric_key(release.version) == numeric_key(wanted):
            same = "exists" if release.version.text == version else f"is the same number as {release.version}"
            problems.error(Position(f"content/{RELEASES_FILE}"), f"version {version} {same}, released on {release.date.isoformat()}", hint="a release is never replaced; choose a higher version number")
            return None
    if latest is not None and numeric_key(wanted) <= numeric_key(latest.version):
        problems.error(Position("VERSION"), f"{version} is not greater than the latest release, {latest.version}", hint="versions are compared as numbers part by part (1.10 is greater than 1.9); choose one above the latest")
    if latest is not None and effective < latest.date:
        problems.error(Position("--date"), f"{effective.isoformat()} is before the latest release's date, {latest.date.isoformat()} (version {latest.version})", hint="a release takes effect on or after the one before it")
    if effective > today:
        problems.error(Position("--date"), f"{effective.isoformat()} is in the future (today is {today.isoformat()})", hint="a release is published at / as soon as the site is built, so it must already be in effect; release it on its effective date")
    folder = content / lockfile.RELEASES_DIR / version
    if folder.exists() or folder.is_symlink():
        problems.error(Position(f"content/{lockfile.RELEASES_DIR}/{version}/"), "already exists", hint="site-builder never overwrites a release folder; if it is left over from an interrupted release, check it and remove it yourself")
    if problems.has_errors():
        return None
    build = render_project(root, BuildOptions(build_date=today, draft=True, strict=strict))
    problems.extend(build.problems.items)
    if build.site is None or build.problems.has_errors(strict=strict):
        problems.error(Position("content/"), "the project has errors, so it cannot be released", hint="fix the problems listed above first; a release is a permanent record")
        return None
    sources = freezable_files(content, "content", problems)
    if sources is None:
        return None
    total = sum(path.stat().st_size for path in sources.values())
    if len(sources) > MAX_FILES or total > MAX_BYTES:
        problems.error(Position("content/"), f"site.yaml, policy/ and apps/ hold {len(sources):,} files, {total:,} bytes: more than a release keeps ({MAX_FILES:,} files, {MAX_BYTES:,} bytes)", hint="apps/<slug>/ needs only app.yaml and manifest.yml; move other files out of content/")
        return None
    files = {relative: path.read_bytes() for relative, path in sorted(sources.items())}
    if latest is not None and files == _frozen_content(content / lockfile.RELEASES_DIR / latest.version.text):
        problems.error(Position("content/"), f"nothing changed since release {latest.version}", hint="edit the policy, site.yaml or apps/ first; for a review without changes, update policy.last_reviewed in site.yaml")
        return None
    files[RECORD_FILE] = record_text(version, effective, summary).encode("utf-8")
    releases_file, lock_file = content / RELEASES_FILE, content / lockfile.LOCK_FILE
    releases_before = releases_file.read_bytes() if releases_file.exists() else None
    releases_after = append_entry(releases_before, version, effective, summary, problems)
    lock_before = lock_file.read_bytes() if lock_file.exists() else None
    if releases_after is None:
        return None
    lock_lines = lockfile.format_lines([(f"{lockfile.RELEASES_DIR}/{version}/{name}", hashlib.sha256(data).hexdigest()) for name, data in files.items()])
    lock_text = (lock_before or b"").decode("utf-8")
    if lock_text and not lock_text.endswith("\n"):
        lock_text += "\n"
    return ReleasePlan(version, effective, summary, tuple(sorted(files.items())), releases_before, releases_after, lock_before, (lock_text + lock_lines).encode("utf-8"))


def _frozen_content(folder: Path) -> dict[str, bytes]:
    found = freezable_files(folder, "", Problems()) or {}
    return {relative: path.read_bytes() for relative, path in sorted(found.items())}


def entry_lines(first: str, rest: str, version: str, effective: date, summary: str) -> list[str]:
    return [f"{first}version: {yaml_string(version)}", f"{rest}date: {effective.isoformat()}", f"{rest}summary: {yaml_string(summary)}"]


def append_entry(raw: bytes | None, version: str, effective: date, summary: str, problems: Problems) -> bytes | None:
    """releases.yaml with one entry added at the end, in the file's own indentation and line endings.

    The result is parsed again and must hold exactly the old entries plus the new one; a layout
    this cannot extend safely (a flow-style list with entries, a document end marker) is refused
    with the lines to add by hand, rather than rewritten.
    """
    display = f"content/{RELEASES_FILE}"
    new_entry = {"version": version, "date": effective.isoformat(), "summary": summary}
    if raw is None:
        text, newline, old_entries = NEW_RELEASES_FILE + "\n".join(entry_lines("  - ", "    ", version, effective, summary)) + "\n", "\n", []
    else:
        original = raw.decode("utf-8")
        newline = "\r\n" if "\r\n" in original else "\n"
        text = original.removeprefix("\ufeff").replace("\r\n", "\n")
        document = parse_yaml(text, display, Problems())
        if document is None or not isinstance(document.data, dict) or not isinstance(document.data.get("releases"), list):
            problems.error(Position(display), "cannot be read as a 'releases:' list", hint="fix it first; 'site-builder build' reports what is wrong")
            return None
        old_entries = document.data["releases"]
        lines = text.split("\n")
        if old_entries:
            where = document.position(("releases", len(old_entries) - 1))
            prefix = lines[where.line - 1][: where.column - 1] if where.line else ""
            match = _ITEM_PREFIX.match(prefix)
            if not match:
                return _refuse(problems, display, version, effective, summary)
            first, rest = prefix, " " * len(prefix)
        else:
            where = document.position(("releases",))
            line = lines[where.line - 1] if where.line else ""
            flow = _EMPTY_FLOW.match(line, where.column - 1) if where.line else None
            if not flow:
                return _refuse(problems, display, version, effective, summary)
            lines[where.line - 1] = (line[: flow.start()].rstrip() + line[flow.end():]).rstrip()
            text = "\n".join(lines)
            first, rest = "  - ", "    "
        if text and not text.endswith("\n"):
            text += "\n"
        text += "\n".join(entry_lines(first, rest, version, effective, summary)) + "\n"
    check = Problems()
    document = parse_yaml(text, display, check)
    if document is None or check.has_errors() or not validate(document, "releases", check) or document.data["releases"] != [*old_entries, new_entry]:
        return _refuse(problems, display, version, effective, summary)
    if raw is not None and raw.startswith(b"\xef\xbb\xbf"):
        text = "\ufeff" + text
    return text.replace("\n", newline).encode("utf-8")


def _refuse(problems: Problems, display: str, version: str, effective: date, summary: str) -> None:
    lines = "\n".join(entry_lines("  - ", "    ", version, effective, summary))
    problems.error(Position(display), "has a layout this command cannot append to without rewriting it", hint=f"write the list in block style ('releases:' then '  - version: ...' items) and run the command again; the new entry would be:\n{lines}")
    return None


# ---------------------------------------------------------------------------------------------
# Writing


class ReleaseConflict(Exception):
    """A file changed on disk between planning and writing; nothing was changed."""


def _write_new(file: Path, data: bytes) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file, "xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


def _current(file: Path) -> bytes | None:
    return file.read_bytes() if file.exists() else None


def commit_release(root: Path, plan: ReleasePlan) -> None:
    """Write the plan, all of it or (on any failure) none of it; raises ReleaseConflict or OSError."""
    content = root / "content"
    releases_dir = content / lockfile.RELEASES_DIR
    final = releases_dir / plan.version
    staging = content / f".release-{plan.version}.staging"
    tmp_lock = content / f".{lockfile.LOCK_FILE}.{os.getpid()}.tmp"
    tmp_releases = content / f".{RELEASES_FILE}.{os.getpid()}.tmp"
    lock_file, releases_file = content / lockfile.LOCK_FILE, content / RELEASES_FILE
    gitattributes = releases_dir / lockfile.GITATTRIBUTES
    done: list[str] = []
    try:
        try:
            staging.mkdir()  # fails if another release of this version is being written
        except FileExistsError:
            raise ReleaseConflict(f"content/{staging.name}/ exists: another 'site-builder release {plan.version}' is running, or one was interrupted (then remove that folder)") from None
        done.append("staging")
        for name, data in plan.files:
            _write_new(staging / name, data)
        check = Problems()
        if load_edition(staging, f"content/{plan.folder}", check) is None or check.has_errors():
            raise ReleaseConflict("the frozen copy does not load: " + "; ".join(str(p) for p in check.errors[:3]))
        for name, data in plan.files:
            if (staging / name).read_bytes() != data:  # pragma: no cover - a disk that lies
                raise ReleaseConflict(f"{name} was not written correctly")
        _write_new(tmp_lock, plan.lock_after)
        done.append("tmp_lock")
        _write_new(tmp_releases, plan.releases_after)
        done.append("tmp_releases")
        if releases_file.exists():
            shutil.copymode(releases_file, tmp_releases)
        if _current(releases_file) != plan.releases_before or _current(lock_file) != plan.lock_before:
            raise ReleaseConflict(f"content/{RELEASES_FILE} or content/{lockfile.LOCK_FILE} changed while the release was being made")
        if final.exists() or final.is_symlink():
            raise ReleaseConflict(f"content/{plan.folder}/ appeared while the release was being made")
        if not releases_dir.exists():
            releases_dir.mkdir()
            done.append("releases_dir")
        if not gitattributes.exists():
            _write_new(gitattributes, lockfile.GITATTRIBUTES_TEXT.encode("utf-8"))
            done.append("gitattributes")
        os.rename(staging, final)
        done.append("final")
        _fsync_folder(releases_dir)
        os.replace(tmp_lock, lock_file)
        done.append("lock")
        os.replace(tmp_releases, releases_file)
        done.append("releases")
        _fsync_folder(content)
    except BaseException:
        _undo(done, plan, staging, final, tmp_lock, tmp_releases, lock_file, releases_dir, gitattributes)
        raise


def _undo(done: list[str], plan: ReleasePlan, staging: Path, final: Path, tmp_lock: Path, tmp_releases: Path, lock_file: Path, releases_dir: Path, gitattributes: Path) -> None:
    """Put back what ``commit_release`` changed, newest first; every step is attempted."""
    if "releases" in done:  # pragma: no cover - the last step; nothing after it can fail
        return
    if "lock" in done:
        if plan.lock_before is None:
            lock_file.unlink(missing_ok=True)
        else:
            lock_file.write_bytes(plan.lock_before)
    if "final" in done:
        shutil.rmtree(final, ignore_errors=True)
    if "gitattributes" in done:
        gitattributes.unlink(missing_ok=True)
    if "releases_dir" in done:
        try:
            releases_dir.rmdir()
        except OSError:
            pass
    for tmp in (tmp_lock, tmp_releases):
        tmp.unlink(missing_ok=True)
    if "staging" in done:
        shutil.rmtree(staging, ignore_errors=True)
