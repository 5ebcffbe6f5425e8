"""Results of pure functions of immutable values, kept while the very same objects come back.

``LoadMemo`` hands back the identical model objects for files that did not change, so whatever a
generator derives from one app (its JSON export, its Marketplace kit, its changes, its pages) can
be reused on identity alone: no hashing and no comparison of content, which is what lets serve
rebuild a large site after one edit without redoing the work of what did not change (see BENCHMARKS.md, 'Figures behind the code'). Within one build it also shares work
between generators (a release's changes serve its changes page and the feed).

Only for functions that read nothing but their arguments and whose results nobody mutates. A
memoised function may itself go through the memo (pass it as an argument): what it used is kept
as long as its own result is, so a reused outer result never leaves its inner ones to be dropped.

The memo's own bookkeeping is kept out of the garbage collector's way (keys of plain ints, one
entry per result, a loop's results in three dictionaries): a cold build of a large site memoises
many results, and as many small container objects would trigger full collections (see BENCHMARKS.md, 'Figures behind the code').
"""

from __future__ import annotations

from itertools import chain, compress, repeat
from operator import is_
from typing import Any, Callable, Iterable, TypeVar

T = TypeVar("T")
_BY_VALUE = frozenset({str, int, float, bool, type(None)})  # equal values, not the same object, are the same input
_MISSING = object()
_NO_TABLE: tuple[dict, dict, dict] = ({}, {}, {})


def _key(function_id: int, args: tuple) -> tuple:
    return (function_id, *[arg if type(arg) in _BY_VALUE else id(arg) for arg in args])


def _same(old: tuple, new: tuple) -> bool:
    if all(map(is_, old, new)):  # the usual case, in C
        return True
    return all(a is b or (type(b) in _BY_VALUE and a == b) for a, b in zip(old, new))


class IdentityMemo:
    """``memo(function, *args)`` is ``function(*args)``, reused while every argument is the same object.

    Results unused for a whole build are dropped (``next_generation``), so memory follows the site;
    a result counts as used when a result that was computed with it is.
    """

    def __init__(self) -> None:
        # key -> (result, keys its computation used, *arguments); a key is the function's id and each argument's id or value
        self._current: dict[tuple, tuple] = {}
        self._previous: dict[tuple, tuple] = {}
        self._each_previous: dict[tuple, tuple[dict, dict, dict]] = {}  # ``each`` tables of the last build, for this build's loops
        self._using: list[list[tuple]] = []  # per computation under way: the keys it used
        self._functions: dict[int, Callable] = {}  # the functions whose ids are in keys, held so that the ids stay theirs

    def next_generation(self) -> None:
        """Call once per build: forget what the build before last used and this one has not."""
        self._previous, self._current = self._current, {}
        self._each_previous = {}

    def __call__(self, function: Callable[..., T], *args: Any) -> T:
        key = _key(self._function_id(function), args)
        if self._using:
            self._using[-1].append(key)
        hit = self._current.get(key)
        if hit is None:
            hit = self._previous.pop(key, None)
            if hit is not None:
                self._keep(key, hit)
        if hit is not None and _same(hit[2:], args):
            return hit[0]
        value, used = self._compute(function, args)
        self._current[key] = (value, used, *args)  # holding the arguments keeps their ids from being reused
        return value

    def each(self, function: Callable[..., T], items: Iterable[Any], *shared: Any) -> tuple[T, ...]:
        """``tuple(function(item, *shared) for item in items)``, each result reused while its item is the same object.

        One entry for the whole loop, not one per item: a rebuild of many unchanged apps costs a
        few look-ups in C per app, where as many ``memo(...)`` calls would cost far more (see BENCHMARKS.md, 'Figures behind the code').
        Results for items in no loop of this build are dropped; all are dropped when a ``shared`` argument changes.
        """
        key = ("each", *_key(self._function_id(function), shared))
        if self._using:
            self._using[-1].append(key)
        entry = self._current.get(key)
        if entry is not None and key in self._each_previous:  # a second loop in this build: add to the first one's table
            table, known = entry[0], self._each_previous[key]
        else:
            hit = entry or self._previous.pop(key, None)
            known = hit[0] if hit is not None and _same(hit[2:], shared) else _NO_TABLE
            table = ({}, {}, {})
            self._each_previous[key] = known
        known_items, known_results, known_used = known
        table_items, table_results, table_used = table
        # Tables hold their items (by id), so an id found in one is that very item: the look-ups
        # need no identity check and run in C (map), which is what keeps a loop over 1,000 apps cheap.
        items = tuple(items)
        ids = tuple(map(id, items))
        if table_results:  # this build's results first, then the last build's
            results = list(map(table_results.get, ids, repeat(_MISSING)))
            for index in compress(range(len(ids)), map(is_, results, repeat(_MISSING))):
                results[index] = known_results.get(ids[index], _MISSING)
        else:
            results = list(map(known_results.get, ids, repeat(_MISSING)))
        used = list(map(known_used.get, ids))  # what the reused results were computed from: kept too
        kept = tuple(chain.from_iterable(filter(None, used)))
        for index in compress(range(len(ids)), map(is_, results, repeat(_MISSING))):  # items new to both
            results[index], used[index] = self._compute(function, (items[index], *shared))
        table_items.update(zip(ids, items))
        table_results.update(zip(ids, results))
        table_used.update(compress(zip(ids, used), used))
        if kept:
            self._keep_all(kept)
        self._current[key] = (table, tuple(chain.from_iterable(table_used.values())), *shared)
        return tuple(results)

    def __len__(self) -> int:
        return len(self._current)

    def _function_id(self, function: Callable) -> int:
        key = id(function)
        if key not in self._functions:
            self._functions[key] = function
        return key

    def _compute(self, function: Callable[..., T], args: tuple) -> tuple[T, tuple]:
        self._using.append([])
        try:
            value = function(*args)
        finally:
            used = self._using.pop()
        return value, tuple(used)

    def _keep(self, key: tuple, entry: tuple) -> None:
        """Carry a result of the last build into this one, with every result it was computed from."""
        self._current[key] = entry
        if entry[1]:
            self._keep_all(entry[1])

    def _keep_all(self, keys: Iterable[tuple]) -> None:
        pending = list(keys)
        while pending:
            key = pending.pop()
            if key in self._current:
                continue
            entry = self._previous.pop(key, None)
            if entry is not None:
                self._current[key] = entry
                pending.extend(entry[1])


def call(memo: IdentityMemo | None, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, through ``memo`` when there is one."""
    return function(*args) if memo is None else memo(function, *args)


def each(memo: IdentityMemo | None, function: Callable[..., T], items: Iterable[Any], *shared: Any) -> tuple[T, ...]:
    """``tuple(function(item, *shared) for item in items)``, through ``memo`` when there is one."""
    return tuple(function(item, *shared) for item in items) if memo is None else memo.each(function, items, *shared)
