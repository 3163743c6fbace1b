"""Source records: the seed's provenance file applied by seed, stored, and fetched back."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.corpus import DocumentError
from bot.provenance import UNKNOWN, Status
from bot.seed_data import SOURCES_FILE, data_file
from bot.store import QuoteStore, StoredQuote

SHARED_FILE = Path("/work/shared/provenance/seed-sources.toml")


def provenance_files() -> list[Path]:
    """The shipped file always; the shared research file too where this checkout has it."""
    return [data_file(SOURCES_FILE)] + ([SHARED_FILE] if SHARED_FILE.is_file() else [])


def expected_facts(path: Path) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    """The compilation and each numbered statement's facts, read with plain tomllib."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return data["compilation"], {entry["n"]: entry for entry in data["quote"]}


def as_fields(quote: StoredQuote) -> dict[str, Any]:
    pub = quote.publication
    return {
        "status": pub.status.value,
        "publisher": pub.publisher,
        "kind": pub.kind,
        "title": pub.title,
        "date": pub.published.iso() if pub.published else "",
        "url": pub.url,
        "context": pub.context,
        "note": pub.note,
    }


@pytest.mark.parametrize("path", provenance_files(), ids=lambda p: p.name)
async def test_the_nine_seed_quotes_carry_exactly_the_files_facts(
    seeded_store: QuoteStore, path: Path
) -> None:
    compilation, facts = expected_facts(path)
    quotes = await seeded_store.quotes()
    assert len(quotes) == 9 == len(facts)
    for quote in quotes:
        entry = facts[quote.position]
        assert quote.text.replace("’", "'").startswith(entry["starts"].replace("’", "'"))
        wanted = {
            name: entry.get(name, "")
            for name in ("status", "publisher", "kind", "title", "date", "url", "context", "note")
        }
        assert as_fields(quote) == wanted, quote.id
        comp = quote.publication.compilation
        assert comp is not None
        assert (comp.title, comp.publisher, comp.url) == (
            compilation["title"],
            compilation["publisher"],
            compilation["url"],
        )
    unknown = [q for q in quotes if q.publication.status is Status.UNKNOWN]
    assert [q.id for q in unknown] == [3, 4]
    for quote in unknown:  # nothing but the compilation
        assert as_fields(quote) == dict.fromkeys(as_fields(quote), "") | {"status": "unknown"}
    assert quotes[1].publication.title == ""  # never invented
    assert quotes[4].publication.published is not None
    assert quotes[4].publication.published.iso() == "2013-08"  # never padded to a day


def test_the_shipped_file_is_the_shared_file() -> None:
    if not SHARED_FILE.is_file():
        pytest.skip("the shared provenance research file is not in this checkout")
    assert (data_file(SOURCES_FILE)).read_text(encoding="utf-8") == SHARED_FILE.read_text(
        encoding="utf-8"
    )


async def test_reseeding_changes_no_id_and_no_record(seeded_store: QuoteStore) -> None:
    before = await seeded_store.quotes()
    report = await seeded_store.seed()
    assert report.added == 0
    assert await seeded_store.quotes() == before
    count = await seeded_store.run(
        lambda c: c.execute("SELECT count(*) FROM publications").fetchone()[0]
    )
    assert count == 8  # 3 and 4 share "compilation only"; 6 and 7 differ by the note on 6


async def test_an_older_database_gets_the_facts_on_upgrade(tmp_path: Path) -> None:
    # Build the v5 database, then take it back to v4 the way SQLite would have had it.
    path = tmp_path / "old.db"
    store = await QuoteStore.open(path)
    await store.seed()
    ids = {q.text: q.id for q in await store.quotes()}
    await store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX quotes_withdrawn")  # v9
    for later in ("chat_languages", "reports", "quote_changes"):  # v8's and v7's tables
        conn.execute(f"DROP TABLE {later}")
    conn.execute("ALTER TABLE quotes DROP COLUMN withdrawn_at")  # v7's column
    for later in ("result_lists", "chat_hints"):  # v6's tables
        conn.execute(f"DROP TABLE {later}")
    conn.execute("DROP INDEX quotes_by_publication")
    conn.execute("ALTER TABLE quotes DROP COLUMN publication_id")
    conn.execute("DROP TABLE publications")
    conn.execute("PRAGMA user_version = 4")
    conn.close()

    store = await QuoteStore.open(path)  # migrates to v5: nothing recorded yet
    try:
        assert all(q.publication == UNKNOWN for q in await store.quotes())
        assert await store.ensure_seeded() is None  # what every start does
        quotes = await store.quotes()
        assert {q.text: q.id for q in quotes} == ids
        assert quotes[0].publication.publisher == "Amnesty International"
        assert quotes[2].publication.compilation is not None
    finally:
        await store.close()


