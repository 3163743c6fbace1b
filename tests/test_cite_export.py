"""/cite styles and /export documents end to end: updates in through the fake Bot API, the
messages and documents the bot sent out, parsed as a user's tools would parse them."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botchat import GROUP, BotHarness, button_data, buttons, running_bot
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from markdown_it import MarkdownIt
from pybtex.database import parse_string

from bot import export, render
from bot.__main__ import main
from bot.catalog import Catalog
from bot.corpus import Quote
from bot.fake_telegram.api import SentMessage
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        yield harness


def only(messages: list[SentMessage]) -> SentMessage:
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0]


def document_of(messages: list[SentMessage]) -> tuple[SentMessage, str]:
    sent = only(messages)
    assert sent.method == "sendDocument" and sent.document is not None
    return sent, sent.document.data.decode("utf-8")


def ids_in_markdown(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^## #(\d+) ", text, re.MULTILINE)]


def render_csl(items: list[dict[str, object]]) -> list[str]:
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(str(item["id"]))]))
    return [str(entry) for entry in bibliography.bibliography()]


# -- /cite ----------------------------------------------------------------------------------


async def test_cite_plain_is_the_default_and_never_ends_in_a_file_name(bot: BotHarness) -> None:
    msg = only(await bot.send("/cite 4"))
    assert msg.text.startswith("“The French authorities should protect Ablyazov")
    # The organisation is not repeated: the role already names it.
    assert "— Jean-Marie Fardeau, France director at Human Rights Watch. " in msg.text
    assert "statements.txt" not in msg.text
    assert "Original publication not found" in msg.text
    assert only(await bot.send("/cite #4 plain")).text == msg.text


# The seed's provenance (data/sources.toml): #1 verified, #8 likely, #3 unknown (compilation).
AMNESTY_2014 = (
    "https://www.amnesty.org/en/latest/press-release/2014/01/"
    "france-stop-extradition-threatening-kazakhstani-dissident-torture/"
)
COMPILATION_URL = "https://en.mukhtarablyazov.org/world-reacts/17,ngos2/-/0"


async def test_cite_plain_of_a_verified_a_likely_and_an_unknown_source(bot: BotHarness) -> None:
    verified = only(await bot.send("/cite 1")).text
    assert verified.endswith(
        "Amnesty International, press release, “France: Stop extradition threatening "
        f"Kazakhstani dissident with torture”, 9 January 2014. {AMNESTY_2014}"
    )
    likely = only(await bot.send("/cite 8")).text
    assert ", July 2013. https://www.amnesty.org/" in likely
    assert likely.endswith("(likely source, not verified word for word)")
    unknown = only(await bot.send("/cite 3")).text
    assert "Original publication not found; quoted in “World reacts - NGOs”" in unknown
    assert unknown.endswith(COMPILATION_URL)


async def test_cite_apa_of_each_status_through_the_processor(bot: BotHarness) -> None:
    verified = only(await bot.send("/cite 1 apa"))
    assert verified.text.startswith("APA 7th edition · #1 · Julia Hall\n\n")
    assert "⚠" not in verified.text
    assert (
        "Amnesty International. (2014, January 9). <i>France: Stop extradition threatening "
        f"Kazakhstani dissident with torture</i> [Press release]. {AMNESTY_2014}"
    ) in verified.html
    assert verified.text.endswith("In text: (Amnesty International, 2014)")
    likely = only(await bot.send("/cite 8 apa"))
    assert "⚠️ Likely source, not verified word for word." in likely.text
    assert "Amnesty International. (2013, July). " in likely.text  # never July 1
    unknown = only(await bot.send("/cite 3 apa"))
    assert "⚠️ Original publication not found." in unknown.text
    assert "never as the original" in unknown.text
    assert "In text: (Open Dialog Foundation, as cited in mukhtarablyazov.org" in unknown.text
    assert COMPILATION_URL in unknown.text


async def test_cite_chicago_of_each_status_through_the_processor(bot: BotHarness) -> None:
    verified = only(await bot.send("/cite 1 chicago"))
    assert "Amnesty International. 2014. “France: Stop Extradition" in verified.text
    assert verified.text.endswith("In text: (Amnesty International 2014)")
    likely = only(await bot.send("/cite 8 chicago"))
    assert "Likely source" in likely.text and "July. https://www.amnesty.org" in likely.text
    unknown = only(await bot.send("/cite 3 chicago"))
    assert "In text: (Open Dialog Foundation, quoted in mukhtarablyazov.org" in unknown.text


def code_block(message: SentMessage) -> str:
    """The text of the message's one <pre> block."""
    match = re.search(r"<pre>(.*)</pre>", message.html, re.DOTALL)
    assert match is not None, message.html
    return html.unescape(match.group(1))


