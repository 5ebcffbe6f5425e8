"""site-builder app add: copy an app's Forge manifest in and write an app.yaml skeleton to fill in.

The manifest is copied byte for byte (the pages must show what is deployed, not an edited copy).
The skeleton lists every scope, egress address and remote with an empty justification, so the
build's "no justification" warnings point at exactly the lines left to write. Nothing is ever
overwritten: an existing app folder is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from ..forge.apps import APP_FILE, MANIFEST_FILE, SLUG
from ..errors import Position, Problems
from ..forge.manifest import Manifest, parse_manifest
from ..content.source import decode_text, parse_yaml, read_text
from .common import add_project_option, display_path, report, say


def slug_from(manifest_path: Path) -> str:
    """A slug guessed from the folder the manifest is in: ``~/code/My_App/manifest.yml`` -> ``my-app``."""
    folder = manifest_path.resolve().parent.name
    return re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-")


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML), safe for '*', ':' and '#'."""
    return json.dumps(text, ensure_ascii=False)


def app_skeleton(slug: str, manifest: Manifest) -> str:
    """The app.yaml text for a new app: every scope, address and remote with an empty reason."""
    name = slug.replace("-", " ").title()
    lines = [
        f"# {slug}: what this app does with customer data, and why it needs each permission.",
        "# Schema: site_builder/schemas/app.schema.json. Fill in every \"\" below: the build warns",
        "# about each empty justification (an error with --strict) and needs a summary.",
        f"name: {_quoted(name)}",
        "# listing_url: https://marketplace.atlassian.com/apps/...",
        'summary: ""',
        "data_stored: []      # what the app keeps, one item per line; [] when it keeps nothing",
        "data_processed: []   # what it reads or computes on without keeping it",
        'retention: ""        # how long stored data is kept and how it is deleted',
    ]
    lines.append("scopes:" if manifest.scopes else "scopes: {}")
    for scope in manifest.scopes:
        about = scope.info.description if scope.info else "not a scope Forge accepts"
        lines.append(f"  # {about}")
        lines.append(f'  {_quoted(scope.name)}: ""')
    addresses: dict[str, list[str]] = {}
    for egress in manifest.egress:
        if not egress.remote:
            addresses.setdefault(egress.address, []).append(egress.kind)
    lines.append("egress:" if addresses else "egress: {}")
    for address, kinds in addresses.items():
        lines.append(f"  # {', '.join(kinds)}")
        lines.append(f'  {_quoted(address)}: ""')
    lines.append("remotes:" if manifest.remotes else "remotes: {}")
    for remote in manifest.remotes:
        lines.append(f"  # {remote.default_url or 'address set by the customer'}")
        lines.append(f'  {_quoted(remote.key)}: ""')
    return "\n".join(lines) + "\n"


def add_app(project_root: Path, manifest: Path, slug: str | None) -> Problems:
    """Add ``manifest`` as ``content/apps/<slug>/``; the problems say why nothing was written, if so."""
    problems = Problems()
    shown = display_path(manifest)
    content = project_root / "content"
    if not content.is_dir():
        problems.error(Position(display_path(content) + "/"), "folder not found", hint="run in a project folder or pass --project DIR; 'site-builder init DIR' creates one")
        return problems
    slug = slug if slug is not None else slug_from(manifest)
    if not SLUG.match(slug or ""):
        problems.error(Position(shown), f"{slug!r} is not a valid app slug", hint="pass --slug with lower-case letters, digits and single hyphens, e.g. --slug issue-checklist")
        return problems
    apps_dir = content / "apps"
    target = apps_dir / slug
    taken = [e.name for e in apps_dir.iterdir()] if apps_dir.is_dir() else []
    clash = next((name for name in taken if name.casefold() == slug.casefold()), None)
    if clash is not None or target.exists() or target.is_symlink():
        problems.error(Position(display_path(apps_dir / (clash or slug)) + "/"), f"an app {clash or slug!r} already exists; nothing was changed", hint="choose another --slug, or remove the folder first if you mean to replace the app")
        return problems
    text = read_text(manifest, shown, problems)
    if text is None:
        return problems
    document = parse_yaml(text, shown, problems)
    parsed = parse_manifest(document, problems) if document is not None else None
    if parsed is None or problems.has_errors():
        return problems
    raw = manifest.read_bytes()
    if decode_text(raw, shown, problems) != text:
        problems.error(Position(shown), "changed while it was being read", hint="run the command again")
        return problems
    _write_app(apps_dir, target, {MANIFEST_FILE: raw, APP_FILE: app_skeleton(slug, parsed).encode("utf-8")}, problems)
    return problems


def _write_app(apps_dir: Path, target: Path, files: dict[str, bytes], problems: Problems) -> None:
    """Write into a hidden temporary folder, then rename it into place: no half-written app."""
    staging: Path | None = None
    try:
        apps_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=apps_dir))
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if target.exists() or target.is_symlink():
            raise FileExistsError(str(target))
        os.rename(staging, target)
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        problems.error(Position(display_path(target) + "/"), f"could not be written: {exc.strerror or exc}", hint="check that the folder does not exist yet and is writable")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("app", help="manage the Forge apps shown on the site", description="Manage the Forge apps shown on the site.")
    commands = parser.add_subparsers(dest="app_command", metavar="COMMAND", required=True)
    add = commands.add_parser(
        "add",
        help="add an app from its Forge manifest",
        description="Copy an app's manifest.yml into content/apps/SLUG/ unmodified and write an app.yaml skeleton listing each scope, egress address and remote with an empty justification. Never overwrites an existing app.",
    )
    add.add_argument("manifest", type=Path, metavar="PATH/TO/manifest.yml", help="the app's own Forge manifest")
    add.add_argument("--slug", default=None, help="the app's address on the site, apps/SLUG/ (default: the manifest's folder name)")
    add_project_option(add)
    add.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    problems = add_app(args.project, args.manifest, args.slug)
    if not report(problems):
        say("No app was added.")
        return 1
    slug = args.slug if args.slug is not None else slug_from(args.manifest)
    folder = display_path(args.project / "content" / "apps" / slug)
    say(f"Added {folder}/ ({MANIFEST_FILE} copied unmodified). Next: fill in {folder}/{APP_FILE}, then run site-builder build.")
    return 0
