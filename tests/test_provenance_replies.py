"""Replies show the source: one linked source line under every quote, the organisation not
repeated, a Share button, inline mode by number and deep links in inline results. End to
end through the fake Bot API."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botchat import GROUP, PRIVATE, BotHarness, button_data, running_bot
from daily_harness import FakeClock, daily_bot

from bot.catalog import Catalog
from bot.corpus import Quote
from bot.fake_telegram.api import SentMessage
from bot.fake_telegram.html import ApiError, check_reply_markup
from bot.provenance import PartialDate, Publication, Status
from bot.seed_data import CATALOG_FILE, SOURCES_FILE, data_file

FACTS = {
    q["n"]: q for q in tomllib.loads(data_file(SOURCES_FILE).read_text(encoding="utf-8"))["quote"]
}
COMPILATION_URL = "https://en.mukhtarablyazov.org/world-reacts/17,ngos2/-/0"
COMPILATION_LINE = "compilation on mukhtarablyazov.org — original not found"
LABELS = {
    1: "Amnesty International · press release · 9 Jan 2014",
    2: "Amnesty International · statement · 8 Nov 2013",
    3: COMPILATION_LINE,
    4: COMPILATION_LINE,
    5: "Amnesty International · news · Aug 2013",
    6: "Human Rights Watch · dispatch · 22 Jul 2013",
    7: "Human Rights Watch · dispatch · 22 Jul 2013",
    8: "Amnesty International · press release · Jul 2013",
    9: "UN Watch · statement to the UN Human Rights Council (Item 10) · Jun 2013",
}
SOURCE_LINK = re.compile(r'^Source: <a href="([^"]+)">([^<]+)</a>', re.MULTILINE)


def expected_url(quote_id: int) -> str:
    return FACTS[quote_id].get("url") or COMPILATION_URL


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        yield harness


def quote_number(text: str) -> int:
    found = re.search(r"^#(\d+)", text, re.MULTILINE)
    assert found, text
    return int(found.group(1))


def assert_source_shown(bot: BotHarness, html_text: str, entities: list[dict[str, Any]]) -> int:
    """The message's one source line is the right linked label for its quote, and Telegram
    (the fake) made it a link; returns the quote's number."""
    number = quote_number(re.sub(r"<[^>]+>", "", html_text))
    found = SOURCE_LINK.findall(html_text)
    assert len(found) == 1, html_text
    url, label = found[0]
    assert (url, label.replace("&amp;", "&")) == (expected_url(number), LABELS[number])
    assert [e["url"] for e in entities if e["type"] == "text_link"] == [url]
    lines = html_text.split("\n")
    source_at = next(i for i, line in enumerate(lines) if line.startswith("Source: "))
    assert lines[source_at - 1].startswith("— <b>")  # right under the attribution
    return number


def stored(bot: BotHarness, message: SentMessage) -> dict[str, Any]:
    return bot.fake.messages[message.chat_id][message.message_id]


def share_query(message: SentMessage | dict[str, Any]) -> str:
    markup = message.reply_markup if isinstance(message, SentMessage) else message["reply_markup"]
    shares = [
        b["switch_inline_query"]
        for row in (markup or {}).get("inline_keyboard", [])
        for b in row
        if "switch_inline_query" in b
    ]
    assert len(shares) == 1, markup
    return str(shares[0])


def previews_off(bot: BotHarness) -> None:
    for method in ("sendMessage", "editMessageText"):
        for call in bot.fake.calls_to(method):
            if "<a href" in str(call.get("text")):
                assert call["link_preview_options"] == {"is_disabled": True}, call


def one(messages: list[SentMessage]) -> SentMessage:
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0]


async def check_reply(bot: BotHarness, message: SentMessage) -> int:
    number = assert_source_shown(bot, message.html, stored(bot, message).get("entities", []))
    assert share_query(message) == f"#{number}"
    return number


async def test_quote_and_deep_link_show_each_seed_quotes_source(bot: BotHarness) -> None:
    for number in range(1, 10):
        assert await check_reply(bot, one(await bot.send(f"/quote {number}"))) == number
    assert await check_reply(bot, one(await bot.send("/start q_7"))) == 7
    previews_off(bot)


