"""load → validate → model → render → write: the one pipeline that build, serve and check share."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .errors import Position, Problems
from .releases.project import load_project
from .cache.memo import IdentityMemo
from .render.pages import FINISHERS, GENERATORS
from .render.pages.security_txt import security_txt_problems
from .render.engine import RenderContext, RenderedSite, RenderError, render_site
from .render.theme import load_theme
from .emit.staging import StagedWriter, check_output_folder

if TYPE_CHECKING:  # serve's cache of loaded files and rendered pages
    from .cache.incremental import BuildCache
    from .commands.progress import ProgressCallback

# Renders a site somewhere other than memory: (ctx, theme, generators, finishers) -> RenderedSite
Streamer = Callable[[RenderContext, Any, Any, Any], RenderedSite]


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
    base_url: str = ""  # of the edition at the site root; serve previews under its path
    up_to_date: bool = False  # build: the output was already made from these very inputs; nothing was loaded, rendered or written
    pages: int | None = None  # build: how many pages, when ``site`` does not hold them (it drops them before saving its cache)

    @property
    def page_count(self) -> int:
        if self.pages is not None:
            return self.pages
        return len(self.site.pages) if self.site else 0


def render_project(project_root: Path, options: BuildOptions, cache: BuildCache | None = None) -> BuildResult:
    """Everything but writing: the site as ``{path: bytes}``, or the problems that prevent it.

    With a ``cache`` (serve), unchanged files are not loaded again and unchanged pages not rendered again.
    """
    try:
        return _render_project(project_root, options, cache)
    finally:
        gc.unfreeze()


def _render_project(project_root: Path, options: BuildOptions, cache: BuildCache | None, stream: Streamer | None = None) -> BuildResult:
    """``render_project``, leaving the collector frozen: the caller unfreezes it when the build is done.

    The model lives as long as the build, so collections need not walk it again and again while
    pages are made (and, in ``build``, while the cache is saved); frozen objects are still freed by
    reference counting. No caller of ``render_project`` or ``build`` is left with it frozen.
    """
    result = BuildResult()
    problems = result.problems
    project = load_project(project_root, problems, memo=cache.load if cache else None)
    gc.freeze()
    theme = load_theme(project_root, problems)
    if project is None or problems.has_errors(strict=options.strict):
        return result
    draft = options.draft or project.latest is None
    if project.latest is None and not options.draft:
        problems.warning(Position("content/releases.yaml"), "no release yet, so the site is built as a draft", hint="run 'site-builder release 1.0 --date YYYY-MM-DD --summary TEXT' to publish a version")
    edition = project.working if draft else project.latest.edition
    memo = cache.derived if cache else IdentityMemo()
    memo.next_generation()
    ctx = RenderContext(project, edition, None if draft else project.latest, draft, options.build_date, memo)
    result.base_url = edition.site.base_url
    problems.extend(security_txt_problems(edition))
    if problems.has_errors(strict=options.strict):
        return result
    try:
        if stream is not None:  # build: straight to disk (site_builder/emit/stream.py)
            result.site = stream(ctx, theme, GENERATORS, FINISHERS)
        else:
            result.site = render_site(ctx, theme, GENERATORS, FINISHERS, cache=cache.render if cache else None)
    except RenderError as exc:
        problems.error(Position("templates"), str(exc), hint="fix the template, or remove your override to use the default")
    result.draft = draft
    return result


def build(project_root: Path, out: Path, options: BuildOptions, *, use_cache: bool = True, progress: ProgressCallback | None = None, jobs: int | None = None) -> BuildResult:
    """Render into a staging folder beside ``out`` and swap it in; nothing changes when the build fails.

    With ``use_cache``, ``.site-builder-cache/`` in the project makes the next build warm: unchanged
    files are not loaded again, unchanged pages neither rendered nor written (site_builder/cache/disk.py);
    and when no input changed and ``out`` is as the last build left it, nothing is done at all
    (``up_to_date``): its warnings are reported again.
    """
    try:
        return _build(project_root, out, options, use_cache, progress, jobs)
    finally:
        gc.unfreeze()  # frozen by _render_project, for the rendering and the saving of the cache


def _build(project_root: Path, out: Path, options: BuildOptions, use_cache: bool, progress: ProgressCallback | None, jobs: int | None) -> BuildResult:
    from .cache.disk import DiskCache, LastBuild
    from .emit.stream import FileRecord, stream_site

    problems = Problems()
    check_output_folder(out, project_root, problems)
    if problems.has_errors():
        return BuildResult(problems)
    disk = DiskCache.open(project_root) if use_cache else None
    inputs = disk.inputs(project_root, out, options) if disk else ""  # before anything is read: an edit made during the build shows next time
    last = disk.up_to_date(out, inputs) if disk else None
    if last is not None:
        return BuildResult(Problems(list(last.problems)), RenderedSite({}, (), streamed=last.files), last.draft, last.base_url, up_to_date=True, pages=last.pages)
    records: dict[str, FileRecord] = {}
    with StagedWriter(out, recycle=use_cache) as writer:

        def stream(ctx: RenderContext, theme: Any, generators: Any, finishers: Any) -> RenderedSite:
            if disk is not None:
                disk.save_loaded()  # now, while the model is all there is in memory
            previous = disk.previous_records(out) if disk else {}
            site, found = stream_site(ctx, theme, generators, finishers, writer, previous=previous, cache=disk.build.render if disk else None, progress=progress, jobs=jobs, once=True)
            records.update(found)
            return site

        result = _render_project(project_root, options, disk.build if disk else None, stream=stream)
        if result.site is None or result.problems.has_errors(strict=options.strict):
            return result
        writer.commit()
    # the pages were needed to render them; what follows (saving the cache) is better off without them
    result.pages, result.site = result.page_count, RenderedSite({}, (), streamed=result.site.file_count)
    if disk is not None:
        disk.save(LastBuild(inputs, str(out.resolve()), records, tuple(result.problems.items), result.draft, result.base_url, result.pages, result.site.file_count))
    return result
