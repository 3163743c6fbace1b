"""bot.search.service on the seed: /who, /case, /search, filters, random, safety and properties."""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog import Catalog
from bot.search import sql as search_store
from bot.search.query import MAX_QUERY_CHARS, NAME_THRESHOLD, SEARCH_THRESHOLD
from bot.search.service import Hit, Lookup, LookupResult
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore

HALL, DALHUISEN, WILLIAMSON = "Julia Hall", "John Dalhuisen", "Hugh Williamson"
FARDEAU, ODF, UNW = "Jean-Marie Fardeau", "Open Dialog Foundation", "UN Watch"
ABLYAZOV, PAVLOV, SHALABAYEVA = "Mukhtar Ablyazov", "Aleksandr Pavlov", "Alma Shalabayeva"
AMNESTY, HRW = "Amnesty International", "Human Rights Watch"
SPEAKERS_OF = {AMNESTY: {HALL, DALHUISEN}, HRW: {FARDEAU, WILLIAMSON}}


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lookup") / "q.db"

    async def build() -> None:
        store = await QuoteStore.open(path)
        await store.seed()
        await Lookup(store).load()
        await store.close()

    asyncio.run(build())
    return path


@pytest.fixture
async def store_copy(seed_db: Path, tmp_path: Path) -> AsyncIterator[QuoteStore]:
    """A store on a private copy of the seed database (tmp_path/copy.db), to change."""
    path = tmp_path / "copy.db"
    shutil.copy(seed_db, path)
    store = await QuoteStore.open(path)
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def lookup(seed_db: Path) -> AsyncIterator[Lookup]:
    store = await QuoteStore.open(seed_db)
    found = Lookup(store)
    await found.load()
    try:
        yield found
    finally:
        await store.close()


def check(result: LookupResult) -> None:
    """What holds for every result: spans inside the text, scores in range, best first."""
    scores = [h.score for h in result.hits]
    assert all(0 <= s <= 100 for s in scores)
    for hit in result.hits:
        assert all(0 <= a < b <= len(hit.quote.text) for a, b in hit.matched)
        assert list(hit.matched) == sorted(set(hit.matched))


def _words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def words(hit: Hit) -> list[str]:
    return [hit.quote.text[a:b].lower() for a, b in hit.matched]


# -- who ------------------------------------------------------------------------------------

WHO = [
    ("hall", HALL),
    ("Hall", HALL),
    ("julia", HALL),
    ("julia hall", HALL),
    ("JULIA HALL", HALL),
    ("Julia  Hall!", HALL),
    ("jullia hal", HALL),
    ("Юлия Холл", HALL),
    ("dalhusien", DALHUISEN),
    ("dalhuisen", DALHUISEN),
    ("john dalhuisen", DALHUISEN),
    ("Далхёйзен", DALHUISEN),
    ("dalh", DALHUISEN),
    ("williamsen", WILLIAMSON),
    ("hugh williamson", WILLIAMSON),
    ("Уильямсон", WILLIAMSON),
    ("fardeau", FARDEAU),
    ("jean marie", FARDEAU),
    ("Jean-Marie Fardeau", FARDEAU),
]


@pytest.mark.parametrize(("query", "speaker"), WHO)
async def test_who_finds_the_speaker_first(lookup: Lookup, query: str, speaker: str) -> None:
    result = await lookup.who(query)
    check(result)
    assert result.title == speaker
    assert result.hits and {h.quote.speaker for h in result.hits} == {speaker}
    assert all(h.score >= NAME_THRESHOLD for h in result.hits)


ORGANISATIONS = [
    ("amnesty", AMNESTY),
    ("Amnesty International", AMNESTY),
    ("amnesty intl", AMNESTY),
    ("Международная амнистия", AMNESTY),
    ("hrw", HRW),
    ("HRW", HRW),
    ("human rights watch", HRW),
    ("Human Rights Wacth", HRW),
    ("Хьюман Райтс Вотч", HRW),
    ("Хьюман Райтс Уотч", HRW),
    ("open dialog", ODF),
    ("open dialogue", ODF),
    ("ODF", ODF),
    ("Открытый диалог", ODF),
    ("un watch", UNW),
    ("United Nations Watch", UNW),
]


