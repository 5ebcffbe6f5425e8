"""The warm-build cache: ``.site-builder-cache/`` in the project, so a second build does little.

It keeps what ``BuildCache`` (site_builder/cache/incremental.py) learns in one process, between processes:

- the content's file hashes (a file is re-read only when its stat changed);
- the load memo: what the loaders made of each content file, problems included, so unchanged
  apps, sections and releases are not parsed again;
- the last build: a digest of all its inputs, its warnings, and for each file it wrote the page
  cache key, a hash of its bytes and the file's stat, so an unchanged page is neither rendered
  nor written but hard-linked from the previous output;
- the theme's compiled templates (Jinja bytecode), so a warm build does not compile them again.

An unchanged project is not built at all: when the digest of the inputs (content, theme,
site_builder's code and data, Python and libraries, options, build date and output folder)
equals the last build's and the output folder still holds exactly the files it wrote, the build
reports the same warnings and stops, having read only ``state.pickle`` and the files' stats.

Invalidation: page keys start with a hash of site_builder's own code and include the source of
every template a page uses, so a template edit re-renders exactly the pages that use it; a cache
written by another site-builder version, other code or another Python is ignored whole. A cache
that cannot be read (damaged, truncated, from elsewhere) is ignored too: the build is then cold,
never wrong.

The files are pickles, which can run code when loaded, so they are authenticated: an HMAC with a
random key kept outside the project (``$XDG_CACHE_HOME/site-builder/cache-key``, mode 0600). A cache
planted in a project someone else sent you fails the check and is not unpickled.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import platform
import secrets
import sys
from dataclasses import dataclass, field, fields
from itertools import chain
from importlib import metadata
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import Problem
from .incremental import BuildCache, FileStates, LoadMemo, MemoryBytecodeCache, RenderCache, _FileEntry, code_fingerprint
from ..emit.stream import FileRecord, OneBuildMemo, output_is_intact
from ..render.theme import default_theme_dir

CACHE_DIR = ".site-builder-cache"
CACHE_FILE = "build.pickle"  # what the loaders made of each content file: large, read only when something is built
STATE_FILE = "state.pickle"  # the last build: its inputs' digest, files, warnings; small, read by every build
FORMAT = 2
_MAGIC = b"site-builder-cache\n"
_TAG_SIZE = 32
# what a page's bytes depend on besides site_builder's own code: a new version of one is a new build
LIBRARIES = ("jinja2", "markupsafe", "markdown", "nh3", "pyyaml", "jsonschema")


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
    (``draft``, the build date, ...), and other files are compared by their bytes; the shortcut
    for an unchanged project has the options in its digest of the inputs.
    """
    return {
        "format": FORMAT,
        "version": __version__,
        "code": code_fingerprint(),
        "python": f"{platform.python_implementation()} {sys.version}",
    }


def _libraries() -> str:
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name}=-")
    return " ".join(versions)


def input_folders(project_root: Path) -> tuple[Path, ...]:
    """Every folder a build reads: the content, the project's theme and the default one, site_builder's data."""
    theme = default_theme_dir()
    package = Path(__file__).resolve().parent.parent
    return (
        project_root / "content",
        project_root / "templates",
        project_root / "static",
        theme / "templates",
        theme / "static",
        package / "data",
        package / "schemas",
    )


@dataclass(frozen=True)
class LastBuild:
    """What the last successful build was made from, what it wrote and what it reported."""

    inputs: str  # DiskCache.inputs() before it read anything
    out: str  # the output folder, resolved
    records: dict[str, FileRecord]
    problems: tuple[Problem, ...]  # warnings: a build with errors is not remembered
    draft: bool
    base_url: str
    pages: int
    files: int


