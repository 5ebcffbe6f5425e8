"""Page generators: each module says which pages one part of the site has.

The order is the order of rendering; it does not change the output, which is sorted by path.
"""

from __future__ import annotations

from ..render import Finisher, Generator
from .apps import app_pages
from .policy import policy_pages

GENERATORS: tuple[Generator, ...] = (policy_pages, app_pages,)
FINISHERS: tuple[Finisher, ...] = ()
