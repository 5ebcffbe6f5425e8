"""site-builder check: report what is wrong with a built site, as a reviewer's tools would."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..content.dates import build_date
from .common import add_project_option, display_path, report, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check a built site",
        description="Check a built site: broken links and #anchors, duplicate ids, headings, alt text, table headers, "
        "inline script or style, third-party resources, http: links, security.txt expiry, and how long ago the policy was reviewed. "
        "Exit status 1 when there are errors.",
    )
    add_project_option(parser)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="the built site (default: DIR/build)")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else args.project / "build"
    return check_built_site(args.project, out, strict=args.strict)


def check_built_site(project: Path, out: Path, *, strict: bool = False) -> int:
    """Shared with ``build --check``: print every problem, return the exit status."""
    from ..check.site import check_project  # lxml and its parsers: loaded only when a check runs, not on every build

    shown = display_path(out)
    problems = check_project(project, out, build_date(), display=shown)
    if not report(problems, strict=strict):
        say(f"Check failed for {shown}/.")
        return 1
    say(f"Checked {shown}/: no errors.")
    return 0
