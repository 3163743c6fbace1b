"""The catalogs kept equal to the code: ``make translations`` (``python -m bot.translations``).

It extracts every ``_()``, ``N_()`` and ``ngettext()`` string of ``bot/`` (with Babel's
extractor, as ``pybabel extract`` does), writes the template ``bot/locales/quotebot.pot``,
merges it into each language's ``.po`` (new strings empty, changed ones marked fuzzy,
translations kept) and lists what still needs a translator. ``tests/test_i18n.py`` runs
the same comparison, so a string added without its translations fails the tests with this
command's advice.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DEFAULT, DOMAIN, LANGUAGES

BOT_DIR = Path(__file__).resolve().parent
LOCALES = BOT_DIR / "locales"
TEMPLATE = LOCALES / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
COMMENT_TAGS = ["Translators:"]
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
TRANSLATED = [language for language in LANGUAGES if language != DEFAULT]


def po_file(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> Catalog:
    """Every translatable string in the code, with where it is and its translator comments."""
    # A fixed creation date and no line numbers: the files change only when strings do.
    template = Catalog(project="quotebot", domain=DOMAIN, fuzzy=False, creation_date=_EPOCH)
    found = extract_from_dir(
        BOT_DIR,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    )
    for filename, lineno, message, comments, context in found:
        template.add(
            message,
            locations=[(f"bot/{filename}", lineno)],
            auto_comments=comments,
            context=context,
        )
    return template


def read(language: str) -> Catalog:
    with po_file(language).open("rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


@dataclass(frozen=True)
class Missing:
    language: str
    msgid: str
    why: str  # "untranslated", "fuzzy" (changed in the code since it was translated)


def _msgid(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def missing(template: Catalog) -> list[Missing]:
    """The code's strings that some catalog lacks, or has only empty or fuzzy."""
    gaps: list[Missing] = []
    for language in TRANSLATED:
        catalog = read(language)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context)
            strings = (
                []
                if found is None
                else found.string
                if isinstance(found.string, tuple)
                else [found.string]
            )
            if found is None or not all(strings):
                gaps.append(Missing(language, _msgid(message), "untranslated"))
            elif found.fuzzy:
                gaps.append(Missing(language, _msgid(message), "fuzzy"))
    return gaps


def update() -> Catalog:
    """Write the template and merge it into every catalog (obsolete entries dropped)."""
    template = extract()
    LOCALES.mkdir(exist_ok=True)
    with TEMPLATE.open("wb") as pot:
        write_po(
            pot, template, width=100, omit_header=False, sort_by_file=True, include_lineno=False
        )
    for language in TRANSLATED:
        if po_file(language).exists():
            catalog = read(language)
        else:  # a new language: its header (Plural-Forms included) from Babel's locale data
            catalog = Catalog(
                locale=language,
                domain=DOMAIN,
                project="quotebot",
                fuzzy=False,
                creation_date=_EPOCH,
            )
            po_file(language).parent.mkdir(parents=True, exist_ok=True)
        catalog.update(template, update_header_comment=False)
        with po_file(language).open("wb") as po:
            write_po(
                po,
                catalog,
                width=100,
                ignore_obsolete=True,
                sort_by_file=True,
                include_lineno=False,
            )
    return template


ADVICE = (
    "Run `make translations`, then translate each entry listed (an empty msgstr, or one "
    'marked "#, fuzzy" whose English changed: check it, then remove the fuzzy mark) in '
    "bot/locales/<language>/LC_MESSAGES/quotebot.po. Keep every {placeholder}, %(name)s "
    "and HTML tag of the English exactly."
)


def main() -> int:
    gaps = missing(update())
    for gap in gaps:
        print(f"{gap.language}: {gap.why}: {gap.msgid!r}")
    if gaps:
        print(f"{len(gaps)} entries need a translation.\n{ADVICE}", file=sys.stderr)
        return 1
    print("every string is translated in " + ", ".join(TRANSLATED))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
