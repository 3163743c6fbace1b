"""Daily-quote test harness: the real Application + daily service on the fake Bot API, with
an injected clock shared by the service, the rate limiter and the fake (no real waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botchat import BOT_NAME, BotHarness
from telegram.request import HTTPXRequest

from bot.app import build_application, start_resources, stop_resources
from bot.config import Settings
from bot.daily.jobs import start_daily, stop_daily
from bot.daily.service import DailyService
from bot.fake_telegram.api import FakeBotAPI
from bot.fake_telegram.state import SentMessage
from bot.flood import Allowance, FloodGuard
from bot.ratelimit import PriorityRateLimiter

DAILY_TEXT = "📅 Quote of the day"


class FakeClock:
    """Virtual time. ``sleep(d)`` lets the rest of the program catch up (other tasks, and
    database work on the store's thread, counted in ``busy``), then moves time to now + d:
    time passes only while everything else waits, as it would on a fast machine."""

    def __init__(self, start: datetime) -> None:
        self.t = start.timestamp()
        self.busy = 0
        self._idle = asyncio.Event()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def monotonic(self) -> float:
        return self.t

    def set(self, moment: datetime) -> None:
        # now() rounds to datetime's microseconds: set(now()) may land a hair before t.
        assert moment.timestamp() >= self.t - 1e-6, "time does not go backwards"
        self.t = max(self.t, moment.timestamp())

    def advance(self, **delta: float) -> None:
        self.t += timedelta(**delta).total_seconds()

    async def sleep(self, seconds: float) -> None:
        target = self.t + max(seconds, 0.0)
        await self.settle()
        self.t = max(self.t, target)

    async def settle(self) -> None:
        for _ in range(5):
            for _ in range(10):
                await asyncio.sleep(0)
            if self.busy:  # a database call is running on the store's thread
                self._idle.clear()
                await self._idle.wait()

    def track(self, store: Any) -> None:
        """Count ``store.run`` calls in flight (see ``settle``)."""
        run = store.run

        async def tracked(fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.busy += 1
            try:
                return await run(fn, *args, **kwargs)
            finally:
                self.busy -= 1
                if not self.busy:
                    self._idle.set()

        store.run = tracked


class DailyHarness(BotHarness):
    def __init__(self, fake: FakeBotAPI, app: Any, clock: FakeClock) -> None:
        super().__init__(fake, app)
        self.clock = clock

    @property
    def service(self) -> DailyService:
        return self.app.bot_data.daily

    async def subscribe(
        self, chat_id: int, text: str = "09:00", *, user_id: int | None = None
    ) -> None:
        await self.send(f"/daily {text}", chat_id=chat_id, user_id=user_id)

    async def run_at(self, moment: datetime, **options: Any) -> dict[str, int]:
        self.clock.set(moment)
        report = await self.service.run_due(**options)
        return report.as_dict()

    def quotes_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.daily_sends() if m.chat_id == chat_id]

    def daily_sends(self) -> list[SentMessage]:
        return [m for m in self.fake.sent if m.text.startswith(DAILY_TEXT)]


@asynccontextmanager
async def daily_bot(
    db_path: Path,
    clock: FakeClock,
    *,
    fake: FakeBotAPI | None = None,
    enforce_rate_limits: bool = False,
    admins: frozenset[int] = frozenset(),
    timezone: str = "UTC",
    limiter: PriorityRateLimiter | None = None,
    catch_up: bool = False,
    daily_ambiguous: str = "resend",
    **options: Any,
) -> AsyncIterator[DailyHarness]:
    """A running bot with the daily feature wired as app.py will wire it. Reuse ``fake`` to
    simulate a restart: the chats and messages survive, the process state does not."""
    fake = fake or FakeBotAPI(
        username=BOT_NAME, clock=clock.monotonic, enforce_rate_limits=enforce_rate_limits
    )
    app = build_application(
        Settings(
            db_path=db_path, admins=admins, timezone=timezone, daily_ambiguous=daily_ambiguous
        ),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=limiter or PriorityRateLimiter(clock=clock.monotonic, sleep=clock.sleep),
    )
    # Tests send many commands from one user; the flood guard is the bot suite's subject.
    unlimited = Allowance(burst=100_000, per_minute=100_000)
    app.bot_data.flood = FloodGuard(
        private=unlimited, group=unlimited, duplicate_window=0, clock=clock.monotonic
    )
    options.setdefault("clock", clock.now)
    options.setdefault("sleep", clock.sleep)
    app.bot_data.daily_options = {"catch_up": catch_up, **options}
    await app.initialize()
    await start_resources(app)  # starts the daily service with daily_options
    clock.track(app.bot_data.store)
    await start_daily(app, catch_up=catch_up, **options)  # idempotent: already started
    try:
        yield DailyHarness(fake, app, clock)
    finally:
        await stop_daily(app)
        await stop_resources(app)
        await app.shutdown()