async def test_seed_on_an_upgraded_database_applies_the_facts(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = await QuoteStore.open(path)
    await store.seed()
    await store.run(lambda c: c.execute("UPDATE quotes SET publication_id = NULL"))
    assert all(q.publication == UNKNOWN for q in await store.quotes())
    report = await store.seed()
    assert report.added == 0
    quotes = await store.quotes()
    assert quotes[5].publication.url.startswith("https://www.hrw.org/")
    await store.close()


async def test_an_import_without_source_fields_records_nothing(
    seeded_store: QuoteStore, test_data: Path, catalog: Any
) -> None:
    await seeded_store.import_file(test_data / "second.txt", catalog)
    new = [q for q in await seeded_store.quotes() if q.source == "second.txt"]
    assert new
    assert all(q.publication == UNKNOWN for q in new)  # no compilation borrowed from the seed


def write_data(tmp_path: Path, sources: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("statements.txt", "catalog.toml"):
        shutil.copy(data_file(name), data / name)
    (data / SOURCES_FILE).write_text(sources, encoding="utf-8")
    return data


@pytest.mark.parametrize(
    ("entry", "line", "reason"),
    [
        ('starts = "Nobody ever said this"\nstatus = "unknown"', 3, "matches no statement"),
        ('starts = "Kazakhstan"\nstatus = "unknown"', 3, "matches 3 statements"),
        ('starts = "Not only do we have fears"\ndate = "2014-1-9"', 3, "bad date"),
        ('starts = "Not only do we have fears"\ndate = "2014-02-30"', 3, "no such day"),
        ('starts = "Not only do we have fears"\nurl = "ftp://x.org/a"', 3, "bad URL"),
        ('starts = "Not only do we have fears"\nstatus = "maybe"', 3, "status 'maybe'"),
        ('starts = "Not only do we have fears"\nstatus = "verified"', 3, "needs its publisher"),
        ('starts = "Not only do we have fears"\npublsher = "AI"', 3, "unknown field(s)"),
    ],
)
async def test_a_bad_provenance_file_is_refused_with_its_line_and_nothing_written(
    tmp_path: Path, entry: str, line: int, reason: str
) -> None:
    data = write_data(tmp_path, f"# facts\n\n[[quote]]\n{entry}\n")
    store = await QuoteStore.open(tmp_path / "q.db")
    try:
        with pytest.raises(DocumentError) as caught:
            await store.seed(data)
        assert caught.value.source.endswith(SOURCES_FILE)
        assert caught.value.line == line
        assert reason in caught.value.reason
        assert not await store.has_quotes()
    finally:
        await store.close()


async def test_a_seed_without_a_provenance_file_still_seeds(tmp_path: Path) -> None:
    data = write_data(tmp_path, "")
    (data / SOURCES_FILE).unlink()
    store = await QuoteStore.open(tmp_path / "q.db")
    try:
        await store.seed(data)
        assert all(q.publication == UNKNOWN for q in await store.quotes())
    finally:
        await store.close()


def test_the_command_line_prints_each_quotes_source(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.__main__ import main

    db = str(isolated_env / "cli.db")
    assert main(["quotes", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "    Source: Amnesty International · news · Aug 2013 <https://www.amnesty.org/" in out
    assert "    Source: compilation on mukhtarablyazov.org — original not found <https://" in out
    assert main(["quotes", "--db", db, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[4]["publication"]["published"] == "2013-08"
    assert listed[3]["publication"]["status"] == "unknown"
    assert listed[3]["publication"]["compilation"]["title"] == "World reacts - NGOs"
