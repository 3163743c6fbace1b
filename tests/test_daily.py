"""/daily, /stats, the d: buttons and my_chat_member, end to end through the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from botchat import GROUP, PRIVATE, button_data, buttons
from daily_harness import DailyHarness, FakeClock, daily_bot
from telegram import Update

from bot import render
from bot.daily.commands import NOT_ADMIN, NOT_BOT_ADMIN

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


async def test_status_subscribe_change_and_off(bot: DailyHarness) -> None:
    assert "no quote of the day" in await one(bot, "/daily")
    text = await one(bot, "/daily 09:00")
    assert "every day at 09:00 (Europe/Paris)" in text and "Next: Mon 3 Jun, 09:00" in text
    text = await one(bot, "/daily 21:15 Asia/Tokyo")
    assert "21:15 (Asia/Tokyo)" in text and "Next: Mon 3 Jun, 21:15" in text
    # The zone defaults to the chat's last one, even after /daily off.
    assert "07:00 (Asia/Tokyo)" in await one(bot, "/daily 07:00")
    assert "off" in await one(bot, "/daily off")
    assert "(Asia/Tokyo)" in await one(bot, "/daily")
    assert "08:00 (Asia/Tokyo)" in await one(bot, "/daily 08:00")
    sub = await bot.service.subs.get(PRIVATE)
    assert sub is not None and sub.status == "active" and sub.timezone == "Asia/Tokyo"


async def test_the_default_zone_is_quotebot_timezone(bot: DailyHarness) -> None:
    assert "(Europe/Paris)" in await one(bot, "/daily 10:00", chat_id=PRIVATE + 1)


@pytest.mark.parametrize(
    "argument", ["25:00", "9am", "noon", "09:00 Mars/Olympus", "09:00 ../../etc/passwd",
                 "09:00 Europe/Paris extra", "<b>x</b>"],
)  # fmt: skip
async def test_bad_times_and_zones_get_an_example(bot: DailyHarness, argument: str) -> None:
    text = await one(bot, f"/daily {argument}")
    assert "/daily 09:00" in text
    assert await bot.service.subs.get(PRIVATE) is None


async def test_only_group_admins_change_it_anyone_sees_it(bot: DailyHarness) -> None:
    assert await one(bot, "/daily 09:00", chat_id=GROUP, user_id=MEMBER) == NOT_ADMIN
    assert await bot.service.subs.get(GROUP) is None
    assert "no quote of the day" in await one(bot, "/daily", chat_id=GROUP, user_id=MEMBER)
    assert "every day at 09:00" in await one(bot, "/daily 09:00", chat_id=GROUP, user_id=ADMIN)
    assert await one(bot, "/daily off", chat_id=GROUP, user_id=MEMBER) == NOT_ADMIN
    sub = await bot.service.subs.get(GROUP)
    assert sub is not None and sub.status == "active"
    # getChatMember answers are cached briefly, then asked again.
    calls = len(bot.fake.calls_to("getChatMember"))
    await one(bot, "/daily 09:30", chat_id=GROUP, user_id=ADMIN)
    assert len(bot.fake.calls_to("getChatMember")) == calls
    bot.clock.advance(minutes=5)
    bot.fake.set_chat_admins(GROUP, [])  # demoted
    assert await one(bot, "/daily 10:00", chat_id=GROUP, user_id=ADMIN) == NOT_ADMIN
    assert len(bot.fake.calls_to("getChatMember")) == calls + 1


async def test_anonymous_admins_posting_as_the_group_may_change_it(bot: DailyHarness) -> None:
    raw = bot.fake.user_message("/daily 09:00", chat_id=GROUP, user_id=1087968824)
    raw["message"]["sender_chat"] = {"id": GROUP, "type": "supergroup", "title": "G"}
    sent = await bot.feed(raw)
    assert "every day at 09:00" in sent[0].text


async def test_buttons_change_it_for_admins_only(bot: DailyHarness) -> None:
    status = (await bot.send("/daily", chat_id=GROUP, user_id=MEMBER))[0]
    assert buttons(status) == [("Subscribe at 09:00", "d:on:0900")]
    assert await bot.press(status, "d:on:0900", user_id=MEMBER) == []
    answer = bot.last_callback_answer()
    assert answer["text"] == NOT_ADMIN[:200] and answer["show_alert"] is True
    assert await bot.service.subs.get(GROUP) is None

    edited = await bot.press(status, "d:on:0900", user_id=ADMIN)
    assert "every day at 09:00" in edited[0].text and edited[0].method == "editMessageText"
    assert await bot.press(edited[0], button_data(edited[0], "Turn off"), user_id=MEMBER) == []
    assert (await bot.service.subs.get(GROUP)).status == "active"  # type: ignore[union-attr]
    off = await bot.press(edited[0], "d:off", user_id=ADMIN)
    assert "no quote of the day" in off[0].text
    for forged in ["d:", "d:on:2500", "d:on:09000", "d:drop", "d:off:x"]:
        assert await bot.press(status, forged, user_id=ADMIN) == []
        assert bot.last_callback_answer()["text"] == render.STALE_BUTTON


async def test_hundreds_of_changes_leave_one_consistent_subscription(bot: DailyHarness) -> None:
    commands = [f"/daily {h % 24:02d}:{m:02d}" for h in range(10) for m in range(0, 60, 2)]
    commands += ["/daily off", "/daily 13:37 Asia/Tokyo", "/daily 25:99"] * 10
    updates = [bot.fake.user_message(c, chat_id=GROUP, user_id=ADMIN) for c in commands]
    await asyncio.gather(*(bot.app.process_update(Update.de_json(u, bot.app.bot)) for u in updates))
    rows = await bot.app.bot_data.store.run(
        lambda c: c.execute("SELECT count(*) FROM daily_subscriptions").fetchone()[0]
    )
    assert rows == 1
    text = await one(bot, "/daily 13:37 Asia/Tokyo", chat_id=GROUP, user_id=ADMIN)
    sub = await bot.service.subs.get(GROUP)
    assert sub is not None and sub.status == "active" and sub.timezone == "Asia/Tokyo"
    assert sub.next_due.astimezone(sub.tz).strftime("%H:%M") == "13:37" and "13:37" in text


async def test_stats_are_for_bot_admins(bot: DailyHarness) -> None:
    assert await one(bot, "/stats") == NOT_BOT_ADMIN
    await bot.subscribe(PRIVATE)
    await bot.subscribe(GROUP, user_id=ADMIN)
    await bot.subscribe(PRIVATE + 1, "10:00")
    await bot.send("/daily off", chat_id=PRIVATE + 1)
    text = await one(bot, "/stats", chat_id=BOT_ADMIN)
    assert "1 active" not in text and "2 active" in text and "1 turned off" in text
    assert "No broadcast yet" in text
    bot.fake.block(GROUP)
    await bot.run_at(datetime(2024, 6, 3, 7, 5, tzinfo=UTC))
    text = await one(bot, "/stats", chat_id=BOT_ADMIN)
    assert "delivered: 1" in text and "blocked: 1" in text and "1 paused" in text


async def test_my_chat_member_pauses_and_resumes(bot: DailyHarness) -> None:
    await bot.subscribe(GROUP, user_id=ADMIN)
    await bot.subscribe(PRIVATE)
    await bot.feed(bot.fake.my_chat_member(chat_id=GROUP, old_status="member", new_status="left"))
    await bot.feed(
        bot.fake.my_chat_member(chat_id=PRIVATE, old_status="member", new_status="kicked")
    )
    assert (await bot.service.subs.get(GROUP)).status == "paused"  # type: ignore[union-attr]
    assert (await bot.service.subs.get(PRIVATE)).status == "paused"  # type: ignore[union-attr]
    report = await bot.run_at(datetime(2024, 6, 3, 7, 5, tzinfo=UTC))
    assert report == {} and bot.fake.calls_to("sendMessage")[-1]["chat_id"] != GROUP
    # Re-added / unblocked: resumes from the next time ahead (today's 09:00 has passed).
    await bot.feed(bot.fake.my_chat_member(chat_id=GROUP, old_status="left", new_status="member"))
    await bot.feed(
        bot.fake.my_chat_member(chat_id=PRIVATE, old_status="kicked", new_status="member")
    )
    for chat in (GROUP, PRIVATE):
        sub = await bot.service.subs.get(chat)
        assert sub is not None and sub.status == "active" and sub.next_date == date(2024, 6, 4)
    await bot.run_at(datetime(2024, 6, 4, 7, 5, tzinfo=UTC))
    assert len(bot.quotes_to(GROUP)) == 1 and len(bot.quotes_to(PRIVATE)) == 1


async def test_a_chat_paused_by_a_failed_send_resumes_by_button(bot: DailyHarness) -> None:
    await bot.subscribe(PRIVATE)
    bot.fake.block(PRIVATE)
    assert await bot.run_at(datetime(2024, 6, 3, 7, 5, tzinfo=UTC)) == {"blocked": 1}
    status = (await bot.send("/daily"))[0]  # writing to the bot unblocks it, as on Telegram
    assert "paused" in status.text
    edited = await bot.press(status, button_data(status, "Resume"))
    assert "every day at 09:00" in edited[0].text
    await bot.run_at(datetime(2024, 6, 4, 7, 5, tzinfo=UTC))
    assert len(bot.quotes_to(PRIVATE)) == 1


async def test_the_migrate_service_message_moves_the_subscription(bot: DailyHarness) -> None:
    bot.fake.set_chat_admins(-555, [ADMIN])
    await bot.feed(
        bot.fake.user_message("/daily 09:00", chat_id=-555, chat_type="group", user_id=ADMIN)
    )
    assert await bot.service.subs.get(-555) is not None
    raw = bot.fake.user_message("x", chat_id=-555, user_id=ADMIN)
    message = raw["message"]
    del message["text"]
    message["migrate_to_chat_id"] = -100555
    await bot.feed(raw)
    assert await bot.service.subs.get(-555) is None
    assert await bot.service.subs.get(-100555) is not None
