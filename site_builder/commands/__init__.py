"""Sub-commands: each module has ``register(subparsers)``, which sets ``run`` on its parser."""

from __future__ import annotations

from . import app_add, build, check, diff, init, publish, release, serve

COMMANDS = (app_add.register, build.register, check.register, diff.register, init.register, publish.register, release.register, serve.register)
