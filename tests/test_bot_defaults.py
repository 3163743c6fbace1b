"""Every message the bot sends, whatever sends it, is HTML with link previews off: a quote's
source link must not unfold into a preview card, and markup must never show as raw tags.
(The application's PTB Defaults say it once, instead of each call.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botchat import BotHarness, button_data, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        yield harness


def assert_html_without_previews(params: dict[str, object]) -> None:
    assert params.get("parse_mode") == "HTML", params
    assert params.get("link_preview_options") == {"is_disabled": True}, params


async def test_replies_edits_and_inline_results_are_html_without_previews(
    bot: BotHarness,
) -> None:
    await bot.send("/help")
    await bot.send("/daily")
    found = await bot.send("/who hall")
    await bot.press(found[-1], button_data(found[-1], "▶"))
    await bot.send("/nosuchcommand")
    sent = bot.fake.calls_to("sendMessage")
    edits = bot.fake.calls_to("editMessageText")
    assert len(sent) == 4 and len(edits) == 1
    for params in [*sent, *edits]:
        assert_html_without_previews(params)

    answer = await bot.inline("torture")
    assert answer["results"]
    for result in answer["results"]:
        assert_html_without_previews(result["input_message_content"])
