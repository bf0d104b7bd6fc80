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


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: p.name)
def test_core_module_imports_nothing_outside_the_core(path: Path) -> None:
    assert imported_roots(path) & FORBIDDEN == set()
