"""Benchmark: one quote-of-the-day broadcast to N chats through the fake Bot API, in real time.

    .venv/bin/python bench/bench_broadcast.py            # 3,000 chats, about 100 s
    .venv/bin/python bench/bench_broadcast.py --chats 300
    .venv/bin/python bench/bench_broadcast.py --corpus-db bench/out/bench-1000000.db

The fake enforces Telegram's limits (30/s overall, 20/min per group, bursts of 3 then 1/s
per private chat) and answers 429 when they are broken. The chats: two thirds private,
one third groups; 2% have blocked the bot, 1% are groups migrated to supergroups, and a few
get an injected ``RetryAfter``. While the broadcast runs, a user sends a command every
couple of seconds, to measure how long interactive replies wait (for the rate limiter, and
for a quote lookup on the database connection the broadcast uses).

The quotes come from the project's seed, or with ``--corpus-db`` from a copy of an existing
quote database (such as the 1M-quote one bench/bench_search.py builds; the original is only
read), to show that each chat's quote pick stays cheap with a large corpus.

Reports the achieved rate against the 30 messages/second ceiling, the 429s received (the
injected ones apart, and those after the first second), and the quotes delivered,
duplicated and lost, and how long each claim (the quote pick included) took. Target: >= 90%
of the ceiling, no 429 after the first second, zero duplicates, zero lost.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import shutil
import sqlite3
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

from bot.daily.service import DailyService
from bot.daily.subscriptions import SubscriptionStore
from bot.fake_telegram.api import FakeBotAPI
from bot.fake_telegram.html import ApiError
from bot.ratelimit import PriorityRateLimiter
from bot.schema import max_quote_id
from bot.store import QuoteStore

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


def copy_corpus(src: Path, dst: Path) -> int:
    """Copy the database ``src`` to ``dst`` without writing to ``src``: a plain file copy when
    no write-ahead log holds part of it, else SQLite's backup API on a read-only connection.
    Returns the copy's size in bytes."""
    wal = src.with_name(src.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        source = sqlite3.connect(f"{src.resolve().as_uri()}?mode=ro", uri=True)
        target = sqlite3.connect(dst)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        shutil.copyfile(src, dst)
    return dst.stat().st_size


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.1f} ms"


async def run(chats: int, seed: int, corpus_db: Path | None = None) -> int:
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
        t0 = time.monotonic()
        size = 0 if corpus_db is None else await asyncio.to_thread(copy_corpus, corpus_db, db)
        copied = time.monotonic() - t0
        t0 = time.monotonic()
        store = await QuoteStore.open(db)
        try:
            if corpus_db is None:
                await store.ensure_seeded()
            opened = time.monotonic() - t0
            corpus_size = await store.run(max_quote_id)
            if corpus_db is not None:
                corpus = (
                    f"corpus: {corpus_size:,} quotes (max id) from a copy of {corpus_db} "
                    f"({size / 1e6:.0f} MB, copied in {copied:.1f} s, "
                    f"opened in {opened:.1f} s)"
                )
            else:
                corpus = f"corpus: {corpus_size:,} quotes (max id), the project's seed"
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
            claim_times: list[float] = []
            lookups: list[float] = []
            async with bot:
                service = DailyService(store, bot)
                real_claim = service.deliveries.claim

                async def timed_claim(*args: Any, **kwargs: Any) -> Any:
                    # A claim picks the chat's quote of the day (the first time that day).
                    t0 = time.perf_counter()
                    try:
                        return await real_claim(*args, **kwargs)
                    finally:
                        claim_times.append(time.perf_counter() - t0)

                service.deliveries.claim = timed_claim  # type: ignore[method-assign]
                started = time.monotonic()

                async def user_talks() -> None:
                    # Interactive replies to a few people while the broadcast runs, each after
                    # looking a quote up on the database connection the broadcast uses.
                    i = 0
                    while True:
                        await asyncio.sleep(2.0)
                        t0 = time.monotonic()
                        await store.get_quote(rng.randint(1, max(corpus_size, 1)))
                        lookups.append(time.monotonic() - t0)
                        t0 = time.monotonic()
                        await bot.send_message(900_000 + i % 5, "an interactive reply")
                        latencies.append(time.monotonic() - t0)
                        i += 1

                talker = asyncio.create_task(user_talks())
                report = await service.run_due(source="bench", linger=30.0)
                talker.cancel()
                elapsed = time.monotonic() - started
        finally:
            # Always: the store's thread and connection end with it.
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

    print(corpus)
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
    if lookups:
        print(
            f"their quote lookups on the broadcast's connection: median "
            f"{ms(statistics.median(lookups))}, max {ms(max(lookups))}"
        )
    if claim_times:
        q = statistics.quantiles(claim_times, n=100) if len(claim_times) > 1 else claim_times * 99
        print(
            f"claims (quote pick included, waits for the connection too): {len(claim_times)}, "
            f"median {ms(statistics.median(claim_times))}, p99 {ms(q[98])}, "
            f"max {ms(max(claim_times))}"
        )
    ok = rate >= 0.9 * CEILING and not late_429 and not duplicated and not lost and not stray
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument(
        "--corpus-db",
        type=Path,
        metavar="PATH",
        help="run over a copy of this quote database instead of the 9-quote seed",
    )
    args = parser.parse_args()
    if args.corpus_db is not None and not args.corpus_db.is_file():
        parser.error(f"--corpus-db {args.corpus_db}: no such file")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return asyncio.run(run(args.chats, args.seed, args.corpus_db))


if __name__ == "__main__":
    sys.exit(main())
