"""Render stage: the typed model in, ``{output path: bytes}`` out. No file is read or written here.

Page generators (``site_builder/pages/*.py``) say which pages exist; this module turns each
``Page`` into bytes with Jinja2 and each ``Asset`` into itself.  Finishers see the full page list
(for the sitemap and the export) after every generator has run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import jinja2

from .dates import long_date
from .headers import REFERRER_POLICY, content_security_policy
from .memo import IdentityMemo
from .model import Edition, Project, Release
from .theme import Theme

if TYPE_CHECKING:  # the serve/warm-build cache; render works without it
    from .incremental import RenderCache


@dataclass(frozen=True)
class Page:
    """One HTML page: where it goes, which template draws it, and what the template needs."""

    path: str  # output path relative to the site root, always ending in .html
    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    indexable: bool = True  # listed in the sitemap, no noindex
    canonical: str = ""  # site path of the canonical URL, e.g. "versions/1.0/"; default: this page
    root_relative: bool = False  # links as /base/path: for pages served at any address (404)


@dataclass(frozen=True)
class Asset:
    """A file that is not drawn by a template: CSS, JSON, XML, text."""

    path: str
    data: bytes


@dataclass(frozen=True)
class RenderContext:
    """What every generator may read. The edition at / is the latest release, or the draft."""

    project: Project
    edition: Edition
    release: Release | None
    draft: bool
    build_date: date
    # derived values reused between builds (serve) and between generators; not content, so not fingerprinted
    memo: IdentityMemo | None = field(default=None, compare=False, repr=False, metadata={"fingerprint": False})


Generator = Callable[[RenderContext], Iterable[Page | Asset]]
Finisher = Callable[[RenderContext, tuple[Page, ...]], Iterable[Asset]]


@dataclass(frozen=True)
class RenderedSite:
    files: dict[str, bytes]  # empty when the build streamed its files to disk (site_builder/output.py)
    pages: tuple[Page, ...]
    streamed: int = 0  # how many files were streamed instead

    @property
    def file_count(self) -> int:
        return len(self.files) + self.streamed


class RenderError(Exception):
    """A template failed: a theme bug or a broken override, reported with the template's line."""


def relative_url(from_path: str, target: str) -> str:
    """A link from one output file to a site path, relative so the site works at any path and from disk.

    Directory targets end in ``/`` and are linked as ``.../index.html`` so that a folder opened
    from disk (``file://``) follows them too.
    """
    if target.startswith(("#", "mailto:", "https:")):
        return target
    path, _, fragment = target.partition("#")
    if path == "" or path.endswith("/"):
        path += "index.html"
    prefix = "../" * from_path.count("/")
    return prefix + path + (f"#{fragment}" if fragment else "")


def root_relative_url(base_url: str, target: str) -> str:
    """``/trust/apps/`` for a page that the host serves at whatever address was asked for."""
    if target.startswith(("#", "mailto:", "https:")):
        return target
    return urlsplit(base_url).path + target


def absolute_url(base_url: str, target: str) -> str:
    """A published address (canonical links, feeds, security.txt): directory form, never index.html."""
    path = target.removesuffix("index.html")
    return base_url + path


def make_environment(theme: Theme, bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        bytecode_cache=bytecode_cache,  # compiled templates kept between rebuilds by RenderCache
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    environment.filters["long_date"] = long_date
    environment.filters["iso_date"] = lambda value: value.isoformat()
    # one definition for the <meta> fallback and the _headers file (site_builder/headers.py)
    environment.globals["content_security_policy"] = content_security_policy(meta=True)
    environment.globals["referrer_policy"] = REFERRER_POLICY
    return environment


def page_variables(ctx: RenderContext, page: Page) -> dict[str, Any]:
    """Everything a page's template can read; plain values and partials, so RenderCache can fingerprint them."""
    edition: Edition = page.context.get("edition", ctx.edition)
    site = edition.site
    canonical = page.canonical or page.path
    return {
        "ctx": ctx,
        "project": ctx.project,
        "draft": ctx.draft,
        "site": site,
        "edition": edition,
        "page_path": page.path,
        "indexable": page.indexable and not ctx.draft,
        "canonical_url": absolute_url(site.base_url, canonical),
        "url": partial(root_relative_url, site.base_url) if page.root_relative else partial(relative_url, page.path),
        "absolute_url": partial(absolute_url, site.base_url),
        **page.context,
    }


def render_page(environment: jinja2.Environment, ctx: RenderContext, page: Page) -> bytes:
    variables = page_variables(ctx, page)
    try:
        template = environment.get_template(page.template)
        return template.render(variables).encode("utf-8")
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name!r} not found (needed for {page.path})") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{page.template}: {exc.message} (while rendering {page.path})") from exc


def site_items(ctx: RenderContext, theme: Theme, generators: Iterable[Generator]) -> tuple[dict[str, bytes], list[Page]]:
    """The theme's static files and every generated asset by path, and the pages to render; each path claimed once."""
    files: dict[str, bytes] = dict(theme.static_files)
    pages: list[Page] = []
    claimed = set(files)
    for generator in generators:
        for item in generator(ctx):
            if item.path in claimed:
                raise RenderError(f"two outputs claim the path {item.path}")
            claimed.add(item.path)
            if isinstance(item, Asset):
                files[item.path] = item.data
            else:
                pages.append(item)
    return files, pages


def render_site(ctx: RenderContext, theme: Theme, generators: Iterable[Generator], finishers: Iterable[Finisher] = (), cache: RenderCache | None = None) -> RenderedSite:
    """With a cache, pages whose template closure and inputs are unchanged are reused, not re-rendered."""
    environment = cache.environment(theme) if cache else make_environment(theme)
    render = cache.renderer(environment, ctx) if cache else partial(render_page, environment, ctx)
    files, pages = site_items(ctx, theme, generators)
    for page in pages:
        files[page.path] = render(page)
    for finisher in finishers:
        for asset in finisher(ctx, tuple(pages)):
            files[asset.path] = asset.data
    return RenderedSite(dict(sorted(files.items())), tuple(pages))
