"""Render stage: the typed model in, ``{output path: bytes}`` out. No file is read or written here.

Page generators (``site_builder/pages/*.py``) say which pages exist; this module turns each
``Page`` into bytes with Jinja2 and each ``Asset`` into itself.  Finishers see the full page list
(for the sitemap and the export) after every generator has run.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

import jinja2
import jinja2.compiler
import jinja2.runtime
from markupsafe import Markup, escape

from ..content.dates import long_date
from .security_headers import REFERRER_POLICY, content_security_policy
from ..cache.memo import IdentityMemo, call
from ..content.model import Edition, Project, Release, Site
from .theme import Theme

if TYPE_CHECKING:  # the serve/warm-build cache; render works without it
    from ..cache.fragments import FragmentStore
    from ..cache.incremental import RenderCache


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
    files: dict[str, bytes]  # empty when the build streamed its files to disk (site_builder/emit/stream.py)
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
    return prefixed_url("../" * from_path.count("/"), target)


def prefixed_url(up: str, target: str) -> str:
    """``relative_url`` from any page whose way up to the site root is ``up`` ("../../"): links depend on that alone."""
    if target.startswith(("#", "mailto:", "https:")):
        return target
    path, _, fragment = target.partition("#")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return up + path + (f"#{fragment}" if fragment else "")


def root_relative_url(base_url: str, target: str) -> str:
    """``/trust/apps/`` for a page that the host serves at whatever address was asked for."""
    if target.startswith(("#", "mailto:", "https:")):
        return target
    return urlsplit(base_url).path + target


def absolute_url(base_url: str, target: str) -> str:
    """A published address (canonical links, feeds, security.txt): directory form, never index.html."""
    path = target.removesuffix("index.html")
    return base_url + path


try:  # markupsafe's C escaper, which returns text; markupsafe.escape wraps each value in a new Markup
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - markupsafe without its C extension
    def _escape_str(text: str) -> str:
        return str(escape(text))


def escape_output(value: Any) -> str:
    """``markupsafe.escape(value)`` as the text a page gets: the same characters, found faster.

    Every ``{{ value }}`` of a page is escaped and then joined into the page, so the Markup object
    that ``escape`` builds around each value is thrown away at once; building it costs a third
    of the time of rendering an app page.
    """
    kind = type(value)
    if kind is str:
        return _escape_str(value)
    if kind is Markup or kind is Fragment:  # a macro's or a fragment's output: escape(markup) is the markup itself
        return value
    if kind is int:  # digits need no escaping
        return str(value)
    return escape(value)


class _CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's compiler, but ``{{ value }}`` calls ``escape_output`` (via the environment) instead of ``escape``."""

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


