"""QuoteStore: the quotes database behind the bot, and reading quotes from it.

The connections and their threads are :class:`bot.connection.StoreConnection`'s (writes on
one, reads on another that never waits for a writer); each method here is one unit of work
on them. The tables are defined in ``bot/schema.py``; imports are written by
``bot/importing.py``; the search engine (``bot/search/sql.py``) and the daily stores
(``bot/daily/``) share the connections.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import publications
from bot.catalog import Catalog
from bot.connection import StoreConnection, read_unit
from bot.corpus import Quote, parse_file
from bot.importing import ImportReport, add_quotes, fingerprint
from bot.provenance_file import SourcesFile
from bot.publications import LazyPublication, PublicationColumns
from bot.schema import max_quote_id, placeholders
from bot.seed_data import CATALOG_FILE, SEED_DOCUMENT, SOURCES_FILE, data_dir

PUBLICATION_COLUMNS = ", ".join(f"p.{c.strip()}" for c in publications.COLUMNS.split(","))
QUOTE_SELECT = f"""
SELECT q.id, q.text, s.name, q.speaker_id, q.role, o.name, src.name, q.position, q.date,
       (SELECT group_concat(c.name, char(31)) FROM
           (SELECT c.name FROM quote_cases qc JOIN cases c ON c.id = qc.case_id
            WHERE qc.quote_id = q.id ORDER BY c.id) AS c),
       {PUBLICATION_COLUMNS},
       q.withdrawn_at,
       (SELECT reason FROM quote_changes ch WHERE ch.quote_id = q.id AND ch.action = 'withdraw'
        ORDER BY ch.id DESC LIMIT 1),
       (SELECT max(at) FROM quote_changes ch WHERE ch.quote_id = q.id AND ch.action = 'correct')
FROM quotes q
JOIN speakers s ON s.id = q.speaker_id
JOIN sources src ON src.id = q.source_id
LEFT JOIN organisations o ON o.id = q.organisation_id
LEFT JOIN publications p ON p.id = q.publication_id
"""


_PUBLICATION_END = 10 + len(publications.COLUMNS.split(","))


@dataclass(frozen=True)
class Withdrawal:
    at: str  # ISO 8601 UTC
    reason: str


@dataclass(frozen=True)
class StoredQuote:
    id: int
    text: str
    speaker: str
    speaker_id: int
    role: str
    organisation: str | None
    source: str
    position: int
    date: str | None
    cases: tuple[str, ...]
    # Where the statement was published (bot.provenance); UNKNOWN until a record says more.
    # Read from the database, it is built on first use (see LazyPublication).
    publication: LazyPublication = LazyPublication()  # noqa: RUF009 (a descriptor-typed field)
    # Corrections (bot/corrections.py): when and why it was withdrawn (a withdrawn quote is
    # only ever shown as such), and when it was last corrected (shown in its views).
    withdrawn: Withdrawal | None = None
    corrected_at: str | None = None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredQuote:
        quote_id, text, speaker, speaker_id, role, org, source, position, date, cases = row[:10]
        withdrawn_at, withdrawn_reason, corrected_at = row[_PUBLICATION_END:]
        return cls(
            quote_id,
            text,
            speaker,
            speaker_id,
            role,
            org,
            source,
            position,
            date,
            tuple(cases.split("\x1f")) if cases else (),
            PublicationColumns(tuple(row[10:_PUBLICATION_END])),
            Withdrawal(withdrawn_at, withdrawn_reason or "") if withdrawn_at else None,
            corrected_at,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "speaker": self.speaker,
            "role": self.role,
            "organisation": self.organisation,
            "cases": list(self.cases),
            "source": self.source,
            "position": self.position,
            "date": self.date,
            "publication": self.publication.as_dict(),
            "withdrawn": (
                {"at": self.withdrawn.at, "reason": self.withdrawn.reason}
                if self.withdrawn
                else None
            ),
            "corrected_at": self.corrected_at,
        }


@dataclass(frozen=True)
class SpeakerRow:
    id: int
    name: str
    role: str
    organisation: str | None
    quotes: int


@dataclass(frozen=True)
class CaseRow:
    id: int
    slug: str
    name: str
    quotes: int


def _seed_quotes(data_dir: Path) -> tuple[Catalog, list[Quote]]:
    """The seed document's statements, each with its publication from ``sources.toml``."""
    catalog = Catalog.load(data_dir / CATALOG_FILE)
    quotes = parse_file(data_dir / SEED_DOCUMENT, catalog)
    sources = data_dir / SOURCES_FILE
    if sources.is_file():
        quotes = SourcesFile.load(sources).apply(quotes)
    return catalog, quotes


