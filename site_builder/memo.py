"""Results of pure functions of immutable values, kept while the very same objects come back.

``LoadMemo`` hands back the identical model objects for files that did not change, so whatever a
generator derives from one app (its JSON export, its Marketplace kit, its changes, its pages) can
be reused on identity alone: no hashing and no comparison of content, which is what lets serve
rebuild a 1,000-app site after one edit in milliseconds. Within one build it also shares work
between generators (a release's changes serve its changes page and the feed).

Only for functions that read nothing but their arguments and whose results nobody mutates.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")
_BY_VALUE = (str, int, float, bool, type(None))  # equal values, not the same object, are the same input


class IdentityMemo:
    """``memo(function, *args)`` is ``function(*args)``, reused while every argument is the same object.

    Results unused for a whole build are dropped (``next_generation``), so memory follows the site.
    """

    def __init__(self) -> None:
        self._current: dict[tuple, tuple[tuple, Any]] = {}
        self._previous: dict[tuple, tuple[tuple, Any]] = {}

    def next_generation(self) -> None:
        """Call once per build: forget what the build before last used and this one has not."""
        self._previous, self._current = self._current, {}

    def __call__(self, function: Callable[..., T], *args: Any) -> T:
        key = (function, *(arg if isinstance(arg, _BY_VALUE) else id(arg) for arg in args))
        hit = self._current.get(key)
        if hit is None:
            hit = self._previous.pop(key, None)
            if hit is not None:
                self._current[key] = hit
        if hit is not None and all(old is new or (isinstance(new, _BY_VALUE) and old == new) for old, new in zip(hit[0], args)):
            return hit[1]
        value = function(*args)
        self._current[key] = (args, value)  # holding the arguments keeps their ids from being reused
        return value

    def __len__(self) -> int:
        return len(self._current)


def call(memo: IdentityMemo | None, function: Callable[..., T], *args: Any) -> T:
    """``function(*args)``, through ``memo`` when there is one."""
    return function(*args) if memo is None else memo(function, *args)
