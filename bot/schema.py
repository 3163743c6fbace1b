"""The database's tables and the SQL every feature store shares.

:data:`MIGRATIONS` is the schema's history, applied in order by :func:`migrate`;
:func:`transaction`, :func:`placeholders` and :func:`max_quote_id` are the helpers the quote
store (``bot/store.py``), the import (``bot/importing.py``), the search engine and the daily
stores use on the one shared connection.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sized
from contextlib import contextmanager


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
    # (bot/daily/deliveries.py explains the protocol).
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
    # Lookup engine: persisted vocabulary and typo (deletion) index (bot/search/sql.py).
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
    # (see bot/importing.py): the per-row trigger made a large import 2.5x slower. The trigger
    # stays for any other insert; an import silences it with a row in fts_deferred that
    # only its own transaction ever sees.
    (
        "CREATE TABLE fts_deferred (flag INTEGER PRIMARY KEY)",
        "DROP TRIGGER quotes_fts_insert",
        """CREATE TRIGGER quotes_fts_insert AFTER INSERT ON quotes
            WHEN NOT EXISTS (SELECT 1 FROM fts_deferred) BEGIN
            INSERT INTO quotes_fts(rowid, text) VALUES (new.id, new.text); END""",
    ),
    # v5: where each statement was published (bot/publications.py explains the table).
    # ``published`` is the partial ISO date (YYYY, YYYY-MM or YYYY-MM-DD), '' when unknown;
    # the compilation is inline, so a fetch pays one LEFT JOIN on an integer key.
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
    # v6: what the bot remembers about chats across restarts (bot/result_lists.py): the
    # result lists behind ◀ ▶ buttons, and one-time hints already shown.
    (
        """CREATE TABLE result_lists (
            token TEXT PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            created_at REAL NOT NULL,
            body TEXT NOT NULL) WITHOUT ROWID""",
        "CREATE INDEX result_lists_by_age ON result_lists(created_at)",
        """CREATE TABLE chat_hints (
            chat_id INTEGER NOT NULL,
            hint TEXT NOT NULL,
            shown_at REAL NOT NULL,
            PRIMARY KEY (chat_id, hint)) WITHOUT ROWID""",
    ),
    # v7: corrections with a trail (bot/corrections.py). A quote is never deleted or
    # renumbered: a withdrawal sets ``withdrawn_at``, and every change, withdrawal included,
    # is a row of ``quote_changes`` (what before, what after, why, when). Users' reports of
    # problems wait in ``reports`` until a curator closes them.
    (
        "ALTER TABLE quotes ADD COLUMN withdrawn_at TEXT",
        """CREATE TABLE quote_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            quote_id INTEGER NOT NULL REFERENCES quotes(id),
            at TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('correct', 'withdraw')),
            field TEXT NOT NULL,
            before TEXT NOT NULL,
            after TEXT NOT NULL,
            reason TEXT NOT NULL)""",
        "CREATE INDEX quote_changes_by_quote ON quote_changes(quote_id, id)",
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            quote_id INTEGER NOT NULL REFERENCES quotes(id),
            user_id INTEGER NOT NULL,
            user_name TEXT NOT NULL DEFAULT '',
            chat_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
            closed_at TEXT,
            close_reason TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX reports_by_user ON reports(user_id, created_at)",
        "CREATE INDEX reports_open ON reports(status, id)",
    ),
    # v8: the language each chat is answered in (bot/languages.py): chosen with /lang, or
    # the one last seen there (for its quote of the day); no row means English.
    (
        """CREATE TABLE chat_languages (
            chat_id INTEGER PRIMARY KEY,
            language TEXT NOT NULL CHECK (language IN ('en', 'ru', 'kk')),
            chosen INTEGER NOT NULL CHECK (chosen IN (0, 1)),
            updated_at REAL NOT NULL,
            updated_by INTEGER NOT NULL DEFAULT 0)""",
    ),
    # v9: the few withdrawn quotes, for the counts that leave them out (bot/search/sql.py).
    ("CREATE INDEX quotes_withdrawn ON quotes(id) WHERE withdrawn_at IS NOT NULL",),
]


LATEST_VERSION = len(MIGRATIONS)


def is_locked(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY/SQLITE_LOCKED: another connection holds the lock (worth a retry)."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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


def configure(conn: sqlite3.Connection) -> None:
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


def placeholders(values: Sized) -> str:
    """``?, ?, ?``: one bound parameter per value, for ``IN (...)`` and ``VALUES (...)``."""
    return ", ".join("?" * len(values))


def data_version(conn: sqlite3.Connection) -> int:
    """A number that changes whenever another connection commits (an import, a correction
    from the command line): SQLite's ``PRAGMA data_version`` as this connection sees it."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def max_quote_id(conn: sqlite3.Connection) -> int:
    """The highest quote id (0 when empty): read from the rowid B-tree, so free at any size.
    Ids are never reused, so it grows whenever quotes are added."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM quotes").fetchone()[0])
