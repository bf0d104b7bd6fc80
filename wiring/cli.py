"""The ``hotline`` command: the composition root that wires the packages together.

``hotline up`` resolves PostgreSQL and Redis (configured, or embedded under var/),
migrates, loads demo data into an empty database, then runs the web server, the RQ
worker(s) and the relay as child processes until Ctrl-C or SIGTERM, restarting a child
that dies (``wiring.supervisor``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import getpass
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from callbacks import queries as callback_queries
from hotline import db
from hotline.context import utcnow
from hotline.errors import DomainError
from hotline.knowledge.seed import SeedFileError
from hotline.logs import configure_logging
from hotline.migrate import MigrationError, migrate
from hotline.orders import queries as order_queries
from hotline.settings import Settings, SettingsError
from hotline.suggest import queries as suggest_queries
from hotline.suggest.runs import do_request_training, do_schedule_runs
from reports.days.service import do_roll_days
from reports.periodic.schedule import do_ensure_runs
from wiring import backup as backups
from wiring.jobs import install_job_context, job_context
from wiring.seed import (
    database_is_empty,
    seed_classifications,
    seed_demo_users,
    seed_knowledge,
    seed_reference,
    seed_roads,
    seed_routing,
)
from wiring.services import ServiceUrls, running_services
from wiring.subscriptions import relay_chores, relay_sources, subscribe_all
from wiring.supervisor import Child, Supervisor

log = logging.getLogger("hotline")


def _with_urls(settings: Settings, urls: ServiceUrls) -> Settings:
    return settings.model_copy(
        update={"database_url": urls.database_url, "redis_url": urls.redis_url}
    )


async def _prepare_database(settings: Settings, *, demo_users: bool) -> None:
    assert settings.database_url
    applied = await migrate(settings.database_url)
    log.info("migrations: %d applied", len(applied))
    conn = await db.connect(settings.database_url)
    try:
        if await database_is_empty(conn):
            counts = await seed_reference(conn)
            log.info("loaded reference data: %s", counts)
            log.info("loaded the seed road list: %d names", await seed_roads(conn))
            log.info("loaded demo classification codes: %d", await seed_classifications(conn))
            log.info("loaded demo routing: %s", await seed_routing(conn, utcnow()))
            try:
                knowledge = await seed_knowledge(conn, utcnow(), settings.timezone)
                log.info("loaded the knowledge base's seed articles: %s", knowledge)
            except SeedFileError:
                # The service runs without them; `hotline seed` says what is wrong.
                log.exception("the knowledge base's seed file was refused")
            if demo_users:
                log.info("created %d demo users", await seed_demo_users(conn))
    finally:
        await conn.close()


# ----------------------------------------------------------------------------- up


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    settings.check_production()
    with running_services(settings) as urls:
        resolved = _with_urls(settings, urls)
        asyncio.run(_prepare_database(resolved, demo_users=settings.env != "production"))
        env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": urls.database_url,
            "HOTLINE_REDIS_URL": urls.redis_url,
        }
        children = (
            [Child("web", "web")]
            + [Child(f"worker{i + 1}", "worker") for i in range(args.workers)]
            + [Child("trainer", "worker", ("--slow",))]
            + [Child("relay", "relay")]
        )
        return Supervisor(children, env, settings).run()


# ------------------------------------------------------------------- single roles


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with running_services(settings) as urls:
        applied = asyncio.run(migrate(urls.database_url))
    for m in applied:
        print(f"applied {m.version:04d}_{m.name}")
    print(f"{len(applied)} migration(s) applied")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    async def run(url: str) -> None:
        await migrate(url)
        conn = await db.connect(url)
        try:
            if args.if_empty and not await database_is_empty(conn):
                print("reference data already present: nothing loaded")
                return
            counts = await seed_reference(conn)
            print("reference data:", ", ".join(f"{k} {v}" for k, v in counts.items()))
            print("seed road names:", await seed_roads(conn))
            print("demo classification codes:", await seed_classifications(conn))
            routing = await seed_routing(conn, utcnow())
            print("demo routing:", ", ".join(f"{k} {v}" for k, v in routing.items()))
            knowledge = await seed_knowledge(conn, utcnow(), settings.timezone)
            if knowledge is not None:
                print("knowledge base:", ", ".join(f"{k} {v}" for k, v in knowledge.items()))
            if args.demo_users:
                print("demo users created:", await seed_demo_users(conn))
            # The catalogue may have changed: a version that knows its items and keywords.
            async with conn.transaction():
                run = await do_request_training(conn, None, utcnow())
            print(f"suggestions: training run {run['id']} queued for the workers")
        finally:
            await conn.close()

    with running_services(settings) as urls:
        asyncio.run(run(urls.database_url))
    return 0


def cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from aiohttp import web

    from web.live import tune_collector
    from wiring.app import create_app

    settings.check_production()
    with running_services(settings) as urls:
        app = create_app(_with_urls(settings, urls))
        tune_collector()
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            print=None,
            shutdown_timeout=10,
            access_log_format='%a "%r" %s %b %Tfs',
        )
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from redis import Redis
    from rq import Queue

    from hotline.reference import versions
    from hotline.worker import Worker, work

    settings.check_production()
    with running_services(settings) as urls:
        install_job_context(_with_urls(settings, urls))
        subscribe_all()
        connection = Redis.from_url(urls.redis_url)
        versions.listen(urls.redis_url, threading.Event())
        # No fork per job: jobs share the process's job context, event loop and
        # connection pool (hotline.jobs), which is what makes a worker fast enough for
        # the timers.
        # Listed first, timers are always taken before other work; a slow worker takes
        # only the slow jobs (hotline.relay.Source.slow).
        names = (
            [settings.slow_queue_name]
            if args.slow
            else [settings.timer_queue_name, settings.queue_name]
        )
        queues = [Queue(name, connection=connection) for name in names]
        work(
            lambda stopping: Worker(queues, connection=connection, stopping=stopping),
            burst=args.burst,
            logging_level=settings.log_level,
        )
    return 0


def cmd_relay(settings: Settings, args: argparse.Namespace) -> int:
    from redis import Redis
    from rq import Queue

    from hotline.relay import Relay
    from web.live_publisher import Publisher

    settings.check_production()

    async def run(urls: ServiceUrls) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        pool = await db.create_pool(urls.database_url, min_size=1, max_size=2)
        connection = Redis.from_url(urls.redis_url)
        queue = Queue(settings.queue_name, connection=connection)
        timer_queue = Queue(settings.timer_queue_name, connection=connection)
        slow_queue = Queue(settings.slow_queue_name, connection=connection)
        async with db.transaction(pool) as conn:
            await do_schedule_runs(conn, settings, utcnow())
            await do_ensure_runs(conn, settings, utcnow())
        try:
            relay = Relay(
                pool,
                queue,
                batch=settings.relay_batch,
                lease_seconds=settings.lease_seconds,
                sources=relay_sources(),
                chores=relay_chores(settings),
                timer_queue=timer_queue,
                slow_queue=slow_queue,
            )
            # The live pushes' publisher: another relay's waits while this one runs.
            publisher = Publisher(
                urls.database_url,
                urls.redis_url,
                settings.live_channel,
                interval=settings.live_poll_seconds,
            )
            await asyncio.gather(relay.run(stop, settings.relay_interval), publisher.run(stop))
        finally:
            await pool.close()

    with running_services(settings) as urls:
        asyncio.run(run(urls))
    return 0


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    """Train a model version now, in this process, and say what came of it."""
    # Here, not at the top: scikit-learn is slow to import, and only this command needs it.
    from hotline.suggest.training import run_training

    async def run(url: str) -> None:
        await migrate(url)
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                training = await do_request_training(conn, None, utcnow())
            print(f"training run {training['id']}: fitting (about a minute on a small machine)…")
            print(await run_training(conn, training["id"], job_context(settings)))
            for model in await suggest_queries.list_models(conn, 1):
                print(
                    f"model {model['id']} ({model['state']}): "
                    f"{model['corpus_lines']} corpus lines, {model['order_lines']} orders "
                    f"({model['corrections']} corrections); held back {model['held_back']}: "
                    f"top-1 {model['top1']:.1%}, top-3 {model['top3']:.1%}"
                    + (
                        f" (version {model['baseline_id']}: top-1 "
                        f"{model['baseline_top1']:.1%}, top-3 {model['baseline_top3']:.1%})"
                        if model["baseline_id"]
                        else ""
                    )
                )
        finally:
            await conn.close()

    with running_services(settings) as urls:
        asyncio.run(run(urls.database_url))
    return 0


def cmd_user_add(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.users.service import do_create_user

    password = args.password or _read_password()

    async def run(url: str) -> None:
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                user = await do_create_user(
                    conn,
                    username=args.username,
                    password=password,
                    role=args.role,
                    display_name=args.name or "",
                    enterprise_code=args.enterprise,
                    hotline_code=args.hotline,
                )
            print(f"created user {user['username']} (id {user['id']}, {user['role']})")
        finally:
            await conn.close()

    with running_services(settings) as urls:
        asyncio.run(run(urls.database_url))
    return 0


def cmd_user_unlock(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.users.service import do_unlock_account

    async def run(url: str) -> bool:
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                return await do_unlock_account(conn, args.username)
        finally:
            await conn.close()

    with running_services(settings) as urls:
        unlocked = asyncio.run(run(urls.database_url))
    if unlocked:
        print(f"unlocked {args.username}: its failed logins are forgotten")
    else:
        print(f"{args.username} was not locked and had no failed logins to forget")
    return 0


def cmd_user_hotlines(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.users.service import do_set_user_hotlines

    async def run(url: str) -> list[str]:
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                user = await do_set_user_hotlines(conn, args.username, args.codes)
            return sorted({user["hotline_code"], *user["more_hotlines"]} - {None})
        finally:
            await conn.close()

    with running_services(settings) as urls:
        codes = asyncio.run(run(urls.database_url))
    print(f"{args.username} works for: {', '.join(codes) or 'every hotline'}")
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    commands = {"add": cmd_user_add, "unlock": cmd_user_unlock, "hotlines": cmd_user_hotlines}
    return commands[args.user_command](settings, args)


def cmd_apikey_add(settings: Settings, args: argparse.Namespace) -> int:
    from hotline.users.service import check_new_api_key, do_create_api_key

    async def run(url: str) -> None:
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                enterprise_id, user_id = await check_new_api_key(
                    conn, enterprise_code=args.enterprise, name=args.name, created_by=args.by
                )
                key, row = await do_create_api_key(
                    conn, enterprise_id=enterprise_id, name=args.name, created_by=user_id
                )
            # Only a hash is kept: this is the one time the key can be read.
            print(f"created API key {row['name']!r} (id {row['id']}) for {args.enterprise}")
            print(key)
        finally:
            await conn.close()

    with running_services(settings) as urls:
        asyncio.run(run(urls.database_url))
    return 0


def cmd_recount(settings: Settings, args: argparse.Namespace) -> int:
    """The counts the writes keep (the board's and the figures') made again from the
    tables: after a bulk load that bypassed the triggers, or rows changed by hand. Safe
    while the system runs: each rebuild locks what it reads, so writes wait for it and
    none is lost."""

    async def run(url: str) -> tuple[int, int]:
        conn = await db.connect(url)
        try:
            async with conn.transaction():
                board = await order_queries.rebuild_board_counts(conn)
            async with conn.transaction():
                figures = await callback_queries.rebuild_figure_counts(conn)
            return board, figures
        finally:
            await conn.close()

    with running_services(settings) as urls:
        board, figures = asyncio.run(run(urls.database_url))
    print(f"board counts: {board} row(s); figure counts: {figures} row(s)")
    return 0


def cmd_reports_roll(settings: Settings, args: argparse.Namespace) -> int:
    """Roll the report day counts of the days --from to --to (both included) anew, a day
    per transaction, saying each day done: a rebuild after a bulk load or a change of
    what a measure counts. Safe while the system runs (reports read a day's old counts
    or its new ones)."""
    first, last = args.first, args.last
    if last < first:
        raise DomainError("--to is before --from")

    def progress(day: dt.date, done: int) -> None:
        print(f"{day}: rolled ({done}/{(last - first).days + 1})", flush=True)

    async def run(url: str) -> int:
        conn = await db.connect(url)
        try:
            return await do_roll_days(conn, first, last + dt.timedelta(days=1), utcnow(), progress)
        finally:
            await conn.close()

    with running_services(settings) as urls:
        days = asyncio.run(run(urls.database_url))
    print(f"{days} day(s) rolled")
    return 0


def cmd_reports(settings: Settings, args: argparse.Namespace) -> int:
    return {"roll": cmd_reports_roll}[args.reports_command](settings, args)


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """The database (pg_dump of the server's version) and the stored files into a new
    folder, with a manifest of counts and checksums (``wiring/backup.py``)."""
    with running_services(settings) as urls:
        summary = backups.backup(
            urls.database_url, settings.proof_root, args.folder, pg_bin_dir=settings.pg_bin_dir
        )
    print(f"backed up into {args.folder}: {summary}")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """A backup into the configured database and proof folder, both empty (or emptied
    with ``--force``); checked against the backup's manifest."""
    with running_services(settings) as urls:
        summary = backups.restore(
            args.folder,
            urls.database_url,
            settings.proof_root,
            force=args.force,
            pg_bin_dir=settings.pg_bin_dir,
        )
    print(f"restored from {args.folder}: {summary}")
    print("start the system (hotline up, or migrate first): it applies any newer migrations")
    return 0


def cmd_call(settings: Settings, args: argparse.Namespace) -> int:
    """A signed Twilio webhook to the running web: an SMS with TEXT, else a call."""
    import urllib.error

    from wiring.devcall import send_signed, webhook_for

    path, params = webhook_for(
        settings, from_phone=args.from_phone, hotline=args.hotline, text=args.text
    )
    try:
        answer = send_signed(settings, path, params, web=args.web)
    except urllib.error.URLError as exc:
        log.error("cannot reach the web (%s): is hotline up running?", exc.reason)
        return 2
    print(f"{path}: {answer.status}")
    print(answer.body)
    return 0 if answer.status == 200 else 1


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


# ---------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="migrate, seed an empty database, run web + workers + relay")
    up.add_argument("--workers", type=int, default=1, help="RQ worker processes (default 1)")
    up.add_argument("--label", default="up", help=argparse.SUPPRESS)
    sub.add_parser("migrate", help="apply pending database migrations")
    sub.add_parser("recount", help="make the board's and the figures' kept counts again")
    sub.add_parser("train", help="train a new version of the service-item classifier now")
    seed = sub.add_parser("seed", help="load reference data from config/demo (idempotent)")
    seed.add_argument("--demo-users", action="store_true", help="also create the demo users")
    seed.add_argument(
        "--if-empty", action="store_true", help="only into a database without reference data"
    )
    for name, text in (
        ("web", "run the web server"),
        ("relay", "run the outbox/deadline relay and the live publisher"),
    ):
        sub.add_parser(name, help=text).add_argument(
            "--label", default=name, help=argparse.SUPPRESS
        )
    worker = sub.add_parser("worker", help="run an RQ worker with the scheduler")
    worker.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    worker.add_argument(
        "--slow", action="store_true", help="serve only the slow jobs (the classifier's training)"
    )
    worker.add_argument("--label", default="worker", help=argparse.SUPPRESS)
    user = sub.add_parser("user", help="manage users").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser("add", help="create a user (password from a prompt or stdin)")
    add.add_argument("username")
    add.add_argument(
        "--role",
        required=True,
        choices=["agent", "supervisor", "enterprise_user", "enterprise_admin", "admin"],
    )
    add.add_argument("--name", help="display name")
    add.add_argument("--enterprise", help="enterprise code, for enterprise roles")
    add.add_argument("--hotline", help="hotline code, for agents")
    add.add_argument("--password", help=argparse.SUPPRESS)
    unlock = user.add_parser(
        "unlock", help="lift a lock after failed logins and forget the account's failures"
    )
    unlock.add_argument("username")
    hotlines = user.add_parser(
        "hotlines",
        help="give a centre user more hotlines than its own (none: only its own, or all "
        "if it has none)",
    )
    hotlines.add_argument("username")
    hotlines.add_argument("codes", nargs="*", metavar="CODE")
    call = sub.add_parser(
        "call", help="development: a signed Twilio webhook (SMS, or a call) to the running web"
    )
    call.add_argument("from_phone", metavar="FROM", help="the caller's number, e.g. +8613800000001")
    call.add_argument("text", metavar="TEXT", nargs="?", help="an SMS's text; without it, a call")
    call.add_argument("--hotline", default="96111", help="the number dialled (default 96111)")
    call.add_argument(
        "--web", help="where the web listens, if not at HOTLINE_PUBLIC_URL (e.g. behind a tunnel)"
    )
    reports = sub.add_parser("reports", help="periodic reports").add_subparsers(
        dest="reports_command", required=True
    )
    roll = reports.add_parser("roll", help="roll the report day counts of some days anew")
    roll.add_argument(
        "--from",
        dest="first",
        required=True,
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="the first local day, e.g. 2026-11-01",
    )
    roll.add_argument(
        "--to",
        dest="last",
        required=True,
        type=dt.date.fromisoformat,
        metavar="DATE",
        help="the last local day (included)",
    )
    saved = sub.add_parser("backup", help="back up the database and the stored files")
    saved.add_argument("folder", type=Path, help="a new or empty folder")
    restore = sub.add_parser("restore", help="restore a backup into an empty database and folder")
    restore.add_argument("folder", type=Path, help="a folder made by hotline backup")
    restore.add_argument(
        "--force", action="store_true", help="empty a database or folder that is not empty first"
    )
    apikey = sub.add_parser("apikey", help="manage enterprise systems' API keys").add_subparsers(
        dest="apikey_command", required=True
    )
    key = apikey.add_parser("add", help="make a key for an enterprise; prints it once")
    key.add_argument("name", help="what the key is for, e.g. the system using it")
    key.add_argument("--enterprise", required=True, help="the code of the enterprise it acts for")
    key.add_argument("--by", help="the username of whoever asked for it")
    return parser


COMMANDS = {
    "up": cmd_up,
    "migrate": cmd_migrate,
    "recount": cmd_recount,
    "train": cmd_train,
    "seed": cmd_seed,
    "web": cmd_web,
    "worker": cmd_worker,
    "relay": cmd_relay,
    "user": cmd_user,
    "apikey": cmd_apikey_add,
    "call": cmd_call,
    "reports": cmd_reports,
    "backup": cmd_backup,
    "restore": cmd_restore,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic says which variable is wrong
        print(f"hotline: bad settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings, getattr(args, "label", args.command))
    try:
        return COMMANDS[args.command](settings, args)
    except (SettingsError, MigrationError, DomainError, backups.BackupError, SeedFileError) as exc:
        log.error("%s", exc)
        if isinstance(exc, DomainError) and exc.fields:
            for field, problem in exc.fields.items():
                log.error("  %s: %s", field, problem)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
