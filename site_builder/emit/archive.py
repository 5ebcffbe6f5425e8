"""Reproducible archives of a rendered site (``.tar.gz``, ``.zip``) and their ``SHA256SUMS``.

The same site gives the same archive bytes on any machine: entries sorted by path, every
timestamp the same fixed moment, owner 0:0 with no names, modes 0644 for files and 0755 for
folders, gzip without a file name or time of its own. Files are written beside their target and
renamed into place, so a reader never sees half an archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import time
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path

SUFFIXES = (".tar.gz", ".tgz", ".zip")
ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z, the earliest time a zip entry can hold
CHECKSUMS = "SHA256SUMS"


def archive_kind(path: Path) -> str | None:
    """The archive format from the file name, "tar.gz" or "zip"; None for any other name."""
    name = path.name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "tar.gz"
    if name.endswith(".zip"):
        return "zip"
    return None


def fixed_mtime(environ: dict[str, str], fallback: date) -> int:
    """SOURCE_DATE_EPOCH when set, else midnight UTC of ``fallback`` (the latest release date)."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return int(epoch)
    return int(datetime(fallback.year, fallback.month, fallback.day, tzinfo=timezone.utc).timestamp())


def _entries(files: dict[str, bytes]) -> list[tuple[str, bytes | None]]:
    """Every file and every folder above it (None for a folder), sorted by path."""
    folders = {"/".join(path.split("/")[:i]) for path in files for i in range(1, path.count("/") + 1)}
    entries: list[tuple[str, bytes | None]] = [(folder, None) for folder in folders]
    entries += list(files.items())
    return sorted(entries, key=lambda entry: entry[0])


def tar_gz_bytes(files: dict[str, bytes], mtime: int) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=mtime, compresslevel=9) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in _entries(files):
                info = tarfile.TarInfo(name)
                info.mtime = mtime
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                if data is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    info.mode = 0o644
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def zip_bytes(files: dict[str, bytes], mtime: int) -> bytes:
    stamp = time.gmtime(max(mtime, ZIP_EPOCH))[:6]
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, mode="w") as archive:
        for name, data in _entries(files):
            info = zipfile.ZipInfo(name + "/" if data is None else name, date_time=stamp)
            info.create_system = 3  # Unix, so the modes below are read
            if data is None:
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return raw.getvalue()


def archive_bytes(files: dict[str, bytes], kind: str, mtime: int) -> bytes:
    return tar_gz_bytes(files, mtime) if kind == "tar.gz" else zip_bytes(files, mtime)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def checksums_text(existing: str, name: str, digest: str) -> str:
    """``SHA256SUMS`` with this file's line added or replaced; other files' lines kept, sorted by name."""
    lines: dict[str, str] = {}
    for line in existing.splitlines():
        hexdigest, sep, other = line.partition("  ")
        if sep and other:
            lines[other.lstrip("*")] = hexdigest
    lines[name] = digest
    return "".join(f"{lines[n]}  {n}\n" for n in sorted(lines))


def write_archive(files: dict[str, bytes], path: Path, mtime: int) -> str:
    """Write the archive and update ``SHA256SUMS`` beside it; returns the archive's SHA-256."""
    kind = archive_kind(path)
    if kind is None:
        raise ValueError(f"{path.name}: not a .tar.gz or .zip file name")
    data = archive_bytes(files, kind, mtime)
    digest = hashlib.sha256(data).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    _replace(path, data)
    sums = path.parent / CHECKSUMS
    existing = sums.read_text("utf-8") if sums.is_file() else ""
    _replace(sums, checksums_text(existing, path.name, digest).encode("utf-8"))
    return digest
