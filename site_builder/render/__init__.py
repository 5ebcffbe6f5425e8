"""Render: the model in, pages and assets as bytes out; no file is read or written here.

Owns the Jinja environment (engine), the theme's folders (theme), the page generators (pages/),
the badges and the security headers every page carries. May import: site_builder.errors,
content, forge, releases. Never emit, serve or cache.
"""
