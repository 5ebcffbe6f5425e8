"""Render straight into the staging folder: flat memory, and unchanged files linked, not rewritten.

``render_site`` keeps every file in memory, which serve needs. A build does not: this module renders
page after page into a ``StagedWriter`` and keeps only a small ``FileRecord`` per file (its page
cache key, a hash of its bytes and the stat of the file written), so a 5,000-app site never holds
its hundreds of megabytes of HTML at once. Generated files are written as they are made, a page
larger than ``STREAM_BYTES`` as it is rendered, and a build that runs once (``once``) lets go of
what it derived and hashed as soon as it is done with it (``OneBuildMemo``, ``release_free_memory``).

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
from itertools import chain, islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, NamedTuple, TypeVar

from ..cache.memo import IdentityMemo
from ..render.engine import claim, Asset, Finisher, Generator, Page, RenderContext, RenderedSite, RenderError, make_environment, page_variables, render_page
from ..render.theme import Theme
from .staging import MARKER, StagedWriter

if TYPE_CHECKING:
    import jinja2

    from ..commands.progress import ProgressCallback

    from ..cache.incremental import RenderCache

T = TypeVar("T")
Signature = tuple[int, int, int]  # (inode, size, mtime in ns) of a file as written


class FileRecord(NamedTuple):
    """What the cache remembers about one output file (a tuple: 29,000 of them at 5,000 apps, pickled on every build)."""

    key: str  # the page's render-cache key; "" for assets and pages without one
    digest: bytes  # BLAKE2b-128 of the bytes
    signature: Signature


def digest_of(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def signature_of(info: os.stat_result) -> Signature:
    # not ctime: a hard link changes it, and linking is how an unchanged file is kept
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def output_is_intact(out: Path, records: Mapping[str, FileRecord]) -> bool:
    """``out`` holds exactly the recorded files, each the very file written (inode, size, mtime), and
    the output marker: no file missing, changed or replaced, and no other file, folder or link."""
    folders = {""}
    for path in records:
        folder = path.rpartition("/")[0]
        while folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    found, marker = 0, False
    pending = [("", str(out))]
    try:
        while pending:
            prefix, folder = pending.pop()
            with os.scandir(folder) as entries:
                for entry in entries:
                    path = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if path not in folders:
                            return False
                        pending.append((path + "/", entry.path))
                    elif not entry.is_file(follow_symlinks=False):
                        return False
                    elif path == MARKER:
                        marker = True
                    else:
                        record = records.get(path)
                        if record is None or signature_of(entry.stat(follow_symlinks=False)) != record.signature:
                            return False
                        found += 1
    except OSError:
        return False
    return marker and found == len(records)


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

    def render(self, environment: "jinja2.Environment", ctx: RenderContext, page: Page, key: str) -> None:
        """``emit(page.path, render_page(...))``, but a large page is written as it is rendered.

        Jinja's ``render`` holds every piece of a page and its whole text at once, then the bytes:
        up to five times the page's size. Pieces
        are joined and encoded a few hundred at a time instead; past ``STREAM_BYTES`` they go to the
        file as they come. The bytes are the same: UTF-8 encodes each character on its own.
        """
        head: list[bytes] = []
        try:
            chunks = _encoded_chunks(environment.get_template(page.template).generate(page_variables(ctx, page)))
            size = 0
            for chunk in chunks:
                head.append(chunk)
                size += len(chunk)
                if size >= STREAM_BYTES:
                    break
            else:
                chunks = None  # the whole page is in ``head``
            if chunks is not None:
                h = hashlib.blake2b(digest_size=16)
                info = self.writer.write(page.path, _hashing(h, chain(head, chunks)))
                self.records[page.path] = FileRecord(key, h.digest(), signature_of(info))
                return
        except Exception:  # noqa: BLE001 - render_page reports a template's failure its own way (templates are deterministic)
            head = [render_page(environment, ctx, page)]
        self.emit(page.path, b"".join(head), key)


STREAM_BYTES = 1 << 20  # a page larger than this is written as it is rendered, never whole in memory
_PIECES_PER_CHUNK = 256


def _encoded_chunks(pieces: Iterator[str]) -> Iterator[bytes]:
    """A template's output pieces as UTF-8, a few hundred at a time (islice and join run in C)."""
    while True:
        part = list(islice(pieces, _PIECES_PER_CHUNK))
        if not part:
            return
        yield "".join(part).encode("utf-8")