@pytest.mark.parametrize(("query", "organisation"), ORGANISATIONS)
async def test_who_finds_organisations(lookup: Lookup, query: str, organisation: str) -> None:
    result = await lookup.who(query)
    check(result)
    assert result.title == organisation
    assert result.hits and {h.quote.organisation for h in result.hits} == {organisation}


@pytest.mark.parametrize("organisation", [AMNESTY, HRW])
async def test_organisation_quotes_are_grouped_by_speaker(
    lookup: Lookup, organisation: str
) -> None:
    result = await lookup.who(organisation)
    speakers = [h.quote.speaker for h in result.hits]
    assert set(speakers) == SPEAKERS_OF[organisation]
    runs = [s for i, s in enumerate(speakers) if i == 0 or speakers[i - 1] != s]
    assert len(runs) == len(set(runs))  # each speaker's quotes side by side


async def test_who_limit_and_empty(lookup: Lookup) -> None:
    assert len((await lookup.who("amnesty", limit=3)).hits) == 3
    assert (await lookup.who("")).hits == []
    assert (await lookup.who("   ")).hits == []
    assert (await lookup.who("hall", limit=0)).hits == []


# -- case -----------------------------------------------------------------------------------

CASES = [
    ("ablyazov", ABLYAZOV),
    ("Ablyazov", ABLYAZOV),
    ("ablyazv", ABLYAZOV),
    ("abliazov", ABLYAZOV),
    ("ablyasov", ABLYAZOV),
    ("Аблязов", ABLYAZOV),
    ("Мухтар Аблязов", ABLYAZOV),
    ("Әблязов", ABLYAZOV),
    ("mukhtar", ABLYAZOV),
    ("Mukhtar Ablyazov", ABLYAZOV),
    ("shalabaeva", SHALABAYEVA),
    ("shalabayeva", SHALABAYEVA),
    ("Shalabaieva", SHALABAYEVA),
    ("Шалабаева", SHALABAYEVA),
    ("Алма Шалабаева", SHALABAYEVA),
    ("alma", SHALABAYEVA),
    ("shalabyeva", SHALABAYEVA),
    ("alexander pavlov", PAVLOV),
    ("Aleksandr Pavlov", PAVLOV),
    ("pavlov", PAVLOV),
    ("павлов", PAVLOV),
    ("Александр Павлов", PAVLOV),
    ("aleksandr pavlof", PAVLOV),
]


@pytest.mark.parametrize(("query", "case"), CASES)
async def test_case_finds_the_case(lookup: Lookup, query: str, case: str) -> None:
    result = await lookup.case(query)
    check(result)
    assert result.title == case
    assert result.hits and all(case in h.quote.cases for h in result.hits)


async def test_case_returns_every_tagged_quote_with_mentions_highlighted(lookup: Lookup) -> None:
    tagged = {c.name: c.quotes for c in await lookup.store.cases()}
    for name in (ABLYAZOV, PAVLOV, SHALABAYEVA):
        assert len((await lookup.case(name)).hits) == tagged[name]
    hit = (await lookup.case("Шалабаева")).hits[0]
    assert set(words(hit)) <= {"alma", "shalabayeva"} and "shalabayeva" in words(hit)


# -- search ---------------------------------------------------------------------------------

