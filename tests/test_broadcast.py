"""Delivery: exactly once per chat and local day, through crashes, downtime, DST, failures
and Telegram's limits, with an injected clock (no real waiting)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botchat import BOT_NAME, PRIVATE, buttons
from daily_harness import DailyHarness, FakeClock, daily_bot

from bot.__main__ import main
from bot.daily.deliveries import DeliveryStore
from bot.daily.rotation import pick_quote
from bot.daily.service import KEEP_DAYS
from bot.daily.subscriptions import SubscriptionStore
from bot.fake_telegram.api import FakeBotAPI, RateLimits
from bot.ratelimit import BROADCAST, PriorityRateLimiter
from bot.store import QuoteStore

START = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
ADMIN = 71


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def states(bot: DailyHarness) -> Counter[str]:
    rows = await bot.app.bot_data.store.run(
        lambda c: c.execute("SELECT state FROM daily_deliveries").fetchall()
    )
    return Counter(r[0] for r in rows)


async def test_due_quotes_are_delivered_once_with_formatting_and_buttons(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        await bot.subscribe(PRIVATE, "09:00 Europe/Paris")  # 07:00 UTC
        await bot.subscribe(PRIVATE + 1, "09:00 America/New_York")  # 13:00 UTC
        assert await bot.run_at(at(2024, 6, 3, 6, 55)) == {}
        assert await bot.run_at(at(2024, 6, 3, 7, 0)) == {"delivered": 1}
        assert await bot.run_at(at(2024, 6, 3, 7, 30)) == {}
        msg = bot.quotes_to(PRIVATE)[0]
        assert msg.parse_mode == "HTML" and "<blockquote>" in msg.html and "#" in msg.text
        assert any(label.startswith("More by") for label, _ in buttons(msg))
        await bot.run_at(at(2024, 6, 3, 13, 1))
        await bot.run_at(at(2024, 6, 4, 13, 1))
        assert len(bot.quotes_to(PRIVATE)) == 2 and len(bot.quotes_to(PRIVATE + 1)) == 2


@pytest.mark.parametrize(
    ("zone", "first", "transition"),
    [
        ("Europe/Paris", date(2024, 3, 29), date(2024, 3, 31)),  # 02:30 skipped
        ("Europe/Paris", date(2024, 10, 25), date(2024, 10, 27)),  # 02:30 twice
        ("America/New_York", date(2024, 3, 8), date(2024, 3, 10)),
        ("America/New_York", date(2024, 11, 1), date(2024, 11, 3)),
    ],
)
async def test_dst_days_get_one_quote_each(
    tmp_path: Path, zone: str, first: date, transition: date
) -> None:
    clock = FakeClock(datetime.combine(first, datetime.min.time(), UTC))
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        await bot.subscribe(PRIVATE, f"02:30 {zone}")
        moment = clock.now()
        while moment < datetime.combine(first + timedelta(days=5), datetime.min.time(), UTC):
            moment += timedelta(minutes=10)
            await bot.run_at(moment)
        sends = bot.quotes_to(PRIVATE)
        from zoneinfo import ZoneInfo

        days = [
            datetime.fromtimestamp(m.time, UTC).astimezone(ZoneInfo(zone)).date() for m in sends
        ]
        assert len(days) == len(set(days)) and transition in days
        assert len(days) >= 4


class Crash(BaseException):
    """The process dies here."""


@pytest.mark.parametrize("point", ["claim", "mark_sending", "record"])
@pytest.mark.parametrize("k", [0, 3, 7])
async def test_exactly_once_across_a_crash_after_k_of_n_sends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, point: str, k: int
) -> None:
    n, clock, fake = 8, FakeClock(START), FakeBotAPI(username=BOT_NAME)
    chats = [PRIVATE + i for i in range(n)]
    original = getattr(DeliveryStore, point)
    calls = 0

    async def crashing(self: DeliveryStore, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == k + 1:
            raise Crash
        return await original(self, *args, **kwargs)

    async with daily_bot(tmp_path / "q.db", clock, fake=fake, workers=1) as bot:
        for chat in chats:
            await bot.subscribe(chat)
        monkeypatch.setattr(DeliveryStore, point, crashing)
        with pytest.raises(Crash):
            await bot.run_at(at(2024, 6, 3, 9, 0))
        monkeypatch.setattr(DeliveryStore, point, original)
        sent_before = len(bot.daily_sends())
    # The send of the crashing chat left the process only at "record": it arrived.
    assert sent_before == k + (point == "record")

    clock.advance(minutes=5)  # restarted a little later; the dead process's leases expire
    async with daily_bot(tmp_path / "q.db", clock, fake=fake, workers=4) as bot:
        await bot.run_at(clock.now())
        await bot.run_at(clock.now() + timedelta(hours=2))
        per_chat = Counter(m.chat_id for m in bot.daily_sends())
        assert per_chat == Counter(dict.fromkeys(chats, 1)), per_chat
        expected_doubt = 1 if point == "record" else 0
        assert (await states(bot))["doubt"] == expected_doubt
        # And the next day, everyone again, once.
        await bot.run_at(at(2024, 6, 4, 9, 1))
        assert Counter(m.chat_id for m in bot.daily_sends()) == Counter(dict.fromkeys(chats, 2))


async def test_catch_up_after_downtime_the_same_day_and_no_backlog(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        await bot.subscribe(PRIVATE, "09:00 Europe/Paris")
        await bot.subscribe(PRIVATE + 1, "23:30 Europe/Paris")
    # Down from 08:00 to 15:00 Paris time: the 09:00 quote comes at 15:00, the same day.
    clock.set(at(2024, 6, 3, 13, 0))
    async with daily_bot(tmp_path / "q.db", clock, catch_up=True) as bot:
        await asyncio.gather(*bot.service._tasks)
        assert len(bot.quotes_to(PRIVATE)) == 1 and bot.quotes_to(PRIVATE + 1) == []
        fake = bot.fake
    # Down for two whole days: one quote for today when back, not three.
    clock.set(at(2024, 6, 6, 12, 0))
    async with daily_bot(tmp_path / "q.db", clock, fake=fake) as bot:
        await bot.run_at(clock.now())
        assert len(bot.quotes_to(PRIVATE)) == 2
        assert bot.quotes_to(PRIVATE + 1) == []  # 23:30 is still ahead today
        await bot.run_at(at(2024, 6, 6, 21, 31))
        assert len(bot.quotes_to(PRIVATE + 1)) == 1


async def test_rotation_never_repeats_before_the_corpus_is_exhausted(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        chats = [PRIVATE + i for i in range(5)]
        for chat in chats:
            await bot.subscribe(chat, "10:00 UTC")
        corpus = await bot.service.subs.store.quotes()
        speakers = {q.id: q.speaker_id for q in corpus}
        n = len(corpus)
        for day in range(2 * n):
            await bot.run_at(at(2024, 6, 3, 10, 0) + timedelta(days=day))
        firsts = set()
        for chat in chats:
            ids = [int(m.text.rsplit("#", 1)[1].split()[0]) for m in bot.quotes_to(chat)]
            assert len(ids) == 2 * n
            assert sorted(ids[:n]) == sorted(q.id for q in corpus)
            assert sorted(ids[n:]) == sorted(q.id for q in corpus)
            assert ids[n] != ids[n - 1]  # no repeat across the cycle boundary
            # Speakers spread: the first picks cover as many speakers as there are.
            distinct = len(set(speakers.values()))
            assert len({speakers[i] for i in ids[:distinct]}) == distinct
            firsts.add(ids[0])
        assert len(firsts) > 1  # chats do not all get the same quote on the same day


async def test_a_corpus_larger_than_the_sample_still_rotates_without_repeats(
    seeded_store: QuoteStore,
) -> None:
    # Large corpora are ranked over a sample (here 4 of 9 quotes): the guarantees hold.
    everything = sorted(q.id for q in await seeded_store.quotes())
    picks = [await seeded_store.run(pick_quote, PRIVATE, 1000.0 + n, 4) for n in range(10)]
    assert sorted(p for p in picks[:9] if p is not None) == everything  # a whole cycle
    assert picks[9] in everything and picks[9] != picks[8]  # next cycle, no repeat at the seam
    other = [await seeded_store.run(pick_quote, PRIVATE + 1, 1000.0 + n, 4) for n in range(3)]
    assert other != picks[:3]  # another chat, another order


async def test_deliveries_older_than_the_keep_period_are_forgotten(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        await bot.subscribe(PRIVATE, "10:00 UTC")
        first = at(2024, 6, 3, 10, 0)
        await bot.run_at(first)
        await bot.run_at(first + timedelta(days=1))
        old = await bot.service.deliveries.delivery(PRIVATE, first.date())
        assert old is not None and old[0] == "sent"
        later = first + timedelta(days=KEEP_DAYS + 1)
        await bot.run_at(later)
        assert await bot.service.deliveries.delivery(PRIVATE, first.date()) is None
        kept = await bot.service.deliveries.delivery(PRIVATE, (first + timedelta(days=1)).date())
        assert kept is not None and kept[0] == "sent"  # within the keep period
        now = await bot.service.deliveries.delivery(PRIVATE, later.date())
        assert now is not None and now[0] == "sent"
        ids = [int(m.text.rsplit("#", 1)[1].split()[0]) for m in bot.quotes_to(PRIVATE)]
        assert len(ids) == 3 == len(set(ids))  # the rotation remembers what was sent


async def test_forbidden_pauses_without_retrying_and_unblock_resumes(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        for chat in (PRIVATE, PRIVATE + 1):
            await bot.subscribe(chat)
        bot.fake.block(PRIVATE)
        assert await bot.run_at(at(2024, 6, 3, 9, 0)) == {"blocked": 1, "delivered": 1}
        attempts = len(bot.fake.calls_to("sendMessage"))
        for day in range(1, 4):
            await bot.run_at(at(2024, 6, 3, 9, 0) + timedelta(days=day))
        daily = [c for c in bot.fake.calls_to("sendMessage") if "Quote of the day</b>" in c["text"]]
        assert len([c for c in daily if c["chat_id"] == PRIVATE]) == 1
        assert len(bot.fake.calls_to("sendMessage")) == attempts + 3
        sub = await bot.service.subs.get(PRIVATE)
        assert sub is not None and sub.status == "paused"
        await bot.feed(
            bot.fake.my_chat_member(chat_id=PRIVATE, old_status="kicked", new_status="member")
        )
        await bot.run_at(at(2024, 6, 7, 9, 0))
        assert len(bot.quotes_to(PRIVATE)) == 1


async def test_chat_migrated_moves_the_subscription_and_delivers_there(tmp_path: Path) -> None:
    old, new = -4242, -1004242
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        bot.fake.set_chat_admins(old, [ADMIN])
        await bot.feed(
            bot.fake.user_message("/daily 09:00", chat_id=old, chat_type="group", user_id=ADMIN)
        )
        bot.fake.migrate(old, new)
        report = await bot.run_at(at(2024, 6, 3, 9, 0))
        assert report == {"migrated": 1, "delivered": 1}
        assert len(bot.quotes_to(new)) == 1 and bot.quotes_to(old) == []
        assert await bot.service.subs.get(old) is None
        sub = await bot.service.subs.get(new)
        assert sub is not None and sub.chat_type == "supergroup"
        await bot.run_at(at(2024, 6, 4, 9, 0))
        assert len(bot.quotes_to(new)) == 2
        tries = [c for c in bot.fake.calls_to("sendMessage") if c["chat_id"] == old]
        assert len([c for c in tries if "Quote of the day</b>" in c["text"]]) == 1


async def test_chat_not_found_is_removed_and_never_blocks_the_others(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        chats = [PRIVATE + i for i in range(6)]
        for chat in chats:
            await bot.subscribe(chat)
        bot.fake.forget(chats[0])
        bot.fake.block(chats[1])
        report = await bot.run_at(at(2024, 6, 3, 9, 0))
        assert report == {"removed": 1, "blocked": 1, "delivered": 4}
        assert await bot.service.subs.get(chats[0]) is None
        assert all(len(bot.quotes_to(c)) == 1 for c in chats[2:])


async def test_retry_after_is_honoured_and_retried_the_same_pass(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        for chat in (PRIVATE, PRIVATE + 1):
            await bot.subscribe(chat)
        bot.fake.inject("sendMessage", "retry_after", chat_id=PRIVATE, retry_after=7)
        report = await bot.run_at(at(2024, 6, 3, 9, 0))
        assert report == {"retried": 1, "delivered": 2}
        first_try = bot.fake.too_many_requests[0][0]
        retried = bot.quotes_to(PRIVATE)[0].time
        assert retried - first_try >= 7  # not before Telegram said
        assert len(bot.quotes_to(PRIVATE)) == 1 and len(bot.quotes_to(PRIVATE + 1)) == 1


@pytest.mark.parametrize("kind", ["server_error", "connect_timeout", "network_error"])
async def test_5xx_and_unsent_timeouts_are_retried_later_that_day(
    tmp_path: Path, kind: str
) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START), linger=0) as bot:
        await bot.subscribe(PRIVATE)
        bot.fake.inject("sendMessage", kind, chat_id=PRIVATE, times=3)
        report = await bot.run_at(at(2024, 6, 3, 9, 0))
        assert report == {"retried": 1}
        for minutes in range(1, 30):
            await bot.run_at(at(2024, 6, 3, 9, minutes))
        assert len(bot.quotes_to(PRIVATE)) == 1
        assert (await states(bot)) == {"sent": 1}


async def test_retries_stop_at_the_end_of_the_local_day(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START), linger=0) as bot:
        await bot.subscribe(PRIVATE, "23:50")
        bot.fake.inject("sendMessage", "server_error", chat_id=PRIVATE, times=100)
        for minutes in range(0, 60, 5):
            await bot.run_at(at(2024, 6, 3, 23, 50) + timedelta(minutes=minutes))
        assert (await states(bot)) == {"failed": 1}
        sub = await bot.service.subs.get(PRIVATE)
        assert sub is not None and sub.next_date == date(2024, 6, 4)


async def test_ambiguous_timeouts_are_at_most_once_when_resending_is_off(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock, resend_ambiguous=False) as bot:
        for chat in (PRIVATE, PRIVATE + 1):
            await bot.subscribe(chat)
        # Telegram delivered, then the answer timed out: never a second copy.
        bot.fake.inject("sendMessage", "timeout_after_send", chat_id=PRIVATE)
        # The request timed out and was not delivered: we cannot tell, so no resend either.
        bot.fake.inject("sendMessage", "timeout", chat_id=PRIVATE + 1)
        assert await bot.run_at(at(2024, 6, 3, 9, 0)) == {"doubt": 2}
        await bot.run_at(at(2024, 6, 3, 12, 0))
        assert len(bot.quotes_to(PRIVATE)) == 1 and bot.quotes_to(PRIVATE + 1) == []
        await bot.run_at(at(2024, 6, 4, 9, 0))
        assert len(bot.quotes_to(PRIVATE + 1)) == 1


async def test_timeouts_are_retried_later_that_day_by_default(tmp_path: Path) -> None:
    async with daily_bot(tmp_path / "q.db", FakeClock(START)) as bot:
        await bot.subscribe(PRIVATE)
        await bot.subscribe(PRIVATE + 1)
        bot.fake.inject("sendMessage", "timeout", chat_id=PRIVATE)
        # The documented price: delivered, then the answer timed out -> a second copy.
        bot.fake.inject("sendMessage", "timeout_after_send", chat_id=PRIVATE + 1)
        await bot.run_at(at(2024, 6, 3, 9, 0))
        await bot.run_at(at(2024, 6, 3, 9, 5))
        assert len(bot.quotes_to(PRIVATE)) == 1  # the timed-out send was retried, not lost
        assert len(bot.quotes_to(PRIVATE + 1)) == 2
        assert await states(bot) == {"sent": 2}
        await bot.run_at(at(2024, 6, 3, 12, 0))
        assert len(bot.quotes_to(PRIVATE)) == 1 and len(bot.quotes_to(PRIVATE + 1)) == 2


async def test_two_senders_never_claim_the_same_day(tmp_path: Path) -> None:
    """The bot and `quotebot broadcast` at once, on one database."""
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        for i in range(20):
            await bot.subscribe(PRIVATE + i)
        clock.set(at(2024, 6, 3, 9, 0))
        async with await QuoteStore.open(tmp_path / "q.db") as other_store:
            from bot.daily.service import DailyService

            other = DailyService(other_store, bot.app.bot,
                                 clock=clock.now, sleep=clock.sleep)  # fmt: skip
            await asyncio.gather(bot.service.run_due(), other.run_due())
        assert Counter(m.chat_id for m in bot.daily_sends()) == Counter(
            {PRIVATE + i: 1 for i in range(20)}
        )


async def test_broadcast_keeps_telegram_limits_and_replies_jump_the_queue(tmp_path: Path) -> None:
    clock = FakeClock(START)
    async with daily_bot(tmp_path / "q.db", clock, enforce_rate_limits=True) as bot:
        bot.fake.rate_limits = RateLimits()
        chats = [PRIVATE + i for i in range(70)] + [-(10_000 + i) for i in range(20)]
        for chat in chats:
            clock.advance(seconds=1.1)  # commands are paced like people, not a burst
            if chat < 0:
                bot.fake.set_chat_admins(chat, [ADMIN])
            await bot.send("/daily 09:00", chat_id=chat, user_id=ADMIN if chat < 0 else None)
        clock.set(at(2024, 6, 3, 9, 0))
        start = clock.monotonic()
        run = asyncio.create_task(bot.service.run_due())
        await bot.fake.wait_for_sent(35 + len(bot.fake.sent) - len(bot.daily_sends()))
        replied = await bot.send("/daily", chat_id=PRIVATE + 500)
        answered_at = clock.monotonic()
        report = await run
        assert report.as_dict() == {"delivered": len(chats)}
        assert bot.fake.too_many_requests == []
        took = clock.monotonic() - start
        assert took >= (len(chats) - 30) / 30  # no faster than 30/s
        # The reply did not wait for the remaining ~55 quotes (about 2 s of broadcast).
        assert replied and answered_at - start < took - 1.0


async def test_cli_broadcast_dry_run_and_the_need_for_a_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "q.db"
    async with await QuoteStore.open(db) as store:
        await store.ensure_seeded()
        from datetime import time as wall

        subs = SubscriptionStore(store)
        await subs.subscribe(
            PRIVATE, "private", wall(0, 0), "UTC", datetime.now(UTC) - timedelta(days=2)
        )
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "QUOTEBOT_DB"):
        monkeypatch.delenv(name, raising=False)
    assert await asyncio.to_thread(main, ["broadcast", "--dry-run", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"chat {PRIVATE}" in out and "1 quote(s) due now" in out
    assert await asyncio.to_thread(main, ["broadcast", "--db", str(db)]) == 2
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err
    async with await QuoteStore.open(db) as store:  # the dry run wrote nothing
        rows = await store.run(
            lambda c: c.execute("SELECT count(*) FROM daily_deliveries").fetchone()[0]
        )
        assert rows == 0


# ------------------------------------------------------------------ the rate limiter alone


async def limiter_run(
    limiter: PriorityRateLimiter, clock: FakeClock, requests: list[tuple[int, bool]]
) -> list[tuple[float, int, bool]]:
    """Push (chat, is_broadcast) requests through; return (time, chat, broadcast) as sent."""
    log: list[tuple[float, int, bool]] = []

    async def one(chat: int, broadcast: bool) -> None:
        async def callback() -> bool:
            log.append((clock.monotonic(), chat, broadcast))
            return True

        await limiter.process_request(
            callback, (), {}, "sendMessage", {"chat_id": chat}, BROADCAST if broadcast else None
        )

    await asyncio.gather(*(one(c, b) for c, b in requests))
    await limiter.shutdown()
    return log


def max_in_window(times: list[float], span: float) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + span) for t in times)


async def test_limiter_windows_overall_group_and_private() -> None:
    clock = FakeClock(START)
    limiter = PriorityRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    requests = [(i, True) for i in range(1, 91)] + [(-7, False)] * 25 + [(5, False)] * 4
    log = await limiter_run(limiter, clock, requests)
    assert len(log) == len(requests)
    assert max_in_window([t for t, _, _ in log], 1.0) <= 30
    group = [t for t, c, _ in log if c == -7]
    assert max_in_window(group, 60.0) <= 20 and group[-1] - group[0] >= 60
    private = sorted(t for t, c, _ in log if c == 5)
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(private))


async def test_limiter_serves_interactive_requests_first() -> None:
    clock = FakeClock(START)
    limiter = PriorityRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    requests = [(1000 + i, True) for i in range(60)] + [(2000 + i, False) for i in range(5)]
    log = await limiter_run(limiter, clock, requests)
    order = [broadcast for _, _, broadcast in log]
    assert order[:5] == [False] * 5


async def test_limiter_retry_after_pauses_only_that_chat() -> None:
    from telegram.error import RetryAfter

    clock = FakeClock(START)
    limiter = PriorityRateLimiter(clock=clock.monotonic, sleep=clock.sleep)
    sent: list[tuple[float, int]] = []
    failed = {7}

    async def request(chat: int) -> None:
        async def callback() -> bool:
            if chat in failed:
                failed.discard(chat)
                raise RetryAfter(5)
            sent.append((clock.monotonic(), chat))
            return True

        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat}, None)

    t0 = clock.monotonic()
    await asyncio.gather(*(request(c) for c in range(1, 11)))
    times = dict((c, t) for t, c in sent)
    assert times[7] - t0 >= 5  # retried (interactive) after the pause
    assert max(t for c, t in times.items() if c != 7) - t0 < 1  # the others did not wait
    await limiter.shutdown()
