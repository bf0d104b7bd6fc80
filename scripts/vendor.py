"""Fetch the console's browser libraries at exact versions and record them (``make vendor``).

The console runs without a build step: the browser loads ES-module builds of Vue,
Element Plus, ECharts, socket.io-client and vue-i18n straight from
``agents_ui/static/vendor/`` through the import map in ``index.html``. The files are
checked into the repository, so running the system needs neither npm nor the network;
this script is only for changing a version.

For each package the script asks the npm client for the version's tarball and the
registry's ``dist.integrity``, checks the tarball's SHA-512 against it, takes the
self-contained browser ESM files out of ``dist/`` (the ``exports`` of these packages
point at bundler builds that import other packages by bare name, which a browser cannot
resolve), and writes ``vendor.lock.json`` with each file's version and SHA-512.

One build tool is vendored the same way, outside the served directory: Vue's SFC
compiler, whose self-contained browser build ``scripts/templates.mjs`` runs under node to
precompile the console's templates (the browser then needs no ``unsafe-eval``).

``python scripts/vendor.py --check`` only verifies the files on disk against the lock.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR_DIR = ROOT / "agents_ui" / "static" / "vendor"
TOOLS_DIR = ROOT / "scripts" / "tools"
LOCK = VENDOR_DIR / "vendor.lock.json"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    # path inside the package -> file name under <into>/<name>/
    files: dict[str, str]
    into: Path = VENDOR_DIR


PACKAGES = (
    # The runtime-only build: templates are precompiled (scripts/templates.mjs), so the
    # browser needs no compiler and the CSP no 'unsafe-eval'.
    Package(
        "vue", "3.5.45", {"dist/vue.runtime.esm-browser.prod.js": "vue.runtime.esm-browser.prod.js"}
    ),
    Package(
        "element-plus",
        "2.14.8",
        {
            "dist/index.full.min.mjs": "index.full.min.mjs",  # imports only "vue"
            "dist/index.css": "index.css",
            "dist/locale/zh-cn.min.mjs": "locale/zh-cn.min.mjs",
            "dist/locale/en.min.mjs": "locale/en.min.mjs",
        },
    ),
    Package("echarts", "6.1.0", {"dist/echarts.esm.min.mjs": "echarts.esm.min.mjs"}),
    Package("socket.io-client", "4.8.4", {"dist/socket.io.esm.min.js": "socket.io.esm.min.js"}),
    # The browser build with the message compiler; it imports only "vue". Messages are
    # compiled to an AST and interpreted (no eval), which the CSP allows.
    Package(
        "vue-i18n", "11.4.18", {"dist/vue-i18n.esm-browser.prod.js": "vue-i18n.esm-browser.prod.js"}
    ),
    # A build tool, not served: the same version as vue, self-contained (it bundles the
    # JavaScript parser the compiler needs for module-mode render functions).
    Package(
        "@vue/compiler-sfc",
        "3.5.45",
        {"dist/compiler-sfc.esm-browser.js": "compiler-sfc.esm-browser.mjs"},
        into=TOOLS_DIR,
    ),
)


def sha512(data: bytes) -> str:
    """Subresource-integrity form, as npm writes ``dist.integrity``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def npm(*args: str) -> str:
    return subprocess.run(
        ["npm", *args], check=True, capture_output=True, text=True, cwd=tempfile.gettempdir()
    ).stdout


def fetch_tarball(package: Package, workdir: Path) -> bytes:
    """The package's tarball, checked against the registry's integrity for that version."""
    dist = json.loads(npm("view", f"{package.name}@{package.version}", "dist", "--json"))
    expected = dist["integrity"]
    npm("pack", f"{package.name}@{package.version}", "--pack-destination", str(workdir))
    (tarball,) = workdir.glob(f"{package.name.replace('/', '-').lstrip('@')}-*.tgz")
    data = tarball.read_bytes()
    tarball.unlink()
    if sha512(data) != expected:
        raise SystemExit(f"{package.name}@{package.version}: tarball does not match integrity")
    return data


def unpack(package: Package, tarball: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        meta = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
        if meta["version"] != package.version:
            raise SystemExit(f"{package.name}: got version {meta['version']}")
        out = {}
        for inner, target in package.files.items():
            member = tar.extractfile(f"package/{inner}")
            if member is None:
                raise SystemExit(f"{package.name}: {inner} is not a file")
            out[target] = member.read()
        return out


def fetch() -> None:
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for package in PACKAGES:
            files = unpack(package, fetch_tarball(package, Path(tmp)))
            for target, data in files.items():
                path = package.into / package.name / target
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                entries.append(
                    {
                        "name": package.name,
                        "version": package.version,
                        "file": path.relative_to(ROOT).as_posix(),
                        "sha512": sha512(data),
                    }
                )
                print(f"{package.name}@{package.version} {target} ({len(data):,} bytes)")
    LOCK.write_text(json.dumps({"packages": entries}, indent=2) + "\n")


def check() -> int:
    """0 when every locked file is on disk with its recorded hash."""
    bad = 0
    for entry in json.loads(LOCK.read_text())["packages"]:
        path = ROOT / entry["file"]
        if not path.is_file() or sha512(path.read_bytes()) != entry["sha512"]:
            print(f"mismatch: {entry['file']}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the files against the lock")
    if parser.parse_args().check:
        return check()
    fetch()
    return check()


if __name__ == "__main__":
    sys.exit(main())
