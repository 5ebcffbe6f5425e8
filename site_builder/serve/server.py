"""The preview server: build into a private folder, serve it, rebuild on save, reload the browser.

Built on the livereload package's reload protocol: its websocket handler (``/livereload``), its
client (``/livereload.js``) and its ``reload`` message, so the injected client and the LiveReload
browser extensions work unchanged. ``livereload.Server`` itself is not used, because what a
trust-center preview needs differs from what it does:

* it injects an inline ``<script>``, which the pages' Content-Security-Policy forbids; here a
  ``<script src="/livereload.js">`` is injected and, in the response only, the page's CSP is
  widened to allow that script and its websocket. Files on disk are never touched;
* it throttles reloads (none within 3 s of the last) and polls every 800 ms; here an edit is
  noticed by operating-system events (site_builder/serve/watch.py), a burst of saves is debounced into
  one rebuild, and the reload is sent as soon as the rebuild is written;
* it serves any file below its root by a normalised path; here only files the build wrote, with
  ``..``, encoded traversal, absolute paths and symbolic links refused, under the base URL's path.

The site is built into a temporary folder (never ``build/``) with site_builder.cache.incremental's
caches, so an edit re-loads only the files it touched and re-renders only the pages that read
them; only files whose bytes changed are rewritten.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import html
import mimetypes
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
import webbrowser
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.parse import quote, unquote, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from tornado import httpserver, netutil, web
from tornado.ioloop import IOLoop

from ..content.dates import build_date
from ..errors import Position, Problem
from ..cache.incremental import BuildCache, LoadMemo, RenderCache, changed_files
from .addresses import DEFAULT_HOST, DEFAULT_PORT, is_loopback
from ..pipeline import BuildOptions, render_project
from ..render.theme import default_theme_dir
from .watch import ScanWatcher, Watcher, make_watcher
from ..emit.staging import is_safe_output_path

PREVIEW_CSS_PATH = "/_site-builder/preview.css"
WATCHED = ("content", "templates", "static")


@dataclass(frozen=True)
class ServeOptions:
    project: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0: any free port (the address is printed)
    draft: bool = True
    open_browser: bool = False
    watcher: str = "auto"  # auto, events, scan or livereload (site_builder/serve/watch.py)
    debounce: float = 0.05  # seconds without a further change before rebuilding


@dataclass
class Console:
    """Where the server reports: one line per event, and problems as ``site-builder build`` prints them."""

    say: Callable[[str], None] = print
    problems: Callable[[Sequence[Problem]], None] = lambda problems: [print(p) for p in problems]  # type: ignore[func-returns-value]


class PortInUse(OSError):
    def __init__(self, host: str, port: int, free: int | None):
        self.host, self.port, self.free = host, port, free
        suggestion = f"; port {free} is free: site-builder serve --port {free}" if free else ""
        super().__init__(f"port {port} on {host} is already in use (another 'site-builder serve'?){suggestion}")


# ------------------------------------------------------------------------------------ building


@dataclass(frozen=True)
class BuildReport:
    """One rebuild: whether it succeeded, what it found wrong, and what it changed."""

    ok: bool
    problems: tuple[Problem, ...]
    base_path: str
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rendered: int = 0
    reused: int = 0
    pages: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


class PreviewBuilder:
    """Builds the project into ``out``, a folder of its own, rewriting only files whose bytes changed."""

    def __init__(self, project: Path, out: Path, draft: bool = True) -> None:
        self.project = project.resolve()  # the watcher reports resolved paths; the load memo must name files alike
        self.out = out
        self.draft = draft
        self.cache = BuildCache(load=LoadMemo(watched=True), render=RenderCache(keep_fragments=True))
        self.files: dict[str, bytes] = {}
        self.base_path = "/"
        self.trash = out.with_name(out.name + "-replaced")  # beside the served folder, never inside it
        self.trash.mkdir(exist_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.trash, ignore_errors=True)

    def build(self, changed: Iterable[str] | None = None, *, first: bool = False) -> BuildReport:
        """``changed``: every path that changed since the last build, when the watcher can say (serve trusts it)."""
        started = time.perf_counter()
        self.cache.reset_stats()
        if not first:
            self.cache.trust(changed)
        result = render_project(self.project, BuildOptions(build_date=build_date(), draft=self.draft), self.cache)
        # this process keeps the model and its caches from build to build: out of the collector's full
        # scans until the next build (render_project unfreezes it when it is done; both are O(1))
        gc.freeze()
        problems = tuple(result.problems.sorted())
        if result.site is None or result.problems.has_errors():
            return BuildReport(False, problems, self.base_path, seconds=time.perf_counter() - started)
        changed, removed = changed_files(self.files, result.site.files)
        write_changes(self.out, result.site.files, changed, removed, self.trash)
        self.files = result.site.files
        self.base_path = urlsplit(result.base_url).path or "/"
        stats = self.cache.render.stats
        return BuildReport(True, problems, self.base_path, tuple(changed), tuple(removed), len(stats.rendered), len(stats.reused), result.page_count, time.perf_counter() - started)


BIG_FILE = 256 * 1024  # replacing a file this big frees its blocks inside rename(), which shows in a rebuild's time (see BENCHMARKS.md, 'Figures behind the code')


def write_changes(out: Path, files: dict[str, bytes], changed: Iterable[str], removed: Iterable[str], trash: Path | None = None) -> None:
    """Write changed files (each replaced whole, so a request never reads half a file) and delete removed ones.

    ``trash``: a folder outside ``out`` where the old copies of big files keep a link while they
    are replaced, so that freeing them is left to a background thread instead of the rebuild.
    """
    doomed: list[str] = []
    for path in changed:
        if not is_safe_output_path(path):
            raise ValueError(f"refusing to write outside the preview folder: {path!r}")
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(files[path])
        if trash is not None and len(files[path]) >= BIG_FILE:
            doomed += _keep_in_trash(target, trash, len(doomed))
        os.replace(partial, target)
    for path in removed:
        target = out / path
        target.unlink(missing_ok=True)
        for parent in target.parents:
            if parent == out or any(parent.iterdir()):
                break
            parent.rmdir()
    if doomed:
        threading.Thread(target=_unlink_all, args=(doomed,), name="site-builder-trash", daemon=True).start()


def _keep_in_trash(target: Path, trash: Path, number: int) -> list[str]:
    """A second link to ``target``'s current file, so that replacing it does not free its blocks."""
    kept = os.path.join(trash, f"{time.monotonic_ns()}-{number}")
    try:
        os.link(target, kept)
    except OSError:  # not there yet, or links not supported: the rename frees it, as without a trash
        return []
    return [kept]


