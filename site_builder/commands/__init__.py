"""Sub-commands: each module has ``register(subparsers)``, which sets ``run`` on its parser."""

from __future__ import annotations

from . import app_add, build, check, init

COMMANDS = (app_add.register, build.register, check.register, init.register)
