"""site-builder serve: preview the site while editing; the browser reloads on every save."""

from __future__ import annotations

import argparse
import sys

from ..serve.addresses import DEFAULT_HOST, DEFAULT_PORT, is_loopback
from .common import add_project_option, print_problems, say


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="preview the site, rebuilding and reloading on every save",
        description="Build the site into a temporary folder (never build/), serve it at the base URL's path, and rebuild and reload the browser on every change to content/, templates/ or static/. Broken content shows its problems in the browser until fixed.",
    )
    add_project_option(parser)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument("--open", action="store_true", help="open the site in the default web browser")
    parser.add_argument("--no-draft", dest="draft", action="store_false", help="show the latest release, not the working copy with its draft banner")
    parser.add_argument("--watcher", choices=("auto", "events", "scan", "livereload"), default="auto", help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..serve.server import Console, PortInUse, PreviewServer, ServeOptions  # tornado and livereload: only serve needs them

    if not (args.project / "content").is_dir():
        print(f"{args.project / 'content'}: folder not found (run site-builder serve in a project folder, or pass --project DIR)", file=sys.stderr)
        return 1
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}: anyone who can reach this computer can read the preview, drafts included (use --host {DEFAULT_HOST} to keep it private)", file=sys.stderr)
    options = ServeOptions(project=args.project, host=args.host, port=args.port, draft=args.draft, open_browser=args.open, watcher=args.watcher)
    server = PreviewServer(options, Console(say=_say, problems=_problems))
    try:
        try:
            sockets = server.bind()
        except PortInUse as exc:
            print(f"site-builder serve: {exc}", file=sys.stderr)
            return 1
        except OSError as exc:
            print(f"site-builder serve: cannot listen on {args.host} port {args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1
        server.first_build()
        server.serve(sockets)
    finally:
        server.close()
    say("Stopped.")
    return 0


def _say(text: str) -> None:
    say(text)
    sys.stdout.flush()


def _problems(problems) -> None:
    print_problems(problems)
    sys.stderr.flush()
