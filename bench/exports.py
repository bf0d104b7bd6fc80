"""Exports at scale (docs/reports.md, "Exports"): a supervisor's export of every order,
a million of them, to XLSX and to CSV, each through the job a worker runs
(``reports.exports.jobs.run_export_job``: the count, the read through a server-side
cursor, the file, the progress written as it goes), in a process of its own so that its
resident memory, sampled every 20 ms while the job runs, is the export's. The same at a
tenth of the orders (the last ~73 days of the two years) shows whether memory stays flat
as the list grows.

Raw baselines, in the same run, on the same rows:

- *COPY to nowhere*: the export's own statement (the same columns, joins and order) as
  ``COPY (...) TO STDOUT``, thrown away: what PostgreSQL takes to produce the rows;
- *cursor, no file*: the same statement read through the cursor the job uses, each
  row made into the export's values, nothing written: the reading side of the job.

The orders are ``bench/board.py``'s (two years of history, a citizen's words each).

    python -m bench.exports [--size 1000000] [--formats xlsx,csv] [--keep]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and a
database of its own, dropped after. Target: a million orders in <= 60 s per format,
memory flat (the peak at a million within a few MB of the peak at a tenth).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import os
import resource
import threading
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.scratch import kept_names, run_on_scratch_databases
from hotline import db, jobs
from hotline.settings import Settings
from hotline.users.models import Actor, Role
from hotline.users.service import actor_from_row, do_create_user
from reports.exports.jobs import run_export_job
from reports.exports.orders import OrdersSource
from reports.exports.queries import PREFETCH
from reports.exports.service import do_request_export, export_root
from reports.exports.sheets import ExportRequest
from wiring.jobs import job_context

TARGET_SECONDS = 60.0
TZ = ZoneInfo("Asia/Shanghai")
# A tenth of two years of orders.
TENTH_DAYS = 73


@dataclass
class Figures:
    rows: int
    seconds: float
    cpu_seconds: float
    peak_mb: float
    start_mb: float
    size_mb: float


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


class RssSampler(threading.Thread):
    """The process's resident memory every 20 ms while the job runs: its highest."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.highest = _rss_mb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.highest = max(self.highest, _rss_mb())


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def export_in_this_process(settings: Settings, params: dict[str, Any], file_format: str) -> Figures:
    """A child's work: ask for the export as the supervisor, then run its job here."""

    async def ask() -> int:
        conn = await db.connect(settings.database_url or "")
        try:
            row = await conn.fetchrow(
                "SELECT u.*, ARRAY[]::text[] AS more_hotlines FROM users u "
                "WHERE u.role = 'supervisor' ORDER BY id LIMIT 1"
            )
            async with conn.transaction():
                export = await do_request_export(
                    conn,
                    actor_from_row(row),
                    kind="orders",
                    file_format=file_format,
                    params=params,
                    language="zh-CN",
                    now=dt.datetime.now(dt.UTC),
                )
            return int(export["id"])
        finally:
            await conn.close()

    async def result(export_id: int) -> asyncpg.Record:
        conn = await db.connect(settings.database_url or "")
        try:
            row: asyncpg.Record = await conn.fetchrow(
                "SELECT state, rows_done, size_bytes, error FROM report_exports WHERE id = $1",
                export_id,
            )
            return row
        finally:
            await conn.close()

    jobs.install(lambda: job_context(settings))
    export_id = asyncio.run(ask())
    start_mb, cpu = _rss_mb(), _cpu_seconds()
    sampler = RssSampler()
    sampler.start()
    started = time.perf_counter()
    run_export_job(export_id)
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    sampler.done.set()
    sampler.join()
    row = asyncio.run(result(export_id))
    if row["state"] != "done":
        raise RuntimeError(f"export {export_id} {row['state']}: {row['error']}")
    return Figures(
        row["rows_done"], seconds, cpu, sampler.highest, start_mb, row["size_bytes"] / 2**20
    )


