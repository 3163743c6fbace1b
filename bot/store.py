"""QuoteStore: the SQLite database behind the bot.

One aiosqlite connection (WAL) is the single writer. Every unit of work (a lookup, an
import) runs as one synchronous function in the connection's thread via :meth:`QuoteStore.run`:
one thread hop per unit instead of one per statement. All SQL lives here and in the
feature stores that share this connection (see ``bot/subscriptions.py``).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.corpus import Catalog, Quote, key, parse_file, slugify
from bot.provenance import UNKNOWN, Compilation, PartialDate, Publication, Status
from bot.provenance_file import SourcesFile

T = TypeVar("T")
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SEED_DOCUMENT = "statements.txt"
CATALOG_FILE = "catalog.toml"
SOURCES_FILE = "sources.toml"  # the seed's provenance (bot/provenance_file.py)


class StoreError(RuntimeError):
    """The database cannot be opened or used; the message says why, for a person."""


# Each migration runs in its own transaction together with its user_version bump.
# Append only: a released migration is never edited.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """CREATE TABLE organisations (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, key TEXT NOT NULL UNIQUE)""",
        """CREATE TABLE speakers (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, key TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL DEFAULT '',
            organisation_id INTEGER REFERENCES organisations(id))""",
        """CREATE TABLE cases (
            id INTEGER PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL UNIQUE)""",
        """CREATE TABLE aliases (
            kind TEXT NOT NULL CHECK (kind IN ('organisation', 'case', 'speaker')),
            target_id INTEGER NOT NULL, alias TEXT NOT NULL,
            PRIMARY KEY (kind, target_id, alias)) WITHOUT ROWID""",
        """CREATE TABLE sources (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            added_at TEXT NOT NULL DEFAULT (datetime('now')))""",
        """CREATE TABLE quotes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            fingerprint TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            speaker_id INTEGER NOT NULL REFERENCES speakers(id),
            role TEXT NOT NULL DEFAULT '',
            organisation_id INTEGER REFERENCES organisations(id),
            source_id INTEGER NOT NULL REFERENCES sources(id),
            position INTEGER NOT NULL,
            date TEXT)""",
        "CREATE INDEX quotes_by_speaker ON quotes(speaker_id, id)",
        "CREATE INDEX quotes_by_organisation ON quotes(organisation_id, id)",
        "CREATE INDEX quotes_by_source ON quotes(source_id, position)",
        """CREATE TABLE quote_cases (
            case_id INTEGER NOT NULL REFERENCES cases(id),
            quote_id INTEGER NOT NULL REFERENCES quotes(id),
            PRIMARY KEY (case_id, quote_id)) WITHOUT ROWID""",
        "CREATE INDEX quote_cases_by_quote ON quote_cases(quote_id)",
        """CREATE VIRTUAL TABLE quotes_fts USING fts5(
            text, content='quotes', content_rowid='id',
            tokenize="unicode61 remove_diacritics 2")""",
        """CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes BEGIN
            INSERT INTO quotes_fts(rowid, text) VALUES (new.id, new.text); END""",
        """CREATE TRIGGER quotes_fts_delete AFTER DELETE ON quotes BEGIN
            INSERT INTO quotes_fts(quotes_fts, rowid, text) VALUES ('delete', old.id, old.text);
            END""",
        """CREATE TRIGGER quotes_fts_update AFTER UPDATE OF text ON quotes BEGIN
            INSERT INTO quotes_fts(quotes_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO quotes_fts(rowid, text) VALUES (new.id, new.text); END""",
    ),
    # v2: daily quote subscriptions and their per-(chat, local date) delivery records
    # (bot/deliveries.py explains the protocol).
    (
        """CREATE TABLE daily_subscriptions (
            chat_id INTEGER PRIMARY KEY,
            chat_type TEXT NOT NULL,
            at TEXT NOT NULL,
            timezone TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'off')),
            reason TEXT NOT NULL DEFAULT '',
            next_date TEXT NOT NULL,
            next_due REAL NOT NULL,
            updated_at REAL NOT NULL,
            updated_by INTEGER NOT NULL DEFAULT 0)""",
        """CREATE INDEX daily_subscriptions_due ON daily_subscriptions(next_due)
            WHERE status = 'active'""",
        """CREATE TABLE daily_deliveries (
            chat_id INTEGER NOT NULL,
            local_date TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN
                ('claimed', 'sending', 'sent', 'retry', 'doubt', 'failed', 'moved')),
            quote_id INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1,
            lease_until REAL NOT NULL DEFAULT 0,
            retry_at REAL,
            message_id INTEGER,
            error TEXT NOT NULL DEFAULT '',
            claimed_at REAL NOT NULL,
            finished_at REAL,
            PRIMARY KEY (chat_id, local_date)) WITHOUT ROWID""",
        """CREATE TABLE daily_rotation (
            chat_id INTEGER NOT NULL,
            quote_id INTEGER NOT NULL,
            cycle INTEGER NOT NULL,
            sent_at REAL NOT NULL,
            PRIMARY KEY (chat_id, quote_id)) WITHOUT ROWID""",
        """CREATE TABLE daily_runs (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            finished_at REAL,
            source TEXT NOT NULL,
            report TEXT NOT NULL DEFAULT '{}')""",
    ),
    # Lookup engine: persisted vocabulary and typo (deletion) index (bot/search_store.py).
    (
        """CREATE TABLE search_terms (
            id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE, key TEXT NOT NULL,
            df INTEGER NOT NULL)""",
        "CREATE INDEX search_terms_by_key ON search_terms(key)",
        """CREATE TABLE search_deletes (
            variant TEXT NOT NULL, term_id INTEGER NOT NULL,
            PRIMARY KEY (variant, term_id)) WITHOUT ROWID""",
        """CREATE TABLE search_state (
            name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID""",
    ),
    # Imports index their new rows in one INSERT … SELECT at the end of their transaction
    # (see _add_quotes): the per-row trigger made a large import 2.5x slower. The trigger
    # stays for any other insert; an import silences it with a row in fts_deferred that
    # only its own transaction ever sees.
    (
        "CREATE TABLE fts_deferred (flag INTEGER PRIMARY KEY)",
        "DROP TRIGGER quotes_fts_insert",
        """CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes
            WHEN NOT EXISTS (SELECT 1 FROM fts_deferred) BEGIN
            INSERT INTO quotes_fts(rowid, text) VALUES (new.id, new.text); END""",
    ),
    # v5: where each statement was published (bot/provenance.py). One row per distinct
    # record, shared by every quote that cites it (a large import citing one report stores
    # it once); ``record_key`` is the digest of all its fields, for that sharing. A quote
    # with no row is "unknown, nothing recorded". ``published`` is the partial ISO date
    # (YYYY, YYYY-MM or YYYY-MM-DD), '' when unknown; the compilation is inline: one LEFT
    # JOIN on an integer key is all a fetch pays.
    (
        """CREATE TABLE publications (
            id INTEGER PRIMARY KEY,
            record_key TEXT NOT NULL UNIQUE,
            status TEXT NOT NULL CHECK (status IN ('verified', 'likely', 'unknown')),
            publisher TEXT NOT NULL DEFAULT '',
            title TEXT NOT NULL DEFAULT '',
            kind TEXT NOT NULL DEFAULT '',
            url TEXT NOT NULL DEFAULT '',
            published TEXT NOT NULL DEFAULT '',
            compilation_title TEXT NOT NULL DEFAULT '',
            compilation_publisher TEXT NOT NULL DEFAULT '',
            compilation_url TEXT NOT NULL DEFAULT '',
            context TEXT NOT NULL DEFAULT '',
            note TEXT NOT NULL DEFAULT '')""",
        "ALTER TABLE quotes ADD COLUMN publication_id INTEGER REFERENCES publications(id)",
        "CREATE INDEX quotes_by_publication ON quotes(publication_id)",
    ),
]

QUOTE_SELECT = """
SELECT q.id, q.text, s.name, q.speaker_id, q.role, o.name, src.name, q.position, q.date,
       (SELECT group_concat(c.name, char(31)) FROM
           (SELECT c.name FROM quote_cases qc JOIN cases c ON c.id = qc.case_id
            WHERE qc.quote_id = q.id ORDER BY c.id) AS c),
       p.status, p.publisher, p.title, p.kind, p.url, p.published,
       p.compilation_title, p.compilation_publisher, p.compilation_url, p.context, p.note
FROM quotes q
JOIN speakers s ON s.id = q.speaker_id
JOIN sources src ON src.id = q.source_id
LEFT JOIN organisations o ON o.id = q.organisation_id
LEFT JOIN publications p ON p.id = q.publication_id
"""


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
    publication: Publication = UNKNOWN

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredQuote:
        quote_id, text, speaker, speaker_id, role, org, source, position, date, cases = row[:10]
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
            publication_from_row(tuple(row[10:])),
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
        }


def publication_columns(publication: Publication) -> tuple[str, ...]:
    """The ``publications`` columns from status to note, in QUOTE_SELECT's order."""
    compilation = publication.compilation or Compilation("", "", "")
    return (
        publication.status.value,
        publication.publisher,
        publication.title,
        publication.kind,
        publication.url,
        publication.published.iso() if publication.published else "",
        compilation.title,
        compilation.publisher,
        compilation.url,
        publication.context,
        publication.note,
    )


@lru_cache(maxsize=1024)
def publication_from_row(columns: tuple[Any, ...]) -> Publication:
    """The :class:`Publication` of QUOTE_SELECT's publication columns (all NULL: UNKNOWN).

    Cached: a page of results usually cites a handful of records, so a fetch of many quotes
    builds each record once."""
    if not columns or columns[0] is None:
        return UNKNOWN
    status, publisher, title, kind, url, published, c_title, c_publisher, c_url, context, note = (
        columns
    )
    compilation = None
    if c_title or c_publisher or c_url:
        compilation = Compilation(c_title, c_publisher, c_url)
    return Publication(
        status=Status(status),
        publisher=publisher,
        title=title,
        kind=kind,
        url=url,
        published=PartialDate.parse(published) if published else None,
        compilation=compilation,
        context=context,
        note=note,
    )


def publication_id(conn: sqlite3.Connection, publication: Publication) -> int | None:
    """The row recording ``publication`` (added if new); None for UNKNOWN (no row at all)."""
    if publication == UNKNOWN:
        return None
    columns = publication_columns(publication)
    record_key = hashlib.blake2b("\x1f".join(columns).encode(), digest_size=16).hexdigest()
    row = conn.execute("SELECT id FROM publications WHERE record_key = ?", (record_key,)).fetchone()
    if row:
        return int(row[0])
    names = "status, publisher, title, kind, url, published, compilation_title, " + (
        "compilation_publisher, compilation_url, context, note"
    )
    return int(
        conn.execute(
            f"INSERT INTO publications (record_key, {names}) VALUES (?, {placeholders(columns)})",
            (record_key, *columns),
        ).lastrowid
        or 0
    )


def set_publication(conn: sqlite3.Connection, quote_id: int, publication: Publication) -> None:
    """Link quote ``quote_id`` to ``publication`` (UNKNOWN unlinks it). Call inside a
    transaction."""
    conn.execute(
        "UPDATE quotes SET publication_id = ? WHERE id = ?",
        (publication_id(conn, publication), quote_id),
    )


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


@dataclass(frozen=True)
class ImportReport:
    source: str
    added: int
    unchanged: int


def fingerprint(quote: Quote) -> str:
    return hashlib.blake2b(quote.fingerprint.encode(), digest_size=12).hexdigest()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any exception: all or nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    conn.execute("COMMIT")


class QuoteStore:
    """The quotes database. Use ``await QuoteStore.open(path)`` and ``await store.close()``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> QuoteStore:
        path = Path(path)
        if str(path) != ":memory:" and not path.expanduser().parent.is_dir():
            raise StoreError(f"cannot open database {path}: directory {path.parent} does not exist")
        try:
            db = await aiosqlite.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from None
        store = cls(db, path)
        try:
            await store.run(_configure)
            await store.run(migrate)
        except sqlite3.DatabaseError as exc:
            await db.close()
            raise StoreError(f"cannot use database {path}: {exc}") from None
        except BaseException:
            await db.close()  # an open connection's thread would keep the process alive
            raise
        return store

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> QuoteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in the connection's thread as one unit of work.

        aiosqlite has no public hook for this; ``_execute`` has been stable since 0.17 and
        saves a thread hop per statement on hot paths such as lookups.
        """
        db = self._db
        return await db._execute(fn, db._conn, *args)  # type: ignore[no-untyped-call,no-any-return]

    # -- writing --------------------------------------------------------------------------

    async def add_quotes(
        self, quotes: Sequence[Quote], catalog: Catalog, source: str
    ) -> ImportReport:
        """Add quotes in one transaction; existing ones (same speaker and text) keep their id."""
        return await self.run(_add_quotes, quotes, catalog, source)

    async def import_file(
        self, path: Path, catalog: Catalog, source: str | None = None
    ) -> ImportReport:
        quotes = parse_file(path, catalog, source)  # raises before anything is written
        return await self.add_quotes(quotes, catalog, source or path.name)

    async def seed(self, data_dir: Path = DATA_DIR) -> ImportReport:
        """Load the seed statements with their provenance (``sources.toml``, when present):
        idempotent, ids never change; the provenance file's facts replace what the seed
        statements had, so re-seeding an older database gives it the facts too."""
        catalog, quotes = _seed_quotes(data_dir)
        return await self.run(_add_quotes, quotes, catalog, SEED_DOCUMENT, True)

    async def ensure_seeded(self, data_dir: Path = DATA_DIR) -> ImportReport | None:
        """Seed from ``data_dir`` when the store holds no quotes, so nobody has to run seed.

        A store that has quotes gets the seed's provenance for those seed statements it
        holds without any record (a database from before source records): nothing is added.
        """
        if not await self.has_quotes():
            return await self.seed(data_dir)
        if (data_dir / SOURCES_FILE).is_file():
            _, quotes = _seed_quotes(data_dir)
            await self.run(_fill_missing_publications, quotes)
        return None

    # -- reading --------------------------------------------------------------------------

    async def has_quotes(self) -> bool:
        """Whether any quote is stored: cheap at any size, unlike ``count(*)`` (1.3 s at 1M)."""
        return await self.run(
            lambda c: bool(c.execute("SELECT EXISTS (SELECT 1 FROM quotes)").fetchone()[0])
        )

    async def count_quotes(self) -> int:
        return await self.run(lambda c: c.execute("SELECT count(*) FROM quotes").fetchone()[0])

    async def quotes(self, limit: int = -1, offset: int = 0) -> list[StoredQuote]:
        sql = QUOTE_SELECT + " ORDER BY q.source_id, q.position, q.id LIMIT ? OFFSET ?"
        return await self.run(_fetch_quotes, sql, (limit, offset))

    async def get_quote(self, quote_id: int) -> StoredQuote | None:
        found = await self.get_quotes([quote_id])
        return found[0] if found else None

    async def get_quotes(self, ids: Sequence[int]) -> list[StoredQuote]:
        return await self.run(fetch_quotes_by_id, ids)

    async def speakers(self) -> list[SpeakerRow]:
        return await self.run(_speakers)

    async def cases(self) -> list[CaseRow]:
        return await self.run(_cases)

    async def random_quote_id(
        self,
        *,
        speaker_ids: Iterable[int] = (),
        case_ids: Iterable[int] = (),
        rng: random.Random | None = None,
    ) -> int | None:
        return await self.run(
            _random_quote_id, tuple(speaker_ids), tuple(case_ids), rng or random.Random()
        )

    async def stats(self) -> dict[str, int]:
        return await self.run(_stats)


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    # 64 MiB of page cache instead of SQLite's 2 MiB: random B-tree inserts (fingerprints,
    # FTS5 segments) on a large import, and hot quote pages for lookups.
    conn.execute("PRAGMA cache_size=-65536")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to the latest version; each migration is one transaction."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StoreError(f"the database schema (v{version}) is newer than this quotebot")
    for number, statements in enumerate(MIGRATIONS[version:], start=version + 1):
        with transaction(conn):
            for statement in statements:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


def _id_for(conn: sqlite3.Connection, table: str, name: str, **extra: Any) -> int:
    k = key(name) or name
    row = conn.execute(f"SELECT id FROM {table} WHERE key = ?", (k,)).fetchone()
    if row:
        return int(row[0])
    columns = ["name", "key", *extra]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(columns)})"
    return int(conn.execute(sql, (name, k, *extra.values())).lastrowid or 0)


