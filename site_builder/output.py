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
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from .progress import ProgressCallback
from .render import Finisher, Generator, Page, RenderContext, RenderedSite, make_environment, render_page, site_items
from .theme import Theme
from .write import StagedWriter

if TYPE_CHECKING:
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
) -> tuple[RenderedSite, dict[str, FileRecord]]:
    """``render_site``, streamed into ``writer``; returns the site (without bytes) and a record per file.

    ``cache`` supplies the page keys (its template analysis and value fingerprints); without one,
    every page is rendered and only files with unchanged bytes are linked.
    """
    environment = cache.environment(theme) if cache else make_environment(theme)
    session = cache.renderer(environment, ctx).__self__ if cache else None  # the session's key(page)
    emitter = _Emitter(writer, previous or {})
    files, pages = site_items(ctx, theme, generators)
    for path, data in files.items():
        emitter.emit(path, data)
    del files
    total = len(pages)
    for done, page in enumerate(pages, start=1):
        key = (session.key(page) or "") if session is not None else ""
        if not emitter.reuse(page.path, key):
            emitter.emit(page.path, render_page(environment, ctx, page), key)
        if progress is not None:
            progress(done, total)
    page_tuple = tuple(pages)
    for finisher in finishers:
        for asset in finisher(ctx, page_tuple):
            emitter.emit(asset.path, asset.data)
    return RenderedSite({}, page_tuple, streamed=len(emitter.records)), emitter.records