def _unlink_all(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except OSError:
            pass


# ------------------------------------------------------------------------------------ what a request gets


@dataclass(frozen=True)
class Target:
    """What a request path resolves to: a file under the root, a redirect, or nothing (404)."""

    kind: str  # "file", "redirect" or "missing"
    location: str = ""  # file path on disk, or the redirect's URL path


MISSING = Target("missing")


def resolve(root: str, base_path: str, raw_path: str) -> Target:
    """Map a request path, as sent, to a file the build wrote under ``root`` (a resolved path).

    Decoded once; then refused if it has ``..``, ``.``, empty segments, a backslash, a NUL, a drive,
    or if the file found is not exactly where the path says (a symbolic link on the way).
    """
    if not raw_path.startswith("/"):
        return MISSING
    try:
        path = unquote(raw_path, errors="strict")
    except UnicodeDecodeError:
        return MISSING
    if "\x00" in path or "\\" in path:
        return MISSING
    if path == "/" or path + "/" == base_path:
        return Target("redirect", base_path) if base_path != "/" else _file(root, base_path, "index.html")
    if not path.startswith(base_path):
        return MISSING
    relative = path[len(base_path):]
    return _file(root, base_path, relative + "index.html" if relative == "" or relative.endswith("/") else relative)


def _file(root: str, base_path: str, relative: str) -> Target:
    if not is_safe_output_path(relative):
        return MISSING
    file = os.path.join(root, *relative.split("/"))
    if os.path.realpath(file) != file:  # a symbolic link somewhere on the way, or a trick
        return MISSING
    if os.path.isdir(file):
        return Target("redirect", quote(base_path + relative + "/"))
    if os.path.isfile(file):
        return Target("file", file)
    return MISSING


def content_type(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    known = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml", ".json": "application/json", ".xml": "application/xml", ".txt": "text/plain; charset=utf-8", "": "text/plain; charset=utf-8"}
    if suffix in known:
        return known[suffix]
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


# ------------------------------------------------------------------------------------ the reload script


_META = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_CSP_EQUIV = re.compile(r"""http-equiv\s*=\s*["']?content-security-policy["'\s>/]""", re.IGNORECASE)
_CONTENT = re.compile(r"""\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_HEAD_END = re.compile(r"</head\s*>", re.IGNORECASE)
_HOSTNAME = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$")


def widen_policy(policy: str, websocket: str) -> str:
    """The policy plus what the reload client needs: its script from this origin, its websocket."""
    directives = [d.strip() for d in policy.split(";") if d.strip()]
    for name, sources in (("script-src", ["'self'"]), ("connect-src", ["'self'", websocket])):
        for index, directive in enumerate(directives):
            tokens = directive.split()
            if tokens[0].lower() == name:
                kept = [t for t in tokens[1:] if t.lower() != "'none'"]
                directives[index] = " ".join([name, *kept, *(s for s in sources if s not in kept)])
                break
        else:
            directives.append(" ".join([name, *sources]))
    return "; ".join(directives)


def preview_html(data: bytes, hostname: str, port: int) -> bytes:
    """A page as the preview serves it: reload client injected, CSP widened for it. Never written to disk."""
    text = data.decode("utf-8", "surrogateescape")
    websocket = f"ws://{hostname}:{port}" if _HOSTNAME.match(hostname) else "'self'"

    def widen(match: re.Match[str]) -> str:
        tag = match.group(0)
        content = _CONTENT.search(tag)
        if not _CSP_EQUIV.search(tag) or content is None:
            return tag
        group = 1 if content.group(1) is not None else 2
        policy = html.escape(widen_policy(html.unescape(content.group(group)), websocket), quote=False)
        policy = policy.replace('"', "&quot;") if group == 1 else policy.replace("'", "&#39;")
        return tag[: content.start(group)] + policy + tag[content.end(group):]

    text = _META.sub(widen, text)
    script = f'<script src="/livereload.js?port={port}" defer></script>\n'
    head_end = _HEAD_END.search(text)
    text = text[: head_end.start()] + script + text[head_end.start():] if head_end else text + script
    return text.encode("utf-8", "surrogateescape")


ERROR_CSS = b"""body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1f;background:#fff}
main{max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;color:#9b1c1c}
ol{padding-left:1.25rem}li{margin:.75rem 0}
code{font:600 .9em ui-monospace,monospace;background:#f3f3f5;padding:.1em .3em;border-radius:3px}
.severity{font-weight:700;color:#9b1c1c}.warning .severity{color:#7a4d00}
.hint{display:block;color:#50505a}
@media (prefers-color-scheme:dark){body{color:#ececf1;background:#16161a}code{background:#2a2a31}h1,.severity{color:#ff8a8a}.warning .severity{color:#ffc46b}.hint{color:#b4b4c0}}
"""


def error_page(problems: Sequence[Problem], project: str) -> bytes:
    """Every problem of the failed build, as the terminal shows them; the reload brings the site back."""
    errors = sum(1 for p in problems if p.severity == "error")
    items = []
    for problem in problems:
        key = f"{html.escape(problem.key)}: " if problem.key else ""
        hint = f'<span class="hint">{html.escape(problem.hint)}</span>' if problem.hint else ""
        items.append(f'<li class="{problem.severity}"><code>{html.escape(str(problem.position))}</code> <span class="severity">{problem.severity}</span> {key}{html.escape(problem.message)}{hint}</li>')
    noun = "problem" if errors == 1 else "problems"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="robots" content="noindex">
<title>Build failed · site-builder preview</title>
<link rel="stylesheet" href="{PREVIEW_CSS_PATH}">
</head>
<body>
<main>
<h1>The site cannot be built: {errors} {noun}</h1>
<p>In {html.escape(project)}. Fix {"it" if errors == 1 else "them"} and save; this page turns back into the site by itself.</p>
<ol class="problems">
{chr(10).join(items)}
</ol>
</main>
</body>
</html>
""".encode("utf-8")


# ------------------------------------------------------------------------------------ HTTP


def host_allowed(host_header: str, bound_host: str) -> bool:
    """On a loopback address, answer only requests addressed to a loopback name (no DNS rebinding)."""
    if not is_loopback(bound_host):
        return True
    name = urlsplit(f"//{host_header}").hostname or ""
    return is_loopback(name)


def _read(file: str) -> bytes | None:
    """The file's bytes; None if a rebuild removed it since the path was resolved."""
    try:
        with open(file, "rb") as stream:
            return stream.read()
    except OSError:
        return None


class PreviewHandler(web.RequestHandler):
    """Every path but livereload's own: the built site, the error page, or 404."""

    def initialize(self, server: "PreviewServer") -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")

    def compute_etag(self) -> None:
        return None

    def get(self) -> None:
        if not host_allowed(self.request.host, self.server.options.host):
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(b"Forbidden: this preview answers only to localhost addresses.\n")
            return
        raw_path = self.request.path
        if raw_path == PREVIEW_CSS_PATH:
            self._send(200, "text/css; charset=utf-8", ERROR_CSS)
            return
        state = self.server.state
        target = resolve(self.server.root, state.base_path, raw_path)
        if target.kind == "redirect":
            self.redirect(target.location)
            return
        data = _read(target.location) if target.kind == "file" else None
        if not state.ok and (data is None or target.location.endswith(".html")):
            self._page(500, error_page(state.problems, str(self.server.options.project)))
        elif data is not None:
            kind = content_type(target.location)
            if kind.startswith("text/html"):
                self._page(200, data)
            else:
                self._send(200, kind, data)
        else:
            not_found = os.path.join(self.server.root, "404.html")
            if os.path.isfile(not_found):
                with open(not_found, "rb") as stream:
                    self._page(404, stream.read())
            else:
                self._send(404, "text/plain; charset=utf-8", b"Not found\n")

    head = get

    def _page(self, status: int, data: bytes) -> None:
        hostname = urlsplit(f"//{self.request.host}").hostname or "127.0.0.1"
        if ":" in hostname:
            hostname = f"[{hostname}]"
        self._send(status, "text/html; charset=utf-8", preview_html(data, hostname, self.server.port))

    def _send(self, status: int, kind: str, data: bytes) -> None:
        self.set_status(status)
        self.set_header("Content-Type", kind)
        self.finish(data)


class ReloadSocket(LiveReloadHandler):
    """livereload's websocket, answering only pages of this preview (and browser extensions)."""

    bound_host = DEFAULT_HOST

    def check_origin(self, origin: str) -> bool:
        parts = urlsplit(origin)
        if parts.scheme in ("chrome-extension", "moz-extension", "safari-web-extension"):
            return True
        return host_allowed(self.request.host, self.bound_host) and parts.netloc == self.request.host


@dataclass(frozen=True)
class ServedState:
    ok: bool = False
    problems: tuple[Problem, ...] = ()
    base_path: str = "/"


@dataclass
class PreviewServer:
    """The running preview: HTTP on the event loop, builds on a worker thread, one at a time."""

    options: ServeOptions
    console: Console = field(default_factory=Console)
    out: Path = field(init=False)
    root: str = field(init=False)
    port: int = field(init=False, default=0)
    state: ServedState = field(init=False, default_factory=ServedState)

    def __post_init__(self) -> None:
        self.out = Path(tempfile.mkdtemp(prefix="site-builder-serve-")).resolve()
        self.root = str(self.out)
        self.builder = PreviewBuilder(self.options.project, self.out, self.options.draft)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="site-builder-build")
        self._pending: set[str] = set()
        self._timer: object | None = None
        self._building = False
        self._loop: IOLoop | None = None
        self.watcher: Watcher | None = None

    def watched_folders(self) -> list[Path]:
        project = self.options.project.resolve()
        folders = [project / name for name in WATCHED]
        theme = default_theme_dir().resolve()
        if theme != project:
            folders += [theme / "templates", theme / "static"]
        return folders

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self._executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.out, ignore_errors=True)
        self.builder.close()

    # -- building

    def first_build(self) -> BuildReport:
        report = self._build(None, first=True)
        self._apply(report, announce=False)
        return report

    def _build(self, changed: set[str] | None, first: bool = False) -> BuildReport:
        """A rebuild; a bug in site-builder is shown like a content problem, and the server stays up."""
        try:
            return self.builder.build(changed, first=first)
        except Exception as exc:  # noqa: BLE001 - the preview must survive to show it
            bug = Problem(Position("site-builder"), f"internal error: {type(exc).__name__}: {exc}", hint="a bug in site-builder, not in your content; run 'site-builder --debug build' for the traceback and report it")
            return BuildReport(False, (bug,), self.state.base_path)

    def on_change(self, paths: set[str]) -> None:
        """From the watcher's thread: note the paths and (re)start the quiet-period timer."""
        if self._loop is not None:
            self._loop.add_callback(self._changed, paths)

    def _changed(self, paths: set[str]) -> None:
        assert self._loop is not None
        self._pending |= paths
        if self._timer is not None:
            self._loop.remove_timeout(self._timer)
        self._timer = self._loop.call_later(self.options.debounce, self._quiet)

    def _quiet(self) -> None:
        self._timer = None
        if not self._building:
            asyncio.ensure_future(self._rebuild())

    async def _rebuild(self) -> None:
        assert self._loop is not None
        self._building = True
        try:
            while self._pending and self._timer is None:
                changed, self._pending = self._pending, set()
                exhaustive = self.watcher is not None and self.watcher.exhaustive
                report = await self._loop.run_in_executor(self._executor, self._build, changed if exhaustive else None)
                self._apply(report, announce=True)
        finally:
            self._building = False

    def _apply(self, report: BuildReport, announce: bool) -> None:
        before = self.state
        self.state = ServedState(report.ok, report.errors if not report.ok else (), report.base_path)
        if report.ok:
            files = len(report.changed) + len(report.removed)
            summary = f"{report.rendered} page{'s' if report.rendered != 1 else ''} rendered, {report.reused} reused, {files} file{'s' if files != 1 else ''} {'changed' if announce else 'written'}"
            if report.problems:
                self.console.problems(report.problems)
            self.console.say(f"{'Rebuilt' if announce else 'Built'} in {report.seconds * 1000:.0f} ms: {summary}")
            if announce and (report.changed or report.removed or not before.ok):
                self._reload(report)
        else:
            self.console.problems(report.problems)
            self.console.say(f"Build failed: {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}; the browser shows {'it' if len(report.errors) == 1 else 'them'} until fixed")
            if announce and (before.ok or before.problems != self.state.problems):
                self._reload(report)

    def _reload(self, report: BuildReport) -> None:
        changed = [*report.changed, *report.removed]
        if report.ok and changed and all(p.endswith(".css") for p in changed) and self.state.ok:
            path = report.base_path + changed[0]  # livereload.js swaps style sheets without a reload
        else:
            path = report.base_path
        LiveReloadHandler.watcher = self  # type: ignore[assignment]  # reload_waiters logs watcher.filepath
        ReloadSocket.reload_waiters(path)

    # -- serving

    def application(self) -> web.Application:
        ReloadSocket.bound_host = self.options.host
        LiveReloadHandler.live_css = True
        return web.Application(
            [
                (r"/livereload", ReloadSocket),
                (r"/livereload\.js", LiveReloadJSHandler),
                (r".*", PreviewHandler, {"server": self}),
            ],
            compress_response=False,
            log_function=lambda handler: None,  # the terminal is for the build's problems, not for each request
        )

    filepath = None  # read by livereload's reload_waiters when it logs

    def bind(self) -> list[socket.socket]:
        try:
            sockets = netutil.bind_sockets(self.options.port, self.options.host)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.options.host, self.options.port, free_port(self.options.host, self.options.port)) from exc
            raise
        self.port = sockets[0].getsockname()[1]
        return sockets

    def url(self) -> str:
        host = self.options.host
        if ":" in host:
            host = f"[{host}]"
        if host in ("0.0.0.0", "[::]"):
            host = "127.0.0.1"
        return f"http://{host}:{self.port}{self.state.base_path}"

    def serve(self, sockets: list[socket.socket]) -> None:
        """Serve until interrupted (Ctrl+C or SIGTERM)."""

        async def main() -> None:
            self._loop = IOLoop.current()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                try:
                    loop.add_signal_handler(signum, stop.set)
                except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
                    pass
            server = httpserver.HTTPServer(self.application())
            server.add_sockets(sockets)
            self.watcher = self._start_watcher()
            self.console.say(f"Serving the {'draft' if self.options.draft else 'released'} site at {self.url()} (watching {', '.join(WATCHED)} with {self.watcher.name}; Ctrl+C to stop)")
            if self.options.open_browser:
                loop.run_in_executor(None, webbrowser.open, self.url())
            await stop.wait()
            server.stop()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            pass

    def _start_watcher(self) -> Watcher:
        watcher = make_watcher(self.options.watcher, self.watched_folders())
        try:
            watcher.start(self.on_change)
        except OSError as exc:  # e.g. inotify's limit on watches
            self.console.say(f"warning: cannot watch for changes with operating-system events ({exc}); scanning every 0.1 s instead")
            try:
                watcher.stop()
            except Exception:  # noqa: BLE001 - it never fully started
                pass
            watcher = ScanWatcher(self.watched_folders())
            watcher.start(self.on_change)
        return watcher


def free_port(host: str, taken: int) -> int | None:
    """A port near ``taken`` that nothing listens on, to suggest."""
    for candidate in [*range(taken + 1, taken + 20), 0]:
        try:
            with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind((host, candidate))
                return probe.getsockname()[1]
        except OSError:
            continue
    return None
