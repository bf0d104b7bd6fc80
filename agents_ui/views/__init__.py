"""HTTP views. Importing a module registers its routes on ``agents_ui.api.api``."""

from __future__ import annotations

import importlib

MODULES = ("health", "auth", "orders", "reference")


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