def _has_quotes(conn: sqlite3.Connection) -> bool:
    """Whether any quote is stored: cheap at any size, unlike ``count(*)`` (1.3 s at 1M)."""
    return bool(conn.execute("SELECT EXISTS (SELECT 1 FROM quotes)").fetchone()[0])


def _count_quotes(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM quotes").fetchone()[0])


def _quotes(conn: sqlite3.Connection, limit: int = -1, offset: int = 0) -> list[StoredQuote]:
    sql = QUOTE_SELECT + " ORDER BY q.source_id, q.position, q.id LIMIT ? OFFSET ?"
    return _fetch_quotes(conn, sql, (limit, offset))


def _get_quote(conn: sqlite3.Connection, quote_id: int) -> StoredQuote | None:
    """Quote ``quote_id`` to show in a list or offer (None when withdrawn)."""
    found = fetch_quotes_by_id(conn, [quote_id])
    return found[0] if found else None


def _get_quote_record(conn: sqlite3.Connection, quote_id: int) -> StoredQuote | None:
    """Quote ``quote_id`` even when withdrawn (``/quote N``, deep links, ``/history``), so
    that an old citation gets "withdrawn on …" rather than "no such quote"."""
    found = fetch_quotes_by_id(conn, [quote_id], withdrawn=True)
    return found[0] if found else None


def stored_speaker_names(path: Path) -> list[str]:
    """The speakers already in the database at ``path``, read without creating, migrating or
    locking it (empty when there is no such database yet): an import checks its document
    against them before it opens the store for writing."""
    if str(path) == ":memory:" or not path.is_file():
        return []
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return []
    try:
        return [name for (name,) in conn.execute("SELECT name FROM speakers")]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def _fetch_quotes(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[StoredQuote]:
    return [StoredQuote.from_row(row) for row in conn.execute(sql, params)]


def fetch_quotes_by_id(
    conn: sqlite3.Connection, ids: Sequence[int], *, withdrawn: bool = False
) -> list[StoredQuote]:
    """Quotes by id, in the order of ``ids`` (missing ids are skipped). Withdrawn quotes are
    skipped too unless ``withdrawn``: every search, page, rotation and inline answer fetches
    its quotes here, so a withdrawn quote leaves them all at once."""
    if not ids:
        return []
    found: dict[int, StoredQuote] = {}
    live = "" if withdrawn else " AND q.withdrawn_at IS NULL"
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        sql = QUOTE_SELECT + f" WHERE q.id IN ({placeholders(chunk)}){live}"
        found.update((q.id, q) for q in _fetch_quotes(conn, sql, chunk))
    return [found[i] for i in ids if i in found]


def _speakers(conn: sqlite3.Connection) -> list[SpeakerRow]:
    rows = conn.execute(
        """SELECT s.id, s.name, s.role, o.name,
                  (SELECT count(*) FROM quotes q
                   WHERE q.speaker_id = s.id AND q.withdrawn_at IS NULL) AS n
           FROM speakers s LEFT JOIN organisations o ON o.id = s.organisation_id
           WHERE n > 0 ORDER BY o.name IS NULL, o.name, s.name"""
    )
    return [SpeakerRow(*row) for row in rows]


def _cases(conn: sqlite3.Connection) -> list[CaseRow]:
    rows = conn.execute(
        """SELECT c.id, c.slug, c.name,
                  (SELECT count(*) FROM quote_cases qc JOIN quotes q ON q.id = qc.quote_id
                   WHERE qc.case_id = c.id AND q.withdrawn_at IS NULL)
           FROM cases c ORDER BY c.name"""
    )
    return [CaseRow(*row) for row in rows]


def _random_quote_id(
    conn: sqlite3.Connection,
    *,
    speaker_ids: Iterable[int] = (),
    case_ids: Iterable[int] = (),
    rng: random.Random | None = None,
) -> int | None:
    speaker_ids, case_ids, rng = tuple(speaker_ids), tuple(case_ids), rng or random.Random()
    where: list[str] = ["withdrawn_at IS NULL"]
    params: list[Any] = []
    if speaker_ids:
        where.append(f"speaker_id IN ({placeholders(speaker_ids)})")
        params.extend(speaker_ids)
    if case_ids:
        where.append(
            f"id IN (SELECT quote_id FROM quote_cases WHERE case_id IN ({placeholders(case_ids)}))"
        )
        params.extend(case_ids)
    if len(where) == 1:
        # No filter: a random point in the id range, not count(*) and OFFSET (both read
        # every row: up to 180 ms at 1M quotes, on the connection every lookup shares).
        top = max_quote_id(conn)
        if not top:
            return None
        start = rng.randint(1, top)
        row = (
            conn.execute(
                "SELECT id FROM quotes WHERE id >= ? AND withdrawn_at IS NULL ORDER BY id LIMIT 1",
                (start,),
            ).fetchone()
            or conn.execute(  # only withdrawn quotes from there on: wrap around
                "SELECT id FROM quotes WHERE withdrawn_at IS NULL ORDER BY id LIMIT 1"
            ).fetchone()
        )
        return int(row[0]) if row else None
    clause = " WHERE " + " AND ".join(where)
    count = conn.execute(f"SELECT count(*) FROM quotes{clause}", params).fetchone()[0]
    if not count:
        return None
    row = conn.execute(
        f"SELECT id FROM quotes{clause} ORDER BY id LIMIT 1 OFFSET ?",
        (*params, rng.randrange(count)),
    ).fetchone()
    return int(row[0])


def _stats(conn: sqlite3.Connection) -> dict[str, int]:
    def count(table: str) -> int:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    return {
        "quotes": count("quotes"),
        "speakers": int(
            conn.execute("SELECT count(DISTINCT speaker_id) FROM quotes").fetchone()[0]
        ),
        "organisations": int(
            conn.execute("SELECT count(DISTINCT organisation_id) FROM quotes").fetchone()[0]
        ),
        "cases": int(conn.execute("SELECT count(DISTINCT case_id) FROM quote_cases").fetchone()[0]),
        "sources": count("sources"),
        "schema_version": int(conn.execute("PRAGMA user_version").fetchone()[0]),
        "database_bytes": int(page_size * pages),
    }


class QuoteStore(StoreConnection):
    """The quotes database. Use ``await QuoteStore.open(path)`` and ``await store.close()``."""

    # -- writing --------------------------------------------------------------------------

    async def add_quotes(
        self, quotes: Iterable[Quote], catalog: Catalog, source: str, *, dry_run: bool = False
    ) -> ImportReport:
        """Add quotes in one transaction; existing ones (same speaker and text) keep their id.
        ``dry_run``: report what would be created, write nothing."""
        return await self.run(add_quotes, quotes, catalog, source, dry_run=dry_run)

    async def import_file(
        self, path: Path, catalog: Catalog, source: str | None = None
    ) -> ImportReport:
        quotes = parse_file(path, catalog, source)  # raises before anything is written
        return await self.add_quotes(quotes, catalog, source or path.name)

    async def seed(self, folder: Path | None = None) -> ImportReport:
        """Load the seed statements with their provenance (``sources.toml``, when present):
        idempotent, ids never change; the provenance file's facts replace what the seed
        statements had, so re-seeding an older database gives it the facts too."""
        catalog, quotes = _seed_quotes(folder or data_dir())  # raises before any write
        return await self.run(add_quotes, quotes, catalog, SEED_DOCUMENT, True)

    async def ensure_seeded(self, folder: Path | None = None) -> ImportReport | None:
        """Seed from ``folder`` (default: the shipped data) when the store holds no quotes,
        so nobody has to run seed.

        A store that has quotes gets the seed's provenance for those seed statements it
        holds without any record (a database from before source records); nothing else
        changes and nothing is added.
        """
        if not await self.has_quotes():
            return await self.seed(folder)
        folder = folder or data_dir()
        if (folder / SOURCES_FILE).is_file():
            _, quotes = _seed_quotes(folder)
            records = [(fingerprint(q), q.publication) for q in quotes]
            await self.run(publications.fill_missing_publications, records)
        return None

    # -- reading --------------------------------------------------------------------------

    has_quotes = read_unit(_has_quotes)
    count_quotes = read_unit(_count_quotes)
    quotes = read_unit(_quotes)
    get_quote = read_unit(_get_quote)
    get_quote_record = read_unit(_get_quote_record)
    get_quotes = read_unit(fetch_quotes_by_id)
    speakers = read_unit(_speakers)
    cases = read_unit(_cases)
    random_quote_id = read_unit(_random_quote_id)
    stats = read_unit(_stats)
