"""Emit: rendered bytes to disk: the staged output folder swapped in whole, and archives.

May import: site_builder.errors, render (the page and asset types). Never load or render content.
"""
