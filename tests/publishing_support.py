"""Shared by the publishing tests: the fixture project copied to tmp_path and rendered as a release or a draft.

The release is made in memory (a ``Release`` of the working edition), so these tests exercise every
registered page generator without depending on how releases are frozen on disk.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from site_builder.errors import Problems
from site_builder.releases.project import load_edition
from site_builder.content.model import Project, Release, Version
from site_builder.render.pages import FINISHERS, GENERATORS
from site_builder.render.engine import RenderContext, RenderedSite, render_site
from site_builder.render.theme import load_theme
from site_builder.emit.staging import write_site

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "sites" / "publishing"
FIXTURE_BASE_URL = "https://example.com/trust/"
RELEASE_DATE = date(2025, 7, 1)


def make_project(tmp_path: Path, base_url: str = FIXTURE_BASE_URL, *, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the publishing fixture with its base_url replaced and some content files removed."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    site = root / "content" / "site.yaml"
    site.write_text(site.read_text("utf-8").replace(FIXTURE_BASE_URL, base_url), "utf-8")
    for relative in drop:
        (root / "content" / relative).unlink()
    return root


def render_fixture(root: Path, *, released: bool = True, build_date: date = RELEASE_DATE) -> tuple[RenderContext, RenderedSite]:
    problems = Problems()
    edition = load_edition(root / "content", "content", problems)
    assert edition is not None and not problems.errors, [str(p) for p in problems.errors]
    release = Release(Version.parse("1.0"), RELEASE_DATE, "First release.", edition) if released else None
    project = Project((release,) if release else (), edition)
    ctx = RenderContext(project, edition, release, not released, build_date)
    return ctx, render_site(ctx, load_theme(root, problems), GENERATORS, FINISHERS)


def build_fixture(tmp_path: Path, base_url: str = FIXTURE_BASE_URL, *, released: bool = True, build_date: date = RELEASE_DATE) -> tuple[RenderContext, Path]:
    """Render the fixture and write it to tmp_path/out, as ``build`` would."""
    ctx, site = render_fixture(make_project(tmp_path, base_url), released=released, build_date=build_date)
    out = tmp_path / "out"
    write_site(site.files, out)
    return ctx, out


def parse_headers_file(text: str) -> dict[str, list[tuple[str, str]]]:
    """Netlify / Cloudflare Pages ``_headers``: a path line, then indented ``Name: value`` lines."""
    rules: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            current = line.strip()
            assert current.startswith("/"), line
            rules[current] = []
        else:
            name, sep, value = line.strip().partition(":")
            assert sep and current, line
            rules[current].append((name.strip(), value.strip()))
    return rules
