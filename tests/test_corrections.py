"""Corrections with a trail (issue 11 §6), end to end: the curator corrects and withdraws
with the CLI, on its own connection, while the bot runs; users reach the quotes through
commands, deep links, pages and inline results posted earlier; reports reach the admins."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botchat import PRIVATE, BotHarness, button_data, running_bot

from bot.__main__ import main
from bot.corrections import REPORTS_PER_HOUR, add_report, quote_history
from bot.daily.rotation import pick_quote
from bot.render import day
from bot.store import QuoteStore

ADMIN, OTHER_ADMIN, REPORTER = 4242, 4343, 777
TODAY = day(datetime.now(UTC).isoformat())
HALL_PAVLOV = 2  # "Kazakhstan’s record of torture …" (Julia Hall, Aleksandr Pavlov)
ODF = 3  # "Kazakhstan persecutes opponents …" (Open Dialog Foundation, the only one of theirs)


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(
        tmp_path / "quotes.db", admins=frozenset({ADMIN, OTHER_ADMIN})
    ) as harness:
        yield harness


async def cli(
    bot: BotHarness, capsys: pytest.CaptureFixture[str], *argv: str
) -> tuple[int, str, str]:
    """``quotebot ARGV`` in its own thread and event loop, on its own connection to the
    running bot's database, as a curator's terminal would."""
    db = str(bot.app.bot_data.settings.db_path)
    code = await asyncio.to_thread(main, [*argv, "--db", db])
    out, err = capsys.readouterr()
    return code, out, err


def only(messages: list[Any]) -> Any:
    assert len(messages) == 1, [m.text for m in messages]
    return messages[0]


def inline_ids(answer: dict[str, Any]) -> list[str]:
    return [r["id"] for r in answer["results"]]


async def test_a_withdrawn_quote_says_so_everywhere_it_is_reached(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: the quote is found, and posted somewhere through inline mode.
    posted = (await bot.inline("persecutes opponents"))["results"][0]
    assert posted["id"] == f"q{ODF}"
    posted_html = posted["input_message_content"]["message_text"]
    link = re.search(r'href="https://t\.me/QuoteBot\?start=(q_\d+)"', posted_html)
    assert link is not None and link.group(1) == f"q_{ODF}"
    share = posted["reply_markup"]["inline_keyboard"][0][0]["switch_inline_query"]
    listing = only(await bot.send("/search kazakhstan"))  # a page list made before

    code, out, err = await cli(bot, capsys, "withdraw", str(ODF), "--reason", "no source found")
    assert (code, err) == (0, "")
    assert f"#{ODF} withdrawn on " in out

    notice = f"Quote #{ODF} was withdrawn on {TODAY}: no source found"
    # /quote, /cite and the deep link of the old inline message all answer the notice.
    for text in (f"/quote {ODF}", f"/cite {ODF}", f"/start {link.group(1)}"):
        reply = only(await bot.send(text))
        assert notice in reply.text, text
        assert "persecutes" not in reply.text
    # The old inline message's Share button asks inline mode for its number: nothing now.
    assert inline_ids(await bot.inline(share)) == []
    assert f"q{ODF}" not in inline_ids(await bot.inline("persecutes opponents"))
    assert f"q{ODF}" not in inline_ids(await bot.inline(""))
    # It has left every search.
    gone = "Kazakhstan persecutes"
    assert gone not in only(await bot.send("/search persecutes opponents")).text
    assert gone not in only(await bot.send("/who open dialog")).text
    for _ in range(15):
        assert gone not in only(await bot.send("/random")).text
    # A list made before the withdrawal says so on the quote's page instead of showing it.
    pages = []
    for arrow in ("▶", "◀"):  # to the last page, and back to the first
        current = pages[-1] if pages else listing
        while True:
            try:
                data = button_data(current, arrow)
            except AssertionError:
                break
            current = only(await bot.press(current, data))
            pages.append(current)
    assert not any("Kazakhstan persecutes" in p.text for p in pages)
    assert any(notice in p.text for p in pages)
    # /history tells what happened; the quote kept its number and its row.
    history = only(await bot.send(f"/history {ODF}"))
    assert f"{TODAY}: withdrawn — no source found" in history.text
    conn = sqlite3.connect(bot.app.bot_data.settings.db_path)
    assert conn.execute("SELECT count(*), max(id) FROM quotes").fetchone() == (9, 9)
    conn.close()


async def test_a_correction_reaches_the_running_bot_its_search_and_its_history(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "Nothing found" in only(await bot.send("/search zanzibarian")).text
    new_text = "Kazakhstan’s zanzibarian record of torture has been well documented."
    code, out, err = await cli(
        bot,
        capsys,
        "correct",
        str(HALL_PAVLOV),
        "--text",
        new_text,
        "--role",
        "Senior expert, Amnesty International",
        "--reason",
        "the text as published",
    )
    assert (code, err) == (0, "")
    assert out.startswith(f"#{HALL_PAVLOV} corrected (2 changes):")

    found = only(await bot.send("/search zanzibarian", user_id=OTHER_ADMIN))
    assert new_text in found.text and f"corrected {TODAY}" in found.text
    # A typo of the new word is corrected too: the vocabulary followed the text.
    assert new_text in only(await bot.send("/search zanzibarain", user_id=REPORTER)).text
    assert "Aleksandr Pavlov is at real risk" not in only(await bot.send("/search Pavlov")).text
    shown = only(await bot.send(f"/quote {HALL_PAVLOV}"))
    assert "Senior expert, Amnesty International" in shown.text
    assert f"#{HALL_PAVLOV}" in shown.text and f"corrected {TODAY}" in shown.text
    history = only(await bot.send(f"/history {HALL_PAVLOV}"))
    assert f"{TODAY}: text corrected from “Kazakhstan’s record of torture" in history.text
    assert f"to “{new_text}” — the text as published" in history.text
    assert "role corrected from" in history.text
    assert "has not been corrected" in only(await bot.send("/history 1")).text


async def test_a_speaker_correction_moves_the_quote_to_that_speaker(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await cli(
        bot, capsys, "correct", "1", "--speaker", "John Dalhuisen", "--reason", "misattributed"
    )
    assert (code, err) == (0, "")
    who = only(await bot.send("/who dalhuisen"))
    assert "1/3" in who.text  # his two quotes and this one
    shown = only(await bot.send("/quote 1")).text
    assert "would not get a fair trial" in shown and "Dalhuisen" in shown


async def test_cli_corrections_need_a_reason_and_record_before_and_after(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):  # argparse: the reason is required
        await cli(bot, capsys, "withdraw", "4")
    assert "--reason" in capsys.readouterr().err
    code, _, err = await cli(bot, capsys, "correct", "4", "--role", "x", "--reason", "  ")
    assert code == 2 and "a reason is required" in err
    code, _, err = await cli(bot, capsys, "correct", "99", "--role", "x", "--reason", "r")
    assert code == 2 and "there is no quote #99" in err
    code, _, err = await cli(bot, capsys, "correct", "4", "--url", "ftp://x", "--reason", "r")
    assert code == 2 and "bad URL" in err
    code, out, _ = await cli(
        bot, capsys, "correct", "4", "--published", "2011-10", "--reason", "from the page"
    )
    assert code == 0 and "published: " in out
    code, out, _ = await cli(bot, capsys, "history", "4")
    assert "“2011-10” — from the page" in out
    code, _, err = await cli(bot, capsys, "withdraw", "4", "--reason", "gone")
    code, _, err = await cli(bot, capsys, "withdraw", "4", "--reason", "again")
    assert code == 2 and "already withdrawn" in err
    # The seed's provenance file does not undo a curator's correction.
    assert (await cli(bot, capsys, "seed"))[0] == 0
    quote = await bot.app.bot_data.store.get_quote_record(4)
    assert quote is not None and quote.publication.published is not None
    assert quote.publication.published.iso() == "2011-10"


async def test_report_reaches_every_admin_with_the_quote_and_a_button_to_open_it(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    before = len(bot.fake.sent)
    ack = await bot.send("/report 7 the date <b>is</b> wrong", user_id=REPORTER)
    sent = bot.fake.sent[before:]
    assert [m.chat_id for m in sent] == [PRIVATE, ADMIN, OTHER_ADMIN]
    assert "Your report #1 about quote #7 was passed on" in ack[0].text
    for message in sent[1:]:
        assert "Report #1 about quote #7" in message.text
        assert "the date <b>is</b> wrong" in message.text  # user text escaped, not markup
        assert "Italian government inquiry" in message.text  # the quote itself
        (row,) = message.reply_markup["inline_keyboard"]
        assert row[0]["url"] == "https://t.me/QuoteBot?start=q_7"
    code, out, _ = await cli(bot, capsys, "reports")
    assert "#1  quote #7" in out and "the date <b>is</b> wrong" in out
    code, out, _ = await cli(bot, capsys, "reports", "close", "1", "--reason", "checked: right")
    assert (code, out) == (0, "Report #1 closed: checked: right\n")
    assert (await cli(bot, capsys, "reports"))[1] == "No open reports.\n"


async def test_reports_are_limited_per_user_per_hour_and_refuse_bad_input(
    bot: BotHarness,
) -> None:
    for n in range(REPORTS_PER_HOUR):
        sent = await bot.send(f"/report 5 problem {n}", user_id=REPORTER)
        assert "passed on" in sent[0].text and len(sent) == 3  # the reporter, two admins
    before = len(bot.fake.sent)
    refused = only(await bot.send("/report 5 one more", user_id=REPORTER))
    assert f"{REPORTS_PER_HOUR} reports in the last hour" in refused.text
    assert len(bot.fake.sent) == before + 1  # nothing went to the admins
    assert "passed on" in (await bot.send("/report 5 mine", user_id=REPORTER + 1))[0].text
    assert "Tell me which quote" in only(await bot.send("/report 5")).text
    assert "Tell me which quote" in only(await bot.send("/report five wrong")).text
    assert "no quote #999" in only(await bot.send("/report 999 wrong")).text


async def test_the_hourly_limit_frees_up_after_an_hour(tmp_path: Path) -> None:
    async with await QuoteStore.open(tmp_path / "q.db") as store:
        await store.seed()
        start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        for n in range(REPORTS_PER_HOUR):
            assert await store.run(add_report, 1, 5, "", 5, "x", start + timedelta(minutes=n))
        assert await store.run(add_report, 1, 5, "", 5, "x", start + timedelta(minutes=59)) is None
        assert await store.run(add_report, 1, 5, "", 5, "x", start + timedelta(minutes=61))


async def test_the_daily_rotation_never_picks_a_withdrawn_quote(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    for quote_id in range(1, 9):
        assert (await cli(bot, capsys, "withdraw", str(quote_id), "--reason", "test"))[0] == 0
    store = bot.app.bot_data.store
    picks = [await store.run(pick_quote, chat, 1000.0 + chat) for chat in range(1, 30)]
    assert set(picks) == {9}
    assert len(await store.run(quote_history, 1)) == 1


async def test_the_cli_does_not_cite_a_withdrawn_quote(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (await cli(bot, capsys, "cite", "6"))[0] == 0
    assert (await cli(bot, capsys, "withdraw", "6", "--reason", "wrong speaker"))[0] == 0
    code, out, err = await cli(bot, capsys, "cite", "6")
    assert (code, out) == (1, "")
    assert "quote #6 was withdrawn on " in err and "wrong speaker" in err
    # The curator's full listing keeps it, marked.
    listing = (await cli(bot, capsys, "quotes"))[1]
    assert f"    WITHDRAWN on {datetime.now(UTC).date().isoformat()}: wrong speaker" in listing


async def test_a_withdrawn_quote_leaves_its_case_and_the_listings(
    bot: BotHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "1/3" in only(await bot.send("/case shalabayeva")).text
    assert (await cli(bot, capsys, "withdraw", "9", "--reason", "compilation only"))[0] == 0
    case = only(await bot.send("/case shalabayeva", user_id=REPORTER))
    assert "1/2" in case.text and "UN Watch" not in case.text
    assert "UN Watch" not in only(await bot.send("/who")).text  # its only quote is gone
    assert "— 2" in only(await bot.send("/case")).text.split("Alma Shalabayeva")[1][:6]
