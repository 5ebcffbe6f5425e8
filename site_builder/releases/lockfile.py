"""content/releases.lock: the SHA-256 of every frozen file, so history is never rewritten silently.

The format is the one ``sha256sum`` writes and checks (``<64 hex digits>  <path>``, paths relative
to ``content/``), so a reviewer can verify a checkout without site-builder::

    cd content && sha256sum -c releases.lock

The lock makes accidental and unreviewed edits loud; it is not a signature (whoever can edit the
frozen files can edit the lock too), so its own history is the version-control history.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import Position, Problems
from ..content.source import read_text

LOCK_FILE = "releases.lock"
RELEASES_DIR = "releases"
# The one file site-builder keeps in releases/ besides the frozen folders: it stops Git from
# changing line endings (and so the hashes) of frozen files on checkout.
GITATTRIBUTES = ".gitattributes"
GITATTRIBUTES_TEXT = "# Written by site-builder: frozen releases are stored byte for byte, so releases.lock keeps matching.\n* -text\n"
MAX_LOCK_BYTES = 16 * 1_048_576

_LINE = re.compile(r"^([0-9a-f]{64})  (releases/[^\\\n]+)$")
# A frozen path must be printable, without backslashes (sha256sum would escape them) or "." parts.
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f\\]")


@dataclass(frozen=True)
class LockEntry:
    digest: str
    path: str  # relative to content/, e.g. "releases/1.0/policy/04-encryption.md"
    line: int

    @property
    def version(self) -> str:
        return self.path.split("/")[1]


def sha256_file(file: Path | str) -> str:
    # os.read on a bare descriptor: a release holds thousands of small files, and a buffered
    # file object costs more to set up than hashing one of them
    digest = hashlib.sha256()
    descriptor = os.open(file, os.O_RDONLY)
    try:
        while chunk := os.read(descriptor, 1 << 16):
            digest.update(chunk)
    finally:
        os.close(descriptor)
    return digest.hexdigest()


def format_lines(entries: list[tuple[str, str]]) -> str:
    """``(path, digest)`` pairs as lock lines, sorted by path: a release's block never depends on disk order."""
    return "".join(f"{digest}  {path}\n" for path, digest in sorted(entries))


def is_safe_frozen_name(relative: str) -> bool:
    between = f"/{relative}/"  # a part "", "." or ".." shows as "//", "/./" or "/../"
    return not _UNSAFE_NAME.search(relative) and "//" not in between and "/./" not in between and "/../" not in between


def parse_lock(text: str, display: str, problems: Problems) -> list[LockEntry] | None:
    entries: list[LockEntry] = []
    seen: dict[str, int] = {}
    ok = True
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        match = _LINE.match(line)
        if not match or not is_safe_frozen_name(match.group(2)) or match.group(2).count("/") < 2:
            problems.error(Position(display, number, 1), "is not a lock line ('<sha256>  releases/<version>/<file>')", hint="releases.lock is written by 'site-builder release'; restore it from version control")
            ok = False
            continue
        path = match.group(2)
        if path in seen:
            problems.error(Position(display, number, 1), f"lists {path} twice (first on line {seen[path]})", hint="restore releases.lock from version control")
            ok = False
            continue
        seen[path] = number
        entries.append(LockEntry(match.group(1), path, number))
    return entries if ok else None


def read_lock(content: Path, display: str, problems: Problems) -> list[LockEntry] | None:
    """The lock's entries; ``[]`` when there is no lock file."""
    file = content / LOCK_FILE
    if not file.exists() and not file.is_symlink():
        return []
    text = read_text(file, f"{display}/{LOCK_FILE}", problems, limit=MAX_LOCK_BYTES)
    if text is None:
        return None
    return parse_lock(text, f"{display}/{LOCK_FILE}", problems)