def _case_id(conn: sqlite3.Connection, name: str, slug: str) -> int:
    row = conn.execute("SELECT id FROM cases WHERE slug = ? OR name = ?", (slug, name)).fetchone()
    if row:
        return int(row[0])
    return int(
        conn.execute("INSERT INTO cases (slug, name) VALUES (?, ?)", (slug, name)).lastrowid or 0
    )


def _sync_catalog(conn: sqlite3.Connection, catalog: Catalog) -> None:
    for org in catalog.organisations:
        org_id = _id_for(conn, "organisations", org.name)
        conn.executemany(
            "INSERT OR IGNORE INTO aliases VALUES ('organisation', ?, ?)",
            [(org_id, a) for a in org.aliases],
        )
    for case in catalog.cases:
        case_id = _case_id(conn, case.name, case.slug)
        conn.executemany(
            "INSERT OR IGNORE INTO aliases VALUES ('case', ?, ?)",
            [(case_id, a) for a in case.aliases],
        )


def _add_quotes(
    conn: sqlite3.Connection,
    quotes: Sequence[Quote],
    catalog: Catalog,
    source: str,
    replace_publications: bool = False,
) -> ImportReport:
    """The import's one transaction. A quote already stored keeps its id; it takes the
    document's publication record when it has none yet, or always with
    ``replace_publications`` (the seed, whose provenance file is the authority)."""
    added = 0
    with transaction(conn):
        _sync_catalog(conn, catalog)
        # AUTOINCREMENT ids only grow: every row this import adds has an id above this.
        first_new_id = max_quote_id(conn)
        conn.execute("INSERT INTO fts_deferred (flag) VALUES (1)")
        source_ids: dict[str, int] = {}
        case_ids: dict[str, int] = {}
        # Per-import memos: a large import repeats the same few organisations and speakers.
        org_ids: dict[str, int] = {}
        speakers: dict[str, tuple[int, str]] = {}  # speaker key -> (id, stored role)
        publication_ids: dict[Publication, int | None] = {}
        for quote in quotes:
            # A record's own source (a CSV/JSON "source" field) wins over the file's name.
            quote_source = quote.source or source
            if quote_source not in source_ids:
                conn.execute("INSERT OR IGNORE INTO sources (name) VALUES (?)", (quote_source,))
                source_ids[quote_source] = conn.execute(
                    "SELECT id FROM sources WHERE name = ?", (quote_source,)
                ).fetchone()[0]
            source_id = source_ids[quote_source]
            org_id = None
            if quote.organisation:
                if quote.organisation not in org_ids:
                    org_ids[quote.organisation] = _id_for(conn, "organisations", quote.organisation)
                org_id = org_ids[quote.organisation]
            speaker_key = key(quote.speaker)
            if speaker_key not in speakers:
                speaker_id = _id_for(
                    conn, "speakers", quote.speaker, role=quote.role, organisation_id=org_id
                )
                stored_role = conn.execute(
                    "SELECT role FROM speakers WHERE id = ?", (speaker_id,)
                ).fetchone()[0]
                speakers[speaker_key] = (speaker_id, stored_role)
            speaker_id, known_role = speakers[speaker_key]
            # One speaker, one role whatever its punctuation: reuse the stored spelling.
            role = known_role if key(known_role) == key(quote.role) else quote.role
            # Look before inserting: even an INSERT that ON CONFLICT ignores uses up an
            # AUTOINCREMENT id, and every re-seed would push the next new id further away.
            if quote.publication not in publication_ids:
                publication_ids[quote.publication] = publication_id(conn, quote.publication)
            quote_publication = publication_ids[quote.publication]
            quote_fingerprint = fingerprint(quote)
            existing = conn.execute(
                "SELECT id, publication_id FROM quotes WHERE fingerprint = ?", (quote_fingerprint,)
            ).fetchone()
            if existing:
                quote_id, stored_publication = existing
                if stored_publication != quote_publication and (
                    replace_publications or stored_publication is None
                ):
                    conn.execute(
                        "UPDATE quotes SET publication_id = ? WHERE id = ?",
                        (quote_publication, quote_id),
                    )
            else:
                quote_id = conn.execute(
                    """INSERT INTO quotes (fingerprint, text, speaker_id, role, organisation_id,
                                           source_id, position, date, publication_id)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        quote_fingerprint,
                        quote.text,
                        speaker_id,
                        role,
                        org_id,
                        source_id,
                        quote.position,
                        quote.date,
                        quote_publication,
                    ),
                ).lastrowid
                added += 1
            for name in quote.cases:
                if name not in case_ids:
                    case_ids[name] = _case_id(conn, name, slugify(name))
                conn.execute(
                    "INSERT OR IGNORE INTO quote_cases (case_id, quote_id) VALUES (?, ?)",
                    (case_ids[name], quote_id),
                )
        conn.execute(
            "INSERT INTO quotes_fts (rowid, text) SELECT id, text FROM quotes WHERE id > ?",
            (first_new_id,),
        )
        conn.execute("DELETE FROM fts_deferred")
    return ImportReport(source=source, added=added, unchanged=len(quotes) - added)


def _seed_quotes(data_dir: Path) -> tuple[Catalog, list[Quote]]:
    """The seed document's statements, each with its publication from ``sources.toml``."""
    catalog = Catalog.load(data_dir / CATALOG_FILE)
    quotes = parse_file(data_dir / SEED_DOCUMENT, catalog)
    sources = data_dir / SOURCES_FILE
    if sources.is_file():
        quotes = SourcesFile.load(sources).apply(quotes)
    return catalog, quotes


def _fill_missing_publications(conn: sqlite3.Connection, quotes: Sequence[Quote]) -> int:
    """Give stored quotes (found by fingerprint) that have no publication record the one in
    ``quotes``; touches nothing else. Returns how many were filled."""
    filled = 0
    with transaction(conn):
        for quote in quotes:
            if quote.publication == UNKNOWN:
                continue
            row = conn.execute(
                "SELECT id FROM quotes WHERE fingerprint = ? AND publication_id IS NULL",
                (fingerprint(quote),),
            ).fetchone()
            if row:
                set_publication(conn, row[0], quote.publication)
                filled += 1
    return filled


def _fetch_quotes(conn: sqlite3.Connection, sql: str, params: Sequence[Any]) -> list[StoredQuote]:
    return [StoredQuote.from_row(row) for row in conn.execute(sql, params)]


def fetch_quotes_by_id(conn: sqlite3.Connection, ids: Sequence[int]) -> list[StoredQuote]:
    """Quotes by id, in the order of ``ids`` (missing ids are skipped)."""
    if not ids:
        return []
    found: dict[int, StoredQuote] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        sql = QUOTE_SELECT + f" WHERE q.id IN ({placeholders(chunk)})"
        found.update((q.id, q) for q in _fetch_quotes(conn, sql, chunk))
    return [found[i] for i in ids if i in found]


def _speakers(conn: sqlite3.Connection) -> list[SpeakerRow]:
    rows = conn.execute(
        """SELECT s.id, s.name, s.role, o.name,
                  (SELECT count(*) FROM quotes q WHERE q.speaker_id = s.id) AS n
           FROM speakers s LEFT JOIN organisations o ON o.id = s.organisation_id
           WHERE n > 0 ORDER BY o.name IS NULL, o.name, s.name"""
    )
    return [SpeakerRow(*row) for row in rows]


def _cases(conn: sqlite3.Connection) -> list[CaseRow]:
    rows = conn.execute(
        """SELECT c.id, c.slug, c.name,
                  (SELECT count(*) FROM quote_cases qc WHERE qc.case_id = c.id)
           FROM cases c ORDER BY c.name"""
    )
    return [CaseRow(*row) for row in rows]


def placeholders(values: Sized) -> str:
    """``?, ?, ?``: one bound parameter per value, for ``IN (...)`` and ``VALUES (...)``."""
    return ", ".join("?" * len(values))


def max_quote_id(conn: sqlite3.Connection) -> int:
    """The highest quote id (0 when empty): read from the rowid B-tree, so free at any size.
    Ids are never reused, so it grows whenever quotes are added."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM quotes").fetchone()[0])


def _random_quote_id(
    conn: sqlite3.Connection,
    speaker_ids: tuple[int, ...],
    case_ids: tuple[int, ...],
    rng: random.Random,
) -> int | None:
    where: list[str] = []
    params: list[Any] = []
    if speaker_ids:
        where.append(f"speaker_id IN ({placeholders(speaker_ids)})")
        params.extend(speaker_ids)
    if case_ids:
        where.append(
            f"id IN (SELECT quote_id FROM quote_cases WHERE case_id IN ({placeholders(case_ids)}))"
        )
        params.extend(case_ids)
    if not where:
        # No filter: a random point in the id range, not count(*) and OFFSET (both read
        # every row: up to 180 ms at 1M quotes, on the connection every lookup shares).
        top = max_quote_id(conn)
        if not top:
            return None
        start = rng.randint(1, top)
        row = conn.execute(
            "SELECT id FROM quotes WHERE id >= ? ORDER BY id LIMIT 1", (start,)
        ).fetchone()
        return int(row[0])
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
