"""``quotebot broadcast [--dry-run]``: one quote-of-the-day pass now, from the command line,
with the same records as the bot (nothing twice on a day)."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from telegram.ext import ExtBot

from bot import render
from bot.config import Settings
from bot.daily.deliveries import DeliveryStore
from bot.daily.service import DailyService, Outcome, utcnow
from bot.logs import setup_logging
from bot.ratelimit import PriorityRateLimiter
from bot.store import QuoteStore


async def run_broadcast_cli(settings: Settings, *, dry_run: bool) -> int:
    """``quotebot broadcast [--dry-run]``: one pass now, printing each chat's outcome.

    The dry run needs no token and writes nothing. A real run needs TELEGRAM_BOT_TOKEN:
    sending through the offline fake would record deliveries that never reached anyone.
    """
    if not dry_run and settings.token is None:
        print(
            "quotebot: error: a real broadcast needs TELEGRAM_BOT_TOKEN (see .env.example); "
            "`quotebot broadcast --dry-run` shows what would be sent without one.",
            file=sys.stderr,
        )
        return 2
    setup_logging("WARNING", settings.token)
    async with await QuoteStore.open(settings.db_path) as store:
        await store.ensure_seeded()
        if dry_run:
            planned = await DeliveryStore(store).plan(utcnow())
            for chat_id, day, quote in planned:
                print(f"would send  chat {chat_id}  {day}  quote #{quote.id}  {quote.speaker}")
            print(f"dry run: {len(planned)} quote(s) due now; nothing was sent or recorded")
            return 0
        assert settings.token is not None
        bot: ExtBot[Any] = ExtBot(
            settings.token,
            base_url=settings.base_url,
            base_file_url=settings.base_file_url,
            rate_limiter=PriorityRateLimiter(),
            defaults=render.BOT_DEFAULTS,
        )
        async with bot:
            resend = settings.daily_ambiguous == "resend"
            service = DailyService(store, bot, resend_ambiguous=resend)

            def show(chat_id: int, day: date, quote_id: int, outcome: Outcome) -> None:
                print(f"{outcome:<10}  chat {chat_id}  {day}  quote #{quote_id}", flush=True)

            report = await service.run_due(source="cli", linger=300.0, on_result=show)
        summary = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing due"
        print(f"broadcast: {summary}")
    return 0
