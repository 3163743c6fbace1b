"""bot.search: the pure parts of the lookup engine (no database)."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.search.names import NameEntry, NameIndex, acronym
from bot.search.query import (
    MAX_QUERY_CHARS,
    QueryWord,
    Vocabulary,
    clean_query,
    deletes,
    fts_all,
    fts_any,
    fts_phrase,
    fts_string,
    max_edits,
    name_key,
    parse_query,
    tokens,
    translit,
    word_key,
)
from bot.search.rank import Candidate, Group, highlight, rank

# -- normalisation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Shalabayeva", "Шалабаева"),
        ("Shalabaeva", "Shalabayeva"),
        ("Shalabaieva", "Shalabaeva"),
        ("Ablyazov", "Аблязов"),
        ("Abliazov", "Ablyazov"),
        ("Әблязов", "Ablyazov"),
        ("Pavlov", "Павлов"),
        ("Mukhtar", "Мұхтар"),
        ("Khayev", "Hayev"),
        ("Khayev", "Хаев"),
        ("Aleksandr", "Alexandr"),
        ("Maxim", "Максим"),
        ("Yuliya", "Julia"),
        ("Hall", "Hal"),
        ("Williamson", "Wiliamson"),
        ("Ёлкин", "Елкин"),
        ("Jean-Marie", "jean marie"),
        ("O’Brien", "O'Brien"),
        ("Dzhon", "Jon"),
    ],
)
def test_spelling_variants_meet(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(("a", "b"), [("Naaev", "Naev"), ("Hall", "Hell"), ("Pavlov", "Pavlova")])
def test_distinct_names_stay_distinct(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_translit_and_word_key() -> None:
    assert translit("Хьюман Райтс Вотч") == "khyuman rayts votch"
    assert translit("Аблязов!") == "ablyazov"
    assert word_key("Kazakhstan") == "kazakhstan"
    assert word_key("ЁЛКА") == "елка"
    assert word_key("Café") == "cafe"


def test_tokens_give_spans_in_the_original_text() -> None:
    text = "Ablyazov’s wife, Alma Shalabayeva — e-mail: don't"
    found = tokens(text)
    assert [k for k, _, _ in found] == [
        "ablyazov", "s", "wife", "alma", "shalabayeva", "e", "mail", "don", "t",
    ]  # fmt: skip
    assert all(text[s:e].lower() == k for k, s, e in found)


def test_clean_query_strips_controls_and_cuts() -> None:
    assert clean_query("a\x00b\u200bc\td\ud800e") == "a bc d e"
    assert clean_query("  many   spaces ") == "many spaces"
    assert len(clean_query("x" * 10_000)) == MAX_QUERY_CHARS
    assert clean_query("") == ""


# -- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "words", "filters"),
    [
        ("fair trial case:ablyazov", ["fair", "trial"], {"case": ("ablyazov",)}),
        ("WHO:Hall torture", ["torture"], {"who": ("Hall",)}),
        ('who:"julia hall" org:hrw', [], {"who": ("julia hall",), "org": ("hrw",)}),
        ("case:alexander_pavlov", [], {"case": ("alexander pavlov",)}),
        ("text:xyz", ["text", "xyz"], {}),
        ("who:", ["who"], {}),
        ('who:"unbalanced quote', [], {"who": ("unbalanced quote",)}),
        ("email:x who:a who:b", ["email", "x"], {"who": ("a", "b")}),
        ("don't O'Brien C++ 100% e-mail", ["don", "t", "o", "brien", "c", "100", "e", "mail"], {}),
        ("NEAR(a b) AND NOT -c*", ["near", "a", "b", "and", "not", "c"], {}),
    ],
)
def test_parse_query(query: str, words: list[str], filters: dict[str, tuple[str, ...]]) -> None:
    parsed = parse_query(query)
    assert [w.key for w in parsed.words] == words
    assert dict(parsed.filters) == filters


def test_stop_words_only_count_when_nothing_else_is_left() -> None:
    assert [w.key for w in parse_query("the risk of torture").content] == ["risk", "torture"]
    assert [w.key for w in parse_query("to be or not").content] == ["to", "be", "or", "not"]


def test_cyrillic_words_carry_a_transliteration() -> None:
    (word,) = parse_query("Аблязов").words
    assert (word.key, word.alt) == ("аблязов", "ablyazov")
    assert parse_query("ablyazov").words[0].alt is None


# -- FTS5 safety ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute(
        'CREATE VIRTUAL TABLE f USING fts5(text, tokenize="unicode61 remove_diacritics 2")'
    )
    conn.execute("INSERT INTO f VALUES ('don''t say AND or NOT near the e-mail of O''Brien')")
    return conn


def test_fts_string_quotes_everything(fts: sqlite3.Connection) -> None:
    assert fts_string('say "hi"') == '"say ""hi"""'
    for nasty in ['"', "*", "NEAR(", "-", ":", "(", ")", "AND", "NOT", "text:xyz", "^a", "+"]:
        fts.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_string(nasty),)).fetchall()
    rows = fts.execute("SELECT rowid FROM f WHERE f MATCH ?", (fts_string("don't"),)).fetchall()
    assert rows == [(1,)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=20), min_size=1, max_size=4))