async def test_cite_csl_of_each_status_loads_back_and_renders(bot: BotHarness) -> None:
    items = []
    for quote_id in (1, 8, 3):
        (item,) = json.loads(code_block(only(await bot.send(f"/cite {quote_id} csl"))))
        items.append(item)
    verified, likely, unknown = items
    assert verified["issued"] == {"date-parts": [[2014, 1, 9]]} and verified["URL"] == AMNESTY_2014
    assert likely["issued"] == {"date-parts": [[2013, 7]]}
    assert "likely source, not verified word for word" in likely["note"]
    assert unknown["title"] == "World reacts - NGOs" and unknown["URL"] == COMPILATION_URL
    assert "quoted in this compilation" in unknown["note"] and "issued" not in unknown
    rendered = render_csl(items)
    assert len(rendered) == 3 and any("France: Stop extradition" in r for r in rendered)


async def test_cite_bibtex_of_each_status_parses(bot: BotHarness) -> None:
    fields = {}
    for quote_id in (1, 8, 3):
        entry = code_block(only(await bot.send(f"/cite {quote_id} BibTeX")))
        fields[quote_id] = parse_string(entry, "bibtex").entries[f"quotebot{quote_id}"].fields
    assert fields[1]["date"] == "2014-01-09" and fields[1]["url"] == AMNESTY_2014
    assert fields[8]["date"] == "2013-07" and "likely source" in fields[8]["note"]
    assert fields[3]["title"] == "World reacts - NGOs" and "date" not in fields[3]
    assert "Original publication not found" in fields[3]["note"]


async def test_cite_an_unknown_style_lists_the_valid_ones(bot: BotHarness) -> None:
    msg = only(await bot.send("/cite 7 mla"))
    assert "mla" in msg.text
    for style in ("plain", "apa", "chicago", "csl", "bibtex"):
        assert style in msg.text
    assert "Give a quote number" in only(await bot.send("/cite apa")).text
    assert only(await bot.send("/cite apa 7")).text == only(await bot.send("/cite 7 apa")).text
    assert "no quote #999" in only(await bot.send("/cite 999 apa")).text


async def test_a_citation_too_long_for_a_message_comes_as_a_file(tmp_path: Path) -> None:
    db = tmp_path / "long.db"
    long_text = "The authorities must act. " * 200  # ~5,200 characters
    await add_quotes(db, [(long_text.strip(), "Long Speaker")])
    async with running_bot(db) as bot:
        sent, data = document_of(await bot.send("/cite 10 csl"))
        assert sent.document is not None and sent.document.file_name == "quote-10-csl.json"
        (item,) = json.loads(data)
        assert long_text.strip() in item["note"]
        assert len(sent.text) <= 1024 and "#10" in sent.text


# -- /export ----------------------------------------------------------------------------------


async def test_export_markdown_by_default_renders_every_quote_verbatim(bot: BotHarness) -> None:
    sent, text = document_of(await bot.send("/export case:ablyazov"))
    assert sent.document is not None and sent.document.file_name.endswith(".md")
    assert re.fullmatch(r"quotebot-case-ablyazov-\d{8}-\d{4}\.md", sent.document.file_name)
    assert text.startswith("# Quotes: case:ablyazov\n")
    assert re.search(r"Exported by quotebot on \d{4}-\d\d-\d\d \d\d:\d\d UTC: 5 quotes", text)
    assert ids_in_markdown(text) == [1, 4, 5, 6, 7]
    assert "5 quotes" in sent.text and "case:ablyazov" in sent.text and "Markdown" in sent.text
    html = MarkdownIt().render(text)
    store = bot.app.bot_data.store
    for quote_id in ids_in_markdown(text):
        quote = await store.get_quote(quote_id)
        assert quote is not None
        assert f"<blockquote>\n<p>{render.e(quote.text)}</p>\n</blockquote>" in html
    assert html.count("<h2>") == 5 and "Source status:" in html


async def test_export_csv_parses_with_a_header(bot: BotHarness) -> None:
    sent, text = document_of(await bot.send("/export who:hall csv"))
    assert sent.document is not None and sent.document.file_name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(export.CSV_COLUMNS)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert {r["speaker"] for r in rows} == {"Julia Hall"}
    assert rows[0]["citation"].startswith("“Not only do we have fears")
    assert "CSV" in sent.text


async def test_export_csl_loads_as_an_array_and_renders(bot: BotHarness) -> None:
    sent, text = document_of(await bot.send("/export org:hrw csl"))
    assert sent.document is not None and sent.document.file_name.endswith(".json")
    items = json.loads(text)
    assert [i["id"] for i in items] == ["quotebot-4", "quotebot-6", "quotebot-7"]
    assert len(render_csl(items)) == 3


async def test_export_of_free_text(bot: BotHarness) -> None:
    _, text = document_of(await bot.send("/export torture"))
    found = ids_in_markdown(text)
    assert found == sorted(found) and 1 in found and 2 in found


async def test_export_without_a_filter_or_with_no_match_says_what_to_do(bot: BotHarness) -> None:
    assert "Tell me what to export" in only(await bot.send("/export")).text
    assert "Tell me what to export" in only(await bot.send("/export csv")).text
    msg = only(await bot.send("/export case:nosuchcasewhatsoever"))
    assert msg.method == "sendMessage" and "Nothing found" in msg.text
    assert bot.fake.calls_to("sendDocument") == []


