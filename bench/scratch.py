"""A database and queue of a benchmark's own, on the configured servers or embedded ones."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import mkdtemp
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from hotline.settings import Settings
from wiring.services import running_services


def run_on_scratch_database(work: Callable[[Settings], Awaitable[None]]) -> None:
    """Run ``work`` with settings that point at a new database and RQ queue; the
    database is dropped afterwards, whatever happens."""
    base = Settings(var_dir=Path(mkdtemp(prefix="hotline-bench-")))
    with running_services(base) as urls:
        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        url = urlunsplit(urlsplit(urls.database_url)._replace(path=f"/{name}"))
        settings = base.model_copy(
            update={"database_url": url, "redis_url": urls.redis_url, "queue_name": name}
        )

        async def main() -> None:
            admin = await asyncpg.connect(urls.database_url)
            await admin.execute(f'CREATE DATABASE "{name}"')
            try:
                await work(settings)
            finally:
                await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                await admin.close()

        asyncio.run(main())
