"""The interface languages: English (the source), Russian and Kazakh, with gettext catalogs.

Every user-facing string is written in English inside ``_()`` (or ``ngettext()`` for a
count), with named ``{placeholders}`` filled after translation, so a translation may reorder
them and nothing is built from translated pieces. ``N_()`` marks a string kept in a constant
and translated where it is used (``_(CONSTANT)``). Quote texts, speakers' names and roles are
never passed through these functions.

The catalogs are the ``.po`` files under ``bot/locales/<lang>/LC_MESSAGES/quotebot.po``,
read at first use with Babel (no compile step, so an editable install and the wheel behave
alike); ``make translations`` refreshes them from the code and lists what is untranslated.

The language of the reply being made is a context variable: :func:`use_language` sets it
around the handling of one update (``bot/chat_language.py``) or one delivery, so the render
functions need no language argument and concurrent updates never see each other's.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from importlib import resources
from importlib.resources.abc import Traversable

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_skeleton
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT = "en"
LANGUAGES = ("en", "ru", "kk")
DOMAIN = "quotebot"
# How each language names itself (/lang shows these; never translated).
NATIVE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
# Babel's locale per language: British English writes "9 Jan 2014", as the source lines do.
BABEL_LOCALES = {"en": "en_GB", "ru": "ru", "kk": "kk"}

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)


def catalog_path(language: str) -> Traversable:
    return resources.files("bot") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog of ``language`` (English: the strings as written). Fuzzy and empty
    entries are left out, so an untranslated string shows in English, never blank."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def language_of_code(code: str | None) -> str:
    """Telegram's ``language_code`` (IETF: ``ru``, ``kk``, ``ru-RU``) as one of
    :data:`LANGUAGES`; anything else is English."""
    base = (code or "").lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else DEFAULT


def current() -> str:
    """The language of the reply being made."""
    return _current.get()


@contextmanager
def use_language(language: str) -> Iterator[str]:
    """Make replies in ``language`` inside the block (restored after, even on error)."""
    token = _current.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def _(message: str) -> str:
    """``message`` in the current language ("" stays "": gettext would give the header)."""
    return translations(_current.get()).gettext(message) if message else message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of ``singular``/``plural`` for ``count`` in the current language (Russian
    has three forms: 1 цитата, 2 цитаты, 5 цитат). Fill ``{count}`` after: ``.format``."""
    return translations(_current.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate with ``_()`` later."""
    return message


def locale() -> Locale:
    return Locale.parse(BABEL_LOCALES[_current.get()])


def format_date(date: dt.date, form: str = "medium") -> str:
    """``9 Jan 2014`` / ``9 янв. 2014 г.`` / ``2014 ж. 9 қаң.``."""
    return babel_format_date(date, form, locale=locale())


def format_month(year: int, month: int) -> str:
    """A month of a year (``Aug 2013``, ``авг. 2013 г.``): a partial date stays partial."""
    return format_skeleton("yMMM", dt.date(year, month, 1), locale=locale())


def format_time(moment: dt.time | dt.datetime) -> str:
    """``09:00`` in every language here: 24-hour clock."""
    return babel_format_time(moment, "HH:mm", locale=locale())


def format_day_and_time(moment: dt.datetime) -> str:
    """``Mon 3 Feb, 09:00`` in the current language (the moment in its own time zone)."""
    day = format_skeleton("MMMEd", moment, locale=locale())
    return _("{day}, {time}").format(day=day, time=format_time(moment))
