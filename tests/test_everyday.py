"""Everyday use (issue 12): the flood guard, wording, plain text, headers and buttons, as a
user meets them through the fake Bot API."""

from __future__ import annotations

import asyncio
import io
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botchat import GROUP, PRIVATE, BotHarness, buttons, running_bot

from bot import render
from bot.config import Settings
from bot.console import run_console
from bot.result_lists import KEPT_DAYS, ResultLists

ADMIN, MEMBER = 71, 72


class Clock:
    """The flood guard's clock, moved by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[BotHarness]:
    async with running_bot(tmp_path / "quotes.db") as harness:
        harness.fake.set_chat_admins(GROUP, [ADMIN])
        yield harness


@pytest.fixture
def clock(bot: BotHarness) -> Clock:
    clock = Clock()
    bot.app.bot_data.flood.clock = clock
    return clock


def texts(messages: list) -> list[str]:
    return [m.text for m in messages]


# -- flood guard ---------------------------------------------------------------------------


async def test_reading_quotes_one_a_second_in_private_is_never_refused(
    bot: BotHarness, clock: Clock
) -> None:
    for i in range(120):  # two minutes of /quote 1 … /quote 9, one a second
        clock.t += 1.0
        answer = texts(await bot.send(f"/quote {i % 9 + 1}"))
        assert len(answer) == 1 and "#" in answer[0], (i, answer)


async def test_over_the_limit_help_and_start_still_answer_and_say_when(
    bot: BotHarness, clock: Clock
) -> None:
    answered = [texts(await bot.send(f"/quote {i + 1}")) for i in range(45)]
    refused = [a for a in answered if not a or "Too many" in a[0]]
    assert 0 < len(refused) <= 15  # a burst of 45 at once is bounded, but generously
    notices = [a[0] for a in refused if a]
    assert len(notices) == 1 and "continue in 1 second" in notices[0]
    help_text = texts(await bot.send("/help"))
    assert len(help_text) == 1 and "/who" in help_text[0] and "continue in" in help_text[0]
    start = texts(await bot.send("/start"))
    assert len(start) == 1 and "Hello" in start[0] and "continue in" in start[0]
    clock.t += 1.0
    assert "Kazakhstan persecutes" in texts(await bot.send("/cite 3"))[0]


async def test_one_member_cannot_flood_a_group_and_the_others_are_answered(
    bot: BotHarness, clock: Clock
) -> None:
    answered = [m.text for i in range(40) for m in await bot.send(f"/quote {i + 1}", chat_id=GROUP)]
    quotes = [t for t in answered if "Too many" not in t]
    assert 5 <= len(quotes) <= 12 and len(answered) == len(quotes) + 1
    assert "continue in" in answered[len(quotes)]
    assert len(await bot.send("/quote 1", chat_id=GROUP, user_id=MEMBER)) == 1


async def test_the_repeat_rule_is_per_user(bot: BotHarness, clock: Clock) -> None:
    assert len(await bot.send("/who hall", chat_id=GROUP, user_id=MEMBER)) == 1
    assert await bot.send("/who   HALL", chat_id=GROUP, user_id=MEMBER) == []  # a double tap
    assert len(await bot.send("/who hall", chat_id=GROUP, user_id=ADMIN)) == 1  # someone else
    clock.t += 6.0
    assert len(await bot.send("/who hall", chat_id=GROUP, user_id=MEMBER)) == 1


async def test_a_refused_daily_does_not_silence_an_admins_daily(
    bot: BotHarness, clock: Clock
) -> None:
    refused = texts(await bot.send("/daily 09:00", chat_id=GROUP, user_id=MEMBER))
    assert len(refused) == 1 and "Only this group's admins" in refused[0]
    done = texts(await bot.send("/daily 09:00", chat_id=GROUP, user_id=ADMIN))
    assert len(done) == 1 and done[0].startswith("Done.")


async def test_daily_is_never_suppressed_as_a_repeat(bot: BotHarness, clock: Clock) -> None:
    first = texts(await bot.send("/daily"))
    assert len(first) == 1 and "no quote of the day" in first[0]
    assert len(await bot.send("/daily 09:00")) == 1
    status = texts(await bot.send("/daily"))
    assert len(status) == 1 and "every day at" in status[0] and "09:00" in status[0]
    assert len(await bot.send("/random")) == 1 and len(await bot.send("/random")) == 1


# -- replies and wording -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kind"), [("search", "text"), ("who", "speaker"), ("case", "case")]
)
async def test_nothing_found_names_what_was_looked_for(
    bot: BotHarness, command: str, kind: str
) -> None:
    answer = texts(await bot.send(f"/{command} qqxzvw"))
    assert len(answer) == 1 and answer[0].startswith(f"Nothing found for {kind} “qqxzvw”.")


async def test_help_names_the_bot_by_its_username(bot: BotHarness) -> None:
    assert "type @QuoteBot query" in texts(await bot.send("/help"))[0]


async def test_plain_text_in_private_is_a_search_with_a_hint_the_first_time(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        first = texts(await bot.send("torture"))
        assert len(first) == 1 and first[0].startswith("Tip:") and "/who" in first[0]
        assert "Search “torture”" in first[0] and "<u>" in (await bot.send("ill-treatment"))[0].html
        assert not texts(await bot.send("fair trial"))[0].startswith("Tip:")
        assert await bot.send("torture", chat_id=GROUP) == []  # groups: plain text is ignored
        assert "Kazakhstan persecutes" in texts(await bot.send("#3"))[0]  # a number: that quote
    async with running_bot(tmp_path / "q.db") as bot:  # a restart: the hint is not repeated
        again = texts(await bot.send("extradition"))
        assert len(again) == 1 and not again[0].startswith("Tip:")
        other = texts(await bot.send("torture", chat_id=PRIVATE + 1))
        assert other[0].startswith("Tip:")  # another chat has not seen it


async def test_search_and_random_results_have_a_heading(bot: BotHarness) -> None:
    found = (await bot.send("/search torture"))[0]
    total = found.text.split("— ")[1].split(" quote")[0]
    assert found.text.startswith(f"Search “torture” — {total} quote") and int(total) >= 1
    assert f"1/{total}" in found.text or total == "1"
    assert "<b>Search “torture”</b>" in found.html
    assert texts(await bot.send("/random"))[0].startswith("Random quote\n")
    pavlov = (await bot.send("/random case:pavlov"))[0]
    assert pavlov.text.startswith("Random quote for “case:pavlov”")
    assert buttons(pavlov)[0] == ("🎲 Another", "q:r:case:pavlov")
    assert (
        "Aleksandr Pavlov is at real risk" in (await bot.press(pavlov, "q:r:case:pavlov"))[0].text
    )


async def test_no_button_opens_the_list_already_shown(bot: BotHarness) -> None:
    julia = (await bot.send("/who julia hall"))[0]
    labels = [label for label, _ in buttons(julia)]
    assert not any(label.startswith("More by") for label in labels), labels
    page2 = (await bot.press(julia, dict((lbl, d) for lbl, d in buttons(julia))["▶"]))[0]
    assert not any(label.startswith("More by") for label, _ in buttons(page2))
    case = (await bot.send("/case ablyazov"))[0]
    assert "Case: Mukhtar Ablyazov" not in [label for label, _ in buttons(case)]
    assert any(label.startswith("More by") for label, _ in buttons(case))  # another list
    amnesty = (await bot.send("/who amnesty"))[0]  # a whole organisation: one person is news
    assert any(label.startswith("More by") for label, _ in buttons(amnesty))
    single = (await bot.send("/quote 1"))[0]
    assert any(label.startswith("More by") for label, _ in buttons(single))


async def test_paging_buttons_work_after_a_restart(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        listed = (await bot.send("/case ablyazov"))[0]
        forward = dict(buttons(listed))["▶"]
    async with running_bot(tmp_path / "q.db", fake=bot.fake) as bot:
        page = texts(await bot.press(listed, forward))
        assert len(page) == 1 and "2/5" in page[0] and page[0].startswith("Mukhtar Ablyazov")
        assert "expired" not in bot.last_callback_answer().get("text", "")


# -- console -------------------------------------------------------------------------------


async def test_the_console_lists_its_controls_and_can_act_as_a_group_admin(
    tmp_path: Path,
) -> None:
    script = "/group\n/daily 09:00\n/admin\n/daily 09:00\n/quit\n"
    out = io.StringIO()
    assert await run_console(Settings(db_path=tmp_path / "q.db"), io.StringIO(script), out) == 0
    first_screen = out.getvalue().split("you>")[0]
    for control in ("number", "@ ", "/group", "/private", "/admin", "/quit"):
        assert control in first_screen, control
    replies = out.getvalue().split("you> /daily 09:00")[1:]
    assert "Only this group's admins" in replies[0]
    assert "Done. Quote of the day: every day at *09:00*" in replies[1]


async def test_paging_buttons_expire_after_the_documented_age(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        listed = (await bot.send("/case ablyazov"))[0]
        forward = dict(buttons(listed))["▶"]
        results = bot.app.bot_data.results
        week = KEPT_DAYS * 86_400.0
        results.clock = lambda: time.time() + week - 60  # a minute before: still pages
        assert "2/5" in texts(await bot.press(listed, forward))[0]
    async with running_bot(tmp_path / "q.db", fake=bot.fake) as bot:
        bot.app.bot_data.results.clock = lambda: time.time() + week + 60
        assert await bot.press(listed, forward) == []
        assert bot.last_callback_answer().get("text") == render.STALE_BUTTON


async def test_an_import_holding_the_write_lock_does_not_hold_up_searches(
    bot: BotHarness,
) -> None:
    await bot.send("/help")  # the start-up daily pass writes too: let it start, and finish
    for _ in range(200):
        if not bot.app.bot_data.daily.busy:
            break
        await asyncio.sleep(0.01)
    importer = sqlite3.connect(bot.app.bot_data.store.path, isolation_level=None, timeout=0)
    importer.execute("BEGIN IMMEDIATE")  # what a long import does
    try:
        started = time.monotonic()
        listed = (await bot.send("/search torture"))[0]
        first = texts(await bot.send("fair trial"))
        assert time.monotonic() - started < 2.0  # SQLite's busy timeout is 5 s
        assert "Search “torture”" in listed.text and "Search “fair trial”" in first[0]
        page = texts(await bot.press(listed, dict(buttons(listed))["▶"]))
        assert "2/" in page[0]  # kept in memory meanwhile
    finally:
        importer.execute("ROLLBACK")
        importer.close()


async def test_a_repeat_is_answered_again_when_the_statements_changed(
    bot: BotHarness, clock: Clock
) -> None:
    assert "Kazakhstan persecutes" in texts(await bot.send("/quote 3"))[0]
    editor = sqlite3.connect(bot.app.bot_data.store.path, isolation_level=None)
    editor.execute("UPDATE quotes SET role = 'Corrected role' WHERE id = 3")  # another process
    editor.close()
    again = texts(await bot.send("/quote 3"))
    assert len(again) == 1 and "Corrected role" in again[0]
    assert await bot.send("/quote 3") == []  # unchanged since: a double tap


async def test_only_the_newest_lists_are_kept_on_disk(bot: BotHarness) -> None:
    bot.app.bot_data.results = ResultLists(kept_in_memory=1, kept_on_disk=2, prune_every=1)
    shown = [(await bot.send(f"/case {name}"))[0] for name in ("ablyazov", "pavlov", "alma")]
    assert await bot.press(shown[0], dict(buttons(shown[0]))["▶"]) == []
    assert bot.last_callback_answer().get("text") == render.STALE_BUTTON
    assert "2/" in texts(await bot.press(shown[2], dict(buttons(shown[2]))["▶"]))[0]
    kept = await bot.app.bot_data.store.run(
        lambda conn: conn.execute("SELECT count(*) FROM result_lists").fetchone()[0]
    )
    assert kept == 2


async def test_pressing_a_page_already_shown_makes_no_refused_edit(bot: BotHarness) -> None:
    listed = (await bot.send("/case ablyazov"))[0]
    forward = dict(buttons(listed))["▶"]
    assert len(await bot.press(listed, forward)) == 1
    assert await bot.press(listed, forward) == []  # the message shows page 2 already
    assert bot.fake.unanswered_queries() == []
    assert [e for e in bot.fake.errors if e[1] == 400] == []
