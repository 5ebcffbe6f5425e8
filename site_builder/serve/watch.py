"""Noticing edits: which files under the watched folders changed, as soon as they change.

``serve`` needs to hear about a save within milliseconds. livereload's own watcher polls every
800 ms and walks every file each time, which alone can delay an edit by a whole polling interval and
grows with the project (see benchmarks/reload_latency.py and BENCHMARKS.md, 'Figures behind the code'). So:

* ``EventWatcher`` uses the operating system's change notifications through ``watchdog``
  (inotify on Linux, FSEvents on macOS, ReadDirectoryChangesW on Windows): no polling, no cost
  while idle, and the event arrives as the file is written.
* ``ScanWatcher`` compares ``stat()`` of every file every 100 ms: the fallback when the system
  refuses more notifications (inotify's watch limit) or watchdog is missing.
* ``LivereloadWatcher`` is livereload's own polling watcher, kept so the benchmark can compare.

Each calls ``on_change(paths)`` from its own thread; the server debounces bursts.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, Iterable, Protocol

OnChange = Callable[[set[str]], None]


class Watcher(Protocol):
    exhaustive: bool  # reports every changed path, so a rebuild may trust it (LoadMemo.trust)
    name: str

    def start(self, on_change: OnChange) -> None: ...

    def stop(self) -> None: ...


def _inside(path: str, roots: Iterable[Path]) -> bool:
    return any(path == str(root) or path.startswith(str(root) + os.sep) for root in roots)


class EventWatcher:
    """Operating-system change notifications for every folder in ``roots``, recursively.

    The parent of each root is watched too (not recursively), so that a ``templates/`` folder
    created after the server started is noticed and watched from then on.
    """

    name = "events"
    exhaustive = True

    def __init__(self, roots: Iterable[Path]) -> None:
        from watchdog.observers import Observer  # imported here: only serve needs it

        self.roots = tuple(Path(r).resolve() for r in roots)
        self._observer = Observer()
        self._watched: set[Path] = set()
        self._lock = threading.Lock()

    def start(self, on_change: OnChange) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler

        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                if event.event_type in ("opened", "closed_no_write"):
                    return  # reads, not changes
                paths = {os.fsdecode(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
                for path in list(paths):
                    if Path(path) in watcher.roots:
                        watcher._watch(Path(path), self)
                relevant = {p for p in paths if _inside(p, watcher.roots)}
                if relevant:
                    on_change(relevant)

        handler = Handler()
        for parent in sorted({root.parent for root in self.roots}):
            if parent.is_dir():
                self._observer.schedule(handler, str(parent), recursive=False)
        for root in self.roots:
            self._watch(root, handler)
        self._observer.start()

    def _watch(self, root: Path, handler: object) -> None:
        with self._lock:
            if root in self._watched or not root.is_dir():
                return
            self._observer.schedule(handler, str(root), recursive=True)  # type: ignore[arg-type]
            self._watched.add(root)

    def stop(self) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)


def snapshot(roots: Iterable[Path]) -> dict[str, tuple[int, int, int]]:
    """``{path: (mtime_ns, size, inode)}`` of every file and folder under ``roots``."""
    found: dict[str, tuple[int, int, int]] = {}
    stack = [str(root) for root in roots]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            found[entry.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
    return found


class ScanWatcher:
    """Compares ``stat()`` of every file under ``roots`` every ``interval`` seconds."""

    name = "scan"
    exhaustive = True

    def __init__(self, roots: Iterable[Path], interval: float = 0.1) -> None:
        self.roots = tuple(Path(r).resolve() for r in roots)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_change: OnChange) -> None:
        before = snapshot(self.roots)

        def run() -> None:
            nonlocal before
            while not self._stop.wait(self.interval):
                after = snapshot(self.roots)
                changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
                before = after
                if changed:
                    on_change(changed)

        self._thread = threading.Thread(target=run, name="site-builder-scan", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


class LivereloadWatcher:
    """livereload's own ``Watcher``, polled every 800 ms as ``livereload.Server`` does (for comparison)."""

    name = "livereload"
    exhaustive = False  # livereload's examine() names the first changed file only
    INTERVAL = 0.8  # livereload.handlers.LiveReloadHandler.start_tasks

    def __init__(self, roots: Iterable[Path]) -> None:
        from livereload.watcher import Watcher as PollingWatcher

        self.roots = tuple(Path(r).resolve() for r in roots)
        self._watcher = PollingWatcher()
        for root in self.roots:
            self._watcher.watch(str(root))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, on_change: OnChange) -> None:
        self._watcher.examine()  # the first look records every file's mtime

        def run() -> None:
            while not self._stop.wait(self.INTERVAL):
                path, _delay = self._watcher.examine()
                if path:
                    on_change({path})

        self._thread = threading.Thread(target=run, name="site-builder-livereload-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def make_watcher(kind: str, roots: Iterable[Path]) -> Watcher:
    """``auto``: operating-system events, else the stat scan; or ``events``, ``scan``, ``livereload``."""
    roots = tuple(roots)
    if kind == "livereload":
        return LivereloadWatcher(roots)
    if kind == "scan":
        return ScanWatcher(roots)
    try:
        return EventWatcher(roots)
    except ImportError:
        if kind == "events":
            raise
        return ScanWatcher(roots)