def entry_kind(path: Path, display: str, problems: Problems, *, link_message: str, link_hint: str) -> str:
    """"file", "dir", or "refused" after reporting why: a release holds real files only, never links or devices."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        problems.error(Position(display), link_message, hint=link_hint)
        return "refused"
    if stat.S_ISDIR(mode):
        return "dir"
    if not stat.S_ISREG(mode):
        problems.error(Position(display), "is not a regular file", hint="remove it")
        return "refused"
    return "file"


def frozen_files(content: Path, display: str, problems: Problems) -> dict[str, Path] | None:
    """Every file under content/releases/ by its lock path; links and special files are errors."""
    root = content / RELEASES_DIR
    files: dict[str, Path] = {}
    if not root.exists() and not root.is_symlink():
        return files
    if root.is_symlink() or not root.is_dir():
        problems.error(Position(f"{display}/{RELEASES_DIR}"), "is not a folder", hint="releases/ holds one frozen folder per release")
        return None
    ok = True
    # os.walk's order without its costs: one folder's entries by name, then each sub-folder the
    # same way, judged by the kinds os.scandir already knows (no stat call, no Path per entry)
    pending: list[tuple[str, str]] = [(str(root), RELEASES_DIR)]
    while pending:
        folder, relative = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError:  # as os.walk: a folder that cannot be listed is passed over
            continue
        subfolders: list[tuple[str, str]] = []
        for entry in entries:
            path = f"{relative}/{entry.name}"
            if entry.is_symlink():
                problems.error(Position(f"{display}/{path}"), "is a symbolic link inside a frozen release", hint="releases hold real files only; restore the folder from version control")
                ok = False
            elif entry.is_dir(follow_symlinks=False):
                subfolders.append((entry.path, path))
            elif entry.is_file(follow_symlinks=False):
                files[path] = Path(entry.path)
            else:
                problems.error(Position(f"{display}/{path}"), "is not a regular file", hint="remove it")
                ok = False
        pending.extend(reversed(subfolders))
    return files if ok else None


def verify(content: Path, display: str, versions: list[str], problems: Problems) -> bool:
    """Every frozen file matches the lock, and the lock and releases.yaml name the same releases.

    Each difference is one error naming the file: changed (hash differs), added (on disk, not in
    the lock) or deleted (in the lock, not on disk). A whole folder that no lock line knows is one
    error, not one per file.
    """
    lock_display = f"{display}/{LOCK_FILE}"
    entries = read_lock(content, display, problems)
    files = frozen_files(content, display, problems)
    if entries is None or files is None:
        return False
    ok = True
    listed = set(versions)
    locked = {entry.version for entry in entries}
    on_disk = {path.split("/")[1] for path in files if path.count("/") >= 2}
    if versions and not (content / LOCK_FILE).exists():
        problems.error(Position(lock_display), "file not found, but releases.yaml lists releases", hint="restore releases.lock from version control; without it the frozen releases cannot be checked")
        return False
    for version in sorted(locked - listed):
        line = next(e.line for e in entries if e.version == version)
        problems.error(Position(lock_display, line, 1), f"records release {version}, which releases.yaml does not list", hint="a published release is never removed: restore its entry in releases.yaml from version control")
        ok = False
    for version in sorted(listed - locked):
        problems.error(Position(lock_display), f"has no record of release {version}, which releases.yaml lists", hint="releases are added only by 'site-builder release'; restore releases.lock from version control")
        ok = False
    for path in sorted(files):
        if path.count("/") < 2 and path != f"{RELEASES_DIR}/{GITATTRIBUTES}":
            problems.error(Position(f"{display}/{path}"), "does not belong in releases/", hint="releases/ holds only the frozen release folders; remove it")
            ok = False
    for version in sorted(on_disk - locked - listed):
        problems.error(Position(f"{display}/{RELEASES_DIR}/{version}/"), "is not a release: neither releases.yaml nor releases.lock lists it", hint="create releases with 'site-builder release'; remove this folder, or restore the entries if they were deleted")
        ok = False
    skip = on_disk - locked  # reported once per folder above, not once per file
    gone = locked - on_disk
    for version in sorted(gone):
        count = sum(1 for e in entries if e.version == version)
        problems.error(Position(f"{display}/{RELEASES_DIR}/{version}/"), f"release {version} was deleted after it was frozen ({lock_display} lists {count} file{'s' if count != 1 else ''} in it)", hint="restore the folder from version control; published releases are never removed")
        ok = False
    by_path = {entry.path: entry for entry in entries}
    for path, file in sorted(files.items()):
        version = path.split("/")[1] if path.count("/") >= 2 else None
        if version is None or version in skip:
            continue
        entry = by_path.get(path)
        if entry is None:
            problems.error(Position(f"{display}/{path}"), f"was added to release {version} after it was frozen (releases.lock does not list it)", hint="released content never changes: remove the file, and publish new content as a new release")
            ok = False
        elif sha256_file(file) != entry.digest:
            problems.error(Position(f"{display}/{path}"), f"was changed after release {version} was frozen (its SHA-256 differs from {lock_display} line {entry.line})", hint="released content never changes: restore the file from version control, and publish edits as a new release")
            ok = False
    for entry in entries:
        if entry.path not in files and entry.version not in gone:
            problems.error(Position(f"{display}/{entry.path}"), f"was deleted from release {entry.version} after it was frozen ({lock_display} line {entry.line} lists it)", hint="restore the file from version control")
            ok = False
    return ok
