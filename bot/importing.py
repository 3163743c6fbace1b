"""Writing parsed documents into the database: one transaction per import.

A quote already stored (same speaker and text, see :func:`fingerprint`) keeps its id, so
re-importing a document adds only what is new. The catalog's organisations, cases and
aliases are synced in the same transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.catalog import Catalog
from bot.corpus import Quote
from bot.provenance import UNKNOWN, Publication
from bot.publications import publication_id
from bot.schema import max_quote_id, placeholders, transaction
from bot.text import key, slugify


@dataclass(frozen=True)
class NewSpeaker:
    """A speaker an import created, for the curator's review."""

    name: str
    role: str
    organisation: str | None
    quotes: int


@dataclass(frozen=True)
class ImportReport:
    source: str
    added: int
    unchanged: int
    # What the import created, so a curator sees an odd name ("Mary Mc") at once.
    new_speakers: tuple[NewSpeaker, ...] = ()
    new_organisations: tuple[str, ...] = ()
    dry_run: bool = False  # nothing was written: the transaction was rolled back


class _DryRun(Exception):
    """Raised inside the import transaction to roll it back once the report is taken."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


def _review(
    conn: sqlite3.Connection, speakers_before: int, organisations_before: int
) -> tuple[tuple[NewSpeaker, ...], tuple[str, ...]]:
    """Speakers and organisations with ids above the ones before the import (ids only grow
    within one transaction): the rows this import created."""
    speakers = conn.execute(
        """SELECT s.name, s.role, o.name,
                  (SELECT count(*) FROM quotes q WHERE q.speaker_id = s.id)
           FROM speakers s LEFT JOIN organisations o ON o.id = s.organisation_id
           WHERE s.id > ? ORDER BY s.id""",
        (speakers_before,),
    ).fetchall()
    organisations = conn.execute(
        "SELECT name FROM organisations WHERE id > ? ORDER BY id", (organisations_before,)
    ).fetchall()
    return tuple(NewSpeaker(*row) for row in speakers), tuple(o for (o,) in organisations)


def _source_corrected(conn: sqlite3.Connection, quote_id: int) -> bool:
    return bool(
        conn.execute(
            """SELECT EXISTS (SELECT 1 FROM quote_changes WHERE quote_id = ? AND action = 'correct'
               AND field IN ('url', 'published', 'publisher', 'title', 'kind', 'status'))""",
            (quote_id,),
        ).fetchone()[0]
    )


def _max_id(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])


def fingerprint(quote: Quote) -> str:
    return hashlib.blake2b(quote.fingerprint.encode(), digest_size=12).hexdigest()


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


def add_quotes(
    conn: sqlite3.Connection,
    quotes: Iterable[Quote],
    catalog: Catalog,
    source: str,
    replace_publications: bool = False,
    *,
    dry_run: bool = False,
) -> ImportReport:
    """Add ``quotes`` (recorded under ``source`` unless a record names its own) in one
    transaction; existing ones (same speaker and text) keep their id. An existing quote
    takes the document's publication record when it has none yet, or always with
    ``replace_publications`` (the seed, whose provenance file is the authority).

    The report lists the speakers and organisations created. ``dry_run`` does the same work
    and rolls it back: the report is exactly what the import would do, and the database is
    unchanged."""
    try:
        return _add_quotes(conn, quotes, catalog, source, replace_publications, dry_run)
    except _DryRun as rolled_back:
        return rolled_back.report


BATCH = 1_000  # rows written together: one lookup of their fingerprints, one insert


@dataclass(frozen=True)
class _Row:
    """A parsed quote ready to be written (its speaker, organisation, cases resolved)."""

    fingerprint: str
    # text, speaker_id, role, organisation_id, source_id, position, date
    values: tuple[str, int, str, int | None, int, int, str | None]
    publication_id: int | None
    case_ids: tuple[int, ...]


def _write(conn: sqlite3.Connection, rows: Sequence[_Row], replace_publications: bool) -> int:
    """Write a batch of rows in document order, as if one by one; the number added.

    A quote already stored (same fingerprint, also earlier in this batch) keeps its id and
    takes the row's publication when it had none, or always with ``replace_publications``.
    New ones are inserted together: looking before inserting matters, since even an INSERT
    that ON CONFLICT ignores uses up an AUTOINCREMENT id, and every re-seed would push the
    next new id further away."""
    if not rows:
        return 0
    stored: dict[str, tuple[int, int | None]] = {}  # fingerprint -> (id, publication_id)
    wanted = list(dict.fromkeys(r.fingerprint for r in rows))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        found = conn.execute(
            "SELECT fingerprint, id, publication_id FROM quotes"
            f" WHERE fingerprint IN ({placeholders(chunk)})",
            chunk,
        )
        stored.update((fp, (quote_id, pub)) for fp, quote_id, pub in found)
    inserting: dict[str, _Row] = {}  # first row of each new fingerprint, in order
    for row in rows:
        if row.fingerprint not in stored:
            inserting.setdefault(row.fingerprint, row)
    if inserting:
        # AUTOINCREMENT ids only grow: the rows inserted here are exactly those above this.
        before = max_quote_id(conn)
        conn.executemany(
            """INSERT INTO quotes (fingerprint, text, speaker_id, role, organisation_id,
                                   source_id, position, date, publication_id)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(r.fingerprint, *r.values, r.publication_id) for r in inserting.values()],
        )
        new = conn.execute(
            "SELECT fingerprint, id, publication_id FROM quotes WHERE id > ?", (before,)
        )
        stored.update((fp, (quote_id, pub)) for fp, quote_id, pub in new)
    updates: list[tuple[int | None, int]] = []
    cases: list[tuple[int, int]] = []
    for row in rows:
        quote_id, stored_publication = stored[row.fingerprint]
        # A curator's correction of the source (bot/corrections.py) outlives re-seeding:
        # the change log, not the seed file, has the last word.
        if (
            inserting.get(row.fingerprint) is not row
            and stored_publication != row.publication_id
            and (replace_publications or stored_publication is None)
            and not _source_corrected(conn, quote_id)
        ):
            updates.append((row.publication_id, quote_id))
            stored[row.fingerprint] = (quote_id, row.publication_id)
        cases.extend((case_id, quote_id) for case_id in row.case_ids)
    conn.executemany("UPDATE quotes SET publication_id = ? WHERE id = ?", updates)
    conn.executemany("INSERT OR IGNORE INTO quote_cases (case_id, quote_id) VALUES (?, ?)", cases)
    return len(inserting)


