"""load → validate → model → render → write: the one pipeline that build, serve and check share."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import Position, Problems
from .load import load_project
from .pages import FINISHERS, GENERATORS
from .render import RenderContext, RenderedSite, RenderError, render_site
from .theme import load_theme
from .write import check_output_folder, write_site

if TYPE_CHECKING:  # serve's cache of loaded files and rendered pages
    from .incremental import BuildCache


@dataclass(frozen=True)
class BuildOptions:
    build_date: date
    draft: bool = False
    strict: bool = False


@dataclass
class BuildResult:
    problems: Problems = field(default_factory=Problems)
    site: RenderedSite | None = None
    draft: bool = False

    @property
    def page_count(self) -> int:
        return len(self.site.pages) if self.site else 0


def render_project(project_root: Path, options: BuildOptions, cache: BuildCache | None = None) -> BuildResult:
    """Everything but writing: the site as ``{path: bytes}``, or the problems that prevent it.

    With a ``cache`` (serve), unchanged files are not loaded again and unchanged pages not rendered again.
    """
    result = BuildResult()
    problems = result.problems
    project = load_project(project_root, problems)
    theme = load_theme(project_root, problems)
    if project is None or problems.has_errors(strict=options.strict):
        return result
    draft = options.draft or project.latest is None
    if project.latest is None and not options.draft:
        problems.warning(Position("content/releases.yaml"), "no release yet, so the site is built as a draft", hint="run 'site-builder release 1.0 --date YYYY-MM-DD --summary TEXT' to publish a version")
    edition = project.working if draft else project.latest.edition
    ctx = RenderContext(project, edition, None if draft else project.latest, draft, options.build_date)
    if problems.has_errors(strict=options.strict):
        return result
    try:
        result.site = render_site(ctx, theme, GENERATORS, FINISHERS, cache=cache.render if cache else None)
    except RenderError as exc:
        problems.error(Position("templates"), str(exc), hint="fix the template, or remove your override to use the default")
    result.draft = draft
    return result


def build(project_root: Path, out: Path, options: BuildOptions) -> BuildResult:
    problems = Problems()
    check_output_folder(out, project_root, problems)
    if problems.has_errors():
        return BuildResult(problems)
    result = render_project(project_root, options)
    if result.site is not None and not result.problems.has_errors(strict=options.strict):
        write_site(result.site.files, out)
    return result
