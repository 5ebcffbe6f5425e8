"""A table for what serve keeps between builds: hashes, fragments, keys; dropped when long unused.

The obvious rule, forget what the last build did not use, is wrong for serve's caches: a build
that reuses a whole page touches nothing inside it. After a policy edit, which renders one page,
the fragments and content hashes behind the apps table's rows were all unused, so they were
dropped, and the next app edit rebuilt every row instead of one (see BENCHMARKS.md, 'Figures behind the code').

So entries are swept in epochs, not builds: an entry goes when a whole epoch passed without a use,
and an epoch ends once the table has doubled since the last sweep. Memory stays within about
twice what the site needs, and a small build never costs the next one its cache.
"""

from __future__ import annotations

from typing import Generic, Iterable, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class KeptWhileUsed(Generic[K, V]):
    """``get`` and ``put`` like a dict; ``end_build`` after each build may drop entries unused for an epoch."""

    def __init__(self, floor: int = 4096) -> None:
        """``floor``: no sweep while the table holds fewer entries (a small site keeps all it made)."""
        self._used: dict[K, V] = {}  # used since the last sweep
        self._unused: dict[K, V] = {}  # not used since the last sweep: dropped at the next one
        self._floor = floor
        self._after_sweep = 0

    def get(self, key: K) -> V | None:
        hit = self._used.get(key)
        if hit is None:
            hit = self._unused.pop(key, None)
            if hit is not None:
                self._used[key] = hit
        return hit

    def put(self, key: K, value: V) -> None:
        self._used[key] = value

    def put_all(self, items: Iterable[tuple[K, V]]) -> None:
        self._used.update(items)

    def end_build(self) -> None:
        if len(self._used) + len(self._unused) > 2 * max(self._after_sweep, self._floor):
            self.sweep()

    def sweep(self) -> None:
        """Drop what was not used since the last sweep."""
        self._unused, self._used = self._used, {}
        self._after_sweep = len(self._unused)

    def clear(self) -> None:
        self._used, self._unused = {}, {}
        self._after_sweep = 0

    def __len__(self) -> int:
        return len(self._used) + len(self._unused)
