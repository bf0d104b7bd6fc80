"""What the classifier's tests share: a smaller corpus, so that a training run takes
seconds and does not grow with the corpus (the mechanics are the same)."""

from __future__ import annotations

from pathlib import Path

from hotline.settings import Settings

LINES = 1000


def small_corpus(settings: Settings, directory: Path) -> Settings:
    """``settings`` training on about ``LINES`` lines of the corpus, one in so many, so
    that every item keeps lines of every style."""
    lines = settings.suggest_corpus.read_text(encoding="utf-8").splitlines()
    path = directory / "corpus.jsonl"
    path.write_text("\n".join(lines[:: max(1, len(lines) // LINES)]) + "\n", encoding="utf-8")
    return settings.model_copy(update={"suggest_corpus": path})
