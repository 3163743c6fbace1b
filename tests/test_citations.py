"""Citations in every style, for a verified, a likely and an unknown source (bot/citations.py).

The publications below carry the facts of ../shared/provenance/seed-sources.toml for seed
quotes 1 (verified), 8 (likely) and 3 (unknown, quoted in the compilation), built here so the
formatting is tested apart from the seed; tests/test_cite_export.py runs the seed itself.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from pybtex.database import parse_string

from bot import citations
from bot.citations import Style
from bot.provenance import UNKNOWN, Compilation, PartialDate, Publication, Status
from bot.store import StoredQuote

COMPILATION = Compilation(
    title="World reacts - NGOs",
    publisher="mukhtarablyazov.org (Open Dialog Foundation campaign site, inactive since "
    "January 2017)",
    url="https://en.mukhtarablyazov.org/world-reacts/17,ngos2/-/0",
)
VERIFIED = Publication(
    status=Status.VERIFIED,
    publisher="Amnesty International",
    title="France: Stop extradition threatening Kazakhstani dissident with torture",
    kind="press release",
    url="https://www.amnesty.org/en/latest/press-release/2014/01/"
    "france-stop-extradition-threatening-kazakhstani-dissident-torture/",
    published=PartialDate.parse("2014-01-09"),
    compilation=COMPILATION,
)
LIKELY = Publication(
    status=Status.LIKELY,
    publisher="Amnesty International",
    title="Italian government must ensure accountability for illegal expulsion to Kazakhstan",
    kind="press release",
    url="https://www.amnesty.org/en/latest/press-release/2013/07/"
    "italian-government-must-ensure-accountability-illegal-expulsion-kazakhstan/",
    published=PartialDate.parse("2013-07"),
    compilation=COMPILATION,
    note="The English copy seen was cut before this sentence.",
)
UNKNOWN_ORIGINAL = Publication(status=Status.UNKNOWN, compilation=COMPILATION)


def quote(publication: Publication, text: str = "Kazakhstan persecutes opponents.") -> StoredQuote:
    return StoredQuote(
        id=7,
        text=text,
        speaker="Julia Hall",
        speaker_id=1,
        role="Amnesty International’s expert on counter-terrorism and human rights",
        organisation="Amnesty International",
        source="statements.txt",
        position=1,
        date=None,
        cases=("Mukhtar Ablyazov",),
        publication=publication,
    )


# -- plain ----------------------------------------------------------------------------------


def test_plain_verified_names_the_original_with_date_and_link() -> None:
    assert citations.plain(quote(VERIFIED)) == (
        "“Kazakhstan persecutes opponents.” — Julia Hall, Amnesty International’s expert on "
        "counter-terrorism and human rights. Amnesty International, press release, “France: "
        "Stop extradition threatening Kazakhstani dissident with torture”, 9 January 2014. "
        + VERIFIED.url
    )


def test_plain_likely_says_so_and_keeps_the_month_partial() -> None:
    text = citations.plain(quote(LIKELY))
    assert ", July 2013. " + LIKELY.url in text
    assert "likely source, not verified word for word" in text
    assert "1 July" not in text and "verified." not in text


def test_plain_unknown_cites_the_compilation_as_quoted_in_never_as_original() -> None:
    text = citations.plain(quote(UNKNOWN_ORIGINAL))
    assert text.endswith(
        "Original publication not found; quoted in “World reacts - NGOs”, "
        f"{COMPILATION.publisher}. {COMPILATION.url}"
    )
    nothing = citations.plain(quote(UNKNOWN))
    assert nothing.endswith("human rights. Original publication not found.")
    assert "statements.txt" not in nothing  # the import file is no source


def test_the_organisation_is_added_only_when_the_role_does_not_name_it() -> None:
    other = replace(quote(VERIFIED), role="France director", organisation="Human Rights Watch")
    assert citations.speaker_line(other) == "Julia Hall, France director (Human Rights Watch)"
    assert citations.speaker_line(quote(VERIFIED)).count("Amnesty International") == 1


@pytest.mark.parametrize(
    ("iso", "shown"),
    [("2014-01-09", "9 January 2014"), ("2013-08", "August 2013"), ("2013", "2013")],
)
def test_dates_are_as_precise_as_known(iso: str, shown: str) -> None:
    assert citations.human_date(PartialDate.parse(iso)) == shown


# -- APA and Chicago (citeproc-py with the shipped CSL styles) ------------------------------


def test_apa_verified_through_the_processor() -> None:
    apa = citations.process(quote(VERIFIED), Style.APA)
    assert apa.style_name == "APA 7th edition"
    assert apa.in_text == "(Amnesty International, 2014)"
    assert apa.reference_html == (
        "Amnesty International. (2014, January 9). <i>France: Stop extradition threatening "
        f"Kazakhstani dissident with torture</i> [Press release]. {VERIFIED.url}"
    )
    assert "<i>" not in apa.reference_text and apa.reference_text.startswith("Amnesty")


def test_chicago_verified_through_the_processor() -> None:
    chicago = citations.process(quote(VERIFIED), Style.CHICAGO)
    assert chicago.in_text == "(Amnesty International 2014)"
    # Chicago's headline-style capitalisation is the style's, applied by the processor.
    assert chicago.reference_text.startswith(
        "Amnesty International. 2014. “France: Stop Extradition Threatening Kazakhstani "
        "Dissident with Torture”."
    )
    assert "January 9" in chicago.reference_text and VERIFIED.url in chicago.reference_text


@pytest.mark.parametrize("style", [Style.APA, Style.CHICAGO])
def test_a_month_date_is_never_padded_to_a_day(style: Style) -> None:
    processed = citations.process(quote(LIKELY), style)
    assert "July" in processed.reference_text and "2013" in processed.reference_text
    assert "July 1" not in processed.reference_text and "1 July" not in processed.reference_text


@pytest.mark.parametrize(
    ("style", "verb"), [(Style.APA, "as cited in"), (Style.CHICAGO, "quoted in")]
)
def test_an_unknown_original_is_cited_as_a_secondary_source(style: Style, verb: str) -> None:
    processed = citations.process(quote(UNKNOWN_ORIGINAL), style)
    assert processed.in_text.startswith(f"(Julia Hall, {verb} mukhtarablyazov.org")
    assert "n.d." in processed.in_text
    assert "World" in processed.reference_text and COMPILATION.url in processed.reference_text
    assert "Amnesty" not in processed.reference_text  # not presented as Amnesty's publication


def test_processed_html_keeps_only_what_telegram_shows() -> None:
    hostile = replace(VERIFIED, title="A <b>bold</b> & <span>odd</span> title")
    processed = citations.process(quote(hostile), Style.APA)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;span&gt;" in processed.reference_html
    assert "A <b>bold</b> & <span>odd</span> title" in processed.reference_text


# -- CSL-JSON ---------------------------------------------------------------------------------


def render_with_citeproc(items: list[dict[str, object]]) -> list[str]:
    """Render CSL-JSON as a reference manager would: citeproc-py and its own bundled style."""
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
    for item in items:
        bibliography.register(Citation([CitationItem(str(item["id"]))]))
    return [str(entry) for entry in bibliography.bibliography()]


def test_csl_json_loads_back_and_renders() -> None:
    quotes = [quote(VERIFIED), replace(quote(LIKELY), id=8), replace(quote(UNKNOWN), id=4)]
    items = json.loads(citations.csl_json(quotes))
    assert [i["id"] for i in items] == ["quotebot-7", "quotebot-8", "quotebot-4"]
    verified, likely, unknown = items
    assert verified["issued"] == {"date-parts": [[2014, 1, 9]]}
    assert verified["author"] == [{"literal": "Amnesty International"}]
    assert verified["genre"] == "Press release" and verified["URL"] == VERIFIED.url
    assert likely["issued"] == {"date-parts": [[2013, 7]]}
    assert "likely source, not verified word for word" in likely["note"]
    assert "“Kazakhstan persecutes opponents.”" in verified["note"]
    assert "Original publication not found" in unknown["note"]
    assert "issued" not in unknown and "URL" not in unknown
    rendered = render_with_citeproc(items)
    assert any("France: Stop extradition" in r and "2014" in r for r in rendered)
    assert any("Italian government must ensure" in r for r in rendered)


def test_csl_json_of_an_unknown_original_is_the_compilation_marked_quoted_in() -> None:
    (item,) = json.loads(citations.csl_json([quote(UNKNOWN_ORIGINAL)]))
    assert item["title"] == COMPILATION.title and item["URL"] == COMPILATION.url
    assert "author" not in item
    assert "quoted in this compilation" in item["note"]


# -- BibTeX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("publication", [VERIFIED, LIKELY, UNKNOWN_ORIGINAL, UNKNOWN])
def test_bibtex_parses_with_its_fields(publication: Publication) -> None:
    text = "Braces {and} 100% & $5 #1 snake_case ~ ^ back\\slash"
    entry = citations.bibtex(quote(publication, text))
    parsed = parse_string(entry, "bibtex").entries["quotebot7"]
    assert parsed.type == "misc"
    assert "note" in parsed.fields
    if publication is VERIFIED:
        assert parsed.fields["year"] == "2014" and parsed.fields["date"] == "2014-01-09"
        assert parsed.fields["month"].lower().startswith("jan")
        assert parsed.fields["url"] == VERIFIED.url
        assert parsed.fields["howpublished"] == "Press release"
    if publication is LIKELY:
        assert parsed.fields["date"] == "2013-07" and "likely source" in parsed.fields["note"]
    if publication is UNKNOWN_ORIGINAL:
        assert parsed.fields["title"] == COMPILATION.title and "year" not in parsed.fields
    assert r"\{and\} 100\% \& \$5 \#1 snake\_case" in parsed.fields["note"]


# -- styles -------------------------------------------------------------------------------------


def test_style_names_and_aliases() -> None:
    assert citations.STYLES == ("plain", "apa", "chicago", "csl", "bibtex")
    assert citations.parse_style("APA") is Style.APA
    assert citations.parse_style("bib") is Style.BIBTEX
    assert citations.parse_style("csl-json") is Style.CSL
    assert citations.parse_style("mla") is None