def _hashing(h: "hashlib._Hash", chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        h.update(chunk)
        yield chunk


def _generate(ctx: RenderContext, theme: Theme, generators: Iterable[Generator], emitter: _Emitter) -> list[Page]:
    """``render.site_items``, but each file is written as soon as it is made: the pages to render.

    No file's bytes wait in memory for the others (``trust.json`` alone is tens of megabytes at 5,000 apps).
    Each path is claimed once, static files first, with site_items' error for a second claim.
    """
    claimed: set[str] = set()
    for path, data in theme.static_files:
        claimed.add(path)
        emitter.emit(path, data)
    pages: list[Page] = []
    for generator in generators:
        for item in generator(ctx):
            claim(claimed, item.path)
            if isinstance(item, Asset):
                emitter.emit(item.path, item.data)
            else:
                pages.append(item)
        release_free_memory()  # what a generator made and wrote (trust.json's parts) is freed now
    return pages


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None).malloc_trim  # glibc
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Give memory that was freed back to the system (glibc keeps it otherwise, so that it still counts).

    A build frees large amounts at a few points (files written, derived values and fingerprints let
    go); without this the process keeps them until it exits and its peak is their sum. A no-op
    where the C library has no ``malloc_trim``.
    """
    if _TRIM is not None:
        _TRIM(0)


_BY_VALUE = (str, int, float, bool, type(None))  # as IdentityMemo: equal values are the same input


class OneBuildMemo(IdentityMemo):
    """``ctx.memo`` for a build that runs once: generators share what they derive, no file's bytes are kept.

    ``IdentityMemo`` keeps every result for the next rebuild in the same process (serve), file
    contents included: at 5,000 apps, tens of megabytes of JSON that a one-shot build writes once and never
    asks for again. This memo shares results within the build (a release's changes serve its page
    and the feed, an app's answers its JSON and its Marketplace kit) and drops files (``Asset``,
    ``bytes``, tuples of them) as soon as they are returned, so they are freed once written.
    """

    def __init__(self) -> None:
        super().__init__()
        self._results: dict[tuple, tuple[tuple, Any]] = {}

    def next_generation(self) -> None:
        self._results.clear()

    def __call__(self, function: Callable[..., T], *args: Any) -> T:
        key = (function, *(arg if isinstance(arg, _BY_VALUE) else id(arg) for arg in args))
        hit = self._results.get(key)
        if hit is not None and all(old is new or (isinstance(new, _BY_VALUE) and old == new) for old, new in zip(hit[0], args)):
            return hit[1]
        value = function(*args)
        if not _is_file_content(value):
            self._results[key] = (args, value)  # holding the arguments keeps their ids from being reused
        return value

    def each(self, function: Callable[..., T], items: Iterable[Any], *shared: Any) -> tuple[T, ...]:
        return tuple([self(function, item, *shared) for item in items])

    def __len__(self) -> int:
        return len(self._results)


def _is_file_content(value: object) -> bool:
    """A file, or a tuple with one in it (``(kit, badge)``): kept, the file would stay in memory."""
    if isinstance(value, tuple):
        return any(isinstance(item, (Asset, bytes)) for item in value)
    return isinstance(value, (Asset, bytes))


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
                        mine.render(environment, ctx, page, key)
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
            emitter.render(environment, ctx, page, key)
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
                emitter.writer.adopt(message[1])  # this process's writer did not see those files made
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
    once: bool = False,
) -> tuple[RenderedSite, dict[str, FileRecord]]:
    """``render_site``, streamed into ``writer``; returns the site (without bytes) and a record per file.

    ``cache`` supplies the page keys (its template analysis and value fingerprints); without one,
    every page is rendered and only files with unchanged bytes are linked. Pages to render are
    shared among ``jobs`` processes (default: one per core) when there are enough of them.
    ``once``: this process builds once (``site-builder build``), so ``ctx.memo`` and ``cache``
    will not serve another build; what they hold is let go as soon as this one is done with it,
    before the pages are rendered (and before rendering processes are forked).
    """
    environment = cache.environment(theme) if cache else make_environment(theme)
    session = cache.session(environment, ctx) if cache else None  # for its key(page)
    emitter = _Emitter(writer, previous or {})
    pages = _generate(ctx, theme, generators, emitter)
    if once and ctx.memo is not None:  # what generators derived and no page holds
        ctx.memo.next_generation()
        ctx.memo.next_generation()
        release_free_memory()
    total = len(pages)
    pending: list[tuple[Page, str]] = []
    for page in pages:
        key = (session.key(page) or "") if session is not None else ""
        if not emitter.reuse(page.path, key):
            pending.append((page, key))
    if once and cache is not None:  # the keys are made: the content hashes behind them are not needed
        session = None
        cache.forget_fingerprints()
        release_free_memory()
    reused = total - len(pending)
    tick = (lambda done: progress(reused + done, total)) if progress is not None else None
    workers = min(jobs if jobs is not None else default_jobs(), max(1, len(pending) // MIN_PAGES_PER_WORKER))
    if workers > 1:
        emitter.records.update(_render_in_parallel(environment, ctx, pending, emitter, workers, tick))
    else:
        for done, (page, key) in enumerate(pending, start=1):
            emitter.render(environment, ctx, page, key)
            if tick is not None:
                tick(done)
    if progress is not None:
        progress(total, total)
    page_tuple = tuple(pages)
    for finisher in finishers:
        for asset in finisher(ctx, page_tuple):
            emitter.emit(asset.path, asset.data)
    return RenderedSite({}, page_tuple, streamed=len(emitter.records)), emitter.records
