"""A test harness: the real Application against the fake Bot API, driven at the HTTP level."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from bot.app import build_application, start_resources, stop_resources
from bot.config import Settings
from bot.context import QuoteBotApp
from bot.fake_telegram.api import FakeBotAPI
from bot.fake_telegram.state import SentMessage

PRIVATE = 5001
GROUP = -100777
BOT_NAME = "QuoteBot"


class BotHarness:
    def __init__(self, fake: FakeBotAPI, app: QuoteBotApp) -> None:
        self.fake, self.app = fake, app

    async def feed(self, update: dict[str, Any]) -> list[SentMessage]:
        before = len(self.fake.sent)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.fake.sent[before:]

    async def send(
        self, text: str, *, chat_id: int = PRIVATE, user_id: int | None = None
    ) -> list[SentMessage]:
        chat_type = "private" if chat_id > 0 else "supergroup"
        return await self.feed(
            self.fake.user_message(text, chat_id=chat_id, chat_type=chat_type, user_id=user_id)
        )

    async def press(
        self, message: SentMessage, data: str, *, user_id: int | None = None
    ) -> list[SentMessage]:
        return await self.feed(
            self.fake.callback_query(
                chat_id=message.chat_id, message_id=message.message_id, data=data, user_id=user_id
            )
        )

    async def inline(self, query: str, offset: str = "", user_id: int = 9) -> dict[str, Any]:
        await self.feed(self.fake.inline_query(query, user_id=user_id, offset=offset))
        return self.fake.calls_to("answerInlineQuery")[-1]

    def last_callback_answer(self) -> dict[str, Any]:
        return self.fake.calls_to("answerCallbackQuery")[-1]


def buttons(message: SentMessage) -> list[tuple[str, str]]:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


def button_data(message: SentMessage, label_start: str) -> str:
    for text, data in buttons(message):
        if text.startswith(label_start):
            return data
    raise AssertionError(f"no button starting {label_start!r} in {buttons(message)}")


@asynccontextmanager
async def running_bot(
    db_path: Path, *, fake: FakeBotAPI | None = None, **settings: Any
) -> AsyncIterator[BotHarness]:
    """The bot on ``db_path``. Pass the previous run's ``fake`` to simulate a restart: the
    chats and messages survive, the process state does not."""
    fake = fake or FakeBotAPI(username=BOT_NAME)
    app = build_application(
        Settings(db_path=db_path, **settings),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        # Tests send bursts to one group; Telegram's pacing is the daily tests' concern.
        rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0),
    )
    await app.initialize()
    await start_resources(app)  # `async with app`/initialize() do not run post_init
    try:
        yield BotHarness(fake, app)
    finally:
        await stop_resources(app)
        await app.shutdown()