async def test_export_in_a_group_answers_the_requester(bot: BotHarness) -> None:
    sent, _ = document_of(await bot.send("/export@QuoteBot case:pavlov", chat_id=GROUP))
    assert sent.chat_id == GROUP and sent.reply_to_message_id is not None
    assert bot.fake.messages[GROUP][sent.reply_to_message_id]["text"].startswith("/export")


async def test_export_is_flood_guarded(bot: BotHarness) -> None:
    bot.app.bot_data.flood.clock = lambda: 1000.0  # time stands still: no allowance refills
    assert len(await bot.send("/export case:pavlov")) == 1
    assert await bot.send("/export  case:pavlov") == []  # the same request moments later
    documents = notices = 0
    filters = ["who:hall", "case:pavlov", "org:hrw", "case:ablyazov", "who:williamson"]
    requests = [f"/export {f} {fmt}" for f in filters for fmt in ("md", "csv", "csl")]
    for request in requests:  # 15 different requests from one member of a group
        sent = await bot.send(request, chat_id=GROUP)
        documents += sum(1 for m in sent if m.method == "sendDocument")
        notices += sum(1 for m in sent if m.method == "sendMessage")
    assert documents == bot.app.bot_data.flood.group.burst and notices == 1


@pytest.mark.parametrize(
    ("command", "ids"),
    [("/who hall", [1, 2]), ("/case shalabayeva", [7, 8, 9]), ("/search torture", [1, 2, 6, 8])],
)
async def test_the_export_button_on_who_case_and_search_lists(
    bot: BotHarness, command: str, ids: list[int]
) -> None:
    listing = only(await bot.send(command))
    data = button_data(listing, render.EXPORT_BUTTON)
    # The button stays while paging.
    paged = only(await bot.press(listing, button_data(listing, "▶")))
    assert paged.method == "editMessageText" and paged.message_id == listing.message_id
    assert button_data(paged, render.EXPORT_BUTTON) == data
    _sent, text = document_of(await bot.press(listing, data))
    assert ids_in_markdown(text) == ids
    assert f"1/{len(ids)}" in listing.text  # the export holds what the list pages through
    assert bot.last_callback_answer().get("text") is None


async def test_the_export_button_on_a_speakers_list_from_more_by(bot: BotHarness) -> None:
    shown = only(await bot.send("/quote 6"))
    listing = only(await bot.press(shown, button_data(shown, "More by")))
    data = button_data(listing, render.EXPORT_BUTTON)
    assert data.startswith("x:s:")
    _, text = document_of(await bot.press(listing, data))
    assert ids_in_markdown(text) == [6, 7]
    assert await bot.press(listing, "x:s:424242") == []
    assert bot.last_callback_answer().get("text") == render.STALE_BUTTON


async def test_no_export_button_where_the_query_cannot_fit(bot: BotHarness) -> None:
    listing = only(await bot.send("/who " + "hall " + "x" * 70))
    assert render.EXPORT_BUTTON not in [label for label, _ in buttons(listing)]


# -- the cap ----------------------------------------------------------------------------------


async def add_quotes(db: Path, quotes: list[tuple[str, str]]) -> None:
    catalog = Catalog.load(data_file(CATALOG_FILE))
    store = await QuoteStore.open(db)
    try:
        await store.seed()
        records = [
            Quote(text, speaker, "Researcher", None, ("Mukhtar Ablyazov",), "bulk.csv", n)
            for n, (text, speaker) in enumerate(quotes, 1)
        ]
        await store.add_quotes(records, catalog, "bulk.csv")
    finally:
        await store.close()


async def test_over_a_thousand_quotes_the_bot_sends_the_first_thousand_and_says_so(
    tmp_path: Path,
) -> None:
    db = tmp_path / "many.db"
    await add_quotes(
        db, [(f"Statement number {n} on rights.", "Bulk Speaker") for n in range(1005)]
    )
    async with running_bot(db) as bot:
        sent, text = document_of(await bot.send("/export who:bulk_speaker csv"))
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 1000 and [int(r["id"]) for r in rows] == list(range(10, 1010))
        assert "Only the first 1,000" in sent.text and "1000 quotes" in sent.text
        sent, text = document_of(await bot.send("/export who:bulk_speaker"))
        assert "Only the first 1,000 quotes are included" in text
        assert len(ids_in_markdown(text)) == 1000


def test_the_command_line_export_has_no_cap(tmp_path: Path, isolated_env: Path) -> None:
    db = tmp_path / "many.db"
    asyncio.run(
        add_quotes(db, [(f"Statement {n} on rights.", "Bulk Speaker") for n in range(1003)])
    )
    target = tmp_path / "all.json"
    args = ["export", "who:bulk_speaker", "--format", "csl", "-o", str(target), "--db", str(db)]
    assert main(args) == 0
    items = json.loads(target.read_text(encoding="utf-8"))
    assert len(items) == 1003 and items[0]["id"] == "quotebot-10"
