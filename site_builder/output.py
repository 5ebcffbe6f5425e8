"""Render straight into the staging folder: flat memory, and unchanged files linked, not rewritten.

``render_site`` keeps every file in memory, which serve needs. A build does not: this module renders
page after page into a ``StagedWriter`` and keeps only a small ``FileRecord`` per file (its page
cache key, a hash of its bytes and the stat of the file written), so a 5,000-app site never holds
its hundreds of megabytes of HTML at once.

With the records of the previous build (``previous``, from the persistent cache), a page whose
cache key is unchanged is not rendered at all, and any file whose bytes are unchanged is not
written: both are hard-linked from the previous output, provided that file is still the one the
records describe (same inode, size and modification time). The output is byte-identical to a
clean build either way: a linked file holds exactly the bytes the record names.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from .progress import ProgressCallback
from .render import Finisher, Generator, Page, RenderContext, RenderedSite, RenderError, make_environment, render_page, site_items
from .theme import Theme
from .write import StagedWriter

if TYPE_CHECKING:
    import jinja2

    from .incremental import RenderCache

Signature = tuple[int, int, int]  # (inode, size, mtime in ns) of a file as written


@dataclass(frozen=True)
class FileRecord:
    """What the cache remembers about one output file."""

    key: str  # the page's render-cache key; "" for assets and pages without one
    digest: bytes  # BLAKE2b-128 of the bytes
    signature: Signature


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def signature_of(info: os.stat_result) -> Signature:
    # not ctime: a hard link changes it, and linking is how an unchanged file is kept
    return (info.st_ino, info.st_size, info.st_mtime_ns)


class _Emitter:
    """Writes or links one file at a time and records it."""

    def __init__(self, writer: StagedWriter, previous: Mapping[str, FileRecord]) -> None:
        self.writer = writer
        self.previous = previous
        self.records: dict[str, FileRecord] = {}

    def still_there(self, path: str, record: FileRecord) -> bool:
        """The previous output still holds exactly the file this record describes."""
        try:
            return signature_of(os.stat(os.path.join(self.writer.out, path), follow_symlinks=False)) == record.signature
        except OSError:
            return False

    def reuse(self, path: str, key: str) -> bool:
        """Link the previous page when its key is unchanged; False when it must be rendered."""
        record = self.previous.get(path)
        if not key or record is None or record.key != key or not self.still_there(path, record) or not self.writer.link(path):
            return False
        self.records[path] = record
        return True

    def emit(self, path: str, data: bytes, key: str = "") -> None:
        digest = digest_of(data)
        record = self.previous.get(path)
        if record is not None and record.digest == digest and self.still_there(path, record) and self.writer.link(path):
            self.records[path] = FileRecord(key, digest, record.signature)
            return
        self.records[path] = FileRecord(key, digest, signature_of(self.writer.write(path, data)))


MIN_PAGES_PER_WORKER = 200  # below this, starting a process costs more than it saves


def default_jobs() -> int:
    """One rendering process per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _render_in_parallel(environment: "jinja2.Environment", ctx: RenderContext, pending: list[tuple[Page, str]], emitter: _Emitter, workers: int, tick: Callable[[int], None] | None) -> dict[str, FileRecord]:
    """Render ``pending`` in ``workers`` processes (this one included) forked from this one.

    Each worker writes its pages into the staging folder itself and sends back only their records,
    so no page's bytes cross a pipe; the pages and their bytes are the same whoever renders them.
    A worker's failure (a template error) is raised here, as if this process had rendered the page.
    """
    if not hasattr(os, "fork"):
        workers = 1
    for name in dict.fromkeys(page.template for page, _ in pending):
        try:
            environment.get_template(name)  # compiled once, before the fork, for every worker
        except Exception:  # noqa: BLE001 - render_page reports it with the page's path
            pass
    chunks = [pending[index::workers] for index in range(workers)]
    counters = mmap.mmap(-1, 8 * workers)  # shared with the workers: pages done by each
    children: list[tuple[int, int]] = []
    for index in range(1, workers):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: render its share, report, and leave without running any parent code
            os.close(read_end)
            code = 0
            try:
                mine = _Emitter(emitter.writer, emitter.previous)
                try:
                    for done, (page, key) in enumerate(chunks[index], start=1):
                        mine.emit(page.path, render_page(environment, ctx, page), key)
                        struct.pack_into("q", counters, 8 * index, done)
                    message: tuple = ("ok", mine.records)
                except RenderError as exc:
                    message = ("render-error", str(exc))
                except BaseException as exc:  # noqa: BLE001 - becomes the parent's internal error
                    message = ("error", f"{type(exc).__name__}: {exc}")
                with os.fdopen(write_end, "wb") as stream:
                    stream.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            except BaseException:  # noqa: BLE001
                code = 1
            finally:
                os._exit(code)
        os.close(write_end)
        children.append((pid, read_end))
    records: dict[str, FileRecord] = {}
    failure: tuple | None = None
    try:
        for done, (page, key) in enumerate(chunks[0], start=1):
            emitter.emit(page.path, render_page(environment, ctx, page), key)
            if tick is not None:
                struct.pack_into("q", counters, 0, done)
                tick(sum(struct.unpack_from(f"{workers}q", counters)))
    finally:
        for pid, read_end in children:
            with os.fdopen(read_end, "rb") as stream:
                data = stream.read()
            _, status = os.waitpid(pid, 0)
            try:
                message = pickle.loads(data) if data else ("error", f"a rendering process ended with status {status}")
            except Exception:  # noqa: BLE001
                message = ("error", "a rendering process sent an unreadable report")
            if message[0] == "ok":
                records.update(message[1])
            elif failure is None:
                failure = message
        counters.close()
    if failure is not None:
        if failure[0] == "render-error":
            raise RenderError(failure[1])
        raise RuntimeError(f"rendering in parallel failed: {failure[1]}")
    return records