def test_any_text_is_a_valid_fts5_query(fts: sqlite3.Connection, terms: list[str]) -> None:
    for match in (fts_any(terms), fts_all([terms, terms[:1]]), fts_phrase(terms)):
        fts.execute("SELECT rowid FROM f WHERE f MATCH ?", (match,)).fetchall()


# -- typo machinery -------------------------------------------------------------------------


def test_deletes_and_edit_budget() -> None:
    assert deletes("hall") == {"all", "hll", "hal"}
    assert "tortre" in deletes("torture", 1)
    assert "trture" in deletes("torture", 2) and "ture" not in deletes("torture", 2)
    assert [max_edits(w) for w in ("a", "hal", "hall", "tortur", "kazakstan")] == [0, 0, 1, 1, 2]


def test_vocabulary_scan_shares_the_first_or_second_letter() -> None:
    vocab = Vocabulary(["kazakhstan", "kazakh", "torture", "extradition", "crastion"])
    assert vocab.near("kazakstan")[0] == ("kazakhstan", 1)
    assert ("extradition", 2) in vocab.near("extrdtion")
    assert ("crastion", 2) in vocab.near("rcastoin")  # first two letters swapped
    assert vocab.near("") == []


# -- names ----------------------------------------------------------------------------------

NAMES = NameIndex(
    [
        NameEntry("speaker", 1, "Julia Hall", (), 2),
        NameEntry("speaker", 2, "John Dalhuisen", (), 2),
        NameEntry("speaker", 3, "Hugh Williamson", (), 2),
        NameEntry("speaker", 4, "Mark Hallam", (), 1),
        NameEntry("organisation", 1, "Human Rights Watch", ("HRW", "Хьюман Райтс Вотч"), 3),
        NameEntry("organisation", 2, "Amnesty International", ("Amnesty",), 4),
        NameEntry("case", 1, "Mukhtar Ablyazov", ("Ablyazov", "Аблязов"), 5),
    ]
)


@pytest.mark.parametrize(
    ("query", "label", "low"),
    [
        ("Julia Hall", "Julia Hall", 100),
        ("hall", "Julia Hall", 95),
        ("julia", "Julia Hall", 95),
        ("dalhusien", "John Dalhuisen", 80),
        ("williamsen", "Hugh Williamson", 80),
        ("hrw", "Human Rights Watch", 100),
        ("human rights watch", "Human Rights Watch", 100),
        ("HUMAN RIGHTS WACTH", "Human Rights Watch", 85),
        ("Хьюман Райтс Вотч", "Human Rights Watch", 100),
        ("amnesty", "Amnesty International", 100),
        ("Аблязов", "Mukhtar Ablyazov", 95),
        ("ablyazv", "Mukhtar Ablyazov", 85),
        ("dalh", "John Dalhuisen", 75),
        ("Юлия Холл", "Julia Hall", 70),
    ],
)
def test_name_index_match(query: str, label: str, low: float) -> None:
    (entry, score), *_ = NAMES.match(query)
    assert entry.label == label
    assert low <= score <= 100


