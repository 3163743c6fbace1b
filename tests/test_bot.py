"""End to end: updates in through the fake Bot API, recorded Bot API calls out."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botchat import GROUP, PRIVATE, BotHarness, button_data, buttons, running_bot

from bot import render


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        yield harness


def only(messages: list) -> object:
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0]


async def test_menus_are_set_at_start_for_private_chats_and_groups(bot: BotHarness) -> None:
    calls = bot.fake.calls_to("setMyCommands")
    scopes = {c["scope"]["type"]: [x["command"] for x in c["commands"]] for c in calls}
    public = [c.name for c in render.COMMANDS if not c.admin]
    assert scopes["all_private_chats"] == public
    assert "who" in scopes["all_group_chats"] and "start" not in scopes["all_group_chats"]
    assert "stats" not in scopes["all_private_chats"]


async def test_help_lists_every_command_with_an_example(bot: BotHarness) -> None:
    for chat in (PRIVATE, GROUP):
        msg = only(await bot.send("/help", chat_id=chat))
        for spec in render.COMMANDS:
            assert f"/{spec.name}" in msg.text
            assert spec.example in msg.text


async def test_start_welcomes_with_examples_to_tap(bot: BotHarness) -> None:
    msg = only(await bot.send("/start"))
    assert "Hello" in msg.text
    assert [data for _, data in buttons(msg)][:2] == ["q:w:amnesty", "q:c:ablyazov"]
    results = await bot.press(msg, "q:c:ablyazov")
    assert "Mukhtar Ablyazov" in results[0].text


async def test_start_deep_links_open_a_quote_or_a_case(bot: BotHarness) -> None:
    msg = only(await bot.send("/start q_3"))
    assert "Kazakhstan persecutes opponents" in msg.text and "#3" in msg.text
    msg = only(await bot.send("/start case_shalabayeva"))
    assert "Shalabayeva" in msg.text and "1/3" in msg.text
    msg = only(await bot.send("/start q_99999"))
    assert "no quote #99999" in msg.text


async def test_who_shows_the_speaker_first_with_a_pager(bot: BotHarness) -> None:
    msg = only(await bot.send("/who julia hall"))
    assert msg.parse_mode == "HTML"
    assert "<blockquote>" in msg.html and "<b>Julia Hall</b>" in msg.html
    assert "Amnesty International" in msg.text and "1/2" in msg.text
    labels = [label for label, _ in buttons(msg)]
    assert "▶" in labels and "◀" not in labels

    edited = only(await bot.press(msg, button_data(msg, "▶")))
    assert edited.method == "editMessageText" and edited.message_id == msg.message_id
    assert "2/2" in edited.text and "Aleksandr Pavlov" in edited.text
    assert "▶" not in [label for label, _ in buttons(edited)]
    back = only(await bot.press(edited, button_data(edited, "◀")))
    assert "1/2" in back.text


@pytest.mark.parametrize("query", ["hall", "dalhusien", "williamsen", "JULIA"])
async def test_who_forgives_partial_names_and_typos(bot: BotHarness, query: str) -> None:
    msg = only(await bot.send(f"/who {query}"))
    assert "<blockquote>" in msg.html


async def test_who_organisation_groups_its_speakers(bot: BotHarness) -> None:
    msg = only(await bot.send("/who hrw"))
    assert "Human Rights Watch" in msg.text and "/3" in msg.text


async def test_who_without_argument_lists_speakers_as_buttons(bot: BotHarness) -> None:
    msg = only(await bot.send("/who"))
    labels = [label for label, _ in buttons(msg)]
    assert any(label.startswith("Julia Hall") for label in labels) and len(labels) == 6
    result = only(await bot.press(msg, button_data(msg, "Hugh Williamson")))
    assert result.method == "sendMessage" and "Hugh Williamson" in result.text


async def test_case_in_cyrillic_and_listing(bot: BotHarness) -> None:
    msg = only(await bot.send("/case Аблязов"))
    assert "Mukhtar Ablyazov" in msg.text and "1/5" in msg.text
    listing = only(await bot.send("/case"))
    assert {label.split(" (")[0] for label, _ in buttons(listing)} == {
        "Aleksandr Pavlov",
        "Alma Shalabayeva",
        "Mukhtar Ablyazov",
    }
    pavlov = only(await bot.press(listing, button_data(listing, "Aleksandr Pavlov")))
    assert "Spain has an absolute obligation" in pavlov.text


async def test_search_highlights_matched_words(bot: BotHarness) -> None:
    msg = only(await bot.send("/search tortur"))
    assert re.search(r"<u>torture</u>", msg.html, re.IGNORECASE)


async def test_search_needs_text(bot: BotHarness) -> None:
    msg = only(await bot.send("/search"))
    assert "/search fair trial" in msg.text


async def test_nothing_found_offers_did_you_mean_buttons(bot: BotHarness) -> None:
    msg = only(await bot.send("/who julya hal"))
    assert "<blockquote>" in msg.html  # typos still find her
    msg = only(await bot.send("/case zzzzqqq"))
    assert "Nothing found" in msg.text


@pytest.mark.parametrize(
    "argument",
    [
        "<b>bold</b> & co",
        '"NEAR(torture kazakhstan" AND * OR -x text:abc ()',
        "🙂🙃 torture 🔥",
        "Шалабаева",
        "x" * 4000,
        "'; DROP TABLE quotes; --",
    ],
)
@pytest.mark.parametrize("command", ["who", "case", "search", "random", "quote", "cite", "export"])
async def test_bad_input_gets_a_clear_reply(bot: BotHarness, command: str, argument: str) -> None:
    for chat in (PRIVATE, GROUP):
        messages = await bot.send(f"/{command} {argument}", chat_id=chat)
        assert len(messages) == 1
        assert len(messages[0].text) <= 4096
        assert "something went wrong" not in messages[0].text
    assert await bot.app.bot_data.store.count_quotes() == 9


async def test_random_filters_by_case_speaker_or_org(bot: BotHarness) -> None:
    msg = only(await bot.send("/random case:pavlov"))
    assert "Aleksandr Pavlov is at real risk" in msg.text
    msg = only(await bot.send("/random who:williamson"))
    assert "Hugh Williamson" in msg.text
    msg = only(await bot.send("/random org:hrw"))
    assert "Human Rights Watch" in msg.text
    msg = only(await bot.send("/random case:nosuchcase"))
    assert "No quote matches" in msg.text
    assert "<blockquote>" in only(await bot.send("/random")).html


async def test_quote_and_cite_by_id(bot: BotHarness) -> None:
    msg = only(await bot.send("/quote 4"))
    assert "French authorities should protect" in msg.text and "Jean-Marie Fardeau" in msg.text
    assert "no quote #77" in only(await bot.send("/quote 77")).text
    assert "Give a quote number" in only(await bot.send("/quote abc")).text
    cite = only(await bot.send("/cite 4"))
    assert cite.text.startswith("“The French authorities should protect Ablyazov")
    assert "” — Jean-Marie Fardeau, France director at Human Rights Watch. " in cite.text
    assert "statements.txt" not in cite.text  # the seed's file name is no source
    assert "<" not in cite.html.replace("&lt;", "")


async def test_unknown_commands_point_to_help_only_in_private(bot: BotHarness) -> None:
    assert "/help" in only(await bot.send("/frobnicate")).text
    assert await bot.send("/frobnicate", chat_id=GROUP) == []


async def test_group_commands_answer_the_requester_and_respect_addressee(bot: BotHarness) -> None:
    messages = await bot.send("/who@QuoteBot hall", chat_id=GROUP)
    msg = only(messages)
    assert msg.reply_to_message_id is not None and "Julia Hall" in msg.text
    assert await bot.send("/who@OtherBot hall", chat_id=GROUP) == []


async def test_buttons_reject_forged_stale_and_foreign_presses(bot: BotHarness) -> None:
    msg = only(await bot.send("/who hall"))
    for forged in ["p:nope:1", "garbage", "p:" + "x" * 20 + ":1", "w:999999", "c:abc", "q:z:hi"]:
        assert await bot.press(msg, forged) == []
        assert bot.last_callback_answer().get("text") == render.STALE_BUTTON
    token = button_data(msg, "▶").split(":")[1]
    assert await bot.press(msg, f"p:{token}:57") == []
    assert "2" in bot.last_callback_answer().get("text", "")
    group_msg = only(await bot.send("/help", chat_id=GROUP))
    assert await bot.press(group_msg, f"p:{token}:1") == []  # someone else's result set
    assert bot.last_callback_answer().get("text") == render.STALE_BUTTON
    assert await bot.app.bot_data.store.count_quotes() == 9


async def test_flood_guard_answers_duplicates_once_and_bounds_a_chatty_user(
    bot: BotHarness,
) -> None:
    assert len(await bot.send("/who hall")) == 1
    assert await bot.send("/who   HALL") == []  # same command moments later
    replies = 0
    for i in range(40):
        replies += len(await bot.send(f"/quote {i + 1}", chat_id=GROUP, user_id=31))
    assert replies <= bot.app.bot_data.flood.group.burst + 1
    assert len(await bot.send("/cite 2", chat_id=GROUP, user_id=32)) == 1
    # Buttons that post a new message count too; over the limit, a notice on the button.
    shown = only(await bot.send("/who hall", chat_id=GROUP, user_id=33))
    more = button_data(shown, "Case")
    posted = [len(await bot.press(shown, more, user_id=34)) for _ in range(20)]
    assert sum(posted) == bot.app.bot_data.flood.group.burst
    assert "Too many requests" in bot.last_callback_answer().get("text", "")
    assert len(await bot.press(shown, more, user_id=35)) == 1  # others are still answered


async def test_inline_mode_offers_quotes_and_pages(bot: BotHarness) -> None:
    answer = await bot.inline("kazakhstan")
    results = answer["results"]
    assert 1 <= len(results) <= 50
    assert all(r["type"] == "article" for r in results)
    assert "<blockquote>" in results[0]["input_message_content"]["message_text"]
    assert ":" in results[0]["title"]
    empty = await bot.inline("")
    speakers = {r["title"].split(":")[0] for r in empty["results"]}
    assert len(speakers) == 6
    nothing = await bot.inline("qqqqzzzzxxxx")
    assert nothing["results"] == []


async def test_a_failed_send_is_reported_briefly(bot: BotHarness) -> None:
    bot.fake.inject("sendMessage", "server_error", times=1)
    messages = await bot.send("/quote 1")
    assert [m.text for m in messages] == [render.ERROR]


@pytest.mark.parametrize("command", [c.name for c in render.COMMANDS if c.name != "stats"])
async def test_every_command_without_arguments_answers_in_private_and_group(
    bot: BotHarness, command: str
) -> None:
    for chat in (PRIVATE, GROUP):
        messages = await bot.send(
            f"/{command}@QuoteBot" if chat == GROUP else f"/{command}", chat_id=chat
        )
        assert len(messages) == 1, (command, chat)
        assert "something went wrong" not in messages[0].text
        if chat == GROUP:
            assert messages[0].reply_to_message_id is not None


async def add_quotes(bot: BotHarness, texts: list[str], speaker: str = "Ann Example") -> None:
    from bot.catalog import Catalog
    from bot.corpus import Quote
    from bot.seed_data import CATALOG_FILE, data_file

    quotes = [
        Quote(text, speaker, "Researcher", "Human Rights Watch", (), "extra.json", i + 1)
        for i, text in enumerate(texts)
    ]
    await bot.app.bot_data.store.add_quotes(quotes, Catalog.load(data_file(CATALOG_FILE)), "x")


async def test_a_long_quote_is_split_between_sentences_never_cut(bot: BotHarness) -> None:
    sentence = "Kazakhstan must release every prisoner held for speech & protest <now>. "
    long_text = (sentence * 140).strip()  # about 10,000 characters
    await add_quotes(bot, [long_text])
    parts = await bot.send("/quote 10")
    assert len(parts) == 3
    assert all(len(p.text) <= 4096 for p in parts)
    bodies = [p.text.split("\n", 1)[1] for p in parts]  # after the "part i of n" line
    rejoined = " ".join(b.split("\n— ")[0].strip() for b in bodies)
    assert rejoined == long_text
    assert "Ann Example" in parts[-1].text and "Ann Example" not in parts[0].text
    paged = only(await bot.send("/who ann example"))
    assert len(paged.text) <= 4096 and "/quote 10" in paged.text and "Ann Example" in paged.text


async def test_inline_results_page_with_next_offset(bot: BotHarness) -> None:
    await add_quotes(bot, [f"Statement {i} on torture in detention number {i}." for i in range(70)])
    first = await bot.inline("torture")
    assert len(first["results"]) == 20 and first["next_offset"] == "20"
    seen = {r["id"] for r in first["results"]}
    offset = first["next_offset"]
    remembered = bot.app.bot_data.lookup.answers.hits
    while offset:
        page = await bot.inline("torture", offset=offset)
        assert len(page["results"]) <= 50
        assert not seen & {r["id"] for r in page["results"]}
        seen |= {r["id"] for r in page["results"]}
        offset = page.get("next_offset", "")  # absent on the last page: no more results
    assert len(seen) >= 73
    assert bot.app.bot_data.lookup.answers.hits > remembered  # page 2 needed no second search


async def test_did_you_mean_buttons_run_the_suggested_command(bot: BotHarness) -> None:
    msg = only(await bot.send("/who shalabaeva"))  # a case, asked as a speaker
    assert "Nothing found" in msg.text and "Did you mean" in msg.text
    assert buttons(msg) == [("Alma Shalabayeva", "q:c:Alma Shalabayeva")]
    result = only(await bot.press(msg, "q:c:Alma Shalabayeva"))
    assert "Alma Shalabayeva" in result.text and "1/3" in result.text
    msg = only(await bot.send("/case julia hall"))
    assert buttons(msg) == [("Julia Hall", "q:w:Julia Hall")]
