"""Options and output shared by several commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import Sequence

from ..errors import Problem, Problems


def add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR", help="project folder holding content/ (default: the current folder)")


def print_problems(problems: Sequence[Problem], *, strict: bool = False, stream=None) -> None:
    stream = stream or sys.stderr
    for problem in problems:
        print(str(problem), file=stream)
    errors = sum(1 for p in problems if p.severity == "error" or strict)
    warnings = len(problems) - errors
    if problems:
        parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
        if warnings:
            parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
        print(", ".join(parts) + (" (warnings count as errors with --strict)" if strict and warnings == 0 and errors else ""), file=stream)


def report(problems: Problems, *, strict: bool = False) -> bool:
    """Print every problem; True when the command may go on."""
    print_problems(problems.sorted(), strict=strict)
    return not problems.has_errors(strict=strict)


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def say(text: str) -> None:
    print(text, file=sys.stdout)
