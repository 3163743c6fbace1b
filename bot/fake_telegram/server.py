"""The fake Bot API over real HTTP, for tests that run ``quotebot run`` as a subprocess.

:class:`FakeServer` serves a :class:`bot.fake_telegram.api.FakeBotAPI` on ``127.0.0.1`` from a
thread of its own (its own event loop, a tornado server), so a test can start the bot as a
child process with ``TELEGRAM_API_URL=server.url`` and watch what it does::

    with FakeServer() as server:
        child = subprocess.Popen([...], env={..., "TELEGRAM_API_URL": server.url})
        server.call(lambda fake: fake.user_message("/quote 1", chat_id=5))
        server.wait_until(lambda fake: fake.sent)

The fake's state belongs to the server thread: touch it only through :meth:`FakeServer.call`
(which runs a function there and returns its result). Faults become what a client would see
on the wire: ``timeout`` holds the answer past ``hold_seconds``, ``network_error`` and
``dropped_connection`` close the connection without an answer, ``malformed_json`` answers a
body that is not JSON.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import tornado.httpserver
import tornado.netutil
import tornado.web

from bot.fake_telegram.api import MALFORMED, MALFORMED_BODY, FakeBotAPI, TransportFault

T = TypeVar("T")


class _AnyMethod(tornado.web.RequestHandler):
    def initialize(self, server: FakeServer) -> None:
        self.server = server

    async def _answer(self) -> None:
        request = self.request
        try:
            status, payload = await self.server.fake.handle(
                request.path,
                request.query,
                request.headers.get("Content-Type", ""),
                request.body,
            )
        except TransportFault as fault:
            if str(fault) in ("timeout", "connect_timeout"):
                await asyncio.sleep(self.server.hold_seconds)
            self.detach().close()  # no answer at all
            return
        if status == MALFORMED:
            self.set_header("Content-Type", "text/html")
            self.finish(MALFORMED_BODY)
            return
        self.set_status(status)
        self.finish(payload)

    async def post(self) -> None:
        await self._answer()

    async def get(self) -> None:
        await self._answer()


class FakeServer:
    """A :class:`FakeBotAPI` served over HTTP from a background thread (see the module doc)."""

    def __init__(self, fake: FakeBotAPI | None = None, *, hold_seconds: float = 30.0) -> None:
        self.fake = fake or FakeBotAPI()
        self.hold_seconds = hold_seconds
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="fake-bot-api", daemon=True)

    @property
    def url(self) -> str:
        """The Bot API root to give the bot as ``TELEGRAM_API_URL``."""
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FakeServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake Bot API server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        web = tornado.web.Application(
            [(r"/.*", _AnyMethod, {"server": self})],
            log_function=lambda handler: None,  # access lines would show the token in URLs
        )
        http = tornado.httpserver.HTTPServer(web)
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        http.add_sockets(sockets)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            http.stop()
            await asyncio.wait_for(http.close_all_connections(), 5)

    def call(self, fn: Callable[[FakeBotAPI], T]) -> T:
        """Run ``fn(fake)`` on the server's thread and return what it returns."""
        assert self._loop is not None

        async def run() -> T:
            return fn(self.fake)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def wait_until(self, predicate: Callable[[FakeBotAPI], Any], *, within: float = 20.0) -> Any:
        """Poll ``predicate(fake)`` (on the server thread) until it is truthy; return it."""
        deadline = time.monotonic() + within
        while True:
            value = self.call(predicate)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not within {within} s: {predicate}")
            time.sleep(0.05)
