"""Page generators: each module says which pages one part of the site has.

The order is the order of rendering; it does not change the output, which is sorted by path.
"""

from __future__ import annotations

from ..engine import Finisher, Generator
from .apps import app_pages
from .export import export_files
from .feed import feed_pages
from .headers import headers_files
from .marketplace import marketplace_pages
from .policy import policy_pages
from .security_txt import security_txt_files
from .sitemap import sitemap_files
from .versions import version_pages

GENERATORS: tuple[Generator, ...] = (policy_pages, app_pages, security_txt_files, headers_files, export_files, marketplace_pages, version_pages, feed_pages)
FINISHERS: tuple[Finisher, ...] = (sitemap_files,)
