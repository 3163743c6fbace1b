"""Russian and Kazakh beside English: the catalogs are complete and well-formed, and the bot
answers in the chat's chosen language, else the user's, through the fake Bot API."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from botchat import GROUP, PRIVATE, button_data, buttons, running_bot
from daily_harness import FakeClock, daily_bot

from bot import render
from bot.fake_telegram.html import parse_html
from bot.i18n import LANGUAGES, language_of_code, use_language
from bot.lang import parse_language
from bot.translations import ADVICE, TRANSLATED, extract, missing, read

TEMPLATE = extract()
CATALOGS: dict[str, Catalog] = {language: read(language) for language in TRANSLATED}
# Telegram's HTML tags (a "<text>" in a usage line is no tag: it is escaped when shown).
TAG = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|a|code|pre|blockquote|tg-spoiler|span)\b[^>]*>"
)
PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)[sd]")


def test_every_string_in_the_code_is_translated_in_every_catalog() -> None:
    gaps = missing(TEMPLATE)
    listed = "\n".join(f"  {g.language}: {g.why}: {g.msgid!r}" for g in gaps)
    assert not gaps, f"{len(gaps)} strings need a translation:\n{listed}\n{ADVICE}"


def translated_pairs() -> list[tuple[str, str, str]]:
    """(language, English, translation) for every form of every entry."""
    pairs = []
    for language, catalog in CATALOGS.items():
        for message in catalog:
            if not message.id or not message.string:
                continue
            if isinstance(message.id, tuple):
                singular, plural = message.id
                for index, form in enumerate(message.string):
                    pairs.append((language, singular if index == 0 else plural, form))
            else:
                pairs.append((language, message.id, str(message.string)))
    return pairs


def shape(text: str) -> tuple[list[str], list[str]]:
    """The placeholders and tags, in any order: a translation may reorder the sentence (the
    nesting is checked by parsing it as Telegram does)."""
    return sorted(PLACEHOLDER.findall(text)), sorted(TAG.findall(text))


@pytest.mark.parametrize("language,english,translated", translated_pairs())
def test_a_translation_keeps_the_placeholders_and_tags(
    language: str, english: str, translated: str
) -> None:
    assert shape(translated) == shape(english), f"{language}: {translated!r}"
    filled = PLACEHOLDER.sub("x", translated)
    if TAG.search(english):  # HTML messages parse as Telegram parses them
        parse_html(filled)


@pytest.mark.parametrize(
    "count,ru,kk",
    [
        (1, "1 цитата", "1 дәйексөз"),
        (2, "2 цитаты", "2 дәйексөз"),
        (5, "5 цитат", "5 дәйексөз"),
        (21, "21 цитата", "21 дәйексөз"),
        (12, "12 цитат", "12 дәйексөз"),
    ],
)
def test_plural_forms_follow_each_language(count: int, ru: str, kk: str) -> None:
    for language, expected in (("ru", ru), ("kk", kk), ("en", f"{count} quote")):
        with use_language(language):
            heading = render.result_heading("Аблязов", count)
        assert heading is not None and expected in heading


def test_the_app_language_decides_unless_the_chat_chose_one() -> None:
    assert [language_of_code(c) for c in ("ru", "ru-RU", "kk", "KK", "de", "", None)] == [
        "ru",
        "ru",
        "kk",
        "kk",
        "en",
        "en",
        "en",
    ]
    assert [parse_language(t) for t in ("ru", "Қазақша", "kazakh", "en", "fr", "english x")] == [
        "ru",
        "kk",
        "kk",
        "en",
        None,
        None,
    ]


# -- through the fake Bot API ---------------------------------------------------------------

HELP_FIRST_LINE = {
    "en": "serves human-rights statements",
    "ru": "приводит заявления правозащитников",
    "kk": "мәлімдемелерін сөзбе-сөз",
}


async def test_the_reply_follows_the_users_app_language_until_lang_overrides_it(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        bot.fake.user_languages[PRIVATE] = "ru"
        [reply] = await bot.send("/help")
        assert HELP_FIRST_LINE["ru"] in reply.text
        [status] = await bot.send("/lang")
        assert "Русский" in status.text and "Telegram" in status.text
        assert [data for _, data in buttons(status)] == ["l:en", "l:ru", "l:kk"]
        [done] = await bot.send("/lang kk")
        assert done.text == "Енді сізге қазақ тілінде жауап беремін."
        [reply] = await bot.send("/help")
        assert HELP_FIRST_LINE["kk"] in reply.text
        [done] = await bot.press(status, "l:en")
        assert done.text == "From now on I answer you in English."
        [reply] = await bot.send("/start")
        assert reply.text.startswith("Hello, Tester!")
        fake = bot.fake
    # The choice is kept across a restart.
    async with running_bot(tmp_path / "q.db", fake=fake) as bot:
        [reply] = await bot.send("/help")
        assert HELP_FIRST_LINE["en"] in reply.text
        [unknown] = await bot.send("/lang klingon")
        assert "klingon" in unknown.text and "(kk)" in unknown.text


async def test_a_kazakh_speaking_admin_sets_the_group_to_russian(tmp_path: Path) -> None:
    admin, member = 61, 62
    async with running_bot(tmp_path / "q.db") as bot:
        bot.fake.user_languages.update({admin: "kk", member: "en"})
        bot.fake.set_chat_admins(GROUP, [admin])
        [before] = await bot.send("/lang", chat_id=GROUP, user_id=admin)
        assert "Бұл топқа тіл таңдалмаған" in before.text  # in the admin's Kazakh
        [refused] = await bot.send("/lang kk", chat_id=GROUP, user_id=member)
        assert "Only this group's admins" in refused.text
        [done] = await bot.send("/lang ru", chat_id=GROUP, user_id=admin)
        assert done.text == "Теперь я отвечаю всем в этой группе по-русски."
        for user in (admin, member):
            [reply] = await bot.send("/help", chat_id=GROUP, user_id=user)
            assert HELP_FIRST_LINE["ru"] in reply.text
        pressed = await bot.press(before, "l:en", user_id=member)
        assert pressed == [] and "администраторы" in bot.last_callback_answer()["text"]
        # A member's own private chat keeps the member's language.
        [reply] = await bot.send("/help", chat_id=member)
        assert HELP_FIRST_LINE["en"] in reply.text


async def test_menus_and_descriptions_are_registered_in_every_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        fake = bot.fake
        for language in LANGUAGES:
            code = "" if language == "en" else language
            with use_language(language):
                private = fake.commands[
                    f'[{{"type": "all_private_chats"}}, "{code}"]'
                ]  # the fake's key: scope and language_code
                groups = fake.commands[f'[{{"type": "all_group_chats"}}, "{code}"]']
                bot.fake.user_languages[PRIVATE] = code or "en"
                [help_reply] = await bot.send("/help")
                # /help and the menu list the same commands with the same descriptions.
                for item in private:
                    assert f"/{item['command']}" in help_reply.text
                    assert item["description"] in help_reply.text
                assert {c["command"] for c in groups} < {c["command"] for c in private}
                assert "lang" in {c["command"] for c in groups}
            assert fake.descriptions[code] and fake.short_descriptions[code]
        assert len({fake.descriptions[c] for c in ("", "ru", "kk")}) == 3
        assert "экстрадиции" in fake.descriptions["ru"]
        assert "экстрадиция" in fake.short_descriptions["kk"].lower()


# Every command in each language, in a private chat and a group: each reply is valid
# Telegram HTML within the limits (the fake refuses anything else) and, in Russian and
# Kazakh, in Cyrillic (quote texts and names stay as the source gives them, but every reply
# has interface words around them).
TRIED = [
    "/start",
    "/help",
    "/who hall",
    "/who",
    "/who zzqxv",
    "/case ablyazov",
    "/case",
    "/search torture",
    "/search",
    "/search zzqxv",
    "/random",
    "/random case:zzqxv",
    "/quote 7",
    "/quote 99999",
    "/quote",
    "/cite 7 apa",
    "/cite 7 klingon",
    "/cite",
    "/export case:ablyazov",
    "/export",
    "/daily",
    "/daily 25:00",
    "/daily 09:00 Nowhere/Place",
    "/daily 09:00 UTC+3",
    "/lang",
    "/lang xx",
]
CYRILLIC = re.compile("[а-яәіңғүұқөһ]", re.IGNORECASE)
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize("chat", [PRIVATE, GROUP], ids=["private", "group"])
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_command_answers_in_the_users_language(
    tmp_path: Path, language: str, chat: int
) -> None:
    user = PRIVATE if chat == PRIVATE else 71
    async with daily_bot(tmp_path / "q.db", FakeClock(START), admins=frozenset({user})) as bot:
        bot.fake.user_languages[user] = language
        bot.fake.set_chat_admins(GROUP, [user])
        tried = [*TRIED, *(["/stats", "/nonsense", "plain words torture"] if chat > 0 else [])]
        for text in tried:
            replies = await bot.send(text, chat_id=chat, user_id=user)
            assert replies, text
            for reply in replies:
                assert 0 < len(reply.text) <= 4096
                if language != "en":
                    assert CYRILLIC.search(reply.text), (text, reply.text)
        [listing] = await bot.send("/who amnesty", chat_id=chat, user_id=user)
        [paged] = await bot.press(listing, button_data(listing, "▶"), user_id=user)
        labels = [label for label, _ in buttons(paged)]
        share = {"en": "↗ Share", "ru": "↗ Поделиться", "kk": "↗ Бөлісу"}[language]
        assert share in labels
        if language != "en":
            assert CYRILLIC.search(paged.text)
        # The quote of the day goes out in the language seen in the chat.
        await bot.send("/daily 07:00 UTC", chat_id=chat, user_id=user)
        await bot.run_at(START + timedelta(hours=1, minutes=1))
        [daily] = [m for m in bot.fake.sent if m.text.startswith("📅")]
        heading = {"en": "Quote of the day", "ru": "Цитата дня", "kk": "Күн дәйексөзі"}
        assert daily.text.startswith(f"📅 {heading[language]}")
        assert bot.fake.errors == []


async def test_headings_spell_cases_the_catalogs_way_and_quotes_stay_verbatim(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        store = bot.app.bot_data.store
        for language, spelled, quotes in (
            ("kk", "Мұхтар Әблязов", "дәйексөз"),
            ("ru", "Мухтар Аблязов", "цитат"),
            ("en", "Mukhtar Ablyazov", "quotes"),
        ):
            bot.fake.user_languages[PRIVATE] = language
            [reply] = await bot.send("/case ablyazov")
            assert reply.text.startswith(f"{spelled} — ") and quotes in reply.text.split("\n")[0]
            number = int(re.findall(r"#(\d+)", reply.text)[0])
            quote = await store.get_quote(number)
            assert quote is not None
            # The quote, the speaker and the role exactly as stored, in every language.
            assert " ".join(quote.text.split()) in " ".join(reply.text.split())
            assert f"— {quote.speaker}" in reply.text


async def test_a_history_and_a_report_answer_in_the_users_language(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        bot.fake.user_languages[PRIVATE] = "ru"
        [history] = await bot.send("/history 7")
        assert history.text == "Цитата #7 не исправлялась и не отзывалась с момента добавления."
        [usage] = await bot.send("/report")
        assert usage.text.startswith("Напишите, какая цитата")


async def test_the_source_line_is_translated_around_the_publishers_own_words(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        quote = await bot.app.bot_data.store.get_quote(1)
        assert quote is not None and quote.publication.kind == "press release"
        lines = {}
        for language in LANGUAGES:
            bot.fake.user_languages[PRIVATE] = language
            [reply] = await bot.send("/quote 1")
            lines[language] = next(x for x in reply.text.split("\n") if ":" in x and "·" in x)
        assert lines["en"].startswith("Source: Amnesty International · press release · ")
        assert lines["ru"].startswith("Источник: Amnesty International · пресс-релиз · ")
        assert lines["kk"].startswith("Дереккөз: Amnesty International · баспасөз релизі · ")
        # Dates as Babel writes them for the language (a narrow no-break space before "г.").
        assert lines["en"].endswith(" · 9 Jan 2014")
        assert lines["ru"].endswith(" · 9 янв. 2014\u202fг.")
        assert lines["kk"].endswith(" · 2014\u202fж. 09 қаң.")
