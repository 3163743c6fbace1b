"""Faults on the wire (issue 14): the fake Bot API fails getUpdates and the bot's replies in
every way it can, and the recorded calls show no command lost and none answered twice.

Each command is a distinct ``/quote N`` from its own chat, so a chat's messages count its
answers: one each is the target. A reply whose fate is unknown (a read timeout, a dropped
connection, an answer that is not JSON) is never sent twice; when it never left (no
connection) it is sent again; a 5xx refuses the reply and the user is told to try again. When
the quote may have arrived, the user may also get that apology: an answer too many, never
the quote twice and never no answer at all.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pollbot import polling_bot

from bot import render

POLL_FAULTS = [
    ("timeout", 1),
    ("server_error", 2),
    ("retry_after", 1),
    ("malformed_json", 2),
    ("dropped_connection", 2),
    ("network_error", 2),
    ("timeout_after_send", 2),
]
COMMANDS = 12


@pytest.mark.parametrize(("fault", "times"), POLL_FAULTS, ids=[f for f, _ in POLL_FAULTS])
async def test_polling_faults_lose_and_repeat_nothing(
    tmp_path: Path, fault: str, times: int
) -> None:
    async with polling_bot(tmp_path / "q.db") as bot:
        bot.fake.inject("getUpdates", fault, times=times, retry_after=1)
        for n in range(COMMANDS):
            bot.fake.user_message(f"/quote {n % 9 + 1}", chat_id=7000 + n)
            if n == COMMANDS // 2:
                bot.fake.unparseable_update()
        await bot.wait_processed(COMMANDS + 1, within=30)
        await asyncio.sleep(0.2)  # time for a duplicate to show, were there one
        answers = [len(bot.fake.messages_to(7000 + n)) for n in range(COMMANDS)]
        assert answers == [1] * COMMANDS
        assert bot.errors == []


REPLY_FAULTS = [
    # (method, fault, what the user sees)
    ("sendMessage", "network_error", "quote"),  # never left: sent again
    ("sendMessage", "connect_timeout", "quote"),
    ("sendMessage", "timeout_after_send", "quote"),  # arrived: not sent twice (+ apology)
    ("sendMessage", "malformed_json", "quote"),
    ("sendMessage", "dropped_connection", "apology"),  # unknown fate: not resent
    ("sendMessage", "timeout", "apology"),
    ("sendMessage", "server_error", "apology"),
]


@pytest.mark.parametrize(
    ("method", "fault", "seen"), REPLY_FAULTS, ids=[f"{m}-{f}" for m, f, _ in REPLY_FAULTS]
)
async def test_reply_faults_are_answered_once(
    tmp_path: Path, method: str, fault: str, seen: str
) -> None:
    async with polling_bot(tmp_path / "q.db") as bot:
        bot.fake.inject(method, fault, times=1)
        bot.fake.user_message("/quote 4", chat_id=7100)
        await bot.wait_processed(1, within=30)
        texts = [m.text for m in bot.fake.messages_to(7100)]
        quotes = [t for t in texts if "#4" in t]
        assert len(quotes) <= 1, texts  # never the quote twice
        assert texts, "the command went unanswered"
        if seen == "quote":
            assert len(quotes) == 1, texts
        else:
            assert texts == [render.ERROR]
