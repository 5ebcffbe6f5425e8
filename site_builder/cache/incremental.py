"""Incremental rebuilds: reuse what did not change, and prove it did not change by fingerprints.

Two caches, both plain values that the caller creates and passes to the pipeline (no globals):

``LoadMemo``
    remembers what a loader function returned for a file or folder, keyed by the content of every
    file under it (and the call's other arguments), and replays the problems the loader reported.
    Editing one app re-reads that app only.

``RenderCache``
    remembers each page's bytes under an explicit key: a hash of the page's *template closure*
    (its template and every template it extends, includes or imports, by source) and of *every
    value the closure can read*. Which values a closure can read is found by walking the Jinja
    syntax tree: each variable path it names (``site.organisation.name``, ``edition.sections``,
    ``app``) is looked up in the page's variables and hashed; a path used only as a condition
    (``{% if ctx.edition.apps %}``) counts by its truth value. This over-approximates what a render
    reads, never under-approximates it, so a reused page is byte-identical to a fresh render.
    Editing one policy section changes ``edition.sections``, which app pages never name, so they
    are reused; editing a template changes the closure hash of exactly the pages that use it.

Both rely on the content model being immutable (frozen dataclasses and tuples), as model.py
promises: a value's hash is remembered by identity while the value is alive.

For a persistent cache (a warm ``site-builder build``), ``RenderCache.entries()`` is a plain
``{output path: (key, bytes)}`` mapping and ``RenderCache(entries=...)`` takes it back; keys are
deterministic across processes (no ``id()`` or ``hash()`` in them) and start with ``salt``, which
defaults to a hash of site_builder's own code.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import hashlib
import operator
import os
import stat
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable, NamedTuple, TypeVar

import jinja2
from jinja2 import nodes

from ..content.source import read_whole
from ..errors import Problem, Problems
from .kept import KeptWhileUsed
from .memo import IdentityMemo
from ..render.engine import DERIVED_VARIABLES, FRAGMENT_CALLS, FRAME_VARIABLES, Page, RenderContext, derived_inputs, frame_variables, make_environment, render_page
from ..render.theme import Theme

T = TypeVar("T")
DIGEST_SIZE = 16


class Unfingerprintable(TypeError):
    """A value whose content cannot be hashed; a page that reads one is always rendered afresh."""


def _new_hash(tag: bytes) -> "hashlib._Hash":
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    h.update(tag)
    return h


@functools.cache
def code_fingerprint() -> str:
    """A hash of site_builder's own Python code: a cache written by other code must not be trusted."""
    h = _new_hash(b"code")
    package = Path(__file__).resolve().parent.parent
    for file in sorted(package.rglob("*.py")):
        h.update(file.relative_to(package).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()


# ------------------------------------------------------------------------------------ value hashes


_MUTABLE = (list, dict, set, bytearray, types.MappingProxyType)
_NOT_SEEDED = (*_MUTABLE, str, bytes, int, float)  # values whose identity says nothing about their content
_LEAF_REPR = (float, complex, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta, PurePath)


def seedable(value: Any) -> bool:
    """Whether the identity of ``value`` can stand for its content while it lives (not for a list, nor for text)."""
    return value is not None and not isinstance(value, _NOT_SEEDED)


_first = operator.itemgetter(0)


class Fingerprinter:
    """Content hashes of Python values: the same content gives the same bytes, in any process.

    A hash covers the value's type and content: dataclass fields, items, text. Hashes of
    immutable values are remembered by identity while they are in use (kept.py), holding a
    reference so that an id is never reused while remembered; so the content model, shared
    between builds through LoadMemo, is hashed once, and each build hashes only values made
    afresh. Plain text and numbers inside a value are fed to its hash directly.
    """

    def __init__(self) -> None:
        self._known: KeptWhileUsed[int, tuple[Any, bytes]] = KeptWhileUsed()  # id -> (value, digest)
        self._tags: dict[type, bytes] = {}
        self._fields: dict[type, tuple[tuple[str, bytes], ...]] = {}

    def next_generation(self) -> None:
        """A build is done: hashes long unused may be dropped (kept.py says when); call once per build."""
        self._known.end_build()

    def forget(self) -> None:
        """Drop every hash: for a build that will not be followed by another in this process."""
        self._known.clear()

    def seed_all(self, pairs: Iterable[tuple[Any, bytes]]) -> None:
        """Take each ``digest`` as its ``value``'s hash without walking it (LoadMemo names its values by their inputs).

        Sound because a loader is deterministic: the same inputs give an equal value. An equal
        value hashed by content gets another digest, which costs a cache miss, never a wrong page.
        Only for values that ``seedable`` accepts. The (value, digest) pairs themselves become the
        table's entries: serve's load memo hands over every loaded value on every build (3,900 at
        1,000 apps with three releases), and one tuple and one call each were a visible share of a rebuild.
        """
        self._known.put_all(zip(map(id, map(_first, pairs)), pairs))

    def digest(self, value: Any) -> bytes:
        key = id(value)
        hit = self._known.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = self._compute(value)
        if not isinstance(value, _MUTABLE):  # a list may change between builds; a tuple may not
            self._known.put(key, (value, result))
        return result

    def _feed(self, h: "hashlib._Hash", item: Any) -> None:
        """One part of a value: exact str, int, bool and None inline, anything else by its own hash."""
        kind = type(item)
        if kind is str:
            data = item.encode("utf-8", "surrogatepass")
            h.update(b"s%d:" % len(data))
            h.update(data)
        elif kind is int:
            h.update(b"i%d;" % item)
        elif item is None:
            h.update(b"n")
        elif kind is bool:
            h.update(b"T" if item else b"F")
        else:
            h.update(b"h")
            h.update(self.digest(item))

    def _tag(self, kind: type) -> bytes:
        tag = self._tags.get(kind)
        if tag is None:
            tag = self._tags[kind] = f"{kind.__module__}.{kind.__qualname__}\0".encode()
        return tag

    def _compute(self, value: Any) -> bytes:
        kind = type(value)
        h = hashlib.blake2b(self._tag(kind), digest_size=DIGEST_SIZE)
        feed = self._feed
        if isinstance(value, (tuple, list)):
            for item in value:
                feed(h, item)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            names = self._fields.get(kind)
            if names is None:
                names = self._fields[kind] = tuple((f.name, f.name.encode() + b"=") for f in dataclasses.fields(value) if f.metadata.get("fingerprint", True))
            for name, label in names:
                h.update(label)
                feed(h, getattr(value, name))
        elif isinstance(value, str):
            h.update(value.encode("utf-8", "surrogatepass"))
        elif value is None or isinstance(value, (bool, int, enum.Enum) + _LEAF_REPR):
            h.update(repr(value).encode())
        elif isinstance(value, (bytes, bytearray)):
            h.update(bytes(value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                feed(h, key)
                feed(h, item)
        elif isinstance(value, (set, frozenset)):
            for item_digest in sorted(self.digest(item) for item in value):
                h.update(item_digest)
        elif isinstance(value, jinja2.Undefined):
            h.update(b"undefined")
        elif isinstance(value, functools.partial):  # a release page's url() is one per page: its parts fed inline, no tuple hashed
            feed(h, value.func)
            h.update(b"a%d:" % len(value.args))
            for item in value.args:
                feed(h, item)
            h.update(b"k%d:" % len(value.keywords))
            for key, item in sorted(value.keywords.items()):
                feed(h, key)
                feed(h, item)
        elif isinstance(value, types.MethodType):
            feed(h, value.__func__)
            feed(h, value.__self__)
        elif isinstance(value, types.FunctionType):
            h.update(f"{value.__module__}.{value.__qualname__}".encode())
            feed(h, (tuple(cell.cell_contents for cell in value.__closure__ or ()), value.__defaults__, value.__kwdefaults__))
        elif isinstance(value, types.BuiltinFunctionType):  # bound to an object, e.g. "text".startswith
            h.update(f"{value.__module__}.{value.__qualname__}".encode())
            bound = getattr(value, "__self__", None)
            if bound is not None and not isinstance(bound, types.ModuleType):
                feed(h, bound)
        elif isinstance(value, (type, types.ModuleType)):
            h.update(f"{getattr(value, '__module__', '')}.{value.__qualname__ if isinstance(value, type) else value.__name__}".encode())
        elif hasattr(value, "__dict__") and not callable(value):
            for key, item in sorted(vars(value).items()):
                feed(h, key)
                feed(h, item)
        else:
            raise Unfingerprintable(f"cannot fingerprint a {kind.__qualname__}")
        return h.digest()


# ------------------------------------------------------------------------------------ file hashes


class _FileEntry(NamedTuple):
    signature: tuple[int, int, int, int]
    digest: bytes
    checked_ns: int


class FileStates:
    """Content hashes of files and folder trees, re-reading a file only when its stat changed.

    A file modified within ``RACY_NS`` of when it was hashed is hashed again next time (as git
    does), since two writes inside one timestamp tick can leave the same size and mtime.

    Once ``trusted`` (serve, after its first build), whoever watches the files says what changed
    through ``invalidate``, and every other tree's digest is reused without touching the disk:
    that is what makes a rebuild after one edit of a 1,000-app project cost milliseconds.

    A build trusts the digests it took first for its own duration (``hold``): its loaders'
    memo then looks up each folder instead of walking it again, once per nested unit. A file
    edited meanwhile is caught by ``LoadMemo.still_as_loaded`` before the memo is saved.
    """

    RACY_NS = 2_000_000_000

    def __init__(self, files: dict[str, "_FileEntry"] | None = None) -> None:
        """``files``: what ``file_entries()`` gave in an earlier process (the disk cache)."""
        self._files: dict[str, _FileEntry] = dict(files or {})
        self._trees: dict[str, bytes] = {}  # digest() results, reused while trusted
        self.watched = False  # a watcher will report changes: remember every subtree's digest
        self.trusted = False

    def __getstate__(self) -> dict[str, Any]:  # a digest reused on trust is only as good as this process's watcher
        return {**self.__dict__, "_trees": {}, "trusted": False}

    def file_entries(self) -> dict[str, "_FileEntry"]:
        """Each file's stat signature and digest, for ``FileStates(files=...)`` in the next process."""
        return self._files

    def hold(self) -> None:
        """From now on, remember every tree's digest and reuse it: for one build, which checks its loads later."""
        self.watched = self.trusted = True

    def recheck(self) -> None:
        """Forget the trees' digests: the next ones are taken from the disk as it is now (files whose stat is unchanged are not read again)."""
        self._trees.clear()

    def invalidate(self, paths: Iterable[str] | None) -> None:
        """Forget the trees that hold, are, or are inside ``paths``; None: the watcher lost track, forget every tree."""
        if paths is None:  # every file's stat is checked again; unchanged ones are not re-read
            self._trees.clear()
            return
        for changed in paths:
            changed = changed.rstrip(os.sep)
            was_file = self._files.pop(changed, None) is not None
            self._trees.pop(changed, None)
            folder, above = os.path.dirname(changed), changed
            while folder != above:  # every folder that holds it, up to the root
                self._trees.pop(folder, None)
                folder, above = os.path.dirname(folder), folder
            if not was_file:  # a folder, or a path never hashed as a file: what was inside it goes too
                inside = changed + os.sep
                for store in (self._trees, self._files):
                    for key in [k for k in store if k.startswith(inside)]:
                        del store[key]

    def digest(self, path: Path) -> bytes:
        return self._digest(str(path))

    def digest_of(self, path: str) -> bytes:
        """``digest`` of a path given as text: a trusted, unchanged one is one look-up."""
        if self.trusted:
            known = self._trees.get(path)
            if known is not None:
                return known
        return self._digest(path)

    def _digest(self, path: str) -> bytes:
        """A folder's digest is made of its children's, so a trusted rebuild re-walks only changed subtrees."""
        if self.trusted:
            known = self._trees.get(path)
            if known is not None:
                return known
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            result = b"missing"
        except OSError as exc:
            result = f"error:{exc.errno}".encode()
        else:
            if stat.S_ISLNK(info.st_mode):
                result = b"link:" + os.fsencode(os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                h = _new_hash(b"dir")
                try:
                    children = sorted(os.listdir(path))
                except OSError as exc:
                    h.update(f"error:{exc.errno}".encode())
                else:
                    inside = path + os.sep
                    for child in children:
                        h.update(os.fsencode(child) + b"\0" + self._digest(inside + child) + b"\0")
                result = h.digest()
            elif stat.S_ISREG(info.st_mode):
                result = b"file:" + self._file_digest(path, info)
            else:
                result = f"other:{stat.S_IFMT(info.st_mode)}".encode()
        if self.watched:  # only a watcher's word makes a remembered digest worth reusing
            self._trees[path] = result
        return result

    def _file_digest(self, path: str, info: os.stat_result) -> bytes:
        signature = (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)
        known = self._files.get(path)
        if known is not None and known.signature == signature and known.checked_ns - info.st_mtime_ns > self.RACY_NS:
            return known.digest
        checked = time.time_ns()
        try:
            digest = hashlib.blake2b(read_whole(path, info.st_size), digest_size=DIGEST_SIZE).digest()
        except OSError as exc:
            return f"unreadable:{exc.errno}".encode()
        self._files[path] = _FileEntry(signature, digest, checked)
        return digest


# ------------------------------------------------------------------------------------ load memo


class _LoadEntry(NamedTuple):
    inputs: bytes
    value: Any
    problems: tuple[Problem, ...]
    seed: bytes  # the value's content hash, named by the loader and its inputs (Fingerprinter.seed)
    inner: tuple[tuple[Any, bytes], ...] = ()  # a nested loader's parts, with their seeds: seeded again when it is reused


class _Arguments(NamedTuple):
    """A call's other arguments as passed, kept in memory only: equal ones are not hashed again."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    digest: bytes
    keywords_digest: bytes  # of kwargs alone, for twins


class LoadMemo:
    """Loader results keyed by the files they read, so an edit re-loads only what it touched.

    ``memo.call(load_app, folder, display, problems=problems, catalogue=c)`` is
    ``load_app(folder, display, problems=problems, catalogue=c)``, except that when nothing under
    ``folder`` and no other argument changed since the last call, the previous result is returned
    and the problems it reported are reported again. The loader must read nothing but the files
    under its first argument (or under ``inputs``, when given), and must be deterministic: both hold
    for content/load.py's, forge/apps.py's and releases/history.py's.

    Serve makes it ``trust`` its watcher (``FileStates``): then an unchanged folder costs a lookup.
    """

    def __init__(self, *, watched: bool = False, files: FileStates | None = None, entries: dict | None = None) -> None:
        """``watched``: a file watcher will say what changed before each build (``trust``).
        ``files``: file digests shared with another user (the disk cache's inputs digest);
        ``entries``: what ``entries()`` gave in an earlier process."""
        self._entries: dict[tuple[str, str], _LoadEntry] = dict(entries or {})
        self._loader_names: dict[Callable[..., Any], str] = {}
        self._parts: list[list[tuple[Any, bytes]]] = []  # per nested loader under way: the values loaded inside it
        self._files = files if files is not None else FileStates()
        self._files.watched = watched or self._files.watched
        self._fingerprints = Fingerprinter()
        self.loaded: list[str] = []  # sources read afresh since reset_stats()
        self._fresh: list[tuple[str, tuple[str, ...], bytes]] = []  # (source, inputs, files digest) of each load done afresh
        self.reused: list[str] = []
        # told (value, digest of what it was made from) pairs (BuildCache: RenderCache's fingerprints)
        self.on_values: Callable[[tuple[tuple[Any, bytes], ...]], None] | None = None
        self._twins: dict[tuple[str, str, bytes, bytes], Any] = {}  # see call(relocate=)
        self._arguments_seen: dict[tuple[str, str], _Arguments] = {}
        self._assembled: dict[str, Any] = {}  # see same_as_before
        # what a watcher says changed since the last build (absolute paths); None: unknown, check everything
        self.changed_paths: frozenset[str] | None = None
        self.content_had_no_links = False  # what load.py's link check found last time

    def entries(self) -> dict[tuple[str, str], "_LoadEntry"]:
        """Every loader result with its inputs' digest and problems, for ``LoadMemo(entries=...)`` in the next process."""
        return self._entries

    def still_as_loaded(self) -> bool:
        """Whether every file loaded afresh is still as it was hashed before its loader read it.

        An edit made while a build loads may have reached the loader but not the digest its result
        is remembered under: such a memo must not be saved, or reverting the edit would bring the
        edited value back. A build that held its digests (``FileStates.hold``) asks before saving;
        the loads checked are forgotten.
        """
        files, fresh = self._files, self._fresh
        self._fresh = []
        files.recheck()
        for folder, inputs, digest in fresh:  # inner units first: a held walk of each folder serves the units around it
            now = b"".join([files.digest_of(os.path.join(folder, part)) for part in inputs]) if inputs else files.digest_of(folder)
            if now != digest:
                return False
        return True

    def reset_stats(self) -> None:
        self._fresh.clear()
        self.loaded.clear()
        self.reused.clear()
        self._fingerprints.next_generation()

    def same_as_before(self, name: str, value: T) -> T:
        """``value``, or the equal value given under ``name`` last time: the very object, so that what is
        derived from it (memo.py, page keys) is reused. Equality is cheap here: the parts of an
        unchanged value are the same objects, which compare by identity first."""
        known = self._assembled.get(name)
        if known is not None and type(known) is type(value) and known == value:
            return known
        self._assembled[name] = value
        return value

    def trust(self, changed: Iterable[str] | None) -> None:
        """Take ``changed`` (absolute paths, from a file watcher) as everything that changed since the
        last build; None when the watcher cannot say, so that the next build checks every file's stat."""
        if changed is None:
            self._files.invalidate(None)
            self._files.trusted = False
            self.changed_paths = None
        else:
            self._files.invalidate(changed)
            self._files.trusted = True
            self.changed_paths = frozenset(changed)

    def call(
        self,
        loader: Callable[..., T],
        source: Path | str,
        *args: Any,
        problems: Problems,
        relocate: Callable[..., T] | None = None,
        inputs: tuple[str, ...] = (),
        nested: bool = False,
        **kwargs: Any,
    ) -> T:
        """``relocate(value, *args)``, when given, adapts the value loaded from a byte-identical folder
        of the same name elsewhere (a frozen release's copy of an unchanged app) instead of loading
        it again; only values loaded without problems are shared, so no message names the wrong file.
        ``inputs``: the names under ``source`` that the loader reads, when it reads only some of them.
        ``nested``: the loader takes ``memo=`` and loads its parts through this memo too.
        ``source`` may be given as text (a thousand app folders need no Path each); the loader gets a Path.
        """
        name = self._loader_names.get(loader)
        if name is None:
            name = self._loader_names[loader] = f"{loader.__module__}.{loader.__qualname__}"
        folder = os.fspath(source)
        identity = (name, folder)
        known = self._entries.get(identity)
        try:
            files = b"".join([self._files.digest_of(os.path.join(folder, part)) for part in inputs]) if inputs else self._files.digest_of(folder)
            arguments = self._arguments_seen.get(identity)
            if arguments is None or arguments.args != args or arguments.kwargs != kwargs:
                arguments = self._arguments_seen[identity] = _Arguments(args, kwargs, self._arguments(args, kwargs), self._arguments((), kwargs))
            inputs_digest = files + arguments.digest
        except Unfingerprintable:
            return loader(Path(source), *args, problems=problems, **kwargs)
        twin_key = (name, folder.rpartition(os.sep)[2], files, arguments.keywords_digest) if relocate is not None else None
        # the stats name the sources read or reused, not the folders whose parts are loaded through this memo
        stats = not nested
        if known is not None and known.inputs == inputs_digest:
            if stats:
                self.reused.append(folder)
            if known.problems:
                problems.extend(known.problems)
            value = known.value
            if known.inner:  # a warm build reads the unit whole from disk: its parts need their seeds too
                self._seeded(known.inner)
        else:
            if nested:
                kwargs = {**kwargs, "memo": self}
            twin = self._twins.get(twin_key) if twin_key is not None else None
            fresh = Problems()
            inner: tuple[tuple[Any, bytes], ...] = ()
            if twin is not None and relocate is not None:
                value = relocate(twin, *args)
                self.reused.append(folder)
            else:
                if nested:
                    self._parts.append([])
                try:
                    value = loader(Path(source), *args, problems=fresh, **kwargs)
                finally:
                    if nested:
                        inner = tuple(self._parts.pop())
                        if self._parts:
                            self._parts[-1].extend(inner)
                if stats:
                    self.loaded.append(folder)
                self._fresh.append((folder, inputs, files))
                problems.extend(fresh.items)
            seed = _new_hash(b"loaded\0" + "\0".join(identity).encode("utf-8", "surrogatepass") + b"\0" + inputs_digest).digest()
            known = self._entries[identity] = _LoadEntry(inputs_digest, value, tuple(fresh.items), seed, inner)
        if twin_key is not None and value is not None and not known.problems:
            self._twins.setdefault(twin_key, value)
        if seedable(value):
            self._seeded(((value, known.seed),))
        return value

    def _seeded(self, pairs: tuple[tuple[Any, bytes], ...]) -> None:
        """Hand values (``seedable`` ones) and their seeds to ``on_values``, and to the nested loader under way, if any."""
        if self._parts:
            self._parts[-1].extend(pairs)
        if self.on_values is not None:
            self.on_values(pairs)

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        h = _new_hash(b"arguments")
        for item in (*args, *sorted(kwargs.items())):
            self._fingerprints._feed(h, item)
        return h.digest()


def memoised(memo: LoadMemo | None, loader: Callable[..., T], source: Path, *args: Any, problems: Problems, **kwargs: Any) -> T:
    """``loader(source, *args, problems=problems, **kwargs)``, through ``memo`` when there is one."""
    if memo is None:
        return loader(source, *args, problems=problems, **kwargs)
    return memo.call(loader, source, *args, problems=problems, **kwargs)


# ------------------------------------------------------------------------------------ template analysis


Step = tuple[str, Any]  # ("attr", name) or ("item", constant)


class Read(NamedTuple):
    """A variable path a template can read, and whether only its truth value matters."""

    root: str
    steps: tuple[Step, ...]
    truth_only: bool


@dataclass(frozen=True)
class TemplateInfo:
    """What one template's source says: the templates it needs and the paths it reads."""

    references: tuple[str, ...]
    reads: frozenset[Read]
    dynamic: bool  # it names a template by expression: its closure cannot be known


def analyse_template(environment: jinja2.Environment, source: str) -> TemplateInfo:
    """The templates and variable paths one template's syntax tree names (an over-approximation).

    A call ``fragment('_row.html', app=app)`` (render.fragment, and fragment_each) names '_row.html'
    as an include does, and reads its values; a fragment named by an expression makes the template dynamic.
    """
    tree = environment.parse(source)
    references: list[str] = []
    reads: set[Read] = set()
    dynamic = False

    def chain(node: nodes.Node) -> tuple[str, tuple[Step, ...]] | None:
        steps: list[Step] = []
        while True:
            if isinstance(node, nodes.Name):
                return (node.name, tuple(reversed(steps)))
            if isinstance(node, nodes.Getattr):
                steps.append(("attr", node.attr))
            elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, (str, int)):
                steps.append(("item", node.arg.value))
            else:
                return None
            node = node.node

    def visit(node: nodes.Node, local: frozenset[str], truth: bool = False) -> None:
        """``local``: names bound here by a macro, call block, for loop or with, which hide the page's."""
        nonlocal dynamic
        found = chain(node)
        if found is not None:
            if found[0] not in local and not (isinstance(node, nodes.Name) and node.ctx != "load"):
                reads.add(Read(found[0], found[1], truth))
            return
        if isinstance(node, (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
            names = _constant_names(node.template)
            if names is None:
                dynamic = True
            else:
                references.extend(names)
        if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in FRAGMENT_CALLS and node.node.name not in local:
            # render.fragment('name', **values) and fragment_each('name', 'item', items) draw template 'name':
            # a reference; their values are read below like any argument
            first = node.args[0] if node.args else None
            if isinstance(first, nodes.Const) and isinstance(first.value, str):
                references.append(first.value)
            else:
                dynamic = True
        if isinstance(node, (nodes.Macro, nodes.CallBlock)):
            for child in node.iter_child_nodes(exclude=("body",)):
                visit(child, local)  # defaults and the call are evaluated outside
            inner = local | {arg.name for arg in node.args} | {"varargs", "kwargs", "caller"}
            for child in node.body:
                visit(child, inner)
        elif isinstance(node, nodes.For):
            visit(node.iter, local)
            inner = local | _stored_names(node.target) | {"loop"}
            for child in [*node.body, *([node.test] if node.test else [])]:
                visit(child, inner)
            for child in node.else_:
                visit(child, local)
        elif isinstance(node, nodes.With):
            for child in node.values:
                visit(child, local)
            inner = local | {name for target in node.targets for name in _stored_names(target)}
            for child in node.body:
                visit(child, inner)
        elif isinstance(node, (nodes.If, nodes.CondExpr)):
            visit(node.test, local, truth=True)
            for child in node.iter_child_nodes(exclude=("test",)):
                visit(child, local)
        elif truth and isinstance(node, (nodes.And, nodes.Or, nodes.Not)):
            for child in node.iter_child_nodes():
                visit(child, local, truth=True)
        else:
            for child in node.iter_child_nodes():
                visit(child, local)

    visit(tree, frozenset())
    return TemplateInfo(tuple(dict.fromkeys(references)), frozenset(reads), dynamic)


def _stored_names(target: nodes.Node) -> set[str]:
    return {name.name for name in target.find_all(nodes.Name)} | ({target.name} if isinstance(target, nodes.Name) else set())


def _constant_names(node: nodes.Node) -> list[str] | None:
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, nodes.Const) and isinstance(node.value, (list, tuple)) and all(isinstance(v, str) for v in node.value):
        return list(node.value)
    if isinstance(node, (nodes.List, nodes.Tuple)):
        names = [_constant_names(item) for item in node.items]
        return None if any(n is None for n in names) else [name for group in names for name in group]  # type: ignore[union-attr]
    return None


def _without_implied(reads: set[Read]) -> set[Read]:
    """Drop reads that a whole read implies: with ``app`` hashed whole, ``app.name`` adds nothing.

    An attribute's value is a function of its object's content (fields, or properties computed
    from them), and the hash covers that content; so hashing a prefix covers every longer path.
    """
    whole = {(read.root, read.steps) for read in reads if not read.truth_only}
    return {
        read
        for read in reads
        if not any((read.root, read.steps[:length]) in whole for length in range(len(read.steps) + (1 if read.truth_only else 0)))
    }


@dataclass(frozen=True)
class Closure:
    """A template with everything it needs: one hash of their sources, and every path they read."""

    digest: bytes
    templates: tuple[str, ...]
    reads: tuple[Read, ...]

    @functools.cached_property
    def by_root(self) -> tuple[tuple[str, tuple[Read, ...]], ...]:
        """The reads grouped by the variable they start from: a page's key hashes each root's group once."""
        groups: dict[str, list[Read]] = {}
        for read in self.reads:
            groups.setdefault(read.root, []).append(read)
        return tuple((root, tuple(reads)) for root, reads in groups.items())


# ------------------------------------------------------------------------------------ render cache


class CacheEntry(NamedTuple):
    key: str
    data: bytes


class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory (and by cache/disk.py between builds); Jinja recompiles one
    whose source checksum changed, or that another Python compiled."""

    def __init__(self, store: dict[str, bytes] | None = None) -> None:
        self._store: dict[str, bytes] = store if store is not None else {}

    def entries(self) -> dict[str, bytes]:
        return dict(self._store)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


@dataclass
class RenderStats:
    """What the last build did with each page: rendered afresh, or reused from the cache."""

    rendered: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)


_UNDEFINED = b"\0undefined"
_MISSING_TEMPLATE = b"\0missing"


class RenderCache:
    """Rendered pages under explicit keys: template-closure hash + hash of every value it can read.

    ``render_site(..., cache=cache)`` calls ``environment(theme)`` once and then
    ``session(environment, ctx)``, whose ``render_into`` renders the pages (or reuses them).
    """

    def __init__(self, *, salt: str | None = None, entries: Mapping[str, CacheEntry] | None = None, keep_fragments: bool = False) -> None:
        """``keep_fragments``: for a process that builds again and again (serve); one build would only pay their memory."""
        self.salt = code_fingerprint() if salt is None else salt
        self._pages: dict[str, CacheEntry] = dict(entries or {})
        self._analyses: dict[bytes, TemplateInfo] = {}
        self._closures: dict[bytes, Closure] = {}  # the same object while the sources are the same
        self.bytecode = MemoryBytecodeCache()
        self._fingerprints = Fingerprinter()
        self._groups = _GroupDigests()
        # path -> (page, closure, frame digest, key, its own edition, overridden frame variables), last build's and this one's
        self._page_keys: dict[str, tuple[Page, Closure, bytes, str, Any, frozenset[str]]] = {}
        self._page_keys_next: dict[str, tuple[Page, Closure, bytes, str, Any, frozenset[str]]] = {}
        # one Fingerprinter for page keys and fragment keys: the apps both hash are hashed once
        self._fragments = _fragment_store(self._fingerprints) if keep_fragments else None
        self.stats = RenderStats()
        # serve: what the watcher says changed before this build, and the last build's environment
        # with the template sources and closures it read (kept while no template changes)
        self._changed_paths: frozenset[str] | None = None
        self._last: tuple[tuple[str, ...], jinja2.Environment, dict[str, bytes | None], dict[str, Closure | None]] | None = None

    def trust(self, changed: Iterable[str] | None) -> None:
        """Take ``changed`` (absolute paths, from a file watcher) as all that changed since the last build:
        if no template is among them, the next build keeps the last one's compiled templates. For one build."""
        self._changed_paths = None if changed is None else frozenset(changed)

    def forget_fingerprints(self) -> None:
        """Let go of the content hashes behind this build's keys: for a build that will not be followed by another in this process."""
        self._fingerprints.forget()

    def entries(self) -> dict[str, CacheEntry]:
        """``{output path: (key, bytes)}`` of the pages of the last build, for saving to disk."""
        return dict(self._pages)

    def environment(self, theme: Theme) -> jinja2.Environment:
        """A new environment each build, unless ``trust`` said that no template changed since the last."""
        folders = tuple(os.path.realpath(folder) for folder in theme.template_dirs)
        changed, self._changed_paths = self._changed_paths, None
        last = self._last
        if last is not None and last[0] == folders and changed is not None and not _inside_any(changed, folders):
            if self._fragments is not None:
                self._fragments.next_generation()
            return last[1]  # with the sources and closures read for it: the same while no template changed
        environment = make_environment(theme, self.bytecode, self._fragments)
        self._last = (folders, environment, {}, {})
        return environment

    def session(self, environment: jinja2.Environment, ctx: RenderContext) -> "_Session":
        """Start a build: its ``render(page)``, ``render_into(files, pages)`` and ``key(page)``; pages not rendered in it are forgotten after it."""
        self._fingerprints.next_generation()
        self._groups.next_generation()
        self._page_keys = self._page_keys_next
        self.stats = RenderStats()
        return _Session(self, environment, ctx)

    def closure(self, environment: jinja2.Environment, name: str, sources: dict[str, bytes | None]) -> Closure | None:
        """The closure of template ``name``; None when a template in it is named by an expression."""
        found = template_closure(environment, name, sources, self._analyses)
        if found is None:
            return None
        digest, seen, reads = found
        known = self._closures.get(digest)
        if known is None:
            known = self._closures[digest] = Closure(digest, seen, tuple(sorted(_without_implied(reads), key=repr)))
        return known


def template_closure(environment: jinja2.Environment, name: str, sources: dict[str, bytes | None], analyses: dict[bytes, TemplateInfo]) -> tuple[bytes, tuple[str, ...], set[Read]] | None:
    """(digest, templates, reads) of template ``name`` with every template it extends, includes, imports
    or draws as a fragment; None when one is named by an expression. The one closure hash, for pages
    (RenderCache) and fragments (cache/fragments.py).

    ``sources`` (name -> source digest, read once per build) and ``analyses`` (source digest ->
    what the template names, kept while the source is the same) are the caller's tables.
    """
    seen: list[str] = []
    reads: set[Read] = set()
    pending = [name]
    h = _new_hash(b"closure")
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.append(current)
        info = _template_info(environment, current, sources, analyses)
        h.update(current.encode() + b"\0" + (sources[current] or _MISSING_TEMPLATE))
        if info is None:
            continue
        if info.dynamic:
            return None
        reads |= info.reads
        pending.extend(info.references)
    return h.digest(), tuple(seen), reads


def _template_info(environment: jinja2.Environment, name: str, sources: dict[str, bytes | None], analyses: dict[bytes, TemplateInfo]) -> TemplateInfo | None:
    if name not in sources:
        try:
            source, filename, _ = environment.loader.get_source(environment, name)  # type: ignore[union-attr]
        except jinja2.TemplateNotFound:
            sources[name] = None
        else:
            digest = hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=DIGEST_SIZE).digest()
            sources[name] = digest
            if digest not in analyses:
                try:
                    analyses[digest] = analyse_template(environment, source)
                except jinja2.TemplateSyntaxError:
                    analyses[digest] = TemplateInfo((), frozenset(), dynamic=True)  # render reports it
    digest = sources[name]
    return None if digest is None else analyses[digest]


class _Session:
    """One build's use of the cache: template sources read once, shared values hashed once."""

    def __init__(self, cache: RenderCache, environment: jinja2.Environment, ctx: RenderContext) -> None:
        self.cache = cache
        self.environment = environment
        self.ctx = ctx
        last = cache._last if cache._last is not None and cache._last[1] is environment else None
        # template name -> source digest, and -> closure: read afresh, or the last build's when no template changed
        self.sources: dict[str, bytes | None] = last[2] if last is not None else {}
        self.closures: dict[str, Closure | None] = last[3] if last is not None else {}
        self.pages: dict[str, CacheEntry] = {}
        cache._pages, self.previous = self.pages, cache._pages
        self.frames: dict[tuple[int, int, frozenset[str]], tuple[Any, bytes]] = {}
        # path -> (page, closure, frame digest, key, the page's own edition or None, frame variables it overrides)
        self.page_keys: dict[str, tuple[Page, Closure, bytes, str, Any, frozenset[str]]] = {}  # this build's, for the next
        self.last_keys = cache._page_keys
        cache._page_keys_next = self.page_keys

    def render(self, page: Page) -> bytes:
        key = self.key(page)
        known = self.previous.get(page.path)
        if key is not None and known is not None and known.key == key:
            self.cache.stats.reused.append(page.path)
            self.pages[page.path] = known
            return known.data
        data = render_page(self.environment, self.ctx, page)
        self.cache.stats.rendered.append(page.path)
        if key is not None:
            self.pages[page.path] = CacheEntry(key, data)
        return data

    def render_into(self, files: dict[str, bytes], pages: Iterable[Page]) -> None:
        """``files[page.path] = render(page)`` for each page; a page unchanged since the last build costs a few look-ups.

        A page object made by the same generator from the same objects as in the last build
        (memo.py), with the same closure, in a frame whose digest is unchanged, has the last
        build's key and bytes. The test is done inline: serve's rebuild after one edit at 1,000
        apps reuses nearly every page, and two calls per page were a visible share of it. The first page of
        a closure or frame new to this build goes through ``render``, which computes them.
        """
        last_keys, previous, closures, frames = self.last_keys, self.previous, self.closures, self.frames
        page_keys, entries, reused = self.page_keys, self.pages, self.cache.stats.reused
        build_edition = self.ctx.edition
        for page in pages:
            path = page.path
            known = last_keys.get(path)
            if known is not None and known[0] is page and closures.get(page.template, _ABSENT) is known[1]:  # the page's context is as it was
                frame = frames.get((id(known[1]), id(build_edition if known[4] is None else known[4]), known[5]))
                entry = previous.get(path)
                if frame is not None and frame[1] == known[2] and entry is not None and entry.key == known[3]:
                    page_keys[path] = known
                    entries[path] = entry
                    reused.append(path)
                    files[path] = entry.data
                    continue
            files[path] = self.render(page)

    def key(self, page: Page) -> str | None:
        """The page's cache key, or None when it cannot be known (dynamic include, unhashable value).

        Three parts: the frame (values shared by the pages of one edition, hashed once per build
        and closure), what page_variables derives from the page's own fields (hashed by those
        fields), and ``page.context``.
        """
        closure = self.closures.get(page.template, _ABSENT)
        if closure is _ABSENT:
            closure = self.closures[page.template] = self.cache.closure(self.environment, page.template, self.sources)
        if closure is None:
            return None
        try:
            context = page.context
            edition = context.get("edition", self.ctx.edition)
            overridden = FRAME_VARIABLES.intersection(context) if context else _NONE
            frame = self.frame_digest(closure, edition, overridden)
            site = context["site"] if "site" in context else edition.site
            h = _new_hash(self.cache.salt.encode() + b"\0page\0")
            h.update(f"{page.path}\0{page.template}\0{page.root_relative}\0".encode() + closure.digest + frame[1])
            h.update(derived_inputs(self.ctx, page, site).encode("utf-8", "surrogatepass"))
            groups = self.cache._groups
            for root, reads in closure.by_root:
                if root in context:
                    h.update(groups.digest(context[root], reads, self.reads_digest))
        except Unfingerprintable:
            return None
        except Exception:  # a property that fails here fails in the render too, which reports it
            return None
        key = h.hexdigest()
        self.page_keys[page.path] = (page, closure, frame[1], key, context.get("edition"), overridden)
        return key

    def frame_digest(self, closure: Closure, edition: Any, overridden: frozenset[str]) -> tuple[Any, bytes]:
        """(edition, what ``closure`` reads from everything but ``page.context`` and the derived variables)."""
        memo = (id(closure), id(edition), overridden)
        known = self.frames.get(memo)
        if known is not None:
            return known
        frame = frame_variables(self.ctx, edition)
        environment_globals = self.environment.globals
        h = _new_hash(b"frame")
        h.update(f"{self.ctx.draft}\0{edition.site.base_url}\0".encode("utf-8", "surrogatepass"))  # read by the derived variables
        for root, reads in closure.by_root:
            if root in overridden or root in DERIVED_VARIABLES:
                continue  # from page.context (hashed per page), or hashed by their inputs
            value = frame.get(root, _ABSENT)
            if value is _ABSENT:
                value = environment_globals.get(root, _ABSENT)
            if value is _ABSENT:  # a name the template binds itself, or undefined
                h.update(root.encode() + _UNDEFINED)
            else:
                h.update(self.cache._groups.digest(value, reads, self.reads_digest))
        self.frames[memo] = known = (edition, h.digest())  # holds the edition, so its id is not reused in this build
        return known

    def reads_digest(self, root: Any, reads: tuple[Read, ...]) -> bytes:
        """One hash of what ``reads`` find starting from ``root``."""
        h = _new_hash(b"reads")
        for read in reads:
            h.update(self.value(root, read))
        return h.digest()

    def value(self, root: Any, read: Read) -> bytes:
        value = root
        for kind, name in read.steps:
            value = self.environment.getattr(value, name) if kind == "attr" else self.environment.getitem(value, name)
            if isinstance(value, jinja2.Undefined):
                return _UNDEFINED
        if read.truth_only:
            return b"\0true" if value else b"\0false"
        return self.cache._fingerprints.digest(value)


_ABSENT = object()
_NONE: frozenset[str] = frozenset()


class _GroupDigests:
    """Digests of (a root value, a closure's reads from it), remembered by identity between builds.

    A 1,000-app site has 3,864 pages reading about 40 paths each; the same ``app`` or ``site``
    object read by the same closure gives the same digest, so after one edit only the roots made
    afresh are walked. Mutable roots are never remembered (a list may change between builds).
    Entries long unused are dropped (kept.py); each holds its root, so an id is not reused.
    """

    def __init__(self) -> None:
        self._known: KeptWhileUsed[tuple[int, int], tuple[Any, bytes]] = KeptWhileUsed()

    def next_generation(self) -> None:
        self._known.end_build()

    def digest(self, root: Any, reads: tuple[Read, ...], compute: Callable[[Any, tuple[Read, ...]], bytes]) -> bytes:
        key = (id(root), id(reads))  # closures are kept by RenderCache, so ``reads`` lives as long
        hit = self._known.get(key)
        if hit is not None and hit[0] is root:
            return hit[1]
        result = compute(root, reads)
        if not isinstance(root, _MUTABLE):
            self._known.put(key, (root, result))
        return result


# ------------------------------------------------------------------------------------ both together


@dataclass
class BuildCache:
    """What ``render_project(..., cache=)`` reuses between builds of one project."""

    load: LoadMemo = field(default_factory=LoadMemo)
    render: RenderCache = field(default_factory=RenderCache)
    derived: IdentityMemo = field(default_factory=IdentityMemo)  # what generators derive from the model (memo.py)

    def __post_init__(self) -> None:
        # a loaded value's hash is the hash of its inputs: a warm build (a new process) need not
        # walk the whole model to key its pages
        self.load.on_values = self.render._fingerprints.seed_all

    def reset_stats(self) -> None:
        self.load.reset_stats()

    def trust(self, changed: Iterable[str] | None) -> None:
        """What a file watcher says changed since the last build (LoadMemo.trust, RenderCache.trust)."""
        changed = None if changed is None else frozenset(changed)
        self.load.trust(changed)
        self.render.trust(changed)


def _inside_any(paths: Iterable[str], folders: tuple[str, ...]) -> bool:
    """Whether a path is one of ``folders``, inside one, or a folder holding one."""
    for path in paths:
        for folder in folders:
            if path == folder or path.startswith(folder + os.sep) or folder.startswith(path + os.sep):
                return True
    return False


def changed_files(previous: Mapping[str, bytes], current: Mapping[str, bytes]) -> tuple[list[str], list[str]]:
    """(paths written or changed, paths removed) between two renders of a site."""
    changed = [path for path, data in current.items() if previous.get(path) is not data and previous.get(path) != data]
    removed = [path for path in previous if path not in current]
    return changed, removed


def iter_reads(closure: Closure) -> Iterable[str]:
    """Readable names of a closure's reads, for debugging: ``site.organisation.name``, ``?ctx.edition.apps``."""
    for read in closure.reads:
        path = read.root + "".join(f".{name}" if kind == "attr" else f"[{name!r}]" for kind, name in read.steps)
        yield ("?" if read.truth_only else "") + path


def _fragment_store(fingerprints: Fingerprinter) -> Any:
    from .fragments import FragmentStore  # fragments.py builds on this module

    return FragmentStore(fingerprints)
