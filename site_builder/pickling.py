"""Quick pickling for the slotted frozen dataclasses of the model.

``@dataclass(slots=True)`` on Python 3.11 pickles each object through ``dataclasses.fields()``,
a slow call: the load cache of a large project holds a great many such objects, which made
saving and reading it much slower than before the classes had slots (see BENCHMARKS.md, 'Figures behind the code'). Pickled as the class and
its field values, an object is rebuilt by its own ``__init__``.
"""

from __future__ import annotations

import dataclasses
from operator import attrgetter
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def pickled_by_fields(cls: T) -> T:
    """Class decorator, outside ``@dataclass``: pickle as ``(cls, (field values...))``.

    Only for dataclasses whose ``__init__`` takes every field, in order, and checks nothing.
    """
    fields = dataclasses.fields(cls)
    if any(not field.init for field in fields) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__qualname__} cannot be rebuilt from its fields by __init__")
    values = attrgetter(*(field.name for field in fields))
    if len(fields) == 1:

        def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
            return (cls, (values(self),))

    else:

        def __reduce__(self: Any) -> tuple[Any, tuple[Any, ...]]:
            return (cls, values(self))

    cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls
