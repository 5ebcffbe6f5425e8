"""site-builder publish: put the site where a web server reads it, or into a reproducible archive.

``publish DIR`` renders the project (the same pipeline as ``build``) and swaps the result into
DIR whole (``write.write_site``): readers see the old site or the new one, never a mix, and files
that are no longer part of the site disappear. Like ``build``, it refuses to replace a folder that
site-builder did not write. ``--archive FILE`` writes a ``.tar.gz`` or ``.zip`` that is byte-identical
for identical input, plus ``SHA256SUMS`` beside it.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from ..emit.archive import CHECKSUMS, archive_kind, fixed_mtime, write_archive
from ..content.dates import build_date
from ..errors import Problems
from ..releases.project import load_project
from ..pipeline import BuildOptions, render_project
from ..emit.staging import check_output_folder, write_site
from .common import add_project_option, display_path, report, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "publish",
        help="copy the site into a web server's folder, or into a reproducible archive",
        description="Render the site and swap it into DIR in one step (stale files removed), and/or write a reproducible "
        ".tar.gz or .zip with SHA256SUMS beside it. Set SOURCE_DATE_EPOCH to pin the build date and the archive's timestamps.",
    )
    parser.add_argument("dir", type=Path, nargs="?", metavar="DIR", help="folder to publish into; it must be new, empty, or a previous site-builder output")
    parser.add_argument("--archive", type=Path, metavar="FILE", help="also (or only) write FILE.tar.gz or FILE.zip, and FILE's SHA256SUMS beside it")
    add_project_option(parser)
    parser.add_argument("--draft", action="store_true", help="publish the working copy (edits after the latest release) with a draft banner and noindex")
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.set_defaults(run=run)


def argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the targets before anything is rendered, or None."""
    if args.dir is None and args.archive is None:
        return "site-builder publish: give a folder (DIR), --archive FILE, or both"
    if args.archive is None:
        return None
    if archive_kind(args.archive) is None or args.archive.is_dir():
        return f"{args.archive}: the archive must be a file named *.tar.gz, *.tgz or *.zip"
    archive = args.archive.resolve()
    for folder in (args.project / "content", args.dir):
        if folder is not None and archive.is_relative_to(folder.resolve()):
            return f"{args.archive}: the archive would be written inside {folder}/, which is replaced or read as content; write it elsewhere, e.g. dist/"
    return None


def run(args: argparse.Namespace) -> int:
    problem = argument_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    problems = Problems()
    if args.dir is not None:
        check_output_folder(args.dir, args.project, problems)
    if problems.has_errors():
        report(problems)
        say("Nothing was published.")
        return 1
    result = render_project(args.project, BuildOptions(build_date=build_date(), draft=args.draft, strict=args.strict))
    if not report(result.problems, strict=args.strict) or result.site is None:
        say("Nothing was published; the previous output was left as it was.")
        return 1
    files = result.site.files
    if args.dir is not None:
        write_site(files, args.dir)
        say(f"Published {len(files)} files to {display_path(args.dir)}/")
    if args.archive is not None:
        digest = write_archive(files, args.archive, fixed_mtime(dict(os.environ), archive_date(args.project)))
        say(f"Wrote {display_path(args.archive)} ({len(files)} files, sha256 {digest}) and {display_path(args.archive.parent / CHECKSUMS)}")
    return 0


def archive_date(project_root: Path) -> date:
    """Without SOURCE_DATE_EPOCH: the latest release's date, else the policy's last-reviewed date (both from content)."""
    project = load_project(project_root, Problems())
    if project is None:
        return date(1980, 1, 1)
    if project.latest is not None:
        return project.latest.date
    return project.working.site.policy.last_reviewed
