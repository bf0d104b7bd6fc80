"""The README and docs/ hold: every setting is in the README's table, and the pages link
only to files that exist in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_readme_table_lists_every_setting_and_nothing_else() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `HOTLINE_([A-Z0-9_]+)` \|", readme, flags=re.M))
    assert listed == {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_a_page_links_only_to_files_in_the_repository(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if target.startswith(("http://localhost", "#")):
            continue
        assert "://" not in target, f"{page.name} links outside the repository: {target}"
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT) and path.exists(), f"{page.name}: {target}"
    # Paths written as code count too: the repository is all a reader has.
    outside = re.findall(r"(?<![.\w])\.\./\S*", re.sub(r"\]\([^)]*\)", "", text))
    assert outside == [], f"{page.name} names paths outside the repository"
