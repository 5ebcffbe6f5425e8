"""site-builder release: freeze the working copy as a new, permanent version of the policy."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from ..content.dates import build_date, long_date
from ..errors import Problems
from .freeze import ReleaseConflict, commit_release, plan_release
from .common import add_project_option, report, say


def iso_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2025-07-01") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "release",
        help="publish the working copy as a new version",
        description=(
            "Freeze content/site.yaml, policy/ and apps/ into content/releases/VERSION/, add the version to "
            "content/releases.yaml and the SHA-256 of every frozen file to content/releases.lock. Refuses a version "
            "that exists or is not greater than the latest, a date before the latest release or in the future, "
            "and a project whose build has errors. Nothing is written unless every check passes."
        ),
    )
    parser.add_argument("version", metavar="VERSION", help="dotted version number, greater than the latest (1.10 is greater than 1.9)")
    parser.add_argument("--date", required=True, type=iso_date, metavar="YYYY-MM-DD", help="the day the version takes effect")
    parser.add_argument("--summary", required=True, metavar="TEXT", help="one line: what changed in this version")
    add_project_option(parser)
    parser.add_argument("--strict", action="store_true", help="refuse to release while the build has warnings too")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    problems = Problems()
    plan = plan_release(args.project, args.version, args.date, args.summary, build_date(), problems, strict=args.strict)
    report(problems, strict=args.strict)
    if plan is None:
        say(f"Release {args.version} not made; nothing was changed.")
        return 1
    try:
        commit_release(args.project, plan)
    except (ReleaseConflict, OSError) as exc:
        print(f"site-builder release: {exc}; nothing was changed.", file=sys.stderr)
        return 1
    frozen = len(plan.files)
    say(
        f"Released version {plan.version}, effective {long_date(plan.date)}: froze {frozen} files into content/{plan.folder}/, "
        f"added it to content/releases.yaml and content/releases.lock.\n"
        f"Next: 'site-builder build' publishes it; commit content/ to version control to keep the record."
    )
    return 0
