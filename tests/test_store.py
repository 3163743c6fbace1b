"""The SQLite store: seeding, stable ids, imports, rollback, migrations, unusable files."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.catalog import Catalog
from bot.corpus import parse_file
from bot.schema import MIGRATIONS, StoreError
from bot.store import QuoteStore
from bot.text import DocumentError

ABLYAZOV, PAVLOV, SHALABAYEVA = "Mukhtar Ablyazov", "Aleksandr Pavlov", "Alma Shalabayeva"
TABLES = ("organisations", "speakers", "cases", "aliases", "sources", "quotes", "quote_cases")
# sqlite_sequence holds the next AUTOINCREMENT quote id: re-seeding must not move it either.
SNAPSHOT_TABLES = (*TABLES, "sqlite_sequence")


def snapshot(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read with a separate connection."""
    conn = sqlite3.connect(path)
    try:
        return {
            t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in SNAPSHOT_TABLES
        }
    finally:
        conn.close()


async def by_text(store: QuoteStore) -> dict[str, int]:
    return {q.text: q.id for q in await store.quotes()}


async def test_seed_stores_nine_quotes_with_ids_in_source_order(seeded_store: QuoteStore) -> None:
    quotes = await seeded_store.quotes()
    assert [q.id for q in quotes] == list(range(1, 10))
    assert [q.position for q in quotes] == list(range(1, 10))
    assert {q.source for q in quotes} == {"statements.txt"}
    assert quotes[6].speaker == "Hugh Williamson"
    assert quotes[6].organisation == "Human Rights Watch"
    assert quotes[6].cases == (ABLYAZOV, SHALABAYEVA)
    assert quotes[0].text.startswith("Not only do we have fears that Ablyazov")


async def test_speakers_cases_and_stats_of_the_seed(seeded_store: QuoteStore) -> None:
    speakers = {s.name: (s.organisation, s.quotes) for s in await seeded_store.speakers()}
    assert speakers == {
        "Julia Hall": ("Amnesty International", 2),
        "John Dalhuisen": ("Amnesty International", 2),
        "Jean-Marie Fardeau": ("Human Rights Watch", 1),
        "Hugh Williamson": ("Human Rights Watch", 2),
        "Open Dialog Foundation": ("Open Dialog Foundation", 1),
        "UN Watch": ("UN Watch", 1),
    }
    cases = {(c.slug, c.name): c.quotes for c in await seeded_store.cases()}
    assert cases == {
        ("ablyazov", ABLYAZOV): 5,
        ("pavlov", PAVLOV): 1,
        ("shalabayeva", SHALABAYEVA): 3,
    }
    stats = await seeded_store.stats()
    expected = {"quotes": 9, "speakers": 6, "organisations": 4, "cases": 3, "sources": 1}
    assert {k: stats[k] for k in expected} == expected
    assert stats["schema_version"] == len(MIGRATIONS)
    assert stats["database_bytes"] > 0


async def test_one_role_per_speaker_whatever_the_apostrophe(seeded_store: QuoteStore) -> None:
    hall = [q for q in await seeded_store.quotes() if q.speaker == "Julia Hall"]
    assert len({q.speaker_id for q in hall}) == 1
    assert {q.role for q in hall} == {
        "Amnesty International’s expert on counter-terrorism and human rights"
    }


async def test_reseeding_changes_nothing(seeded_store: QuoteStore, tmp_path: Path) -> None:
    before = snapshot(tmp_path / "quotes.db")
    report = await seeded_store.seed()
    assert (report.added, report.unchanged) == (0, 9)
    assert snapshot(tmp_path / "quotes.db") == before
    assert await seeded_store.ensure_seeded() is None


async def test_a_second_document_keeps_earlier_ids(
    seeded_store: QuoteStore, catalog: Catalog, test_data: Path
) -> None:
    seed_ids = await by_text(seeded_store)
    report = await seeded_store.import_file(test_data / "second.txt", catalog)
    # The Open Dialog quote is already in the seed: it keeps its id, and is not added twice.
    assert (report.source, report.added, report.unchanged) == ("second.txt", 2, 1)
    after = await by_text(seeded_store)
    assert {t: after[t] for t in seed_ids} == seed_ids
    new_ids = sorted(set(after.values()) - set(seed_ids.values()))
    assert new_ids == [10, 11]
    # Re-seeding after the import renumbers nothing either.
    await seeded_store.seed()
    assert await by_text(seeded_store) == after
    added = {q.text: q for q in await seeded_store.get_quotes(new_ids)}
    roe = added[
        "Courts should weigh the evidence of political motivation in every extradition request."
    ]
    assert (roe.speaker, roe.organisation, roe.source) == (
        "Jane Roe",
        "Human Rights Watch",
        "second.txt",
    )
    # Julia Hall's straight-apostrophe role in the new document merges with the seed's.
    hall = added[
        "Ablyazov must not be extradited to any country where he would face an unfair trial."
    ]
    assert hall.role == "Amnesty International’s expert on counter-terrorism and human rights"
    assert [s.name for s in await seeded_store.speakers()].count("Julia Hall") == 1


