"""Benchmark: one quote-of-the-day broadcast to N chats through the fake Bot API, in real time.

    .venv/bin/python bench/bench_broadcast.py            # 3,000 chats, about 100 s
    .venv/bin/python bench/bench_broadcast.py --chats 300

The fake enforces Telegram's limits (30/s overall, 20/min per group, bursts of 3 then 1/s
per private chat) and answers 429 when they are broken. The chats: two thirds private,
one third groups; 2% have blocked the bot, 1% are groups migrated to supergroups, and a few
get an injected ``RetryAfter``. While the broadcast runs, a user sends a command every
couple of seconds, to measure how long interactive replies wait.

Reports the achieved rate against the 30 messages/second ceiling, the 429s received (the
injected ones apart, and those after the first second), and the quotes delivered,
duplicated and lost. Target: >= 90% of the ceiling, no 429 after the first second, zero
duplicates, zero lost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.daily import DailyService
from bot.offline import FakeBotAPI
from bot.ratelimit import PriorityRateLimiter
from bot.store import QuoteStore
from bot.subscriptions import SubscriptionStore
from bot.tg_html import ApiError

TOKEN = "123456:" + "bench-token-not-real-00000000000000"[:35]
CEILING = 30.0
DAILY_PREFIX = "📅 Quote of the day"


class CountingFake(FakeBotAPI):
    """The fake, telling apart the 429s it enforced from the ones injected on purpose."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.enforced_429: list[tuple[float, int]] = []

    def _rate_check(self, method: str, chat_id: int) -> None:
        try:
            super()._rate_check(method, chat_id)
        except ApiError:
            self.enforced_429.append((self.clock(), chat_id))
            raise


def pick_zone(now: datetime) -> ZoneInfo:
    """A zone where it is mid-day now, so that "due a minute ago" is today."""
    for name in ("UTC", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Europe/Paris"):
        tz = ZoneInfo(name)
        if 2 <= now.astimezone(tz).hour <= 21:
            return tz
    raise RuntimeError("no suitable zone")  # pragma: no cover - one of them always fits


async def run(chats: int, seed: int) -> int:
    rng = random.Random(seed)
    fake = CountingFake(username="QuoteBot", enforce_rate_limits=True, clock=time.monotonic)
    n_groups = chats // 3
    privates = [10_000 + i for i in range(chats - n_groups)]
    groups = [-(1_000_000 + i) for i in range(n_groups)]
    everyone = privates + groups
    blocked = set(rng.sample(everyone, round(chats * 0.02)))
    migrated = {
        old: -(1_000_000_000_000 + i)
        for i, old in enumerate(rng.sample([g for g in groups if g not in blocked], chats // 100))
    }
    retry_chats = rng.sample([c for c in everyone if c not in blocked], max(3, chats // 300))
    for chat in everyone:
        fake.add_chat(chat, chat_type="private" if chat > 0 else "group")
    for chat in blocked:
        fake.block(chat)
    for old, new in migrated.items():
        fake.migrate(old, new)
    for chat in retry_chats:
        fake.inject("sendMessage", "retry_after", chat_id=chat, retry_after=rng.choice([1, 2, 3]))

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = await QuoteStore.open(db)
        await store.ensure_seeded()
        subs = SubscriptionStore(store)
        now = datetime.now(UTC)
        tz = pick_zone(now)
        due = now - timedelta(minutes=1)
        at = due.astimezone(tz).time().replace(second=0, microsecond=0)
        for chat in everyone:
            kind = "private" if chat > 0 else "group"
            await subs.subscribe(chat, kind, at, tz.key, due - timedelta(minutes=1))
        assert len(await subs.due_chats(datetime.now(UTC), 10 * chats)) == chats

        limiter = PriorityRateLimiter()
        bot: ExtBot[Any] = ExtBot(
            TOKEN,
            request=HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
            rate_limiter=limiter,
        )
        latencies: list[float] = []
        async with bot:
            service = DailyService(store, bot, Settings(db_path=db))
            started = time.monotonic()

            async def user_talks() -> None:
                # Interactive replies to a few people while the broadcast runs.
                i = 0
                while True:
                    await asyncio.sleep(2.0)
                    t0 = time.monotonic()
                    await bot.send_message(900_000 + i % 5, "an interactive reply")
                    latencies.append(time.monotonic() - t0)
                    i += 1

            talker = asyncio.create_task(user_talks())
            report = await service.run_due(source="bench", linger=30.0)
            talker.cancel()
            elapsed = time.monotonic() - started
        await store.close()

    daily = [m for m in fake.sent if m.text.startswith(DAILY_PREFIX)]
    per_chat = Counter(m.chat_id for m in daily)
    expected = {migrated.get(c, c) for c in everyone if c not in blocked}
    duplicated = sum(n - 1 for n in per_chat.values() if n > 1)
    lost = len([c for c in expected if per_chat[c] == 0])
    stray = len([c for c in per_chat if c not in expected])
    # The ceiling is for all messages: quotes and the interactive replies sent meanwhile.
    stamps = sorted(m.time for m in fake.sent)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 1.0
    requests = fake.calls_to("sendMessage")
    rate = (len(stamps) - 1) / span if len(stamps) > 1 else 0.0
    quote_rate = len(daily) / span
    injected = len(fake.too_many_requests) - len(fake.enforced_429)
    late_429 = [t for t, _ in fake.enforced_429 if t - started > 1.0]

    print(
        f"chats: {chats} ({len(privates)} private, {len(groups)} groups); blocked "
        f"{len(blocked)}, migrated {len(migrated)}, RetryAfter injected {len(retry_chats)}"
    )
    print(f"pass report: {dict(sorted(report.outcomes.items()))}")
    print(f"elapsed: {elapsed:.1f} s for {len(daily)} quotes ({len(requests)} sendMessage calls)")
    print(
        f"achieved rate: {rate:.2f} messages/s = {100 * rate / CEILING:.1f}% of the "
        f"{CEILING:.0f}/s ceiling ({quote_rate:.2f} quotes/s; the rest were replies, and "
        f"{len(requests) - len(fake.sent)} requests were refused: blocked, migrated, 429)"
    )
    print(
        f"429s received: {len(fake.too_many_requests)} "
        f"(injected {injected}, from the limits {len(fake.enforced_429)}, "
        f"from the limits after the first second {len(late_429)})"
    )
    print(f"delivered: {len(daily)} to {len(per_chat)} chats (expected {len(expected)})")
    print(f"duplicated: {duplicated}   lost: {lost}   to unexpected chats: {stray}")
    if latencies:
        print(
            f"interactive replies during the broadcast: {len(latencies)}, wait median "
            f"{1000 * statistics.median(latencies):.0f} ms, max {1000 * max(latencies):.0f} ms"
        )
    ok = rate >= 0.9 * CEILING and not late_429 and not duplicated and not lost and not stray
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(run(args.chats, args.seed))


if __name__ == "__main__":
    sys.exit(main())
