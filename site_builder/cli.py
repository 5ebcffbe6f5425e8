"""The command line: argument parsing, printing problems, exit codes. No content logic here."""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Sequence

from . import __version__
from .commands import COMMANDS

BUG_REPORT = "https://github.com/site-builder/site-builder/issues"


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="site-builder",
        description="Build a versioned, static trust-center site from a security policy in YAML and Markdown.",
    )
    parser.add_argument("--version", action="version", version=f"site-builder {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback when site-builder itself fails")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS:
        register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # our bug, not the user's content
        if args.debug:
            traceback.print_exc()
        else:
            detail = (str(exc).splitlines() or [""])[0][:200]  # one line, whatever the exception says
            print(f"site-builder: internal error: {type(exc).__name__}: {detail}. This is a bug in site-builder; please report it with the command you ran at {BUG_REPORT} (rerun with --debug for the traceback).", file=sys.stderr)
        return 2


def run() -> None:
    sys.exit(main())