SEARCH = [
    # (query, a snippet of the quote that must come first)
    ("fair trial", "would not get a fair trial"),
    ("risk of torture", "would not get a fair trial"),
    ("real risk of such abuse", "Aleksandr Pavlov is at real risk"),
    ("absolute obligation", "Spain has an absolute obligation"),
    ("persecutes opponents", "Kazakhstan persecutes opponents"),
    ("persecuts oponents", "Kazakhstan persecutes opponents"),
    ("forced return", "faces a real risk of forced return"),
    ("forsed retrun", "faces a real risk of forced return"),
    ("loaded on to a plane", "loaded on to a plane"),
    ("energy-rich country", "an energy-rich country"),
    ("energy rich", "an energy-rich country"),
    ("freedom of assembly", "freedom of assembly"),
    ("asylum", "granted asylum in the UK"),
    ("asylim", "granted asylum in the UK"),
    ("six-year old daughter", "six-year old daughter"),
    ("private jet", "whisked on a private jet"),
    ("privat jet", "whisked on a private jet"),
    ("deportaton procedure", "irregularities in the deportation procedure"),
    ("expulsion order", "Italian expulsion order"),
    ("trumped up charges", "trumped up charges"),
    ("trumpd up chrges", "trumped up charges"),
    ("unjustly deported", "The names of the unjustly deported"),
    ("dangerously", "dangerously been sent back"),
    ("dangrously deprted", "dangerously been sent back"),
    ("human rights advice", "in need of human rights advice"),
    ("carefully consider all the angles", "must carefully consider all the angles"),
    ("criminal police", "international criminal police"),
    ("imprisoning critics", "known for imprisoning critics"),
    ("Kazakhstani government", "in the hands ofthe Kazakhstani government"),
    ("kazakstani", "in the hands ofthe Kazakhstani government"),
    ("Аблязов asylum", "granted asylum in the UK"),
    ("ablyazov wife", "Ablyazov’s wife Alma Shalabayeva"),
    ("hall spain", "Spain has an absolute obligation"),
    ("williamson asylum", "granted asylum in the UK"),
    ("fardeau french", "The French authorities should protect"),
    ("counter-terrorism expert ukraine", "would not get a fair trial"),
]


@pytest.mark.parametrize(("query", "snippet"), SEARCH)
async def test_search_ranks_the_intended_quote_first(
    lookup: Lookup, query: str, snippet: str
) -> None:
    result = await lookup.search(query)
    check(result)
    assert result.hits, query
    assert snippet in result.hits[0].quote.text
    assert all(h.score >= SEARCH_THRESHOLD for h in result.hits)


@pytest.mark.parametrize(
    ("query", "word"),
    [("tortur", "torture"), ("kazakstan", "kazakhstan"), ("Шалабаева", "shalabayeva")],
)
async def test_single_word_typos_and_cyrillic_find_every_mention(
    lookup: Lookup, query: str, word: str
) -> None:
    result = await lookup.search(query)
    check(result)
    everywhere = [q for q in await lookup.store.quotes() if word in _words_of(q.text)]
    assert {h.quote.id for h in result.hits} == {q.id for q in everywhere}
    assert all(word in words(h) for h in result.hits)


async def test_phrases_rank_above_scattered_words(lookup: Lookup) -> None:
    hits = (await lookup.search("real risk")).hits
    together = [h for h in hits if "real risk" in h.quote.text]
    apart = [h for h in hits if "real risk" not in h.quote.text]
    assert together and apart
    assert min(h.score for h in together) > max(h.score for h in apart)


async def test_stop_words_do_not_drown_the_signal(lookup: Lookup) -> None:
    plain = (await lookup.search("torture")).hits
    padded = (await lookup.search("the torture of the and to")).hits
    assert {h.quote.id for h in padded} == {h.quote.id for h in plain}
    assert (await lookup.search("the of and")).hits  # only stop words: they count


async def test_highlight_spans_cover_the_matched_words(lookup: Lookup) -> None:
    (hit, *_) = (await lookup.search("fair trial")).hits
    assert words(hit) == ["fair", "trial"]
    (hit, *_) = (await lookup.search("Аблязов")).hits
    assert set(words(hit)) == {"ablyazov"}
    (hit, *_) = (await lookup.search("deportaton procedure")).hits
    assert words(hit) == ["deportation", "procedure"]


