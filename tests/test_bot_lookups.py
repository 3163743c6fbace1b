"""Lookup quality through the fake Bot API: what a user sees in replies and inline mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botchat import BotHarness, buttons, running_bot


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        yield harness


async def test_invisible_characters_and_names_in_commands_and_inline(bot: BotHarness) -> None:
    (who,) = await bot.send("/who ha\u200bll")
    assert "<blockquote>" in who.html and "Julia Hall" in who.text
    (hugh,) = await bot.send("/who Хью")
    assert "Hugh Williamson" in hugh.text and "Jean-Marie Fardeau" not in hugh.text
    soft = await bot.inline("ha\u00adll")
    plain = await bot.inline("hall")
    ids = [r["id"] for r in plain["results"]]
    assert ids and [r["id"] for r in soft["results"]] == ids
    texts = [r["input_message_content"]["message_text"] for r in plain["results"]]
    assert all("Julia Hall" in t for t in texts)  # not #5 through "all the angles"
    inline_hugh = await bot.inline("Хью")
    assert inline_hugh["results"]
    assert all(
        "Hugh Williamson" in r["input_message_content"]["message_text"]
        for r in inline_hugh["results"]
    )


async def test_random_with_free_text_and_suggestions_that_lead_somewhere(
    bot: BotHarness,
) -> None:
    (quote,) = await bot.send("/random torture")
    assert "<blockquote>" in quote.html and "torture" in quote.text.lower()
    (near,) = await bot.send("/search NEAR(torture fair)")
    offered = [data for _, data in buttons(near)]
    assert offered and "q:s:year torture fair" not in offered
    for data in offered:
        (answer, *_) = await bot.press(near, data)
        assert "<blockquote>" in answer.html, data
    (asylum,) = await bot.send("/search pavlov asylum")
    assert "q:c:Aleksandr Pavlov" in [data for _, data in buttons(asylum)]


async def test_several_names_combine_and_say_what_was_set_aside(bot: BotHarness) -> None:
    (both,) = await bot.send("/case ablyazov shalabayeva")
    assert "#7" in both.text
    assert "Ablyazov" in both.text and "Shalabayeva" in both.text and "set aside" not in both.text
    (aside,) = await bot.send("/case pavlov shalabayeva")
    assert "“pavlov” set aside" in aside.text and "Alma Shalabayeva" in aside.text
