"""The parser (bot/corpus.py) on the seed document, the override list, structured files and
every malformed document it must refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.corpus import Quote, parse_file, parse_statements, split_attribution
from bot.seed_data import SEED_DOCUMENT, data_file
from bot.text import DocumentError

SEED = data_file(SEED_DOCUMENT)
ABLYAZOV, PAVLOV, SHALABAYEVA = "Mukhtar Ablyazov", "Aleksandr Pavlov", "Alma Shalabayeva"
AI, HRW = "Amnesty International", "Human Rights Watch"
ODF, UNW = "Open Dialog Foundation", "UN Watch"
HALL_ROLE = "Amnesty International’s expert on counter-terrorism and human rights"
DALHUISEN_ROLE = "Director of Amnesty International’s Europe and Central Asia Programme"
WILLIAMSON_ROLE = "Director of the Europe & Central Asia in Human Rights Watch"

# position: (speaker, role, organisation, cases)
EXPECTED_SEED = {
    1: ("Julia Hall", HALL_ROLE, AI, (ABLYAZOV,)),
    2: ("Julia Hall", HALL_ROLE, AI, (PAVLOV,)),
    3: (
        ODF,
        "Foundation dedicated to defending human rights in CIS countries "
        "and the former Soviet bloc",
        ODF,
        (),
    ),
    4: ("Jean-Marie Fardeau", "France director at Human Rights Watch", HRW, (ABLYAZOV,)),
    5: ("John Dalhuisen", DALHUISEN_ROLE, AI, (ABLYAZOV,)),
    6: ("Hugh Williamson", WILLIAMSON_ROLE, HRW, (ABLYAZOV,)),
    7: ("Hugh Williamson", WILLIAMSON_ROLE, HRW, (ABLYAZOV, SHALABAYEVA)),
    8: ("John Dalhuisen", DALHUISEN_ROLE, AI, (SHALABAYEVA,)),
    9: (
        UNW,
        "Non-governmental organization whose mandate is to monitor the performance of the "
        "United Nations",
        UNW,
        (SHALABAYEVA,),
    ),
}


@pytest.fixture
def seed_quotes(catalog: Catalog) -> list[Quote]:
    return parse_file(SEED, catalog)


# -- the seed document ------------------------------------------------------------------------


def test_seed_has_nine_quotes_six_speakers_four_organisations_three_cases(
    seed_quotes: list[Quote],
) -> None:
    assert len(seed_quotes) == 9
    assert [q.position for q in seed_quotes] == list(range(1, 10))
    assert list(dict.fromkeys(q.speaker for q in seed_quotes)) == [
        "Julia Hall",
        ODF,
        "Jean-Marie Fardeau",
        "John Dalhuisen",
        "Hugh Williamson",
        UNW,
    ]
    assert {q.organisation for q in seed_quotes} == {AI, HRW, ODF, UNW}
    assert {c for q in seed_quotes for c in q.cases} == {ABLYAZOV, PAVLOV, SHALABAYEVA}
    assert {q.source for q in seed_quotes} == {"statements.txt"}


@pytest.mark.parametrize("position", sorted(EXPECTED_SEED))
def test_seed_speaker_role_organisation_and_cases(seed_quotes: list[Quote], position: int) -> None:
    quote = seed_quotes[position - 1]
    assert (quote.speaker, quote.role, quote.organisation, quote.cases) == EXPECTED_SEED[position]


def test_curly_and_straight_apostrophe_roles_merge_into_one_speaker_and_role(
    seed_quotes: list[Quote],
) -> None:
    lines = SEED.read_text(encoding="utf-8").splitlines()
    # The document really spells Julia Hall's role two ways ...
    assert lines[2].endswith(
        "Amnesty International’s expert on counter-terrorism and human rights -"
    )
    assert lines[4].endswith(
        "Amnesty International's expert on counter-terrorism and human rights. -"
    )
    # ... but the parser gives one speaker with one role.
    hall = [q for q in seed_quotes if q.speaker == "Julia Hall"]
    assert len(hall) == 2
    assert hall[0].role == hall[1].role == HALL_ROLE


def test_quote_text_is_verbatim_byte_for_byte(seed_quotes: list[Quote]) -> None:
    raw = SEED.read_bytes()
    lines = raw.decode("utf-8").splitlines()
    for quote in seed_quotes:
        assert quote.text == lines[quote.line - 1]
        assert quote.text.encode("utf-8") in raw
    texts = " ".join(q.text for q in seed_quotes)
    # The source's typos and curly apostrophes are kept, not "fixed".
    assert "trials.Meanwhile" in texts
    assert "hands ofthe Kazakhstani" in texts
    assert "Kazakhstan’s record" in texts
    assert "Kazakhstan's record" not in texts


def test_case_tags_match_possessives_and_catalog_spellings(catalog: Catalog) -> None:
    assert catalog.find_cases("Ablyazov’s case") == (ABLYAZOV,)
    assert catalog.find_cases("Ablyazov's wife") == (ABLYAZOV,)
    assert catalog.find_cases("the ABLIAZOV family") == (ABLYAZOV,)
    assert catalog.find_cases("дело Аблязова") == ()  # a declined form is not the alias
    assert catalog.find_cases("Мухтар Аблязов") == (ABLYAZOV,)
    assert catalog.find_cases("Alma Shalabaeva and Alexander Pavlov") == (PAVLOV, SHALABAYEVA)
    assert catalog.find_cases("Pavlovsky Street") == ()


def test_organisation_from_the_role_or_from_the_speaker(catalog: Catalog) -> None:
    assert catalog.find_organisation("Jean-Marie Fardeau", "France director at HRW") == HRW
    assert catalog.find_organisation(ODF, "Foundation dedicated to …") == ODF
    assert catalog.find_organisation("Someone", "Director of Amnesty’s programme") == AI
    # A two-letter acronym only counts in capitals, never inside a word.
    assert catalog.find_organisation("Jane Roe", "said to be a fair trial expert") is None


# -- names the rule cannot split --------------------------------------------------------------


def test_override_list_splits_names_the_rule_cannot(test_data: Path) -> None:
    document = test_data / "mcdonald.txt"
    with_overrides = parse_file(document, Catalog.load(test_data / "mcdonald.toml"))
    assert [(q.speaker, q.role, q.organisation) for q in with_overrides] == [
        ("Mary McDonald", "Director at Example Rights", "Example Rights"),
        ("Ian MacLeod", "Spokesperson for Example Rights", "Example Rights"),
        ("Example Rights", "An invented organisation used in tests", "Example Rights"),
    ]
    # Without the override the split no longer cuts "Mc" from the name (it used to give
    # "Mary Mc"): a cut right after a name prefix is never a candidate.
    without = parse_file(document, Catalog())
    assert [q.speaker for q in without] == ["Mary McDonald", "Ian MacLeod", "Example Rights"]


def test_all_caps_acronym_speaker_splits_before_the_capitalised_role(catalog: Catalog) -> None:
    line = "UNHCRSpokesperson for the refugee agency -"
    overrides = Catalog(speaker_names=("UNHCR",))
    assert split_attribution(line, overrides) == ("UNHCR", "Spokesperson for the refugee agency")
    assert split_attribution(line, Catalog()) == ("UNHCR", "Spokesperson for the refugee agency")
    # The seed's acronym speaker comes from the catalog's organisations.
    assert split_attribution("UN WatchNon-governmental organization", catalog) == (
        "UN Watch",
        "Non-governmental organization",
    )


# -- structured documents ---------------------------------------------------------------------


def test_csv_fields_are_read_and_aliases_resolved(catalog: Catalog, test_data: Path) -> None:
    quotes = parse_file(test_data / "second.csv", catalog)
    assert [q.line for q in quotes] == [2, 3]
    first, second = quotes
    assert first.text == (
        "Shalabayeva and her daughter must be allowed to return, "
        "and the expulsion order must never be repeated."
    )
    assert first.speaker == "Hugh Williamson"
    assert first.organisation == HRW  # given as "HRW"
    assert first.cases == (SHALABAYEVA,)  # given as "Shalabaieva"
    assert (first.source, first.date) == ("https://www.hrw.org/news/2013/07/17", "2013-07-17")
    assert second.organisation == AI  # given as "Amnesty"
    assert second.cases == (PAVLOV, ABLYAZOV)


def test_json_fields_fall_back_to_the_catalog_and_file_name(
    catalog: Catalog, test_data: Path
) -> None:
    first, second = parse_file(test_data / "second.json", catalog)
    assert (first.organisation, first.cases, first.source) == (HRW, (), "HRW statement")
    assert second.cases == (ABLYAZOV, SHALABAYEVA)
    assert (second.source, second.date) == ("second.json", None)


# -- malformed documents ----------------------------------------------------------------------

ATTRIBUTION = "Jane RoeDirector at Example Rights -\n"

MALFORMED: dict[str, tuple[str, bytes, int, str]] = {
    "attribution with no quote": (
        "doc.txt",
        ("-\n" + ATTRIBUTION + "A quote.\n" + ATTRIBUTION).encode(),
        2,
        "attribution with no quote",
    ),
    "two attributions in a row": (
        "doc.txt",
        ("A quote.\n" + ATTRIBUTION + ATTRIBUTION).encode(),
        3,
        "attribution with no quote",
    ),
    "quote with no attribution, mid-document": (
        "doc.txt",
        ("First quote.\nSecond quote.\n" + ATTRIBUTION).encode(),
        1,
        "quote with no attribution",
    ),
    "quote with no attribution, at the end": (
        "doc.txt",
        ("A quote.\n" + ATTRIBUTION + "\nA dangling quote.\n").encode(),
        4,
        "quote with no attribution",
    ),
    "empty file": ("doc.txt", b"", 1, "empty"),
    "only blank lines and dashes": ("doc.txt", b"\n  \n-\n\n", 1, "empty"),
    "binary file": ("doc.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, "binary"),
    "non-UTF-8 file": (
        "doc.txt",
        ("A quote.\n" + ATTRIBUTION).encode() + "Café au lait.\n".encode("latin-1"),
        3,
        "UTF-8",
    ),
    "CSV with a missing column": ("doc.csv", b"text,role\nA quote.,Director\n", 1, "speaker"),
    "CSV row with missing fields": (
        "doc.csv",
        b"text,speaker,role\nA quote.,Jane Roe,Director\nAnother quote.\n",
        3,
        "field",
    ),
    "CSV row with an unquoted comma": (
        "doc.csv",
        b'text,speaker\n"A quote, quoted.",Jane Roe\nA quote, unquoted.,Jane Roe\n',
        3,
        "double quotes",
    ),
    "CSV record over two lines without a speaker": (
        "doc.csv",
        b'text,speaker\n"A quote.",Jane Roe\n"Line one,\nline two",\n',
        3,
        "the speaker is empty",
    ),
    "CSV with only a header": ("doc.csv", b"text,speaker\n", 1, "empty"),
    "empty CSV": ("doc.csv", b"", 1, "empty"),
    "JSON that is not a list": (
        "doc.json",
        b'{"text": "A quote.", "speaker": "Jane Roe"}',
        1,
        "array",
    ),
    "invalid JSON": ("doc.json", b'[\n  {"text": "A quote.",\n  }\n]', 3, "invalid JSON"),
    "JSON record without a speaker": (
        "doc.json",
        b'[\n  {"text": "A quote.", "speaker": "Jane Roe"},\n'
        b'  {\n    "text": "No one said it."\n  }\n]',
        3,
        "record 2: the speaker is empty",
    ),
    "JSON record that is not an object": (
        "doc.json",
        b'{"quotes": [\n  "just a string"\n]}',
        2,
        "record 1",
    ),
}


@pytest.mark.parametrize(("name", "data", "line", "reason"), MALFORMED.values(), ids=MALFORMED)
def test_malformed_document_is_refused_naming_file_and_line(
    catalog: Catalog, tmp_path: Path, name: str, data: bytes, line: int, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DocumentError) as caught:
        parse_file(path, catalog)
    assert caught.value.line == line
    assert f"{path}, line {line}:" in str(caught.value)
    assert reason in str(caught.value)


def test_errors_name_the_file_even_with_a_source_label(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "press.txt"
    path.write_text("-\n" + ATTRIBUTION, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"press\.txt, line 2"):
        parse_file(path, catalog, source="Amnesty press releases")


def test_parse_statements_accepts_text_and_crlf(catalog: Catalog) -> None:
    quotes = parse_statements("-\r\nA quote.\r\nJane RoeDirector at HRW -\r\n", catalog, "x")
    assert [(q.text, q.speaker, q.role, q.organisation) for q in quotes] == [
        ("A quote.", "Jane Roe", "Director at HRW", HRW)
    ]


# -- the catalog ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "line", "reason"),
    [
        ('[[cases]]\nname = "Ablyazov\n', 2, "invalid TOML"),
        ('[[cases]]\nname = "A"\n\n[[cases]]\nslug = "b"\n', 4, "needs a name"),
        ('[[organisations]]\nname = "Amnesty"\naliases = "AI"\n', 1, "list of names"),
    ],
)
def test_malformed_catalog_is_refused_naming_file_and_line(
    tmp_path: Path, toml: str, line: int, reason: str
) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(DocumentError) as caught:
        Catalog.load(path)
    assert f"catalog.toml, line {line}:" in str(caught.value)
    assert reason in str(caught.value)