@pytest.mark.parametrize(
    ("query", "speakers", "snippet"),
    [
        ("fair trial case:ablyazov", {HALL, WILLIAMSON}, "would not get a fair trial"),
        ("torture who:hall", {HALL}, None),
        ("who:hall", {HALL}, None),
        ("who:dalhusien torture", {DALHUISEN}, "long record of torture"),
        ('who:"hugh williamson"', {WILLIAMSON}, None),
        ("org:hrw kazakhstan", {FARDEAU, WILLIAMSON}, None),
        ("kazakhstan org:amnesty", {HALL, DALHUISEN}, None),
        ("case:pavlov", {HALL}, "Aleksandr Pavlov"),
        ("case:Шалабаева daughter", {WILLIAMSON, DALHUISEN, UNW}, None),
        ("who:amnesty case:ablyazov", {HALL, DALHUISEN}, None),
    ],
)
async def test_filters_combine_with_text(
    lookup: Lookup, query: str, speakers: set[str], snippet: str | None
) -> None:
    result = await lookup.search(query)
    check(result)
    assert result.hits and {h.quote.speaker for h in result.hits} <= speakers
    assert result.title
    if snippet:
        assert snippet in result.hits[0].quote.text


async def test_filter_that_names_nothing_suggests_instead(lookup: Lookup) -> None:
    result = await lookup.search("torture who:zzzqqq")
    assert result.hits == []
    result = await lookup.search("torture case:hall")
    assert result.hits == []
    assert [(s.kind, s.label, s.command) for s in result.suggestions] == [("speaker", HALL, "who")]


# -- did you mean ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "query", "suggestion"),
    [
        ("who", "ablyazov", ("case", ABLYAZOV, "case", ABLYAZOV)),
        ("who", "shalabaeva", ("case", SHALABAYEVA, "case", SHALABAYEVA)),
        ("case", "hall", ("speaker", HALL, "who", HALL)),
        ("case", "amnesty", ("organisation", AMNESTY, "who", AMNESTY)),
        ("who", "fardo", ("speaker", FARDEAU, "who", FARDEAU)),
        ("search", "kzkhstn", ("word", "kazakhstan", "search", "kazakhstan")),
        ("search", "prsctes", ("word", "persecutes", "search", "persecutes")),
    ],
)
async def test_did_you_mean(
    lookup: Lookup, method: str, query: str, suggestion: tuple[str, str, str, str]
) -> None:
    result = await getattr(lookup, method)(query)
    assert result.hits == []
    got = [(s.kind, s.label, s.command, s.query) for s in result.suggestions]
    assert suggestion in got


async def test_nothing_near_gives_nothing(lookup: Lookup) -> None:
    for method in (lookup.who, lookup.case, lookup.search):
        result = await method("qqqqzzzz")
        assert result.hits == [] and result.suggestions == []


# -- random and buttons ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_text", "speakers", "case"),
    [
        ("", None, None),
        ("case:pavlov", {HALL}, PAVLOV),
        ("case:Аблязов", None, ABLYAZOV),
        ("who:hall", {HALL}, None),
        ("who:dalhusien", {DALHUISEN}, None),
        ("org:hrw", {FARDEAU, WILLIAMSON}, None),
        ("hall", {HALL}, None),
        ("shalabaeva", None, SHALABAYEVA),
        ("Human Rights Watch", {FARDEAU, WILLIAMSON}, None),
    ],
)
async def test_random_with_filters(
    lookup: Lookup, filter_text: str, speakers: set[str] | None, case: str | None
) -> None:
    rng = random.Random(3)
    for _ in range(5):
        hit = await lookup.random(filter_text, rng)
        assert hit is not None
        assert speakers is None or hit.quote.speaker in speakers
        assert case is None or case in hit.quote.cases


async def test_random_without_a_filter_reaches_every_quote(lookup: Lookup) -> None:
    rng = random.Random(5)
    drawn = set()
    for _ in range(200):
        hit = await lookup.random("", rng)
        assert hit is not None
        drawn.add(hit.quote.id)
    assert drawn == {q.id for q in await lookup.store.quotes()}


@pytest.mark.parametrize("filter_text", ["zzzqqq", "case:zzzqqq", "who:zzzqqq", "org:qqqzzz"])
async def test_random_naming_nothing_is_none(lookup: Lookup, filter_text: str) -> None:
    assert await lookup.random(filter_text, random.Random(1)) is None