def stream_site(
    ctx: RenderContext,
    theme: Theme,
    generators: Iterable[Generator],
    finishers: Iterable[Finisher],
    writer: StagedWriter,
    *,
    previous: Mapping[str, FileRecord] | None = None,
    cache: "RenderCache | None" = None,
    progress: ProgressCallback | None = None,
    jobs: int | None = None,
) -> tuple[RenderedSite, dict[str, FileRecord]]:
    """``render_site``, streamed into ``writer``; returns the site (without bytes) and a record per file.

    ``cache`` supplies the page keys (its template analysis and value fingerprints); without one,
    every page is rendered and only files with unchanged bytes are linked. Pages to render are
    shared among ``jobs`` processes (default: one per core) when there are enough of them.
    """
    environment = cache.environment(theme) if cache else make_environment(theme)
    session = cache.renderer(environment, ctx).__self__ if cache else None  # the session's key(page)
    emitter = _Emitter(writer, previous or {})
    files, pages = site_items(ctx, theme, generators)
    for path, data in files.items():
        emitter.emit(path, data)
    del files
    total = len(pages)
    pending: list[tuple[Page, str]] = []
    for page in pages:
        key = (session.key(page) or "") if session is not None else ""
        if not emitter.reuse(page.path, key):
            pending.append((page, key))
    reused = total - len(pending)
    tick = (lambda done: progress(reused + done, total)) if progress is not None else None
    workers = min(jobs if jobs is not None else default_jobs(), max(1, len(pending) // MIN_PAGES_PER_WORKER))
    if workers > 1:
        emitter.records.update(_render_in_parallel(environment, ctx, pending, emitter, workers, tick))
    else:
        for done, (page, key) in enumerate(pending, start=1):
            emitter.emit(page.path, render_page(environment, ctx, page), key)
            if tick is not None:
                tick(done)
    if progress is not None:
        progress(total, total)
    page_tuple = tuple(pages)
    for finisher in finishers:
        for asset in finisher(ctx, page_tuple):
            emitter.emit(asset.path, asset.data)
    return RenderedSite({}, page_tuple, streamed=len(emitter.records)), emitter.records