def _add_quotes(
    conn: sqlite3.Connection,
    quotes: Iterable[Quote],
    catalog: Catalog,
    source: str,
    replace_publications: bool,
    dry_run: bool,
) -> ImportReport:
    added = 0
    seen = 0
    with transaction(conn):
        speakers_before = _max_id(conn, "speakers")
        organisations_before = _max_id(conn, "organisations")
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
        batch: list[_Row] = []
        for quote in quotes:  # possibly read from the file as we go (bot.corpus.read_file)
            seen += 1
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
            # Most rows of a large import record no publication: skip hashing the record.
            quote_publication = None
            if quote.publication is not UNKNOWN:
                if quote.publication not in publication_ids:
                    if len(publication_ids) >= 10_000:
                        publication_ids.clear()  # a memo, not a copy of every row's record
                    publication_ids[quote.publication] = publication_id(conn, quote.publication)
                quote_publication = publication_ids[quote.publication]
            row_case_ids = []
            for name in quote.cases:
                if name not in case_ids:
                    case_ids[name] = _case_id(conn, name, slugify(name))
                row_case_ids.append(case_ids[name])
            batch.append(
                _Row(
                    fingerprint(quote),
                    (quote.text, speaker_id, role, org_id, source_id, quote.position, quote.date),
                    quote_publication,
                    tuple(row_case_ids),
                )
            )
            if len(batch) >= BATCH:
                added += _write(conn, batch, replace_publications)
                batch.clear()
        added += _write(conn, batch, replace_publications)
        conn.execute(
            "INSERT INTO quotes_fts (rowid, text) SELECT id, text FROM quotes WHERE id > ?",
            (first_new_id,),
        )
        conn.execute("DELETE FROM fts_deferred")
        new_speakers, new_organisations = _review(conn, speakers_before, organisations_before)
        report = ImportReport(source, added, seen - added, new_speakers, new_organisations, dry_run)
        if dry_run:
            raise _DryRun(report)
    return report