async def test_find_helpers_and_buttons(lookup: Lookup) -> None:
    (speaker, score), *_ = lookup.find_speaker("dalhusien")
    assert speaker.name == DALHUISEN and score >= NAME_THRESHOLD
    (case, _), *_ = lookup.find_case("Аблязов")
    assert case.slug == "ablyazov"
    (org, _), *_ = lookup.find_organisation("hrw")
    assert org.name == HRW and org.quotes == 3
    assert lookup.find_speaker("zzzqqq") == []
    by_id = await lookup.by_speaker_id(speaker.id)
    assert by_id is not None and {h.quote.speaker for h in by_id.hits} == {DALHUISEN}
    by_case = await lookup.by_case_id(case.id)
    assert by_case is not None and len(by_case.hits) == case.quotes
    assert await lookup.by_speaker_id(10_000) is None


# -- safety ---------------------------------------------------------------------------------

NASTY = [
    '"',
    '""',
    '"torture',
    "torture*",
    "*",
    "NEAR(",
    "NEAR(torture kazakhstan, 2)",
    "-",
    "-torture",
    ":",
    "text:xyz",
    "text:torture",
    "(",
    ")",
    "(torture OR",
    "AND",
    "OR",
    "NOT",
    "torture NOT kazakhstan",
    "don't",
    "O'Brien",
    "C++",
    "100%",
    "e-mail",
    "^torture",
    "torture + kazakhstan",
    "{text}: torture",
    "🙂 torture 🇰🇿",
    "🙂",
    "\x00torture\x1b[31m",
    "tor\u200bture",
    "\ud800",
    "'; DROP TABLE quotes; --",
    "who:",
    'case:"',
    "org:(",
    "who:hall who:hall who:hall",
    "x" * 10_000,
    "torture " * 2_000,
    "а" * 300,
    "\u0301\u0301",
    "ǅ ß ﬁ Σ",
    " ",
]


@pytest.mark.parametrize("query", NASTY)
async def test_hostile_queries_answer_or_say_nothing(lookup: Lookup, query: str) -> None:
    for method in (lookup.who, lookup.case, lookup.search):
        result = await method(query)
        check(result)
    await lookup.random(query, random.Random(1))


async def test_operators_are_words_not_syntax(lookup: Lookup) -> None:
    plain = {h.quote.id for h in (await lookup.search("torture")).hits}
    for query in ("text:torture", "torture*", '"torture', "(torture)", "-torture", "^torture"):
        assert {h.quote.id for h in (await lookup.search(query)).hits} == plain, query
    hit = (await lookup.search("don't")).hits
    assert all(0 <= a < b <= len(h.quote.text) for h in hit for a, b in h.matched)


async def test_long_queries_are_cut_and_fast(lookup: Lookup) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await lookup.search("torture " * 5_000)
    assert result.hits and loop.time() - started < 2
    assert MAX_QUERY_CHARS <= 500


# -- index freshness ------------------------------------------------------------------------


async def test_new_quotes_are_found_without_a_restart(
    store_copy: QuoteStore, tmp_path: Path
) -> None:
    store = store_copy
    lookup = Lookup(store)
    await lookup.load()
    assert (await lookup.search("zanzibar")).hits == []
    doc = tmp_path / "more.txt"
    doc.write_text(
        "Zanzibar must release the journalists now.\nNew SpeakerRole at Zanzibar Watch -\n",
        encoding="utf-8",
    )
    await store.import_file(doc, await _catalog())
    assert (await lookup.search("zanzibr")).hits  # a typo of a word the index never saw
    assert (await lookup.search("zanzibar")).hits  # not the empty answer remembered before
    assert lookup.last_index is not None and lookup.last_index.rebuilt == "incremental"
    assert (await lookup.who("new speaker")).hits
    incremental = await store.run(_terms)
    await store.run(lambda conn: search_store.refresh_index(conn, force=True))
    assert await store.run(_terms) == incremental  # same as a rebuild from scratch


