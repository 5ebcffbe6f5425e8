"""site-builder init: a new trust-center project that builds as it is."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from importlib import resources
from pathlib import Path

from ..content.dates import build_date
from .common import say


def starter_files(name: str, today: date) -> dict[str, str]:
    """The starter project's files with the organisation name and today's date filled in."""
    root = resources.files("site_builder").joinpath("starter")
    files: dict[str, str] = {}

    def walk(folder, prefix: str) -> None:
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir():
                walk(entry, f"{prefix}{entry.name}/")
            elif not entry.name.startswith("."):
                text = entry.read_text("utf-8")
                # in YAML the name sits inside double quotes: escaped, "Acme: Inc #1" stays one string
                value = json.dumps(name, ensure_ascii=False)[1:-1] if entry.name.endswith((".yaml", ".yml")) else name
                files[prefix + entry.name] = text.replace("{name}", value).replace("{today}", today.isoformat()).replace("{year}", str(today.year))

    walk(root, "")
    return files


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("init", help="create a new trust-center project", description="Create a new trust-center project (content/site.yaml and two policy sections) that builds as it is.")
    parser.add_argument("dir", type=Path, metavar="DIR", help="folder to create; it must not exist or be empty")
    parser.add_argument("--name", default=None, help="organisation name (default: the folder's name)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target: Path = args.dir
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        print(f"{target}: already exists and is not empty (choose a new folder; init never overwrites files)", file=sys.stderr)
        return 1
    name = args.name or target.resolve().name.replace("-", " ").replace("_", " ").title()
    for relative, text in starter_files(name, build_date()).items():
        file = target / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    say(f"Created a trust-center project in {target}/. Next: cd {target} && site-builder build")
    return 0
