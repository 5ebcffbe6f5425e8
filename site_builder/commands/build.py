"""site-builder build: render the project and swap the result into the output folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..content.dates import build_date
from ..pipeline import BuildOptions, build
from .progress import Progress
from .common import add_project_option, display_path, report, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="build the site", description="Build the trust-center site into a folder. A failed build leaves the previous output untouched.")
    add_project_option(parser)
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="output folder (default: DIR/build)")
    parser.add_argument("--draft", action="store_true", help="publish the working copy (edits after the latest release) with a draft banner and noindex")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--check", action="store_true", help="run 'site-builder check' on the output after a successful build")
    parser.add_argument("--quiet", "-q", action="store_true", help="print problems only: no progress display and no summary line")
    parser.add_argument("--no-cache", dest="use_cache", action="store_false", help="ignore and do not update .site-builder-cache/ (the output is the same, only slower)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="render with N processes (default: one per core; the output is the same)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    out = args.out if args.out is not None else args.project / "build"
    progress = Progress(enabled=False if args.quiet else None)
    try:
        result = build(args.project, out, BuildOptions(build_date=build_date(), draft=args.draft, strict=args.strict), use_cache=args.use_cache, progress=progress, jobs=args.jobs)
    finally:
        progress.finish()
    if not report(result.problems, strict=args.strict) or result.site is None:
        say("Build failed; the previous output was left as it was.")
        return 1
    kind = "draft" if result.draft else "released"
    if not args.quiet:
        say(f"Wrote {result.page_count} pages ({result.site.file_count} files, {kind}) to {display_path(out)}/")
    if getattr(args, "check", False):
        from .check import check_built_site

        return check_built_site(args.project, out, strict=args.strict)
    return 0