@dataclass
class DiskCache:
    """A ``BuildCache``, the content's file hashes and the last build, read from and saved to the project.

    Two files: ``state.pickle`` (file hashes, the last build's inputs digest, output records and
    warnings) is read by every build and is all an up-to-date build reads; ``build.pickle``
    (the load memo, the content model itself) only when something must be built.
    """

    folder: Path
    ident: dict[str, Any]
    files: FileStates = field(default_factory=FileStates)
    last: LastBuild | None = None
    warm: bool = False  # True when a usable cache was read
    _build: BuildCache | None = None
    _entries_read: dict = field(default_factory=dict)  # the load memo as read, to tell whether it changed
    _saved: bool = False  # the load memo of this build is written
    bytecode: dict[str, bytes] = field(default_factory=dict)  # the templates the last build compiled (Jinja's marshal data)
    _inputs_moved: bool = False  # a file changed after inputs() hashed it and before its loader read it

    @classmethod
    def open(cls, project_root: Path) -> "DiskCache":
        folder = project_root / CACHE_DIR
        ident = identity()
        cache = cls(folder, ident)
        state = _read(folder / STATE_FILE, ident)
        if state is None:
            return cache
        try:
            files = FileStates(_unpack_file_states(state["file_states"]))
            last = LastBuild(records=_unpack_records(state["records"]), **state["last"])
        except (KeyError, AttributeError, TypeError, ValueError):
            return cache
        bytecode = state.get("bytecode", {})
        if isinstance(bytecode, dict) and all(isinstance(k, str) and isinstance(v, bytes) for k, v in bytecode.items()):
            cache.bytecode = bytecode
        cache.files, cache.last, cache.warm = files, last, True
        return cache

    @property
    def build(self) -> BuildCache:
        """The ``BuildCache`` for this build, with the last build's load memo (read on first use)."""
        if self._build is None:
            state = _read(self.folder / CACHE_FILE, self.ident) if self.warm else None
            entries = state.get("load_entries") if state is not None else None
            entries = entries if isinstance(entries, dict) else None
            self._entries_read = dict(entries or {})
            memo = LoadMemo(files=self.files, entries=entries)  # one set of file hashes for the inputs digest and the loaders
            render = RenderCache()
            render.bytecode = MemoryBytecodeCache(dict(self.bytecode))  # compiling the theme's templates again was a large part of a warm build
            self._build = BuildCache(load=memo, render=render, derived=OneBuildMemo())
        return self._build

    def inputs(self, project_root: Path, out: Path, options: object) -> str:
        """One digest of everything a build reads and is asked: the files of ``input_folders``
        (by their hashes, a file re-read only when its stat changed), the options (``repr``, so
        the build date and every flag), the output folder, this tool's code, Python and libraries.
        """
        h = hashlib.blake2b(digest_size=16)
        h.update(json.dumps(self.ident, sort_keys=True).encode() + b"\0" + _libraries().encode() + b"\0")
        h.update(f"{options!r}\0{out.resolve()}\0{project_root.resolve()}\0".encode("utf-8", "surrogateescape"))
        self.files.hold()  # the loaders' memo looks these digests up instead of walking each folder again (see save_loaded)
        for folder in input_folders(project_root):
            h.update(os.fsencode(folder) + b"\0" + self.files.digest(folder))
        return h.hexdigest()

    def up_to_date(self, out: Path, inputs: str) -> LastBuild | None:
        """The last build, when it was made from ``inputs`` and ``out`` still holds exactly what it wrote."""
        last = self.last
        if last is None or last.inputs != inputs or last.out != str(out.resolve()):
            return None
        return last if output_is_intact(out.resolve(), last.records) else None

    def previous_records(self, out: Path) -> dict[str, FileRecord]:
        """The records of the last build, if it went to ``out``."""
        return self.last.records if self.last is not None and self.last.out == str(out.resolve()) else {}

    def save_loaded(self) -> None:
        """Write the load memo, if this build changed it; called as soon as the project is loaded.

        Pickling the content model takes a table of every object written (tens of megabytes at 5,000
        apps): done before the pages are generated, it comes on top of the model alone, not of
        the model, the pages and what was derived for them. Written whether or not the build
        then succeeds: what a loader made of a file is the same either way.
        """
        if self._build is None or self._saved:
            return
        self._saved = True
        try:
            self._save_loaded()
        finally:
            self.files.recheck()  # the digests held for the loaders are not needed any more

    def _save_loaded(self) -> None:
        assert self._build is not None
        entries = self._build.load.entries()
        if len(entries) == len(self._entries_read) and all(self._entries_read.get(k) is v for k, v in entries.items()):
            return  # nothing new to remember
        if not self._build.load.still_as_loaded():
            self._inputs_moved = True
            return  # a file changed while it was loaded: the next build loads it again
        secret = _secret()
        if secret is not None and self._folder_ready():
            _write(self.folder / CACHE_FILE, self.ident, {"load_entries": entries}, secret)
        self._entries_read = {}

    def save(self, last: LastBuild) -> None:
        """Remember ``last`` (and the load memo, if not saved yet); a cache that cannot be written only makes the next build cold."""
        self.save_loaded()
        if self._build is not None:
            self.bytecode = self._build.render.bytecode.entries()
        self._build = None
        secret = _secret()
        if secret is None or not self._folder_ready():
            return
        last_state = {f.name: getattr(last, f.name) for f in fields(LastBuild) if f.name != "records"}
        if self._inputs_moved:
            # the output is not what ``inputs`` describes, and page keys named values by digests their
            # content no longer had: never take it as up to date, and match its files by their bytes alone
            last_state["inputs"] = ""
            last = dataclasses.replace(last, records={path: record._replace(key="") for path, record in last.records.items()})
        try:
            state = {"file_states": _pack_file_states(self.files.file_entries()), "records": _pack_records(last.records), "last": last_state, "bytecode": self.bytecode}
        except (ValueError, TypeError, AttributeError):  # not what this code packs: stay correct, be cold next time
            return
        _write(self.folder / STATE_FILE, self.ident, state, secret)
        self.last = last

    def _folder_ready(self) -> bool:
        try:
            self.folder.mkdir(exist_ok=True)
            (self.folder / ".gitignore").write_text("# Written by site-builder: a cache, never commit it.\n*\n")
        except OSError:
            return False
        return True


