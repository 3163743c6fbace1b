"""``quotebot run``: start the Application, serve until a stop signal, always stop cleanly.

Why not PTB's ``run_polling``: its stop signals raise ``SystemExit`` inside the event loop, so
a second SIGINT arriving while the first is being handled (a double Ctrl-C, or a supervisor
signalling the process and its group) cuts the shutdown short, and ``post_shutdown`` never
closes the database.
And a Bot API that does not answer at start (``getMe``) ends ``run_polling`` with a
traceback, where a service should wait for it.

So this runner owns the loop's signals. The first SIGINT or SIGTERM sets a stop event; later
ones are logged and change nothing, so the shutdown always runs to its end: the Updater and
the Application stop (finishing the updates in hand), :func:`bot.app.stop_resources` closes
the store, the Application shuts down. The shutdown has a deadline (``SHUTDOWN_GRACE``); past
it, the store is closed anyway, so the process always ends.

Start-up retries ``getMe`` with exponential backoff (``0.5 s`` doubling to ``60 s``), one log
line per failed attempt, until Telegram answers or a stop signal arrives. A token Telegram
refuses (401/404) is not retried: it is a setting to fix, reported as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.app import start_resources, stop_resources
from bot.config import SettingsError
from bot.context import QuoteBotApp
from bot.ratelimit import retry_seconds
from bot.webhook import WebhookConfig, serve_updates

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_RETRY = 0.5  # seconds before the second getMe; doubled after each failure
LAST_RETRY = 60.0
SHUTDOWN_GRACE = 15.0  # seconds for the updates in hand; then the store is closed anyway


class Stopped(Exception):
    """A stop signal arrived before the awaited step finished."""


async def until_stopped(step: Awaitable[T], stop: asyncio.Event) -> T:
    """Await ``step`` unless ``stop`` is set first (then cancel it and raise :class:`Stopped`)."""
    task = asyncio.ensure_future(step)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise Stopped
    return task.result()


async def connect(app: QuoteBotApp, stop: asyncio.Event) -> None:
    """``app.initialize()`` (which asks ``getMe``), retried with backoff while Telegram is
    unreachable or failing; raises :class:`Stopped` on a stop signal, SettingsError for a
    refused token."""
    delay, attempt = FIRST_RETRY, 1
    while True:
        try:
            await until_stopped(app.initialize(), stop)
            return
        except InvalidToken:
            raise SettingsError(
                "TELEGRAM_BOT_TOKEN: Telegram refused the token (revoked or mistyped); "
                "get the current one from @BotFather"
            ) from None
        except (NetworkError, RetryAfter) as exc:
            wait = delay
            if isinstance(exc, RetryAfter):
                wait = max(wait, retry_seconds(exc))
            log.warning(
                "Bot API not reachable (%s: %s); retrying in %.1f s (attempt %d)",
                type(exc).__name__,
                exc,
                wait,
                attempt,
            )
        try:
            await asyncio.wait_for(stop.wait(), wait)
            raise Stopped
        except TimeoutError:
            pass
        delay, attempt = min(delay * 2, LAST_RETRY), attempt + 1


def install_stop_signals(stop: asyncio.Event, *, exiting: bool) -> Callable[[], None]:
    """SIGINT/SIGTERM set ``stop``; repeats are logged only. Returns the uninstaller, which
    restores the defaults, or, when the process is ``exiting`` after this, keeps ignoring
    the signals (a late one must not turn a clean exit into a KeyboardInterrupt)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(number: signal.Signals) -> None:
        if stop.is_set():
            log.info("%s while stopping: still stopping", number.name)
            return
        log.info("%s: stopping", number.name)
        stop.set()

    for number in (signal.SIGINT, signal.SIGTERM):
        # Not possible outside the main thread or on Windows; the caller's stop still works.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, on_signal, number)
            installed.append(number)

    def uninstall() -> None:
        for number in installed:
            if exiting:
                loop.add_signal_handler(number, log.info, "%s while exiting", number.name)
            else:
                loop.remove_signal_handler(number)

    return uninstall


async def serve(
    app: QuoteBotApp,
    webhook: WebhookConfig | None = None,
    stop: asyncio.Event | None = None,
    *,
    exiting: bool = False,
) -> None:
    """Connect, open resources, serve (long polling, or ``webhook``) until stopped, stop.
    ``exiting``: the process ends after this (see :func:`install_stop_signals`)."""
    stop = stop or asyncio.Event()
    uninstall = install_stop_signals(stop, exiting=exiting)
    resources = False
    try:
        await connect(app, stop)
        await until_stopped(start_resources(app), stop)
        resources = True
        if webhook is None:
            await until_stopped(start_polling(app), stop)
            await app.start()
            log.info("polling for updates")
            await stop.wait()
        else:
            await serve_updates(app, webhook, stop)
    except Stopped:
        log.info("stopped during start-up")
    finally:
        try:
            await asyncio.wait_for(shutdown(app, resources), SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("shutdown took over %.0f s; closing the database now", SHUTDOWN_GRACE)
        finally:
            await stop_resources(app)  # idempotent; the store's thread must not outlive us
            uninstall()


async def start_polling(app: QuoteBotApp) -> None:
    assert app.updater is not None
    await app.updater.start_polling(
        allowed_updates=Update.ALL_TYPES, drop_pending_updates=False, bootstrap_retries=-1
    )


async def shutdown(app: QuoteBotApp, resources: bool) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()  # finishes the updates already taken
    if resources:
        await stop_resources(app)
    await app.shutdown()


def run(app: QuoteBotApp, webhook: WebhookConfig | None = None) -> int:
    """Run until SIGINT/SIGTERM; 0 when stopped by a signal."""
    try:
        asyncio.run(serve(app, webhook, exiting=True))
    finally:
        for number in (signal.SIGINT, signal.SIGTERM):  # closing the loop restored defaults
            signal.signal(number, signal.SIG_IGN)
    return 0
