"""The export documents' formats apart from the bot (bot/export.py): Markdown that renders
exactly the quote's text, whatever characters it holds; CSV and CSL-JSON."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bot import export
from bot.provenance import Compilation, PartialDate, Publication, Status
from bot.store import StoredQuote

WHEN = dt.datetime(2026, 12, 2, 12, 40, tzinfo=dt.UTC)
MARKDOWN = MarkdownIt()


def quote(quote_id: int, text: str, publication: Publication | None = None) -> StoredQuote:
    return StoredQuote(
        id=quote_id,
        text=text,
        speaker="Jane *Doe*",
        speaker_id=1,
        role="Director [Europe] & <Central> Asia",
        organisation="Watch_Group",
        source="import.csv",
        position=quote_id,
        date=None,
        cases=("Case #1",),
        publication=publication or Publication(),
    )


def rendered_text(markdown: str) -> str:
    """The text a reader sees: rendered HTML without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", MARKDOWN.render(markdown))).strip()


# Letters, digits, every ASCII punctuation mark and single spaces: what statements hold.
statement_text = (
    st.text(
        alphabet=st.sampled_from("abcXYZ019 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”’—"),
        min_size=1,
        max_size=60,
    )
    .map(lambda t: " ".join(t.split()))
    .filter(bool)
)


@settings(max_examples=300, deadline=None)
@given(statement_text)
def test_markdown_escaping_renders_exactly_the_text(text: str) -> None:
    assert rendered_text(export.md_escape(text)) == text


def test_a_markdown_export_is_well_formed_whatever_the_quotes_hold() -> None:
    hostile = "# Not a heading *not bold* [not](a link) <b>not html</b> &amp; 1. not a list"
    compilation = Compilation("World reacts - NGOs", "example.org", "https://example.org/c")
    verified = Publication(
        Status.VERIFIED,
        "Amnesty International",
        "A (title) with > signs",
        "press release",
        "https://example.org/a_(b)",
        PartialDate.parse("2013-08"),
        compilation,
    )
    selection = export.Selection(
        "who:doe", "Jane Doe", [quote(3, hostile, verified), quote(5, "- dash first")], False
    )
    document = export.build(selection, export.Format.MARKDOWN, WHEN)
    assert document.file_name == "quotebot-who-doe-20261202-1240.md"
    text = document.data.decode()
    headings = [rendered_text(line) for line in re.findall(r"^#+ .*$", text, re.MULTILINE)]
    assert headings == ["Quotes: who:doe", "#3 — Jane *Doe*", "#5 — Jane *Doe*"]
    quotes = [rendered_text(block) for block in re.findall(r"^(?:> .*\n)+", text, re.MULTILINE)]
    assert quotes == [hostile, "- dash first"]
    rendered = MARKDOWN.render(text)
    assert '<a href="https://example.org/a_(b)">https://example.org/a_(b)</a>' in rendered
    assert "August 2013" in rendered and "Exported by quotebot on 2026-12-02 12:40 UTC" in text


def test_csv_quotes_every_field_so_it_parses_back() -> None:
    text = 'He said "no", then; left\nthe room'
    rows = list(csv.reader(io.StringIO(export.to_csv([quote(1, text)]))))
    assert rows[0] == list(export.CSV_COLUMNS)
    assert rows[1][1] == text and rows[1][5] == "Case #1" and rows[1][6] == "unknown"


def test_format_words() -> None:
    assert export.split_format("case:ablyazov csv") == ("case:ablyazov", export.Format.CSV)
    assert export.split_format("who:hall JSON") == ("who:hall", export.Format.CSL)
    assert export.split_format("fair trial") == ("fair trial", export.Format.MARKDOWN)
    assert export.split_format("md") == ("", export.Format.MARKDOWN)
    items = json.loads(
        export.build(
            export.Selection("x", None, [quote(2, "t")], False), export.Format.CSL, WHEN
        ).data
    )
    assert items[0]["id"] == "quotebot-2"
