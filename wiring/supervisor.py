"""``hotline up``'s supervisor: runs the web, the workers and the relay as child
processes and keeps them running.

A child that exits on its own (a crash, a kill, an exit code of 0 alike: none of them
is meant to stop) is started again after a backoff, the others serving meanwhile: the
first restart waits ``RESTART_FIRST_SECONDS``, each next one twice as long, at most
``RESTART_LONGEST_SECONDS``; a child that stayed up ``STEADY_SECONDS`` starts over from
the first wait. Only a crash loop stops everything: ``Settings.restart_max_crashes``
exits of one child within ``restart_window_seconds``, after which ``up`` exits 1 naming
the child, so that whatever runs ``up`` (systemd, compose) sees it.

Each child runs in a process group of its own: Ctrl-C reaches only the supervisor,
which stops the children in order, and what a dead child leaves behind (a worker's
scheduler process) is killed with its group.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from hotline.settings import Settings

log = logging.getLogger("hotline")

RESTART_FIRST_SECONDS = 1.0
RESTART_LONGEST_SECONDS = 30.0
STEADY_SECONDS = 60.0
CHILD_STOP_SECONDS = 15
POLL_SECONDS = 0.2


@dataclass
class Child:
    """One role the supervisor keeps running: ``hotline <command> --label <name>``."""

    name: str
    command: str
    args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float = 0.0
    wait: float = RESTART_FIRST_SECONDS
    crashes: collections.deque[float] = field(default_factory=collections.deque)

    def exited(self, code: int, now: float, *, max_crashes: int, window: float) -> float:
        """Count an exit at ``now`` (monotonic seconds); returns how long to wait before
        starting the child again, or raises ``CrashLoop``."""
        if now - self.started_at >= STEADY_SECONDS:
            self.wait = RESTART_FIRST_SECONDS  # it had been running well: a new trouble
        self.crashes.append(now)
        while self.crashes[0] < now - window:
            self.crashes.popleft()
        if len(self.crashes) >= max_crashes:
            raise CrashLoop(
                f"{self.name} exited {len(self.crashes)} times within {window:g} s"
                f" (last exit code {code}): a crash loop; stopping everything"
            )
        wait = self.wait
        self.restart_at = now + wait
        self.wait = min(wait * 2, RESTART_LONGEST_SECONDS)
        return wait


class CrashLoop(Exception):
    """A child exited too often too fast: restarting it again would not help."""


class Supervisor:
    def __init__(self, children: list[Child], env: dict[str, str], settings: Settings) -> None:
        self.children = children
        self.env = env
        self.settings = settings
        self.stopping = False

    def run(self) -> int:
        """Until Ctrl-C or SIGTERM (0), or a crash loop (1)."""

        def request_stop(signum: int, frame: FrameType | None) -> None:
            if not self.stopping:
                log.info("stopping (signal %d)", signum)
            self.stopping = True

        previous = {
            sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self.children:
                self._start(child)
            log.info("hotline is up: %s (Ctrl-C to stop)", self.settings.base_url)
            while not self.stopping:
                self._tend(time.monotonic())
                time.sleep(POLL_SECONDS)
            return 0
        except CrashLoop as exc:
            log.error("%s", exc)
            return 1
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _tend(self, now: float) -> None:
        for child in self.children:
            if child.process is None:
                if now >= child.restart_at:
                    log.info("restarting %s", child.name)
                    self._start(child)
            elif child.process.poll() is not None:
                self._exited(child, child.process.returncode, now)

    def _start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wiring.cli",
                child.command,
                *child.args,
                "--label",
                child.name,
            ],
            env=self.env,
            # Own process group: a Ctrl-C reaches only us, and we stop children in order.
            start_new_session=True,
        )
        child.started_at = time.monotonic()

    def _exited(self, child: Child, code: int, now: float) -> None:
        assert child.process is not None
        _kill_group(child.process.pid)
        child.process = None
        wait = child.exited(
            code,
            now,
            max_crashes=self.settings.restart_max_crashes,
            window=self.settings.restart_window_seconds,
        )
        log.warning(
            "%s exited with code %s; restarting it in %.0f s (%d exit(s) within %g s; %d make a"
            " crash loop)",
            child.name,
            code,
            wait,
            len(child.crashes),
            self.settings.restart_window_seconds,
            self.settings.restart_max_crashes,
        )

    def _stop_all(self) -> None:
        running = [child for child in self.children if child.process is not None]
        for child in running:
            assert child.process is not None
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + CHILD_STOP_SECONDS
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", child.name)
                child.process.kill()
                child.process.wait()
            _kill_group(child.process.pid)
        log.info("all processes stopped")


def _kill_group(pid: int) -> None:
    """Kill what is left of a child's process group (the child itself has exited)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
