"""The console's templates are precompiled (scripts/templates.mjs) and the browser gets
Vue's runtime-only build, so the pages run under a CSP without 'unsafe-eval'."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "agents_ui" / "static"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="needs node (.ci/run installs it)")
def test_the_generated_render_functions_are_up_to_date() -> None:
    # Offline: node and the vendored compiler only.
    result = subprocess.run(
        [NODE or "node", "scripts/templates.mjs", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_browser_gets_no_template_compiler() -> None:
    page = (STATIC / "index.html").read_text()
    imports = dict(re.findall(r'"([^"]+)": "(/static/[^"]+)"', page))
    assert imports["vue"] == "/static/vendor/vue/vue.runtime.esm-browser.prod.js"
    for url in imports.values():
        code = (STATIC / url.removeprefix("/static/")).read_text()
        for unreached in UNREACHED_EVAL:
            code = code.replace(unreached, "")
        assert not re.search(r"\bFunction\(|\beval\(", code), url


# Evaluating code the libraries hold but never reach in a browser: lodash (inside
# Element Plus) and socket.io find the global object through `self` first; ECharts parses
# map data given as a string with JSON.parse when there is one (the console gives none).
UNREACHED_EVAL = (
    "Function(`return this`)()",
    'Function("return this")()',
    'new Function("return ("+i+");")()',
)
