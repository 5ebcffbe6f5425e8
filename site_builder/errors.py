"""Problems are values: every stage returns them, the CLI prints them all at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

from .pickling import pickled_by_fields

Severity = Literal["error", "warning"]


@pickled_by_fields
@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A place in a source file; line and column are 1-based, 0 means unknown."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        path = _printable(self.path)
        if self.line and self.column:
            return f"{path}:{self.line}:{self.column}"
        if self.line:
            return f"{path}:{self.line}"
        return path


def _printable(text: str) -> str:
    """A file name with a newline or an escape sequence in it must not break the one-line report or the terminal."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, with where it is and what to do about it."""

    position: Position
    message: str
    key: str = ""
    hint: str = ""
    severity: Severity = "error"

    def __str__(self) -> str:
        text = f"{self.position}: "
        if self.severity == "warning":
            text += "warning: "
        if self.key:
            text += f"{self.key}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return _printable(text)  # a key or value from the file may hold a newline: still one line

    def sort_key(self) -> tuple:
        return (self.position, self.key, self.message)


@dataclass
class Problems:
    """An append-only collection that a stage fills and the caller inspects."""

    items: list[Problem] = field(default_factory=list)

    def error(self, position: Position, message: str, *, key: str = "", hint: str = "") -> None:
        self.items.append(Problem(position, message, key, hint, "error"))

    def warning(self, position: Position, message: str, *, key: str = "", hint: str = "") -> None:
        self.items.append(Problem(position, message, key, hint, "warning"))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    def has_errors(self, *, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def sorted(self) -> list[Problem]:
        unique = {(p.sort_key(), p.severity, p.hint): p for p in self.items}
        return sorted(unique.values(), key=Problem.sort_key)


class ContentError(Exception):
    """Raised only at the edge (CLI, server) to carry collected problems out of the pipeline."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