async def test_lists_pages_and_random_show_the_source(bot: BotHarness) -> None:
    shown = set()
    for command in ("/who julia hall", "/case pavlov", "/search torture", "/random"):
        shown.add(await check_reply(bot, one(await bot.send(command))))
    group = one(await bot.send("/who@QuoteBot williamson", chat_id=GROUP))
    shown.add(await check_reply(bot, group))
    # ▶ edits the message to the next quote: its source line and Share follow it.
    edited = one(await bot.press(group, button_data(group, "▶")))
    assert edited.method == "editMessageText"
    shown.add(await check_reply(bot, edited))
    assert {2, 6, 7} <= shown
    previews_off(bot)


async def test_a_likely_source_says_so(bot: BotHarness) -> None:
    text = one(await bot.send("/quote 8")).text
    assert "Source: Amnesty International · press release · Jul 2013 (not verified word" in text
    assert "not verified" not in one(await bot.send("/quote 7")).text


async def test_a_source_known_only_by_its_title_shows_the_title(bot: BotHarness) -> None:
    publication = Publication(title="Annual report <2013>", published=PartialDate(2013))
    number = await add(bot, "Nobody may be returned to a risk of torture.", publication=publication)
    assert (
        "\nSource: “Annual report <2013>” · 2013\n" in one(await bot.send(f"/quote {number}")).text
    )


async def add(bot: BotHarness, text: str, **fields: Any) -> int:
    """Import one quote as a document would; returns its number."""
    quote = Quote(
        text,
        fields.pop("speaker", "Ann Example"),
        fields.pop("role", "Researcher"),
        "Human Rights Watch",
        (),
        "extra-import.csv",
        1,
        **fields,
    )
    store = bot.app.bot_data.store
    await store.add_quotes([quote], Catalog.load(data_file(CATALOG_FILE)), "extra-import.csv")
    return max(q.id for q in await store.quotes())


async def test_a_quote_without_source_fields_says_not_recorded(bot: BotHarness) -> None:
    number = await add(bot, "Detainees must be allowed to see a lawyer of their choosing.")
    text = one(await bot.send(f"/quote {number}")).text
    assert "Source: not recorded" in text
    assert "extra-import" not in text  # never the import file's name
    assert "mukhtarablyazov" not in text  # the seed's compilation is the seed's alone


async def test_an_imported_source_without_a_url_is_shown_unlinked(bot: BotHarness) -> None:
    publication = Publication(status=Status.VERIFIED, publisher="Front Line <Defenders>")
    number = await add(bot, "Rights defenders face reprisals <daily>.", publication=publication)
    message = one(await bot.send(f"/quote {number}"))
    assert "\nSource: Front Line <Defenders>\n" in message.text
    assert "Source: Front Line &lt;Defenders&gt;" in message.html


async def test_the_organisation_is_not_repeated_when_the_role_names_it(bot: BotHarness) -> None:
    six = one(await bot.send("/quote 6")).text
    assert "— Hugh Williamson, Director of the Europe & Central Asia in Human Rights Watch\n" in six
    assert "(Human Rights Watch)" not in six
    one_text = one(await bot.send("/quote 1")).text
    assert "(Amnesty International)" not in one_text
    fardeau = one(await bot.send("/quote 4")).text
    assert "France director at Human Rights Watch\n" in fardeau
    # A role that does not name it keeps the organisation in brackets.
    number = await add(bot, "Torture is never justified, whatever the charges.")
    assert "— Ann Example, Researcher (Human Rights Watch)\n" in (
        one(await bot.send(f"/quote {number}")).text
    )


async def test_inline_finds_a_quote_by_number_with_source_and_share(bot: BotHarness) -> None:
    answer = await bot.inline("#7")
    assert [r["id"] for r in answer["results"]] == ["q7"]
    result = answer["results"][0]
    content = result["input_message_content"]
    assert content["link_preview_options"] == {"is_disabled": True}
    html_text = content["message_text"]
    url, label = SOURCE_LINK.findall(html_text)[0]
    assert (url, label) == (expected_url(7), LABELS[7])
    assert share_query(result) == "#7"
    # The list to pick from says where each was published.
    assert result["description"] == "Source: Human Rights Watch · dispatch · 22 Jul 2013"
    bare = await bot.inline("3")
    assert bare["results"][0]["id"] == "q3"
    assert COMPILATION_LINE in bare["results"][0]["input_message_content"]["message_text"]
    assert (await bot.inline("#9999"))["results"] == []


