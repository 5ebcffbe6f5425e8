"""The theme: template folders and static files, the project's own first, then the default."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import Position, Problems
from ..content.source import MAX_FILE_BYTES

MAX_STATIC_BYTES = 8 * MAX_FILE_BYTES


def default_theme_dir() -> Path:
    """The default theme: top-level templates/ and static/ in a checkout, packaged copies in a wheel."""
    checkout = Path(__file__).resolve().parent.parent.parent
    if (checkout / "templates" / "base.html").is_file() and (checkout / "pyproject.toml").is_file():
        return checkout
    return Path(str(resources.files("site_builder").joinpath("theme")))


@dataclass(frozen=True)
class Theme:
    template_dirs: tuple[Path, ...]
    static_files: tuple[tuple[str, bytes], ...]  # (output path, bytes), sorted


def load_theme(project_root: Path, problems: Problems) -> Theme:
    default = default_theme_dir()
    roots = [project_root] if project_root.resolve() != default.resolve() else []
    roots.append(default)
    template_dirs = tuple(root / "templates" for root in roots if (root / "templates").is_dir())
    static: dict[str, bytes] = {}
    for root in reversed(roots):  # the project's files replace the default ones
        folder = root / "static"
        if not folder.is_dir():
            continue
        for file in sorted(folder.rglob("*")):
            relative = file.relative_to(folder).as_posix()
            if any(part.startswith(".") for part in file.relative_to(folder).parts):
                continue
            display = f"static/{relative}" if root == project_root else f"(default theme) static/{relative}"
            if file.is_symlink():
                problems.error(Position(display), "is a symbolic link", hint="copy the file itself into static/")
            elif file.is_file():
                if file.stat().st_size > MAX_STATIC_BYTES:
                    problems.error(Position(display), f"is larger than {MAX_STATIC_BYTES:,} bytes", hint="static files are for the theme; host large files elsewhere")
                else:
                    static[f"static/{relative}"] = file.read_bytes()
    return Theme(template_dirs, tuple(sorted(static.items())))
