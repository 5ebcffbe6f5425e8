"""Releases: the frozen editions listed in content/releases.yaml, oldest first."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable

from .errors import Position, Problems
from .model import Edition, Release, Version
from .source import load_yaml
from .validate import validate

EditionLoader = Callable[[Path, str, Problems], "Edition | None"]


def load_releases(content: Path, display: str, problems: Problems, load_edition: EditionLoader) -> tuple[Release, ...] | None:
    """Read releases.yaml and load each frozen edition; a project with no releases.yaml has none."""
    file = content / "releases.yaml"
    name = f"{display}/releases.yaml"
    if not file.exists():
        return ()
    document = load_yaml(file, name, problems)
    if document is None:
        return None
    if not isinstance(document.data, dict):
        problems.error(document.position(), "must be a mapping with a 'releases:' list", hint="see site_builder/schemas/releases.schema.json")
        return None
    if not validate(document, "releases", problems):
        return None
    releases: list[Release] = []
    previous: tuple[Version, date] | None = None
    ok = True
    for index, entry in enumerate(document.data["releases"]):
        version = Version.parse(entry["version"])
        effective = date.fromisoformat(entry["date"])
        where = document.position(("releases", index, "version"))
        if previous and version <= previous[0]:
            problems.error(where, f"version {version} is not greater than {previous[0]}", key=f"releases[{index}].version", hint="list releases oldest first, each with a higher version")
            ok = False
        if previous and effective < previous[1]:
            problems.error(document.position(("releases", index, "date")), f"date {effective} is before the previous release's {previous[1]}", key=f"releases[{index}].date")
            ok = False
        previous = (version, effective)
        folder = content / "releases" / version.text
        if not folder.is_dir():
            problems.error(where, f"release {version} has no folder {display}/releases/{version.text}/", hint="restore the folder from version control; releases are never edited")
            ok = False
            continue
        edition = load_edition(folder, f"{display}/releases/{version.text}", problems)
        if edition is None:
            ok = False
            continue
        releases.append(Release(version, effective, entry["summary"], edition))
    return tuple(releases) if ok else None