# The state is a few long flat lists rather than one small object per file: one object per file
# would make the pickler's table of objects written the build's last peak of memory.
_DIGEST = 16  # bytes: the BLAKE2b-128 of FileRecord.digest and FileStates' entries


def _pack_records(records: dict[str, FileRecord]) -> dict[str, Any]:
    values = records.values()
    if any(len(record.digest) != _DIGEST or len(record.signature) != 3 for record in values):
        raise ValueError("a record that does not pack")
    return {
        "paths": list(records),
        "keys": [record.key for record in values],
        "digests": b"".join(record.digest for record in values),
        "signatures": list(chain.from_iterable(record.signature for record in values)),  # ints: pickled without a table entry
    }


def _unpack_records(packed: dict[str, Any]) -> dict[str, FileRecord]:
    paths, keys, digests = packed["paths"], packed["keys"], packed["digests"]
    numbers = packed["signatures"]
    if not len(paths) == len(keys) == len(digests) // _DIGEST == len(numbers) // 3:
        raise ValueError("records of different lengths")
    it = iter(numbers)
    return {path: FileRecord(key, digests[i * _DIGEST : (i + 1) * _DIGEST], signature) for i, (path, key, signature) in enumerate(zip(paths, keys, zip(it, it, it)))}


def _pack_file_states(entries: dict[str, _FileEntry]) -> dict[str, Any]:
    values = entries.values()
    if any(len(entry.digest) != _DIGEST or len(entry.signature) != 4 for entry in values):
        raise ValueError("a file state that does not pack")
    return {
        "paths": list(entries),
        "digests": b"".join(entry.digest for entry in values),
        "numbers": list(chain.from_iterable((*entry.signature, entry.checked_ns) for entry in values)),
    }


def _unpack_file_states(packed: dict[str, Any]) -> dict[str, _FileEntry]:
    paths, digests = packed["paths"], packed["digests"]
    numbers = packed["numbers"]
    if not len(paths) == len(digests) // _DIGEST == len(numbers) // 5:
        raise ValueError("file states of different lengths")
    it = iter(numbers)
    return {path: _FileEntry((a, b, c, d), digests[i * _DIGEST : (i + 1) * _DIGEST], checked) for i, (path, (a, b, c, d, checked)) in enumerate(zip(paths, zip(it, it, it, it, it)))}


def _write(file: Path, ident: dict[str, Any], state: dict[str, Any], secret: bytes) -> None:
    """One authenticated pickle, written beside ``file`` and renamed over it; nothing when it cannot be."""
    header = json.dumps(ident, sort_keys=True).encode() + b"\n"
    temporary = file.with_name(f".{file.name}.{os.getpid()}")
    try:
        with open(temporary, "wb") as stream:
            stream.write(_MAGIC + b"\0" * _TAG_SIZE + header)
            signer = _SigningWriter(stream, hmac.new(secret, header, hashlib.blake2b))
            pickle.dump(state, signer, protocol=pickle.HIGHEST_PROTOCOL)  # streamed: no second copy in memory
            stream.seek(len(_MAGIC))
            stream.write(signer.mac.digest()[:_TAG_SIZE])
        os.replace(temporary, file)
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
    start = len(_MAGIC) + _TAG_SIZE
    tag, end = data[len(_MAGIC) : start], data.find(b"\n", start)
    if end < 0:
        return None
    header, payload = data[start:end], memoryview(data)[end + 1 :]  # a view: no copy of a large cache
    try:
        if json.loads(header) != ident:
            return None
    except ValueError:
        return None
    secret = _secret()
    if secret is None:
        return None
    mac = hmac.new(secret, header + b"\n", hashlib.blake2b)
    mac.update(payload)
    if not hmac.compare_digest(tag, mac.digest()[:_TAG_SIZE]):
        return None
    try:
        state = pickle.loads(payload)  # noqa: S301 - authenticated above with the user's own key
    except Exception:  # a cache that no longer unpickles: ignore it
        return None
    return state if isinstance(state, dict) else None


def clear(project_root: Path) -> None:
    """Forget the cache (``build --no-cache`` and tests)."""
    for name in (STATE_FILE, CACHE_FILE):
        try:
            (project_root / CACHE_DIR / name).unlink()
        except OSError:
            pass