_MARKABLE = (types.FunctionType, partial, jinja2.runtime.Macro)  # take the context only if marked so
_PASS_CONTEXT = jinja2.pass_context(lambda: None).jinja_pass_arg  # type: ignore[attr-defined]


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a shorter way to call ``url``, macros, methods and ``fragment``.

    ``Context.call`` finds whether a callable wants the context passed by two ``hasattr`` lookups,
    which fail (slowly) for nearly every call a page makes; for a function, a partial, a macro or
    a method the answer is an entry in its ``__dict__``, and a built-in method has none. Anything
    else, and a context-taking call in a loop or block that set variables, goes Jinja's way.
    """

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        kind = type(__obj)
        if kind is types.BuiltinMethodType:
            marked = None
        elif kind is types.MethodType and type(__obj.__func__) is types.FunctionType:
            marked = __obj.__func__.__dict__.get("jinja_pass_arg")
        elif kind in _MARKABLE:
            marked = __obj.__dict__.get("jinja_pass_arg")
        else:
            return super().call(__obj, *args, **kwargs)
        loop_vars = kwargs.pop("_loop_vars", None)
        block_vars = kwargs.pop("_block_vars", None)
        if marked is _PASS_CONTEXT and not loop_vars and not block_vars:
            args = (__self, *args)
        elif marked is not None:
            return super().call(__obj, *args, _loop_vars=loop_vars, _block_vars=block_vars, **kwargs)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined("value was undefined because a callable raised a StopIteration exception")


class _Environment(jinja2.Environment):
    """The site's Jinja environment: its templates compile to faster code with the same output."""

    code_generator_class = _CodeGenerator
    context_class = _Context
    escape_output = staticmethod(escape_output)
    fragments: FragmentStore | None = None  # set by make_environment (cache/fragments.py)

    def make_globals(self, d: Mapping[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        """A template's globals as a plain dict, not Jinja's ChainMap over the environment's.

        Every render copies them into its context, and copying a ChainMap costs more than a small
        page; the environment's globals are all set before its first template is loaded (as Jinja
        asks), so the copy taken here misses nothing.
        """
        return {**self.globals, **(d or {})}


def names(items: Iterable[Any]) -> Markup:
    """A table cell's list: the items escaped and joined by commas, or a muted "None" for no items.

    A filter, not a macro, because an app page draws a dozen such cells and a macro call costs
    more than the cell; ``names`` in _apps_macros.html is this filter, for templates that import it.
    """
    if not items:
        return Markup('<span class="none">None</span>')
    return Markup(", ".join(map(escape_output, items)))


def any_with(items: Iterable[Any], attribute: str) -> bool:
    """``apps|any_with('is_sample')``: whether an item's ``attribute`` is true; what
    ``apps|selectattr('is_sample')|list`` tells, without Jinja's filter loop over 1,000 apps on every rebuild."""
    return any(map(attrgetter(attribute), items))


def justification(why: Any) -> Markup:
    """Why an app needs a scope, a destination or a remote, or an "explain this" marker; a filter for the same reason as ``names``."""
    return escape(why) if why else Markup("<em>Not explained yet.</em>")


FRAGMENT_CALLS = frozenset({"fragment", "fragment_each"})  # globals that draw a template named by their first argument


class Fragment(Markup):
    """A fragment's output: markup that keeps its UTF-8 bytes once a page has needed them.

    A page that reuses a fragment (``page_bytes``) then copies its bytes instead of encoding it
    again: a large Marketplace kit with a few non-ASCII characters is stored two bytes a character,
    and encoding it whole was most of serve's time for that page after one edit.
    """

    def utf8(self) -> bytes:
        data = self.__dict__.get("_utf8")
        if data is None:
            data = self.__dict__["_utf8"] = str.encode(self, "utf-8")
        return data


def page_bytes(pieces: Iterable[str]) -> bytes:
    """A template's output pieces as UTF-8, each fragment's bytes taken as they are."""
    chunks: list[bytes] = []
    text: list[str] = []
    for piece in pieces:
        if type(piece) is Fragment:
            if text:
                chunks.append("".join(text).encode("utf-8"))
                text.clear()
            chunks.append(piece.utf8())
        else:
            text.append(piece)
    if text:
        chunks.append("".join(text).encode("utf-8"))
    return b"".join(chunks)


def render_fragment(environment: jinja2.Environment, name: str, values: dict[str, Any]) -> Fragment:
    """Template ``name`` drawn from ``values`` and the environment's globals alone."""
    return Fragment(environment.get_template(name).render(values))


@jinja2.pass_context
def fragment(context: jinja2.runtime.Context, template_name: str, /, **values: Any) -> Markup:
    """``{{ fragment('_row.html', app=app) }}``: the template drawn from these values and the page's ``url`` only.

    The output is what ``{% with app=app %}{% include '_row.html' %}{% endwith %}`` would give if
    the row read nothing else; with a FragmentStore, a fragment whose key is unchanged is reused.
    """
    url = context.resolve_or_missing("url")
    variables = values if url is jinja2.runtime.missing else {"url": url, **values}
    store = context.environment.fragments  # type: ignore[attr-defined]
    if store is None:
        return render_fragment(context.environment, template_name, variables)
    return store.render(context.environment, template_name, variables)


@jinja2.pass_context
def fragment_each(context: jinja2.runtime.Context, template_name: str, variable: str, items: Iterable[Any], /, **shared: Any) -> tuple[Markup, ...]:
    """``{% for row in fragment_each('_row.html', 'app', apps) %}{{ row }}{% endfor %}``: ``fragment('_row.html', app=app)`` for each app.

    With a FragmentStore, the rows of items unchanged since the last build are found in one
    look-up each. The rows come back apart, for the page to write one by one: joined, a
    large Marketplace kit would be held twice in memory while the page is made.
    """
    url = context.resolve_or_missing("url")
    values = shared if url is jinja2.runtime.missing else {"url": url, **shared}
    store = context.environment.fragments  # type: ignore[attr-defined]
    if store is None:
        return tuple(render_fragment(context.environment, template_name, {**values, variable: item}) for item in items)
    return store.render_each(context.environment, template_name, variable, items, values)


def make_environment(theme: Theme, bytecode_cache: jinja2.BytecodeCache | None = None, fragments: FragmentStore | None = None) -> jinja2.Environment:
    """The Jinja environment of one build; ``fragments`` is the fragment memo kept between builds (none: no reuse)."""
    environment = _Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        bytecode_cache=bytecode_cache,  # compiled templates kept between rebuilds by RenderCache
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=-1,  # a theme's few templates in a plain dict: Jinja's LRU cache locks and searches a list on every lookup
    )
    for name, function in environment.filters.items():
        if getattr(function, "jinja_async_variant", False):  # join, map, select...: their wrapper asks on every call whether the environment is async; ours never is
            environment.filters[name] = function.__wrapped__
    environment.filters["long_date"] = long_date
    environment.filters["iso_date"] = lambda value: value.isoformat()
    environment.filters["names"] = names
    environment.filters["justification"] = justification
    environment.filters["any_with"] = any_with
    # one definition for the <meta> fallback and the _headers file (site_builder/render/security_headers.py)
    environment.globals["content_security_policy"] = content_security_policy(meta=True)
    environment.globals["referrer_policy"] = REFERRER_POLICY
    environment.globals["fragment"] = fragment
    environment.globals["fragment_each"] = fragment_each
    if fragments is not None:
        fragments.next_generation()
        environment.fragments = fragments
    return environment


# variables page_variables computes from the page's own fields, ctx.draft and its site's base_url alone:
# a cache key may hash those inputs instead of the values (RenderCache), unless page.context overrides them
DERIVED_VARIABLES = frozenset({"page_path", "indexable", "canonical_url", "url", "absolute_url"})


def derived_inputs(ctx: RenderContext, page: Page, site: Site) -> str:
    """Everything ``DERIVED_VARIABLES`` are made from, but the page's path and root_relative (in every key)."""
    return f"{page.canonical}\0{page.indexable}\0{ctx.draft}\0{site.base_url}\0"


def frame_variables(ctx: RenderContext, edition: Edition) -> dict[str, Any]:
    """The variables every page of ``edition`` shares in one build (RenderCache hashes them once per build)."""
    return {"ctx": ctx, "project": ctx.project, "draft": ctx.draft, "site": edition.site, "edition": edition}


FRAME_VARIABLES = frozenset({"ctx", "project", "draft", "site", "edition"})


def bound(function: Callable[[str, str], str], first: str) -> Callable[[str], str]:
    return partial(function, first)


def page_variables(ctx: RenderContext, page: Page) -> dict[str, Any]:
    """Everything a page's template can read; plain values and partials, so RenderCache can fingerprint them."""
    edition: Edition = page.context.get("edition", ctx.edition)
    site = edition.site
    canonical = page.canonical or page.path
    return {
        **frame_variables(ctx, edition),
        "page_path": page.path,
        "indexable": page.indexable and not ctx.draft,
        "canonical_url": absolute_url(site.base_url, canonical),
        # one function object per folder depth and build (fragments key on its function and arguments)
        "url": partial(root_relative_url, site.base_url) if page.root_relative else call(ctx.memo, bound, prefixed_url, "../" * page.path.count("/")),
        "absolute_url": call(ctx.memo, bound, absolute_url, site.base_url),
        **page.context,
    }


def render_page(environment: jinja2.Environment, ctx: RenderContext, page: Page) -> bytes:
    variables = page_variables(ctx, page)
    try:
        template = environment.get_template(page.template)
        return page_bytes(template.generate(variables))
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(f"template {exc.name!r} not found (needed for {page.path})") from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{page.template}: {exc.message} (while rendering {page.path})") from exc


def claim(claimed: set[str], path: str) -> None:
    """Each output path is made by one generator only (site_items, and the build's streamed form)."""
    if path in claimed:
        raise RenderError(f"two outputs claim the path {path}")
    claimed.add(path)


def site_items(ctx: RenderContext, theme: Theme, generators: Iterable[Generator]) -> tuple[dict[str, bytes], list[Page]]:
    """The theme's static files and every generated asset by path, and the pages to render; each path claimed once."""
    files: dict[str, bytes] = dict(theme.static_files)
    pages: list[Page] = []
    claimed = set(files)
    for generator in generators:
        for item in generator(ctx):
            path = item.path
            if path in claimed:  # claim(), inline: one test per item of every generator
                claim(claimed, path)
            claimed.add(path)
            if type(item) is Asset:
                files[path] = item.data
            else:
                pages.append(item)
    return files, pages


def render_site(ctx: RenderContext, theme: Theme, generators: Iterable[Generator], finishers: Iterable[Finisher] = (), cache: RenderCache | None = None) -> RenderedSite:
    """With a cache, pages whose template closure and inputs are unchanged are reused, not re-rendered."""
    environment = cache.environment(theme) if cache else make_environment(theme)
    session = cache.session(environment, ctx) if cache else None
    files, pages = site_items(ctx, theme, generators)
    if session is not None:
        session.render_into(files, pages)
    else:
        for page in pages:
            files[page.path] = render_page(environment, ctx, page)
    for finisher in finishers:
        for asset in finisher(ctx, tuple(pages)):
            files[asset.path] = asset.data
    return RenderedSite({path: files[path] for path in sorted(files)}, tuple(pages))  # sorting the paths alone is faster than sorting the items