def in_a_child(settings: Settings, params: dict[str, Any], file_format: str) -> Figures:
    """One export in a fresh process: its peak memory is the export's alone."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        figures: Figures = pool.apply(export_in_this_process, (settings, params, file_format))
        return figures


async def baselines(
    settings: Settings, url: str, params: dict[str, Any]
) -> dict[str, tuple[int, float, float]]:
    """COPY of the export's statement to nowhere, and the cursor without a file."""
    conn = await db.connect(url)
    try:
        actor = Actor(user_id=None, name="bench", role=Role.SUPERVISOR)
        request = ExportRequest(actor, params, "zh-CN", TZ, dt.datetime.now(dt.UTC), settings)
        source = OrdersSource()
        statement = await source.statement(conn, request)
        assert statement is not None
        sql, args = statement
        copied = 0

        async def nowhere(chunk: bytes) -> None:
            nonlocal copied
            copied += chunk.count(b"\n")

        started, cpu = time.perf_counter(), time.process_time()
        await conn.copy_from_query(sql, *args, output=nowhere)
        copy = (copied, time.perf_counter() - started, time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        read = 0
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            async for sheet in source.sheets(conn, request):
                async for _ in sheet.rows:
                    read += 1
        cursor = (read, time.perf_counter() - started, time.process_time() - cpu)
        return {"COPY to nowhere (raw)": copy, f"cursor, no file (prefetch {PREFETCH})": cursor}
    finally:
        await conn.close()


async def prepare(settings: Settings, size: int) -> None:
    # Here: the generator loads jieba's dictionary (a hundred MB), which the children
    # that measure an export's memory must not import.
    from bench.board import Stopwatch, load_history

    clock = Stopwatch()
    url = settings.database_url or ""
    await load_history(url, size, clock)
    conn = await db.connect(url)
    try:
        if not await conn.fetchval("SELECT EXISTS (SELECT FROM users WHERE role = 'supervisor')"):
            async with conn.transaction():
                await do_create_user(
                    conn,
                    username="bench-supervisor",
                    password="bench-password-1",
                    role="supervisor",
                )
        await conn.execute("CHECKPOINT")
        clock.step("CHECKPOINT")
    finally:
        await conn.close()


def run(size: int, formats: list[str], *, keep: bool) -> None:
    async def work(settings: Settings) -> None:
        await prepare(settings, size)
        tenth_from = (dt.datetime.now(TZ) - dt.timedelta(days=TENTH_DAYS)).date().isoformat()
        lists = {"all": {}, "a tenth": {"registered_from": tenth_from}}
        url = settings.database_url or ""
        for name, params in lists.items():
            for label, (rows, seconds, cpu) in (await baselines(settings, url, params)).items():
                print(
                    f"  {name:<8} {label:<32} {rows:>9,} rows {seconds:7.1f} s "
                    f"(this process's CPU {cpu:6.1f} s)",
                    flush=True,
                )
        results: dict[tuple[str, str], Figures] = {}
        for file_format in formats:
            for name, params in lists.items():
                # In a thread: the child's pool blocks, and this loop stays free.
                figures = await asyncio.to_thread(in_a_child, settings, params, file_format)
                results[(file_format, name)] = figures
                print(
                    f"  {name:<8} {file_format:<4} {figures.rows:>9,} rows "
                    f"{figures.seconds:7.1f} s (CPU {figures.cpu_seconds:6.1f} s)  "
                    f"{figures.rows / figures.seconds:9,.0f} rows/s  "
                    f"peak RSS {figures.peak_mb:6.1f} MB (before the job {figures.start_mb:5.1f})"
                    f"  file {figures.size_mb:6.1f} MB",
                    flush=True,
                )
        print(f"exports of {size:,} orders (target <= {TARGET_SECONDS:.0f} s, memory flat):")
        for file_format in formats:
            whole, tenth = results[(file_format, "all")], results[(file_format, "a tenth")]
            print(
                f"  {file_format}: {whole.seconds:.1f} s (the job's CPU {whole.cpu_seconds:.1f} s) "
                f"for {whole.rows:,} rows; peak RSS "
                f"{tenth.peak_mb:.1f} MB at {tenth.rows:,} rows, {whole.peak_mb:.1f} MB at "
                f"{whole.rows:,} (growth {whole.peak_mb - tenth.peak_mb:+.1f} MB)"
            )
        print(f"  files under {export_root(settings)} are dropped with the scratch directory")

    run_on_scratch_databases(
        1, lambda every: work(every[0]), kept=kept_names([size]) if keep else None
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument(
        "--keep", action="store_true", help="keep the loaded orders (bench/scratch.py)"
    )
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    run(args.size, args.formats.split(","), keep=args.keep)


if __name__ == "__main__":
    main()
