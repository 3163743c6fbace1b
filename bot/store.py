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
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.corpus import Catalog, Quote, key, parse_file, slugify
from bot.provenance import UNKNOWN, Publication
from bot.seed_data import CATALOG_FILE, SEED_DOCUMENT, data_dir

T = TypeVar("T")


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
]

QUOTE_SELECT = """
SELECT q.id, q.text, s.name, q.speaker_id, q.role, o.name, src.name, q.position, q.date,
       (SELECT group_concat(c.name, char(31)) FROM
           (SELECT c.name FROM quote_cases qc JOIN cases c ON c.id = qc.case_id
            WHERE qc.quote_id = q.id ORDER BY c.id) AS c)
FROM quotes q
JOIN speakers s ON s.id = q.speaker_id
JOIN sources src ON src.id = q.source_id
LEFT JOIN organisations o ON o.id = q.organisation_id
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
        quote_id, text, speaker, speaker_id, role, org, source, position, date, cases = row
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

    async def seed(self, folder: Path | None = None) -> ImportReport:
        """Load the seed document and catalog from ``folder`` (default: the shipped data)."""
        folder = data_dir() if folder is None else folder
        catalog = Catalog.load(folder / CATALOG_FILE)
        return await self.import_file(folder / SEED_DOCUMENT, catalog)

    async def ensure_seeded(self, folder: Path | None = None) -> ImportReport | None:
        """Seed from ``folder`` when the store holds no quotes, so nobody has to run seed."""
        if await self.has_quotes():
            return None
        return await self.seed(folder)

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
    conn: sqlite3.Connection, quotes: Sequence[Quote], catalog: Catalog, source: str
) -> ImportReport:
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
            quote_fingerprint = fingerprint(quote)
            existing = conn.execute(
                "SELECT id FROM quotes WHERE fingerprint = ?", (quote_fingerprint,)
            ).fetchone()
            if existing:
                quote_id = existing[0]
            else:
                quote_id = conn.execute(
                    """INSERT INTO quotes (fingerprint, text, speaker_id, role, organisation_id,
                                           source_id, position, date)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        quote_fingerprint,
                        quote.text,
                        speaker_id,
                        role,
                        org_id,
                        source_id,
                        quote.position,
                        quote.date,
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