async def test_answers_are_remembered_until_another_connection_changes_the_quotes(
    store_copy: QuoteStore, tmp_path: Path
) -> None:
    store, path = store_copy, tmp_path / "copy.db"
    lookup = Lookup(store)
    await lookup.load()
    first = await lookup.search("opponents")
    assert first.hits and lookup.answers.hits == 0
    again = await lookup.search("  opponents ")
    assert again == first and lookup.answers.hits == 1
    assert (await lookup.who("hall")) == (await lookup.who("hall"))
    assert lookup.answers.hits == 2
    # A deeper request than the remembered one is answered in full, not cut short.
    one = await lookup.search("torture", limit=1)
    assert len(one.hits) == 1 and len((await lookup.search("torture", limit=9)).hits) > 1
    gone = first.hits[0].quote.id
    editor = sqlite3.connect(path, isolation_level=None)
    editor.execute("DELETE FROM quotes WHERE id = ?", (gone,))
    editor.close()
    after = await lookup.search("opponents")
    assert all(h.quote.id != gone for h in after.hits)


async def test_index_rebuilds_after_a_deletion_and_skips_when_current(
    store_copy: QuoteStore,
) -> None:
    store = store_copy
    state = await store.run(search_store.refresh_index)
    assert state.rebuilt == "none" and state.count == 9
    await store.run(lambda conn: conn.execute("DELETE FROM quotes WHERE id = 3"))
    state = await store.run(search_store.refresh_index)
    assert state.rebuilt == "full" and state.count == 8
    lookup = Lookup(store)
    await lookup.load()
    hits = (await lookup.search("persecutes opponents")).hits
    assert hits and all(h.quote.id != 3 for h in hits)


async def test_a_locked_database_still_answers(seed_db: Path, tmp_path: Path) -> None:
    path = tmp_path / "copy.db"
    shutil.copy(seed_db, path)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute(
        "INSERT INTO quotes (fingerprint, text, speaker_id, source_id, position) "
        "VALUES ('x', 'Zanzibar speaks.', 1, 1, 99)"
    )
    writer.execute("BEGIN IMMEDIATE")  # hold the write lock: the index cannot be refreshed
    store = await QuoteStore.open(path)
    try:
        await store.run(lambda conn: conn.execute("PRAGMA busy_timeout = 50"))
        lookup = Lookup(store)
        await lookup.load()
        assert lookup.last_index is not None and lookup.last_index.rebuilt == "skipped"
        assert (await lookup.search("zanzibar")).hits  # FTS5 itself is current
        assert (await lookup.who("hall")).hits
    finally:
        await store.close()
        writer.execute("ROLLBACK")
        writer.close()


async def _catalog() -> Catalog:
    return Catalog.load(data_file(CATALOG_FILE))


def _terms(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return sorted(conn.execute("SELECT term, key, df FROM search_terms").fetchall())


# -- properties -----------------------------------------------------------------------------


@pytest.fixture
def sync_lookup(seed_db: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Lookup]]:
    """A lookup driven from synchronous code (hypothesis examples), on its own loop."""
    loop = asyncio.new_event_loop()
    store = loop.run_until_complete(QuoteStore.open(seed_db))
    lookup = Lookup(store)
    loop.run_until_complete(lookup.load())
    try:
        yield loop, lookup
    finally:
        loop.run_until_complete(store.close())
        loop.close()


WORDS = st.sampled_from(
    [
        *_words_of("torture Kazakhstan Ablyazov Аблязов hall amnesty fair trial the ё"),
        *("who:", "case:", "org:", '"', "*", "(", ")", "-", "NEAR", "AND", "NOT", "🙂", "don't"),
    ]
)
QUERIES = st.one_of(
    st.text(max_size=200),
    st.lists(WORDS, max_size=8).map(" ".join),
    st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=8).map(" ".join),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=QUERIES)
def test_arbitrary_text_never_raises(
    sync_lookup: tuple[asyncio.AbstractEventLoop, Lookup], query: str
) -> None:
    loop, lookup = sync_lookup
    for method in (lookup.who, lookup.case, lookup.search):
        check(loop.run_until_complete(method(query, limit=20)))
    loop.run_until_complete(lookup.random(query, random.Random(0)))
