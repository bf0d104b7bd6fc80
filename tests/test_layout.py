"""The package map (docs/architecture.md): each top-level package imports only the ones
before it in ORDER, so there is no cycle between packages; the core stays free of web,
socket and telephony code; in the domain packages only views modules reach the web
layer; each table is written by one package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lowest first. A package may import those before it, never those after it.
ORDER = (
    "hotline",
    "web",
    "routing",
    "integrations",
    "callbacks",
    "reports",
    "agents_ui",
    "wiring",
)
# Libraries the core never touches: it runs the same in a worker, a relay or a test.
CORE_FORBIDDEN = {"aiohttp", "socketio", "engineio", "twilio"}
DOMAIN = ("routing", "integrations", "callbacks", "reports")
# Not shipped: the tests, the benchmarks and what both use (the fakes of the outside world).
SUPPORT = {"testkit", "tests", "bench"}


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
IMPORTS = {
    str(path.relative_to(ROOT)): imported_roots(path)
    for package in ORDER
    for path in sorted((ROOT / package).rglob("*.py"))
}


def package_of(module: str) -> str:
    return module.split("/")[0]


def test_every_top_level_package_is_in_the_order() -> None:
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - SUPPORT
    assert packages == set(ORDER)


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_production_code_imports_no_test_support(module: str) -> None:
    assert IMPORTS[module] & SUPPORT == set(), f"{module} imports test support"


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_a_module_imports_only_packages_before_its_own(module: str) -> None:
    own = ORDER.index(package_of(module))
    later = set(ORDER[own + 1 :])
    assert IMPORTS[module] & later == set(), f"{module} imports a package after its own"


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if package_of(m) == "hotline"))
def test_core_module_imports_no_web_socket_or_telephony_code(module: str) -> None:
    assert IMPORTS[module] & CORE_FORBIDDEN == set()


@pytest.mark.parametrize("module", sorted(m for m in IMPORTS if package_of(m) in DOMAIN))
def test_only_views_modules_of_a_domain_package_reach_the_web_layer(module: str) -> None:
    if "web" in IMPORTS[module]:
        assert "views" in Path(module).with_suffix("").parts, module


def test_no_cycle_between_top_level_packages() -> None:
    edges: dict[str, set[str]] = {p: set() for p in ORDER}
    for module, roots in IMPORTS.items():
        edges[package_of(module)] |= (roots & set(ORDER)) - {package_of(module)}
    state: dict[str, str] = {}

    def visit(package: str, path: tuple[str, ...]) -> None:
        if state.get(package) == "open":
            raise AssertionError("package cycle: " + " -> ".join((*path, package)))
        if state.get(package) == "done":
            return
        state[package] = "open"
        for target in sorted(edges[package]):
            visit(target, (*path, package))
        state[package] = "done"

    for package in ORDER:
        visit(package, ())


TABLES = sorted(
    {
        name
        for migration in (ROOT / "hotline" / "migrations").glob("*.sql")
        for name in re.findall(r"CREATE TABLE (\w+)", migration.read_text(encoding="utf-8"))
    }
)
SOURCES = {module: (ROOT / module).read_text(encoding="utf-8") for module in IMPORTS}


@pytest.mark.parametrize("table", TABLES)
def test_one_package_writes_each_table(table: str) -> None:
    """One writer per table (docs/architecture.md): the statements that insert, update
    or delete a table's rows are all in the package that owns it."""
    write = re.compile(rf"\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+{table}\b")
    writers = {package_of(m) for m, text in SOURCES.items() if write.search(text)}
    assert len(writers) <= 1, f"{table} is written by {sorted(writers)}"
