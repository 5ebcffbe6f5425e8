"""Sub-commands: each module has ``register(subparsers)``, which sets ``run`` on its parser."""

from __future__ import annotations

from . import build, init

COMMANDS = (build.register, init.register)