async def test_import_csv_and_json_with_all_fields(
    seeded_store: QuoteStore, catalog: Catalog, test_data: Path
) -> None:
    await seeded_store.import_file(test_data / "second.csv", catalog)
    await seeded_store.import_file(test_data / "second.json", catalog)
    quotes = await seeded_store.quotes()
    assert len(quotes) == 13
    assert [q.id for q in quotes[:9]] == list(range(1, 10))
    new = {q.text: q for q in quotes if q.id > 9}
    hrw = new[
        "Shalabayeva and her daughter must be allowed to return, "
        "and the expulsion order must never be repeated."
    ]
    assert hrw.speaker == "Hugh Williamson"
    assert hrw.speaker_id == quotes[5].speaker_id  # the same person as in the seed
    assert (hrw.organisation, hrw.cases) == ("Human Rights Watch", (SHALABAYEVA,))
    assert (hrw.source, hrw.date) == ("https://www.hrw.org/news/2013/07/17", "2013-07-17")
    pavlov = new["Pavlov faces a real risk of torture if he is returned, as Spain well knows."]
    assert (pavlov.organisation, set(pavlov.cases)) == ("Amnesty International", {PAVLOV, ABLYAZOV})
    family = new["Abliazov's family has suffered enough."]
    assert (family.source, family.date) == ("second.json", None)
    assert family.cases == (ABLYAZOV, SHALABAYEVA)
    stats = await seeded_store.stats()
    assert (stats["quotes"], stats["organisations"], stats["cases"]) == (13, 4, 3)


async def test_a_bad_document_leaves_the_database_as_it_was(
    seeded_store: QuoteStore, catalog: Catalog, tmp_path: Path
) -> None:
    before = snapshot(tmp_path / "quotes.db")
    bad = tmp_path / "bad.txt"
    bad.write_text("A fine quote.\nJane RoeDirector -\nA quote nobody said.\n", encoding="utf-8")
    with pytest.raises(DocumentError, match="line 3"):
        await seeded_store.import_file(bad, catalog)
    assert snapshot(tmp_path / "quotes.db") == before


async def test_an_import_that_fails_midway_is_rolled_back(
    seeded_store: QuoteStore, catalog: Catalog, test_data: Path, tmp_path: Path
) -> None:
    before = snapshot(tmp_path / "quotes.db")
    good = parse_file(test_data / "second.txt", catalog)
    # The last record cannot be stored (SQLite has no type for it): the first ones,
    # already written inside the transaction, must go too.
    broken = dataclasses.replace(good[-1], text="Never stored.", date=object())  # type: ignore[arg-type]
    with pytest.raises(sqlite3.Error):
        await seeded_store.add_quotes([*good[:-1], broken], catalog, "second.txt")
    assert snapshot(tmp_path / "quotes.db") == before
    # The connection is still usable afterwards.
    report = await seeded_store.add_quotes(good, catalog, "second.txt")
    assert report.added == 2


async def test_migrations_are_recorded_in_user_version(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    store = await QuoteStore.open(path)
    await store.close()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert {*TABLES, "quotes_fts"} <= names
        assert conn.execute("SELECT count(*) FROM quotes").fetchone()[0] == 0
    finally:
        conn.close()


async def test_reopening_keeps_data_and_full_text_index(tmp_path: Path) -> None:
    path = tmp_path / "quotes.db"
    async with await QuoteStore.open(path) as store:
        await store.seed()
    async with await QuoteStore.open(path) as store:
        assert await store.count_quotes() == 9
        hits = await store.run(
            lambda c: [
                r[0]
                for r in c.execute(
                    "SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH ? ORDER BY rowid",
                    ("Shalabayeva",),
                )
            ]
        )
    assert hits == [7, 8, 9]


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        await QuoteStore.open(path)


async def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "quotes.db"
    with pytest.raises(StoreError, match="does not exist"):
        await QuoteStore.open(path)
    assert not (tmp_path / "no").exists()


async def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    content = b"These are my notes, not a database.\n" * 200
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not a database"):
        await QuoteStore.open(path)
    assert path.read_bytes() == content


async def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open database"):
        await QuoteStore.open(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
async def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="cannot"):
            await QuoteStore.open(locked / "quotes.db")
    finally:
        locked.chmod(0o700)


async def test_imports_index_their_new_quotes_for_full_text_search(
    seeded_store: QuoteStore, catalog: Catalog, test_data: Path
) -> None:
    report = await seeded_store.import_file(test_data / "second.txt", catalog)
    assert report.added > 0

    def check(conn: sqlite3.Connection) -> tuple[list[int], int, int]:
        conn.execute("INSERT INTO quotes_fts(quotes_fts) VALUES ('integrity-check')")
        hits = [
            r[0]
            for r in conn.execute(
                "SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH '\"extradited\"'"
            )
        ]
        indexed = conn.execute("SELECT count(*) FROM quotes_fts").fetchone()[0]
        deferred = conn.execute("SELECT count(*) FROM fts_deferred").fetchone()[0]
        return hits, indexed, deferred

    hits, indexed, deferred = await seeded_store.run(check)
    new_ids = [q.id for q in await seeded_store.quotes() if q.source == "second.txt"]
    assert new_ids and set(hits) & set(new_ids)
    assert indexed == await seeded_store.count_quotes()
    assert deferred == 0  # the import's own switch never outlives its transaction
