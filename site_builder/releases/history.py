"""Releases: the frozen editions listed in content/releases.yaml, oldest first, checked against the lock.

A release is three things that must agree: its entry in ``releases.yaml`` (version, date, summary),
its frozen folder ``releases/<version>/`` (site.yaml, policy/, apps/ and the record ``release.yaml``
holding the same version, date and summary), and the SHA-256 of every file in that folder in
``releases.lock``. Any disagreement is an error naming the file, so history is never rewritten
silently: not the text, not the permissions, not the date or summary.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from . import lockfile
from ..errors import Position, Problems
from ..content.model import Edition, Release, Version
from ..content.source import load_yaml
from ..content.validate import is_date, validate

EditionLoader = Callable[[Path, str, Problems], "Edition | None"]

RELEASES_FILE = "releases.yaml"
RECORD_FILE = "release.yaml"  # inside each frozen folder: the release's own version, date and summary
FROZEN_ITEMS = ("site.yaml", "policy", "apps")  # what a release freezes, relative to content/
VERSION_TEXT = re.compile(r"^(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,5}$")
DRAFT = "draft"  # the name of the working copy where a version is expected (diff, changes pages)


def numeric_key(version: Version) -> tuple[int, ...]:
    """1.0 and 1.0.0 are the same number: trailing zeros do not make a version greater."""
    parts = list(version.parts)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def load_releases(content: Path, display: str, problems: Problems, load_edition: EditionLoader) -> tuple[Release, ...] | None:
    """Read releases.yaml, verify the lock, and load each frozen edition; no releases.yaml means none."""
    file = content / RELEASES_FILE
    name = f"{display}/{RELEASES_FILE}"
    if not file.exists():
        return () if lockfile.verify(content, display, [], problems) else None
    document = load_yaml(file, name, problems)
    if document is None:
        return None
    if not isinstance(document.data, dict):
        problems.error(document.position(), "must be a mapping with a 'releases:' list", hint="see site_builder/schemas/releases.schema.json")
        return None
    if not validate(document, "releases", problems):
        return None
    entries = document.data["releases"]
    intact = lockfile.verify(content, display, [entry["version"] for entry in entries], problems)
    releases: list[Release] = []
    previous: tuple[Version, date] | None = None
    seen: set[str] = set()
    ok = intact
    for index, entry in enumerate(entries):
        version = Version.parse(entry["version"])
        effective = date.fromisoformat(entry["date"])
        where = document.position(("releases", index, "version"))
        if entry["version"] in seen:
            problems.error(where, f"version {version} is listed twice", key=f"releases[{index}].version", hint="each release is listed once")
            ok = False
            continue
        seen.add(entry["version"])
        if previous and numeric_key(version) <= numeric_key(previous[0]):
            problems.error(where, f"version {version} is not greater than {previous[0]}", key=f"releases[{index}].version", hint="list releases oldest first, each with a higher version")
            ok = False
        if previous and effective < previous[1]:
            problems.error(document.position(("releases", index, "date")), f"date {effective} is before the previous release's {previous[1]}", key=f"releases[{index}].date")
            ok = False
        previous = (version, effective)
        folder = content / lockfile.RELEASES_DIR / version.text
        folder_display = f"{display}/{lockfile.RELEASES_DIR}/{version.text}"
        if not folder.is_dir():
            if intact:  # otherwise the lock check has named the missing folder already
                problems.error(where, f"release {version} has no folder {folder_display}/", hint="restore the folder from version control; releases are never edited")
            ok = False
            continue
        if not intact:
            continue  # do not read files the lock says were tampered with
        if not check_record(folder / RECORD_FILE, f"{folder_display}/{RECORD_FILE}", entry, document.position(("releases", index)), problems):
            ok = False
        edition = load_edition(folder, folder_display, problems)
        if edition is None:
            ok = False
            continue
        releases.append(Release(version, effective, entry["summary"], edition))
    return tuple(releases) if ok else None


def record_text(version: str, effective: date, summary: str) -> str:
    """The frozen record of a release, written once by 'site-builder release' and covered by the lock."""
    return (
        "# Frozen by 'site-builder release': this release's version, date and summary.\n"
        "# Never edit it; releases.yaml must agree with it, and releases.lock holds its SHA-256.\n"
        f"version: {yaml_string(version)}\n"
        f"date: {effective.isoformat()}\n"
        f"summary: {yaml_string(summary)}\n"
    )


def yaml_string(text: str) -> str:
    """A double-quoted YAML scalar: JSON string syntax is valid YAML 1.2 and escapes everything that needs it."""
    return json.dumps(text, ensure_ascii=False)


def check_record(file: Path, display: str, entry: dict, entry_position: Position, problems: Problems) -> bool:
    """releases.yaml must say what the frozen record says: a release's date and summary never change."""
    if not file.exists():
        problems.error(Position(display), "file not found: every frozen release holds its own record", hint="restore the folder from version control")
        return False
    document = load_yaml(file, display, problems)
    if document is None:
        return False
    data = document.data
    if not isinstance(data, dict) or set(data) != {"version", "date", "summary"} or not all(isinstance(v, str) for v in data.values()) or not is_date(data["date"]):
        problems.error(document.position(), "is not a release record (version, date and summary, each quoted text or a YYYY-MM-DD date)", hint="restore it from version control")
        return False
    ok = True
    for key in ("version", "date", "summary"):
        if data[key] != entry[key]:
            problems.error(entry_position, f"{key} {entry[key]!r} differs from the frozen record's {data[key]!r} in {display}", key=key, hint="a published release's version, date and summary never change; restore releases.yaml from version control, and publish corrections as a new release")
            ok = False
    return ok


