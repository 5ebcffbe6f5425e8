"""A one-line progress display for long builds: "Rendering pages 1,234/3,864" on a terminal.

Shown only when the stream is a terminal, ``--quiet`` is not given, and the build has already
taken longer than ``delay`` seconds, so quick builds and logs (CI, pipes) never see it. It redraws
at most ten times a second and erases itself when done, leaving the terminal as it was.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

ProgressCallback = Callable[[int, int], None]  # (pages done, pages in all)


class Progress:
    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None, delay: float = 1.0, label: str = "Rendering pages", clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self.delay = delay
        self.label = label
        self.clock = clock
        self.started = clock()
        self._drawn_at = -1.0
        self._width = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.started < self.delay or (now - self._drawn_at < 0.1 and done < total):
            return
        self._drawn_at = now
        text = f"{self.label} {done:,}/{total:,}"
        self.stream.write("\r" + text + " " * max(0, self._width - len(text)))
        self.stream.flush()
        self._width = len(text)

    def finish(self) -> None:
        """Erase the line, if one was drawn."""
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
