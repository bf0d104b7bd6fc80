"""An aiohttp application served on 127.0.0.1 from a thread of its own: the fakes of the
outside world (Twilio's REST API, an enterprise's system) run here, so that the code
under test, in this process or in worker processes, reaches them over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Self

from aiohttp import web


def free_port() -> int:
    """A port nothing listens on now, for a server started in another process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    def __init__(self, app: web.Application, name: str) -> None:
        self._app = app
        self._name = name
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        runner = web.AppRunner(self._app, shutdown_timeout=0.2)
        started = threading.Event()
        loop = self._loop

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self.port = runner.addresses[0][1]
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert started.wait(5), f"the {self._name} did not start"

    def stop(self) -> None:
        assert self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class Fake:
    """A fake of the outside world served from 127.0.0.1 while entered: a subclass says
    its ``name`` and adds its ``routes``; ``base`` is where it listens."""

    name = "fake"
    server: LocalServer | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    @property
    def base(self) -> str:
        assert self.server is not None, "enter it first"
        return self.server.base

    def __enter__(self) -> Self:
        app = web.Application()
        self.routes(app)
        self.server = LocalServer(app, self.name)
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.stop()