@dataclass(frozen=True)
class FileChange:
    """A file of the working copy that differs from the latest release."""

    path: str  # relative to content/, e.g. "policy/04-encryption.md"
    change: str  # "added", "changed" or "deleted"


def freezable_files(content: Path, display: str, problems: Problems) -> dict[str, Path] | None:
    """site.yaml, policy/ and apps/ as ``{path relative to content/: file}``; hidden names are skipped.

    Hidden names (``.DS_Store``, editor swap files) are never read by the loader, so they are not
    part of a release. Links and special files are refused: a release holds real files only.
    """
    files: dict[str, Path] = {}
    ok = True
    for item in FROZEN_ITEMS:
        top = content / item
        if not top.exists() and not top.is_symlink():
            continue
        candidates = [top] if not top.is_dir() or top.is_symlink() else []
        if not candidates:
            for folder, dirs, names in os.walk(top, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                candidates.extend(Path(folder) / n for n in sorted(names) if not n.startswith("."))
                candidates.extend(Path(folder) / d for d in dirs if (Path(folder) / d).is_symlink())
        for path in candidates:
            relative = path.relative_to(content).as_posix()
            if lockfile.entry_kind(path, f"{display}/{relative}", problems, link_message="is a symbolic link", link_hint="a release freezes real files only; replace the link with the file or folder itself") != "file":
                ok = False
            elif not lockfile.is_safe_frozen_name(relative):
                problems.error(Position(f"{display}/{relative!r}"), "has a control character or backslash in its name", hint="rename it")
                ok = False
            else:
                files[relative] = path
    return files if ok else None


def unreleased_changes(content: Path, latest: str | None) -> tuple[FileChange, ...]:
    """What the working copy changes against the latest release (the draft), file by file.

    With no release yet, every file is an unreleased addition. Unreadable entries count as changed:
    this is a summary for people, the build reports the details.
    """
    problems = Problems()
    working = freezable_files(content, "content", problems) or {}
    frozen: dict[str, Path] = {}
    if latest:
        frozen_root = content / lockfile.RELEASES_DIR / latest
        if frozen_root.is_dir():
            frozen = freezable_files(frozen_root, "", problems) or {}
    changes = []
    for path in sorted(set(working) | set(frozen)):
        if path not in frozen:
            changes.append(FileChange(path, "added"))
        elif path not in working:
            changes.append(FileChange(path, "deleted"))
        elif lockfile.sha256_file(working[path]) != lockfile.sha256_file(frozen[path]):
            changes.append(FileChange(path, "changed"))
    return tuple(changes)


@dataclass(frozen=True)
class DraftStatus:
    """Whether the working copy has edits that no release publishes yet."""

    latest: str | None  # the latest release's version, None before the first release
    changes: tuple[FileChange, ...]

    @property
    def pending(self) -> bool:
        return bool(self.changes)

    @property
    def show_draft(self) -> bool:
        """What ``serve`` shows by default: the draft whenever there is one, and before the first release."""
        return self.latest is None or self.pending

    def describe(self) -> str:
        """One line for a terminal: what a plain build leaves out, or that nothing is left out."""
        if self.latest is None:
            return "No release yet: the whole site is a draft. Publish it with 'site-builder release VERSION --date YYYY-MM-DD --summary TEXT'."
        if not self.changes:
            return f"The working copy is release {self.latest}; there is no draft."
        count = len(self.changes)
        return f"{count} file{'s' if count != 1 else ''} changed since release {self.latest} (a draft, not yet in effect): " + ", ".join(f"{c.path} ({c.change})" for c in self.changes[:5]) + (", ..." if count > 5 else "")


def latest_version(content: Path) -> str | None:
    """The last version releases.yaml lists, read leniently (the build reports problems in full)."""
    file = content / RELEASES_FILE
    if not file.is_file():
        return None
    document = load_yaml(file, RELEASES_FILE, Problems())
    entries = document.data.get("releases") if document is not None and isinstance(document.data, dict) else None
    if not isinstance(entries, list) or not entries or not isinstance(entries[-1], dict):
        return None
    version = entries[-1].get("version")
    return version if isinstance(version, str) and VERSION_TEXT.match(version) else None


def draft_status(project_root: Path) -> DraftStatus:
    """For ``serve`` (which shows the draft by default) and ``build`` (which leaves it out unless --draft).

    ``serve`` builds with ``BuildOptions(draft=True)``; this says whether that differs from the
    published site, so the server can say so in its start-up line.
    """
    content = project_root / "content"
    latest = latest_version(content)
    return DraftStatus(latest, unreleased_changes(content, latest))