async def test_the_share_button_types_the_number_inline_mode_understands(bot: BotHarness) -> None:
    message = one(await bot.send("/quote 5"))
    query = share_query(message)
    answer = await bot.inline(query)
    assert answer["results"][0]["id"] == "q5"


async def test_inline_results_point_to_the_full_text_by_deep_link(bot: BotHarness) -> None:
    sentence = "Kazakhstan must release every prisoner held for speech & protest <now>. "
    number = await add(bot, (sentence * 80).strip())
    answer = await bot.inline(f"#{number}")
    html_text = answer["results"][0]["input_message_content"]["message_text"]
    link = f'<a href="https://t.me/QuoteBot?start=q_{number}">full text</a>'
    assert link in html_text and f"/quote {number}" not in html_text
    # In the bot's own chat the pointer stays the command, which works there.
    assert f"/quote {number}" in one(await bot.send("/search release every prisoner")).text
    # The deep link opens the whole quote.
    parts = await bot.send(f"/start q_{number}")
    assert len(parts) == 2 and all(len(p.text) <= 4096 for p in parts)
    assert "Source: not recorded" in parts[-1].text


async def test_long_roles_and_sources_stay_within_telegrams_limit(bot: BotHarness) -> None:
    publication = Publication(
        status=Status.LIKELY,
        publisher="P" * 300,
        kind="K" * 300,
        url="https://example.org/" + "u" * 500,
    )
    sentence = "Every word of this statement is kept exactly as it was published. "
    number = await add(
        bot, (sentence * 80).strip(), role="R" * 290, speaker="Zed Example", publication=publication
    )
    for messages in (
        await bot.send(f"/quote {number}"),
        await bot.send("/who zed example"),
        await bot.send(f"/quote {number}", chat_id=GROUP),
    ):
        assert messages and all(len(m.text) <= 4096 for m in messages)
        assert "went wrong" not in messages[-1].text
        assert "Source: " + "P" * 299 + "…" in messages[-1].text
    inline = await bot.inline(f"#{number}")  # the fake checks the result's text like a send
    assert inline["results"][0]["id"] == f"q{number}"


async def test_the_quote_of_the_day_shows_the_source_and_share(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2024, 6, 3, 6, 0, tzinfo=UTC))
    async with daily_bot(tmp_path / "q.db", clock) as bot:
        await bot.subscribe(PRIVATE, "09:00")
        await bot.run_at(datetime(2024, 6, 3, 9, 5, tzinfo=UTC))
        sent = one(bot.quotes_to(PRIVATE))
        number = assert_source_shown(bot, sent.html, stored(bot, sent).get("entities", []))
        assert share_query(sent) == f"#{number}"
        daily_call = [c for c in bot.fake.calls_to("sendMessage") if "Source:" in c["text"]]
        assert daily_call and daily_call[-1]["link_preview_options"] == {"is_disabled": True}


@pytest.mark.parametrize(
    ("button", "reason"),
    [
        ({"text": "Share", "switch_inline_query": "#" * 257}, "at most 256"),
        ({"text": "Share", "switch_inline_query": 7}, "must be a String"),
        ({"text": "Two", "switch_inline_query": "#7", "callback_data": "x"}, "exactly one"),
    ],
)
def test_the_fake_refuses_share_buttons_telegram_would_refuse(
    button: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ApiError) as caught:
        check_reply_markup({"inline_keyboard": [[button]]})
    assert reason in caught.value.description
    check_reply_markup({"inline_keyboard": [[{"text": "Share", "switch_inline_query": ""}]]})


async def test_help_tells_how_to_share_a_quote_by_number(bot: BotHarness) -> None:
    text = one(await bot.send("/help")).text
    assert "@QuoteBot #7 for quote 7" in text and "Share" in text


async def test_a_source_url_with_html_characters_is_linked_intact(bot: BotHarness) -> None:
    url = 'https://example.org/find?q=a&b="c"<d>'
    publication = Publication(status=Status.VERIFIED, publisher="A & B", kind="report", url=url)
    number = await add(
        bot, "Statements must be cited exactly as published.", publication=publication
    )
    message = one(await bot.send(f"/quote {number}"))
    entities = stored(bot, message)["entities"]
    assert [e["url"] for e in entities if e["type"] == "text_link"] == [url]
    assert "\nSource: A & B · report\n" in message.text
