"""SQL for the lookup engine: the persisted vocabulary and typo index, and candidate retrieval.

Every function takes the store's ``sqlite3.Connection`` and runs inside one
:meth:`bot.store.QuoteStore.run` unit of work. User text only ever reaches SQL as bound
parameters, and FTS5 only as strings built by :func:`bot.search.query.fts_string`.

Tables (the lookup migration appended to :data:`bot.store.MIGRATIONS`):

* ``search_terms(id, term, key, df)``: every term of ``quotes_fts`` as FTS5 indexed it, its
  folded matching key and its document frequency (read from an ``fts5vocab`` table).
* ``search_deletes(variant, term_id)``: SymSpell-style index of every one-character deletion of
  every key. A query word finds the terms within two edits by looking up its own deletions.
* ``search_state(name, value)``: the quote count and largest id the index reflects. New quotes
  are added incrementally (their vocabulary read through a temporary FTS5 table with the same
  tokenizer); anything else (deleted quotes, a new index version) rebuilds from scratch.
  :class:`bot.search.service.Lookup` compares ``max(id)`` on every lookup, so imports are picked
  up at once; a deletion alone is noticed at the next ``load()`` (until then only the document
  frequencies used for weighting are stale: FTS5 itself is kept current by its triggers).
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.schema import max_quote_id, placeholders, transaction
from bot.search.names import NameKind
from bot.search.query import Vocabulary, deletes, edit_distance, max_edits, word_key
from bot.search.rank import Candidate
from bot.store import CaseRow, SpeakerRow

INDEX_VERSION = 1
MAX_KEY_FOR_DELETES = 30
DEFAULT_TOKENIZE = "unicode61 remove_diacritics 2"
_TOKENIZE = re.compile(r"""tokenize\s*=\s*(['"])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_DELETES_SQL = f"""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MAX_KEY_FOR_DELETES})
INSERT OR IGNORE INTO search_deletes (variant, term_id)
SELECT substr(t.key, 1, n.i - 1) || substr(t.key, n.i + 1), t.id
FROM search_terms t JOIN n ON n.i <= length(t.key)
WHERE t.id > ? AND length(t.key) BETWEEN 3 AND {MAX_KEY_FOR_DELETES}
ORDER BY 1, 2"""


class Rebuild(StrEnum):
    """What a refresh did to the persisted search index."""

    NONE = "none"  # it was up to date
    INCREMENTAL = "incremental"  # the new quotes' words were added
    FULL = "full"  # rebuilt from every quote (quotes changed or removed, or a new version)
    SKIPPED = "skipped"  # could not write (a read-only database): searched as it is


@dataclass(frozen=True)
class IndexState:
    max_id: int
    count: int
    terms: int
    rebuilt: Rebuild
    seconds: float


def refresh_index(conn: sqlite3.Connection, *, force: bool = False) -> IndexState:
    """Bring the vocabulary and typo index up to date with ``quotes``."""
    started = time.perf_counter()
    state = dict(conn.execute("SELECT name, value FROM search_state").fetchall())
    max_id = max_quote_id(conn)
    count = int(conn.execute("SELECT count(*) FROM quotes").fetchone()[0])
    fresh = state.get("version") == INDEX_VERSION and not force
    if fresh and state.get("max_id") == max_id and state.get("count") == count:
        return IndexState(max_id, count, _term_count(conn), Rebuild.NONE, 0.0)
    with transaction(conn):
        old_max = int(state.get("max_id", 0))
        added = 0
        if fresh:
            added = conn.execute("SELECT count(*) FROM quotes WHERE id > ?", (old_max,)).fetchone()
            added = int(added[0])
        if fresh and count - int(state.get("count", 0)) == added:
            _add_vocabulary(conn, old_max)
            kind = Rebuild.INCREMENTAL
        else:
            _rebuild(conn)
            kind = Rebuild.FULL
        conn.executemany(
            "INSERT OR REPLACE INTO search_state (name, value) VALUES (?, ?)",
            [("version", INDEX_VERSION), ("max_id", max_id), ("count", count)],
        )
    return IndexState(max_id, count, _term_count(conn), kind, time.perf_counter() - started)


def _term_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM search_terms").fetchone()[0])


def _rebuild(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM search_deletes")
    conn.execute("DELETE FROM search_terms")
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab "
        "USING fts5vocab(main, quotes_fts, row)"
    )
    rows = conn.execute("SELECT term, doc FROM temp.search_vocab")
    conn.executemany(
        "INSERT INTO search_terms (term, key, df) VALUES (?, ?, ?)",
        ((term, word_key(term), doc) for term, doc in rows),
    )
    conn.execute("DROP TABLE temp.search_vocab")
    conn.execute(_DELETES_SQL, (0,))


def _tokenizer(conn: sqlite3.Connection) -> str:
    row = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'quotes_fts'"
    ).fetchone()
    found = _TOKENIZE.search(row[0]) if row and row[0] else None
    tokenize = found.group(2) if found else DEFAULT_TOKENIZE
    return tokenize if re.fullmatch(r"[\w\s'\"]+", tokenize) else DEFAULT_TOKENIZE


def _add_vocabulary(conn: sqlite3.Connection, after_id: int) -> None:
    """Count the terms of quotes with id > ``after_id`` with the index's own tokenizer."""
    last_term = _term_count(conn)
    tokenize = _tokenizer(conn).replace("'", "''")
    conn.execute("DROP TABLE IF EXISTS temp.search_delta_vocab")
    conn.execute("DROP TABLE IF EXISTS temp.search_delta")
    conn.execute(f"CREATE VIRTUAL TABLE temp.search_delta USING fts5(text, tokenize='{tokenize}')")
    conn.execute(
        "INSERT INTO temp.search_delta (rowid, text) SELECT id, text FROM quotes WHERE id > ?",
        (after_id,),
    )
    conn.execute(
        "CREATE VIRTUAL TABLE temp.search_delta_vocab USING fts5vocab(temp, search_delta, row)"
    )
    rows = conn.execute("SELECT term, doc FROM temp.search_delta_vocab").fetchall()
    conn.executemany(
        """INSERT INTO search_terms (term, key, df) VALUES (?, ?, ?)
           ON CONFLICT (term) DO UPDATE SET df = df + excluded.df""",
        ((term, word_key(term), doc) for term, doc in rows),
    )
    conn.execute("DROP TABLE temp.search_delta_vocab")
    conn.execute("DROP TABLE temp.search_delta")
    conn.execute(_DELETES_SQL, (last_term,))


def vocabulary_keys(conn: sqlite3.Connection) -> Iterator[str]:
    for (key,) in conn.execute("SELECT key FROM search_terms"):
        yield key


# -- names ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    quotes: int


@dataclass(frozen=True)
class NameData:
    speakers: list[SpeakerRow]
    speaker_orgs: dict[int, int | None]  # speaker id -> organisation id
    organisations: list[OrganisationRow]
    cases: list[CaseRow]
    aliases: dict[tuple[NameKind, int], list[str]]
    total_quotes: int


def load_names(conn: sqlite3.Connection) -> NameData:
    counts = dict(
        conn.execute(
            "SELECT speaker_id, count(*) FROM quotes WHERE withdrawn_at IS NULL GROUP BY speaker_id"
        ).fetchall()
    )
    speakers: list[SpeakerRow] = []
    speaker_orgs: dict[int, int | None] = {}
    for sid, name, role, org_id, org in conn.execute(
        """SELECT s.id, s.name, s.role, s.organisation_id, o.name
           FROM speakers s LEFT JOIN organisations o ON o.id = s.organisation_id ORDER BY s.id"""
    ):
        if counts.get(sid):
            speakers.append(SpeakerRow(sid, name, role, org, counts[sid]))
            speaker_orgs[sid] = org_id
    org_counts = dict(
        conn.execute(
            "SELECT organisation_id, count(*) FROM quotes WHERE organisation_id IS NOT NULL "
            "AND withdrawn_at IS NULL GROUP BY organisation_id"
        ).fetchall()
    )
    organisations = [
        OrganisationRow(oid, name, int(org_counts.get(oid, 0)))
        for oid, name in conn.execute("SELECT id, name FROM organisations ORDER BY id")
    ]
    case_counts = dict(
        conn.execute("SELECT case_id, count(*) FROM quote_cases GROUP BY case_id").fetchall()
    )
    # Withdrawn quotes leave their cases (bot/corrections.py): few, found by a partial index.
    for case_id, withdrawn in conn.execute(
        """SELECT qc.case_id, count(*) FROM quotes q JOIN quote_cases qc ON qc.quote_id = q.id
           WHERE q.withdrawn_at IS NOT NULL GROUP BY qc.case_id"""
    ):
        case_counts[case_id] -= withdrawn
    cases = [
        CaseRow(cid, slug, name, int(case_counts.get(cid, 0)))
        for cid, slug, name in conn.execute("SELECT id, slug, name FROM cases ORDER BY id")
    ]
    aliases: dict[tuple[NameKind, int], list[str]] = {}
    for kind, target, alias in conn.execute("SELECT kind, target_id, alias FROM aliases"):
        aliases.setdefault((NameKind(kind), target), []).append(alias)
    total = sum(counts.values())  # every quote has a speaker; count(*) would scan them again
    return NameData(speakers, speaker_orgs, organisations, cases, aliases, total)


# -- vocabulary lookups ------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    term: str  # as FTS5 indexed it
    key: str
    df: int


def terms_by_key(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, list[Term]]:
    found: dict[str, list[Term]] = {}
    keys = list(dict.fromkeys(keys))
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for term, key, df in conn.execute(
            f"SELECT term, key, df FROM search_terms WHERE key IN ({placeholders(chunk)})", chunk
        ):
            found.setdefault(key, []).append(Term(term, key, df))
    return found


def terms_near(conn: sqlite3.Connection, key: str, depth: int) -> list[Term]:
    """Terms sharing a deletion variant with ``key`` (verify the distance afterwards)."""
    variants = sorted(deletes(key, depth) | {key})
    found: dict[str, Term] = {}
    for start in range(0, len(variants), 500):
        chunk = variants[start : start + 500]
        for term, tkey, df in conn.execute(
            f"""SELECT t.term, t.key, t.df FROM search_deletes d
                JOIN search_terms t ON t.id = d.term_id
                WHERE d.variant IN ({placeholders(chunk)})""",
            chunk,
        ):
            found[term] = Term(term, tkey, df)
    # Terms that *are* a deletion of the query (the user typed extra letters).
    for group in terms_by_key(conn, variants).values():
        for t in group:
            found[t.term] = t
    return list(found.values())


def terms_with_prefix(conn: sqlite3.Connection, prefix: str, limit: int = 5) -> list[Term]:
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    rows = conn.execute(
        "SELECT term, key, df FROM search_terms WHERE key >= ? AND key < ? LIMIT 500",
        (prefix, upper),
    ).fetchall()
    rows.sort(key=lambda r: -r[2])
    return [Term(*r) for r in rows[:limit]]


def suggest_terms(conn: sqlite3.Connection, key: str, vocab: Vocabulary | None) -> list[Term]:
    """Looser corrections for one word (one edit more than search allows), nearest and
    commonest first: the "did you mean" when nothing was found."""
    edits = min(3, max_edits(key) + 1)
    found = {t.term: t for t in terms_near(conn, key, min(edits, 2)) if t.key != key}
    if vocab is not None and len(key) >= 4:
        keys = [k for k, _ in vocab.near(key, edits)]
        found.update((t.term, t) for group in terms_by_key(conn, keys).values() for t in group)
    scored = [(edit_distance(key, t.key), t) for t in found.values()]
    scored = [(d, t) for d, t in scored if d <= edits]
    scored.sort(key=lambda dt: (dt[0], -dt[1].df, dt[1].key))
    return [t for _, t in scored]


# -- candidates ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restriction:
    """A set of quotes (a filter): SQL over ``quotes q`` with bound parameters only."""

    clause: str
    params: tuple[Any, ...]
    size: int  # how many quotes it holds (from the in-memory counts)

    @classmethod
    def of(cls, kind: NameKind, ids: Sequence[int], size: int) -> Restriction:
        marks = placeholders(ids)
        if kind == NameKind.SPEAKER:
            return cls(f"q.speaker_id IN ({marks})", tuple(ids), size)
        if kind == NameKind.ORGANISATION:
            return cls(f"q.organisation_id IN ({marks})", tuple(ids), size)
        return cls(
            f"q.id IN (SELECT quote_id FROM quote_cases WHERE case_id IN ({marks}))",
            tuple(ids),
            size,
        )


def restrict_all(restrictions: Sequence[Restriction]) -> tuple[str, tuple[Any, ...]]:
    clause = " AND ".join(r.clause for r in restrictions) or "1"
    params: tuple[Any, ...] = ()
    for r in restrictions:
        params += r.params
    return clause, params


def restricted_ids(
    conn: sqlite3.Connection, restrictions: Sequence[Restriction], limit: int
) -> list[int]:
    clause, params = restrict_all(restrictions)
    rows = conn.execute(
        f"SELECT q.id FROM quotes q WHERE {clause} ORDER BY q.id LIMIT ?", (*params, limit)
    )
    return [int(r[0]) for r in rows]


class Deadline:
    """Interrupts FTS5 work once the time budget is spent (SQLite's progress handler)."""

    def __init__(self, conn: sqlite3.Connection, seconds: float) -> None:
        self.conn = conn
        self.until = time.perf_counter() + seconds

    @property
    def passed(self) -> bool:
        return time.perf_counter() > self.until

    def _check(self) -> int:
        return 1 if time.perf_counter() > self.until else 0

    @contextmanager
    def guard(self) -> Iterator[None]:
        self.conn.set_progress_handler(self._check, 2000)
        try:
            yield
        finally:
            self.conn.set_progress_handler(None, 0)


def fts_ids(
    conn: sqlite3.Connection,
    match: str,
    limit: int,
    deadline: Deadline,
    restrictions: Sequence[Restriction] = (),
) -> list[int]:
    """Quote ids matching the FTS5 expression ``match`` (unranked, so ``LIMIT`` stops early)."""
    if deadline.passed:
        return []
    if restrictions:
        clause, params = restrict_all(restrictions)
        sql = (
            "SELECT q.id FROM quotes_fts f JOIN quotes q ON q.id = f.rowid "
            f"WHERE quotes_fts MATCH ? AND {clause} LIMIT ?"
        )
        args: tuple[Any, ...] = (match, *params, limit)
    else:
        sql = "SELECT rowid FROM quotes_fts WHERE quotes_fts MATCH ? LIMIT ?"
        args = (match, limit)
    found: list[int] = []
    with deadline.guard():
        try:
            for (rowid,) in conn.execute(sql, args):
                found.append(int(rowid))
        except sqlite3.OperationalError as exc:
            if "interrupt" not in str(exc):
                raise
    return found


def fetch_candidates(
    conn: sqlite3.Connection, ids: Sequence[int], with_cases: bool = True
) -> list[Candidate]:
    found: list[Candidate] = []
    ids = list(dict.fromkeys(ids))
    cases_sql = (
        "(SELECT group_concat(case_id) FROM quote_cases WHERE quote_id = q.id)"
        if with_cases
        else "NULL"
    )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for qid, text, sid, oid, cases in conn.execute(
            f"""SELECT q.id, q.text, q.speaker_id, q.organisation_id, {cases_sql}
                FROM quotes q WHERE q.id IN ({placeholders(chunk)})""",
            chunk,
        ):
            entities = {(NameKind.SPEAKER, int(sid))}
            if oid is not None:
                entities.add((NameKind.ORGANISATION, int(oid)))
            if cases:
                entities.update((NameKind.CASE, int(c)) for c in str(cases).split(","))
            found.append(Candidate(int(qid), text, frozenset(entities)))
    return found


def quote_ids_by_speaker(
    conn: sqlite3.Connection, speaker_id: int, limit: int, organisation_id: int | None = None
) -> list[int]:
    if organisation_id is None:
        rows = conn.execute(
            "SELECT id FROM quotes WHERE speaker_id = ? ORDER BY id LIMIT ?", (speaker_id, limit)
        )
    else:
        rows = conn.execute(
            "SELECT id FROM quotes WHERE speaker_id = ? AND organisation_id IS ? ORDER BY id "
            "LIMIT ?",
            (speaker_id, organisation_id, limit),
        )
    return [int(r[0]) for r in rows]


def quote_ids_by_case(conn: sqlite3.Connection, case_id: int, limit: int) -> list[int]:
    rows = conn.execute(
        "SELECT quote_id FROM quote_cases WHERE case_id = ? ORDER BY quote_id LIMIT ?",
        (case_id, limit),
    )
    return [int(r[0]) for r in rows]
