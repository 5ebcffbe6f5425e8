"""Page generators: each module says which pages one part of the site has.

The order is the order of rendering; it does not change the output, which is sorted by path.
"""

from __future__ import annotations

from ..render import Finisher, Generator
from .policy import policy_pages

GENERATORS: tuple[Generator, ...] = (policy_pages,)
FINISHERS: tuple[Finisher, ...] = ()