def test_name_index_kinds_and_nothing() -> None:
    assert NAMES.match("ablyazov", ("speaker",), cutoff=70) == []
    assert NAMES.match("") == []
    assert NAMES.match("qqqqqq", cutoff=70) == []
    assert [e.label for e, _ in NAMES.match("hall", limit=2)] == ["Julia Hall", "Mark Hallam"]


def test_acronyms_and_word_entities() -> None:
    assert acronym("Human Rights Watch") == "hrw"
    assert acronym("Open Dialog Foundation") == "odf"
    assert acronym("UN Watch") is None
    assert NameIndex([NameEntry("organisation", 9, "Open Dialog Foundation")]).match("odf")
    word = QueryWord("dalhusien", None, 0, False)
    assert NAMES.word_entities(word, fuzzy=True) == {("speaker", 2): pytest.approx(0.889, 0.01)}
    assert NAMES.word_entities(word, fuzzy=False) == {}


# -- ranking --------------------------------------------------------------------------------


def group(key: str, position: int, terms: dict[str, float], df: int = 1) -> Group:
    return Group(QueryWord(key, None, position, False), terms, df)


def test_rank_prefers_phrases_exact_words_and_coverage() -> None:
    fair, trial = group("fair", 0, {"fair": 1.0}), group("trial", 1, {"trial": 1.0})
    texts = {
        1: "a trial that was fair",  # both words, apart
        2: "a fair trial at last",  # the phrase
        3: "fair enough",  # one word
        4: "a fairer trial",  # nothing for fair
    }
    ranked = rank([Candidate(i, t, frozenset()) for i, t in texts.items()], [fair, trial], 10)
    assert [r.id for r in ranked] == [2, 1, 3, 4]
    assert ranked[0].score == 100.0 and ranked[1].score == 80.0
    assert all(0 <= r.score <= 100 for r in ranked)
    typo = group("tortur", 0, {"torture": 0.85})
    (r,) = rank([Candidate(1, "Torture.", frozenset())], [typo], 10)
    assert r.score == 85.0


def test_rank_breaks_ties_by_the_whole_phrase_then_length() -> None:
    parsed = parse_query("risk of torture")
    risk, torture = (group(w.key, w.position, {w.key: 1.0}) for w in parsed.content)
    texts = {
        1: "risk to torture",  # as far apart as in the query, but not word for word
        2: "a long quote with the real risk of torture in it",  # word for word
        3: "risk torture",  # one word fewer between them: half a neighbour
    }
    cands = [Candidate(i, t, frozenset()) for i, t in texts.items()]
    ranked = rank(cands, [risk, torture], 10, parsed.words)
    assert [(r.id, r.score) for r in ranked] == [(2, 100.0), (1, 100.0), (3, 90.0)]
    assert ranked[0].verbatim and not ranked[1].verbatim


def test_rank_counts_names_and_rare_words_more() -> None:
    hall = Group(QueryWord("hall", None, 0, False), {}, 0, {("speaker", 7): 1.0})
    torture = group("torture", 1, {"torture": 1.0}, df=5)
    by_hall = Candidate(1, "torture", frozenset({("speaker", 7)}))
    other = Candidate(2, "torture", frozenset({("speaker", 8)}))
    first, second = rank([other, by_hall], [hall, torture], 10)
    assert (first.id, second.id) == (1, 2) and first.score > second.score
    rare, common = group("rare", 0, {"rare": 1.0}, df=1), group("common", 1, {"common": 1.0}, 9)
    a, b = rank(
        [Candidate(1, "common", frozenset()), Candidate(2, "rare", frozenset())], [rare, common], 10
    )
    assert (a.id, b.id) == (2, 1)


def test_highlight_spans_every_matched_word() -> None:
    text = "Kazakhstan’s record of torture; TORTURE again."
    spans = highlight(text, [group("torture", 0, {"torture": 1.0})])
    assert [text[s:e] for s, e in spans] == ["torture", "TORTURE"]
    assert highlight("Café", [group("cafe", 0, {"cafe": 1.0})]) == ((0, 4),)
