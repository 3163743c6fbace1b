"""QUOTEBOT_DAILY_AMBIGUOUS (issue 14, item 7): a quote of the day whose send timed out may
have arrived. ``resend`` sends it again later that day (at least once: maybe twice), ``skip``
does not (at most once: maybe missed). Either way /stats counts these days, and a send whose
fate is known is delivered exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from botchat import PRIVATE
from daily_harness import FakeClock, daily_bot

from bot.config import SettingsError, load_settings

START = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
ADMIN = 4242
CHATS = [PRIVATE + i for i in range(9)]


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 6, 3, hour, minute, tzinfo=UTC)


def test_the_setting_takes_resend_or_skip_only() -> None:
    assert load_settings({}, dotenv=None).daily_ambiguous == "resend"
    assert load_settings({"QUOTEBOT_DAILY_AMBIGUOUS": "SKIP"}, dotenv=None).daily_ambiguous == (
        "skip"
    )
    with pytest.raises(SettingsError, match=r"QUOTEBOT_DAILY_AMBIGUOUS.*example"):
        load_settings({"QUOTEBOT_DAILY_AMBIGUOUS": "twice"}, dotenv=None)


@pytest.mark.parametrize(
    ("setting", "fault", "copies", "stats"),
    [
        # Delivered, then the answer timed out.
        ("resend", "timeout_after_send", 2, "9 quotes sent again (may have arrived twice), 0 not"),
        ("skip", "timeout_after_send", 1, "0 quotes sent again (may have arrived twice), 9 not"),
        # Timed out and never delivered.
        ("resend", "timeout", 1, "9 quotes sent again (may have arrived twice), 0 not"),
        ("skip", "timeout", 0, "0 quotes sent again (may have arrived twice), 9 not"),
        # The connection dropped before the answer (here: before the call was performed).
        ("resend", "dropped_connection", 1, "9 quotes sent again (may have arrived twice), 0 not"),
        ("skip", "dropped_connection", 0, "0 quotes sent again (may have arrived twice), 9 not"),
        # Performed, but the answer is not JSON (a broken proxy).
        ("resend", "malformed_json", 2, "9 quotes sent again (may have arrived twice), 0 not"),
        ("skip", "malformed_json", 1, "0 quotes sent again (may have arrived twice), 9 not"),
        # Fate known (an error status, or no connection): exactly once whatever the setting.
        ("resend", "server_error", 1, "0 quotes sent again (may have arrived twice), 0 not"),
        ("skip", "network_error", 1, "0 quotes sent again (may have arrived twice), 0 not"),
    ],
)
async def test_ambiguous_sends_follow_the_setting_and_are_counted(
    tmp_path: Path, setting: str, fault: str, copies: int, stats: str
) -> None:
    clock = FakeClock(START)
    db = tmp_path / "q.db"
    async with daily_bot(
        db, clock, admins=frozenset({ADMIN}), daily_ambiguous=setting, linger=0
    ) as bot:
        for chat in CHATS:
            await bot.subscribe(chat)
            bot.fake.inject("sendMessage", fault, chat_id=chat)
        for hour, minute in ((9, 0), (9, 5), (9, 30), (12, 0), (18, 0)):
            await bot.run_at(at(hour, minute))
        received = {chat: len(bot.quotes_to(chat)) for chat in CHATS}
        assert set(received.values()) == {copies}, received
        (text,) = [m.text for m in await bot.send("/stats", chat_id=ADMIN)]
        assert f"QUOTEBOT_DAILY_AMBIGUOUS={setting}" in text and stats in text, text
