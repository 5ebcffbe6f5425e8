"""Fragments of pages kept between builds (serve): a table row per app, rendered again only when its inputs change.

``render/engine.py`` draws ``fragment()`` and ``fragment_each()`` calls with ``environment.fragments``
when a build gives it one; this store keys each fragment by its template closure (the same
``template_closure`` that keys whole pages) and a content hash of the values it is given.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import Any, Iterable

import jinja2
from markupsafe import Markup

from ..render.engine import render_fragment
from .incremental import Fingerprinter, TemplateInfo, Unfingerprintable, template_closure
from .kept import KeptWhileUsed


class FragmentStore:
    """Fragments rendered in earlier builds, under a key that is a content hash of everything they depend on.

    ``{{ fragment('_row.html', app=app) }}`` renders ``_row.html`` from the values given, the
    page's ``url`` and the environment's globals, and nothing else; so its output is a pure
    function of those values and of the template with every template it imports, and the key
    hashes exactly these, by content (``incremental.Fingerprinter``). A page that repeats one row
    per app then re-renders, after one app changed, that app's row only.

    Kept between builds by whoever makes each build's environment (``make_environment(...,
    fragments=store)``, which starts a new generation); fragments long unused are forgotten, as
    ``Fingerprinter``'s hashes are (kept.py).
    """

    def __init__(self, fingerprints: Fingerprinter | None = None) -> None:
        from ..cache.incremental import Fingerprinter, Unfingerprintable  # incremental imports this module

        self._unfingerprintable = Unfingerprintable
        self._owns_fingerprints = fingerprints is None  # a shared Fingerprinter's generations are its owner's
        self.fingerprints = Fingerprinter() if fingerprints is None else fingerprints
        self._rendered: KeptWhileUsed[bytes, Markup] = KeptWhileUsed()
        self._closures: dict[str, bytes | None] = {}  # template name -> hash of its closure, for this build
        self._sources: dict[str, bytes | None] = {}  # template name -> digest of its source, for this build
        self._analyses: dict[bytes, TemplateInfo] = {}  # source hash -> what the template names; one more per template edit
        # fragment keys by (closure, identities of the values) -> (the values, held so that their ids stay theirs; the key)
        self._keys: KeptWhileUsed[tuple, tuple[tuple[Any, ...], bytes | None]] = KeptWhileUsed()
        # fragment_each loops by (closure, item variable, the shared values) -> {id(item): (item, output)}
        self._loops: KeptWhileUsed[tuple, dict[int, tuple[Any, Markup]]] = KeptWhileUsed()
        self.rendered = 0  # fragments rendered afresh in this build
        self.reused = 0

    def next_generation(self) -> None:
        """Start a build: template sources are read again, and fragments long unused may be forgotten (kept.py)."""
        self._rendered.end_build()
        self._keys.end_build()
        self._loops.end_build()
        self._closures, self._sources = {}, {}
        self.rendered = self.reused = 0
        if self._owns_fingerprints:
            self.fingerprints.next_generation()

    def render(self, environment: jinja2.Environment, name: str, values: dict[str, Any]) -> Markup:
        key = self._key(environment, name, values)
        if key is not None:
            known = self._rendered.get(key)
            if known is not None:
                self.reused += 1
                return known
        result = render_fragment(environment, name, values)
        self.rendered += 1
        if key is not None:
            self._rendered.put(key, result)
        return result

    def render_each(self, environment: jinja2.Environment, name: str, variable: str, items: Iterable[Any], shared: dict[str, Any]) -> tuple[Markup, ...]:
        """``render`` for each item as ``variable``; an item seen in this loop last time costs a look-up in C.

        A 1,000-app table is three such loops; one ``render`` per row was a large share of a rebuild.
        Items are immutable values of the model (frozen dataclasses, tuples), as ``fragment``'s are:
        the very same item gives the very same row.
        """
        closure = self._closures[name] if name in self._closures else self._closure(environment, name)
        items = tuple(items)
        if closure is None:
            return tuple(self.render(environment, name, {**shared, variable: item}) for item in items)
        loop = (closure, variable, *map(_identity, shared.values()), *shared)
        known = self._loops.get(loop)
        if known is not None and not all(a is b or type(b) in _BY_VALUE for a, b in zip(known[_SHARED][0], shared.values())):
            known = None
        ids = tuple(map(id, items))  # a table holds its items, so an id found in it is that very item
        parts = list(map(known.get, ids)) if known else [None] * len(items)
        misses = [index for index, part in enumerate(parts) if part is None]
        self.reused += len(items) - len(misses)
        outputs = [part[1] for part in parts] if not misses else [None if part is None else part[1] for part in parts]
        for index in misses:
            outputs[index] = self.render(environment, name, {**shared, variable: items[index]})
        table = dict(zip(ids, zip(items, outputs)))
        table[_SHARED] = (tuple(shared.values()), None)  # held, so that ids in the key stay theirs
        self._loops.put(loop, table)
        return tuple(outputs)

    def _key(self, environment: jinja2.Environment, name: str, values: dict[str, Any]) -> bytes | None:
        """The fragment's key; None when it cannot be known (a template named by an expression, a value without a content hash).

        Remembered for the very same values (by identity): a page's rows share its url.
        """
        closure = self._closures[name] if name in self._closures else self._closure(environment, name)
        if closure is None:
            return None
        by_identity = (closure, *map(_identity, values.values()), *values)
        known = self._keys.get(by_identity)
        if known is not None and all(a is b or type(b) in _BY_VALUE for a, b in zip(known[0], values.values())):
            return known[1]
        key = self._content_key(closure, values)
        self._keys.put(by_identity, (tuple(values.values()), key))
        return key

    def _content_key(self, closure: bytes, values: dict[str, Any]) -> bytes | None:
        digest = self.fingerprints.digest
        parts = [closure]
        try:
            for variable in sorted(values):  # names are identifiers and digests have one length: no ambiguity
                parts += (variable.encode(), digest(values[variable]))
        except Unfingerprintable:
            return None
        return hashlib.blake2b(b"\0".join(parts), digest_size=16).digest()

    def _closure(self, environment: jinja2.Environment, name: str) -> bytes | None:
        """The digest of the template's closure, as RenderCache keys a page's (``template_closure``); None when dynamic."""
        found = template_closure(environment, name, self._sources, self._analyses)
        result = None if found is None else found[0]
        self._closures[name] = result
        return result


_BY_VALUE = (str, partial)
_SHARED = -1  # a loop table's entry for its shared values; never an object's id


def _identity(value: Any) -> Any:
    """What tells a fragment's value from another: its identity, but text and ``url`` by value.

    A page's ``url`` is a partial per folder depth; a build that renders no page of that depth
    makes it afresh, and the rows of every page after it must still be found.
    """
    kind = type(value)
    if kind is str:
        return value
    if kind is partial and not value.keywords and all(type(arg) is str for arg in value.args):
        return (value.func, value.args)
    return id(value)
