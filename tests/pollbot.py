"""The real Application polling the fake Bot API, started and stopped by bot.runner.serve.

Unlike :mod:`botchat` (which hands updates to ``process_update``), every update here goes
the whole way: the fake's getUpdates answer, bot.transport, PTB's Updater, the handlers. A
last-group TypeHandler counts what was processed, and an extra error handler records every
exception that reached the error handlers (an exception the bot did not handle itself).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from botchat import BOT_NAME
from telegram import Update
from telegram.ext import AIORateLimiter, TypeHandler
from telegram.request import HTTPXRequest

from bot.app import QuoteBotApp, build_application
from bot.config import Settings
from bot.fake_telegram.api import FakeBotAPI
from bot.runner import serve

TOKEN = "123456:" + "pollbot-test-token-not-real-000000"[:35]
LAST_GROUP = 1_000_000


class PollingBot:
    def __init__(self, fake: FakeBotAPI, app: QuoteBotApp) -> None:
        self.fake, self.app = fake, app
        self.processed: list[int] = []  # update ids, as the last handler group saw them
        self.errors: list[BaseException] = []

    async def wait_processed(self, count: int, within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while len(self.processed) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(self.processed)} of {count} updates processed")
            await asyncio.sleep(0.005)

    async def wait_polling(self, within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not (self.app.running and self.fake.calls_to("getUpdates")):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the bot did not start polling")
            await asyncio.sleep(0.005)


@asynccontextmanager
async def polling_bot(
    db_path: Path, fake: FakeBotAPI | None = None, **settings: Any
) -> AsyncIterator[PollingBot]:
    fake = fake or FakeBotAPI(username=BOT_NAME)
    app = build_application(
        Settings(token=TOKEN, db_path=db_path, **settings),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0),
    )
    bot = PollingBot(fake, app)

    async def count(update: object, context: Any) -> None:
        if isinstance(update, Update):
            bot.processed.append(update.update_id)

    async def record(update: object, context: Any) -> None:
        bot.errors.append(context.error)

    app.add_handler(TypeHandler(Update, count), group=LAST_GROUP)
    app.add_error_handler(record)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, stop=stop))
    try:
        await bot.wait_polling()
        yield bot
    finally:
        stop.set()
        await asyncio.wait_for(serving, 20)
