"""Cache: what build, serve and the warm disk cache reuse between builds.

May import everything below it (content, forge, releases, render); nothing but pipeline, serve and
commands imports it.
"""
