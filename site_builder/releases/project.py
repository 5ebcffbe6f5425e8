"""The project as the renderer sees it: the working copy and every frozen release, each an edition.

An edition is a site.yaml, a policy/ folder and an apps/ folder (content/load.py and
forge/apps.py read them); the releases are content/releases/<v>/, listed in releases.yaml and
checked against releases.lock (history.py, lockfile.py). Symbolic links are refused before anything is read.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from . import history as releases_module
from ..cache.incremental import LoadMemo, memoised
from ..content.load import load_sections, load_site
from ..content.model import Edition, Project, Release
from ..content.source import SYMLINK_HINT, SYMLINK_MESSAGE, symbolic_links
from ..errors import Position, Problems
from ..forge.apps import load_apps


def load_project(root: Path, problems: Problems, memo: LoadMemo | None = None) -> Project | None:
    """Load the working copy and every release of the project at ``root``; ``memo`` skips unchanged files (serve)."""
    content = root / "content"
    if not content.is_dir():
        problems.error(Position("content/"), "folder not found", hint=f"run site-builder in a project folder, or create one with 'site-builder init DIR' (looked in {root})")
        return None
    if not _no_links_since(content, problems, memo):
        return None
    working = load_edition(content, "content", problems, memo)
    if memo is None:
        releases = load_frozen_releases(content, "content", problems)
    else:  # unchanged releases come back as the same objects, without re-hashing every frozen file (see BENCHMARKS.md, 'Figures behind the code')
        releases = memo.call(load_frozen_releases, content, "content", problems=problems, inputs=RELEASE_INPUTS, nested=True)
    if working is None or releases is None:
        return None
    return Project(releases, working)


# every file load_frozen_releases reads is under one of these
RELEASE_INPUTS = (releases_module.RELEASES_FILE, releases_module.lockfile.LOCK_FILE, releases_module.lockfile.RELEASES_DIR)


def load_frozen_releases(content: Path, display: str, problems: Problems, memo: LoadMemo | None = None) -> tuple[Release, ...] | None:
    return releases_module.load_releases(content, display, problems, partial(load_edition, memo=memo))


def _no_links_since(content: Path, problems: Problems, memo: LoadMemo | None) -> bool:
    """``_no_links`` over content/, or, when a watcher says what changed since a build that found none, over that only."""
    changed = memo.changed_paths if memo is not None else None
    if changed is None or not memo.content_had_no_links:  # type: ignore[union-attr]
        clean = _no_links(content, "content", problems)
    else:
        clean = True
        top = str(content)
        for path in sorted(changed):
            if not (path == top or path.startswith(top + os.sep)) or not os.path.lexists(path):
                continue
            relative = Path(path).relative_to(content).as_posix()
            if os.path.islink(path) and path != top:
                problems.error(Position(f"content/{relative}"), SYMLINK_MESSAGE, hint=SYMLINK_HINT)
                clean = False
            elif os.path.isdir(path):
                clean = _no_links(Path(path), "content" if path == top else f"content/{relative}", problems) and clean
    if memo is not None:
        memo.content_had_no_links = clean
    return clean


def _no_links(content: Path, display: str, problems: Problems) -> bool:
    """Refuse every symbolic link under content/ before reading anything: one could pull in any file on disk."""
    links = symbolic_links(content)  # does not descend into linked folders
    for link in sorted(links):
        problems.error(Position(f"{display}/{link}"), SYMLINK_MESSAGE, hint=SYMLINK_HINT)
    return not links


def load_edition(folder: Path, display: str, problems: Problems, memo: LoadMemo | None = None) -> Edition | None:
    """A site.yaml, a policy/ folder and an apps/ folder: the working copy or a frozen release."""
    site = memoised(memo, load_site, folder / "site.yaml", f"{display}/site.yaml", problems=problems)
    sections = load_sections(folder / "policy", f"{display}/policy", problems, memo)
    if memo is None:
        apps = load_apps(folder / "apps", f"{display}/apps", problems)
    else:  # an unchanged apps/ folder comes back as the same tuple of the same App objects
        apps = memo.call(load_apps, folder / "apps", f"{display}/apps", problems=problems, nested=True)
    if site is None or sections is None:
        return None
    edition = Edition(site, sections, apps)
    return memo.same_as_before(f"edition:{folder}", edition) if memo is not None else edition


