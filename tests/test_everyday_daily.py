"""Everyday use of the quote of the day (issue 12): the Turn off button under the quote,
friendly time zones, and /stats in plain words; end to end through the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botchat import GROUP, PRIVATE, buttons
from daily_harness import DailyHarness, FakeClock, daily_bot

from bot.daily.commands import NOT_ADMIN

ADMIN, MEMBER, BOT_ADMIN = 71, 72, 99
START = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[DailyHarness]:
    async with daily_bot(
        tmp_path / "q.db", FakeClock(START), admins=frozenset({BOT_ADMIN}), timezone="Europe/Paris"
    ) as harness:
        harness.fake.set_chat_admins(GROUP, [ADMIN])
        yield harness


async def one(bot: DailyHarness, text: str, **kw: int) -> str:
    messages = await bot.send(text, **kw)
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0].text


async def test_the_quote_of_the_day_has_a_turn_off_button_for_admins(bot: DailyHarness) -> None:
    await bot.subscribe(GROUP, user_id=ADMIN)
    await bot.run_at(datetime(2024, 6, 3, 7, 5, tzinfo=UTC))
    (daily,) = bot.quotes_to(GROUP)
    off = dict(buttons(daily))["Turn off"]
    assert await bot.press(daily, off, user_id=MEMBER) == []  # the same check as /daily off
    answer = bot.last_callback_answer()
    assert answer["text"] == NOT_ADMIN[:200] and answer["show_alert"] is True
    assert (await bot.service.subs.get(GROUP)).status == "active"  # type: ignore[union-attr]
    edited = await bot.press(daily, off, user_id=ADMIN)
    assert (await bot.service.subs.get(GROUP)).status == "off"  # type: ignore[union-attr]
    assert "off" in bot.last_callback_answer()["text"]
    # The quote stays as it was; only the button goes.
    assert [m.method for m in edited] == ["editMessageReplyMarkup"]
    assert bot.fake.messages[GROUP][daily.message_id]["text"] == daily.text
    assert "Turn off" not in [label for label, _ in buttons(edited[0])]
    await bot.run_at(datetime(2024, 6, 4, 7, 5, tzinfo=UTC))
    assert [m.method for m in bot.quotes_to(GROUP)] == ["sendMessage", "editMessageReplyMarkup"]


async def test_a_city_alone_suggests_its_zone(bot: DailyHarness) -> None:
    messages = await bot.send("/daily 08:00 Paris")
    assert len(messages) == 1 and "Europe/Paris" in messages[0].text
    assert "/daily 08:00 Europe/Paris" in messages[0].text
    assert await bot.service.subs.get(PRIVATE) is None  # nothing changed yet
    use = dict(buttons(messages[0]))["Use Europe/Paris"]
    edited = await bot.press(messages[0], use)
    assert "every day at 08:00 (Europe/Paris)" in edited[0].text
    assert "America/New_York" in await one(bot, "/daily 08:00 new_york")


async def test_a_utc_offset_is_accepted_as_a_fixed_offset(bot: DailyHarness) -> None:
    text = await one(bot, "/daily 09:00 UTC+3")
    assert "every day at 09:00 (UTC+3)" in text and "daylight saving" in text
    sub = await bot.service.subs.get(PRIVATE)
    # 06:00 UTC is 09:00 at UTC+3: today's has just passed, so tomorrow's.
    assert sub is not None and sub.next_due == datetime(2024, 6, 4, 6, 0, tzinfo=UTC)
    await bot.run_at(datetime(2024, 6, 4, 6, 0, 30, tzinfo=UTC))  # 09:00 at UTC+3
    assert len(bot.quotes_to(PRIVATE)) == 1
    assert "(UTC-5)" in await one(bot, "/daily 07:30 GMT-5")
    assert "UTC+5:30" in await one(bot, "/daily 07:30 UTC+5:30")  # not a whole hour: explained
    sub = await bot.service.subs.get(PRIVATE)
    assert sub is not None and sub.timezone == "Etc/GMT+5"


async def test_stats_use_plurals_and_explain_doubt(bot: DailyHarness) -> None:
    await bot.subscribe(PRIVATE)
    await bot.subscribe(GROUP, user_id=ADMIN)
    text = await one(bot, "/stats", chat_id=BOT_ADMIN)
    assert "1 private chat," in text and "1 group)" in text
    await bot.run_at(datetime(2024, 6, 3, 7, 5, tzinfo=UTC))
    text = await one(bot, "/stats", chat_id=BOT_ADMIN)
    assert "doubt: 0 — " in text and "not sent again" in text
