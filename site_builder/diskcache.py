"""The warm-build cache: ``.site-builder-cache/`` in the project, so a second build does little.

It keeps what ``BuildCache`` (site_builder/incremental.py) learns in one process, between processes:

- the load memo: each content file's hash (re-read only when its stat changed) and what the loaders
  made of it, problems included, so unchanged apps, sections and releases are not parsed again;
- the output records: for each file of the last build, its page cache key and a hash of its bytes,
  so an unchanged page is neither rendered nor written but hard-linked from the previous output.

Invalidation: page keys start with a hash of site_builder's own code and include the source of
every template a page uses, so a template edit re-renders exactly the pages that use it; a cache
written by another site-builder version, other code, another Python, or for other build options
is ignored whole. A cache that cannot be read (damaged, truncated, from elsewhere) is ignored too:
the build is then cold, never wrong.

The file is a pickle, which can run code when loaded, so it is authenticated: an HMAC with a
random key kept outside the project (``$XDG_CACHE_HOME/site-builder/cache-key``, mode 0600). A cache
planted in a project someone else sent you fails the check and is not unpickled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import platform
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .incremental import BuildCache, LoadMemo, RenderCache, code_fingerprint
from .output import FileRecord

CACHE_DIR = ".site-builder-cache"
CACHE_FILE = "build.pickle"
FORMAT = 1
_MAGIC = b"site-builder-cache\n"
_TAG_SIZE = 32


def key_file() -> Path:
    """Where the HMAC key lives: the user's cache folder, never the project."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "site-builder" / "cache-key"


def _secret() -> bytes | None:
    """The user's key, created on first use; None when it can be neither read nor made (no cache then)."""
    file = key_file()
    try:
        return bytes.fromhex(file.read_text().strip())
    except (OSError, ValueError):
        pass
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        temporary = file.with_name(f".cache-key-{os.getpid()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(key + "\n")
        os.replace(temporary, file)  # a concurrent first build may win: read back what is there
        return bytes.fromhex(file.read_text().strip())
    except (OSError, ValueError):
        return None


def identity() -> dict[str, Any]:
    """What a cache must have been written under to be used: this tool's version and code, this Python.

    Build options need not be part of it: a page's key covers every value its templates read
    (``draft``, the build date, ...), and other files are compared by their bytes.
    """
    return {
        "format": FORMAT,
        "version": __version__,
        "code": code_fingerprint(),
        "python": f"{platform.python_implementation()} {sys.version}",
    }


@dataclass
class DiskCache:
    """A ``BuildCache`` and the previous output's records, read from and saved to the project."""

    folder: Path
    ident: dict[str, Any]
    build: BuildCache = field(default_factory=BuildCache)
    out: str = ""  # the output folder the records describe
    records: dict[str, FileRecord] = field(default_factory=dict)
    warm: bool = False  # True when a usable cache was read

    @classmethod
    def open(cls, project_root: Path) -> "DiskCache":
        folder = project_root / CACHE_DIR
        ident = identity()
        cache = cls(folder, ident)
        state = _read(folder / CACHE_FILE, ident)
        if state is None or state.get("identity") != ident:
            return cache
        try:
            memo = LoadMemo()
            memo._entries = state["load_entries"]  # noqa: SLF001 - LoadMemo's own state, saved by save()
            memo._files._files = state["file_states"]  # noqa: SLF001
            cache.build = BuildCache(load=memo, render=RenderCache())
            cache.out = state["out"]
            cache.records = state["records"]
        except (KeyError, AttributeError, TypeError):
            return cls(folder, ident)
        cache.warm = True
        return cache

    def previous_records(self, out: Path) -> dict[str, FileRecord]:
        """The records of the last build, if it went to ``out``."""
        return self.records if self.out == str(out.resolve()) else {}

    def save(self, out: Path, records: dict[str, FileRecord]) -> None:
        """Write the cache atomically; a cache that cannot be written only makes the next build cold."""
        memo = self.build.load
        if self.warm and not memo.loaded and self.out == str(out.resolve()) and records == self.records:
            return  # nothing new to remember
        state = {
            "identity": self.ident,
            "load_entries": memo._entries,  # noqa: SLF001
            "file_states": memo._files._files,  # noqa: SLF001
            "out": str(out.resolve()),
            "records": records,
        }
        secret = _secret()
        if secret is None:
            return
        header = json.dumps(self.ident, sort_keys=True).encode() + b"\n"
        temporary = self.folder / f".{CACHE_FILE}.{os.getpid()}"
        try:
            self.folder.mkdir(exist_ok=True)
            (self.folder / ".gitignore").write_text("# Written by site-builder: a cache, never commit it.\n*\n")
            with open(temporary, "wb") as stream:
                stream.write(_MAGIC + b"\0" * _TAG_SIZE + header)
                signer = _SigningWriter(stream, hmac.new(secret, header, hashlib.blake2b))
                pickle.dump(state, signer, protocol=pickle.HIGHEST_PROTOCOL)  # streamed: no second copy in memory
                stream.seek(len(_MAGIC))
                stream.write(signer.mac.digest()[:_TAG_SIZE])
            os.replace(temporary, self.folder / CACHE_FILE)
        except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
            # something cannot be saved: stay correct, be cold next time
            try:
                temporary.unlink()
            except OSError:
                pass


class _SigningWriter:
    """A file that also feeds every byte written to an HMAC."""

    def __init__(self, stream: Any, mac: "hmac.HMAC") -> None:
        self.stream = stream
        self.mac = mac

    def write(self, data: bytes) -> int:
        self.mac.update(data)
        return self.stream.write(data)


def _read(file: Path, ident: dict[str, Any]) -> dict | None:
    """The saved state, or None when there is none, it was written under another identity, or it fails the check.

    The identity is a plain-text header, so a cache of other code is dropped without unpickling it.
    """
    try:
        data = file.read_bytes()
    except OSError:
        return None
    if not data.startswith(_MAGIC):
        return None
    tag, rest = data[len(_MAGIC) : len(_MAGIC) + _TAG_SIZE], data[len(_MAGIC) + _TAG_SIZE :]
    header, _, payload = rest.partition(b"\n")
    try:
        if json.loads(header) != ident:
            return None
    except ValueError:
        return None
    secret = _secret()
    if secret is None or not hmac.compare_digest(tag, hmac.new(secret, header + b"\n" + payload, hashlib.blake2b).digest()[:_TAG_SIZE]):
        return None
    try:
        state = pickle.loads(payload)  # noqa: S301 - authenticated above with the user's own key
    except Exception:  # a cache that no longer unpickles: ignore it
        return None
    return state if isinstance(state, dict) else None


def clear(project_root: Path) -> None:
    """Forget the cache (``build --no-cache`` and tests)."""
    try:
        (project_root / CACHE_DIR / CACHE_FILE).unlink()
    except OSError:
        pass
