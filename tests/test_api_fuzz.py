"""Schemathesis against the served OpenAPI document: generated requests to every
operation, as a supervisor and as an enterprise user, must never get a 5xx and every
answer must match what the document says (status, content type, body schema).

The application runs in a thread of this process, on a database of its own (the calls
change its state); schemathesis' own runner calls it from a subprocess. Its coverage
phase sends the boundary values where 500s hide (integers beyond 64 bits, NUL
characters, wrong types, missing fields); a few fuzzed examples per operation follow.
Both roles take about 100 s on a busy 2-core machine."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from hotline import db
from hotline.settings import Settings
from testkit.local_server import LocalServer
from tests.conftest import MakeDatabase
from tests.factories import PASSWORD, dispatch_to, make_user, register_order
from tests.process_support import new_database
from wiring.app import create_app

# Routes that would end the test's own session.
SKIPPED = ("/api/v1/auth/logout", "/api/v1/auth/login")
CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
]
EXAMPLES = 6  # fuzzed ones per operation and role, after the coverage phase


@dataclass
class Login:
    session: requests.Session
    csrf: str


@dataclass
class Fuzzed:
    server: LocalServer
    settings: Settings

    @property
    def database_url(self) -> str:
        assert self.settings.database_url
        return self.settings.database_url

    @property
    def base(self) -> str:
        return self.server.base


@pytest.fixture(scope="module")
def fuzzed(settings: Settings, fresh_database: MakeDatabase) -> Iterator[Fuzzed]:
    url = asyncio.run(new_database(fresh_database, "fuzz"))
    # Public limits out of the way: rate-limited answers would hide the routes behind.
    fuzz_settings = settings.model_copy(
        update={
            "database_url": url,
            "public_rate_per_ip": 1_000_000,
            "public_rate_per_phone": 1_000_000,
        }
    )
    server = LocalServer(create_app(fuzz_settings), "app")
    server.start()
    yield Fuzzed(server, fuzz_settings)
    server.stop()


def _log_in(base: str, username: str) -> Login:
    session = requests.Session()
    answer = session.post(
        base + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return Login(session, answer.json()["csrf_token"])


ROLES = ("supervisor", "enterprise_user")


@pytest.fixture(scope="module")
def logins(fuzzed: Fuzzed) -> Iterator[dict[str, Login]]:
    """A signed-in session of each role."""

    async def create() -> dict[str, str]:
        conn = await db.connect(fuzzed.database_url)
        try:
            # Something for the small ids the fuzzer tries to name: orders, dispatched.
            _, agent = await make_user(conn, "agent")
            now = dt.datetime.now(dt.UTC)
            for _ in range(3):
                order = await register_order(conn, agent, fuzzed.settings, now)
                await dispatch_to(conn, order["id"], "qd-water", now)
            return {
                role: (
                    await make_user(
                        conn,
                        role,
                        enterprise_code="qd-water" if role == "enterprise_user" else None,
                    )
                )[0]
                for role in ROLES
            }
        finally:
            await conn.close()

    made = {role: _log_in(fuzzed.base, name) for role, name in asyncio.run(create()).items()}
    yield made
    for login in made.values():
        login.session.close()


def schemathesis_run(base: str, login: Login, where: Path) -> subprocess.CompletedProcess[str]:
    """Schemathesis' own runner: the examples, its coverage phase (boundary values,
    wrong types, missing fields) and bounded fuzzing of every operation."""
    cookie = "; ".join(f"{k}={v}" for k, v in login.session.cookies.items())
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from schemathesis.cli import schemathesis; schemathesis()",
            "run",
            base + "/api/v1/openapi.json",
            "--checks=" + ",".join(CHECKS),
            "--phases=examples,coverage,fuzzing",
            f"--max-examples={EXAMPLES}",
            "--generation-deterministic",
            "--generation-with-security-parameters=false",
            "--no-shrink",
            "--suppress-health-check=all",  # a busy machine is slow, not wrong
            # One thread: Hypothesis parses lambdas' source to describe them, and CPython
            # 3.11's parser is not safe in two threads at once ("AST constructor recursion
            # depth mismatch", a runtime error of the run, not of the API).
            "--workers=1",
            *(f"--exclude-path={path}" for path in SKIPPED),
            f"--header=Cookie: {cookie}",
            f"--header=X-CSRF-Token: {login.csrf}",
            "--request-timeout=60",
        ],
        cwd=where,  # its cache and reports go there, not into the repository
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.parametrize("role", ROLES)
def test_no_server_error_and_every_answer_matches_the_document(
    role: str, logins: dict[str, Login], fuzzed: Fuzzed, tmp_path: Path
) -> None:
    run = schemathesis_run(fuzzed.base, logins[role], tmp_path)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
