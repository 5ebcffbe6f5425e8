"""Serve: the preview server, its file watcher and the addresses it may listen on.

May import: pipeline, cache, emit, render. Only commands import it.
"""
