"""HTTP views. Importing a module registers its routes on ``agents_ui.api.api``."""

from __future__ import annotations

import importlib

MODULES = ("health", "auth", "orders", "reference", "rules", "units", "supervision", "console")
# Views that live with their subsystem, by full module name.
EXTRA_MODULES = (
    "integrations.enterprise_webhooks.views",
    "integrations.open311.views",
    "integrations.open311.form",
    "integrations.telephony.views",
    "callbacks.views",
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
    for module in EXTRA_MODULES:
        importlib.import_module(module)
