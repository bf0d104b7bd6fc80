"""The core stays free of web, socket and telephony code, and of the other packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "hotline"
FORBIDDEN = {
    "aiohttp",
    "socketio",
    "engineio",
    "twilio",
    "routing",
    "callbacks",
    "integrations",
    "agents_ui",
    "wiring",
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


# Parsed at collection, before any test starts threads: CPython 3.11's ast can fail with
# "recursion depth mismatch" when another thread runs meanwhile.
IMPORTS = {str(path.relative_to(CORE)): imported_roots(path) for path in sorted(CORE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_core_module_imports_nothing_outside_the_core(module: str) -> None:
    assert IMPORTS[module] & FORBIDDEN == set()
