"""QuoteStore: the quotes database behind the bot.

One SQLite connection (WAL) is the single writer, owned by one thread: the store's thread.
Every unit of work (an import, a subscription change) runs there as one synchronous
function via :meth:`QuoteStore.run`: one thread hop per unit instead of one per statement,
and the event loop never waits on SQLite. :func:`unit_of_work` turns such a function into a
method, so a store's async API is a list of its units.

Reads never wait for a writer. A second connection, read-only (``query_only``), on a thread
of its own, runs the read units (:meth:`QuoteStore.read`, :func:`read_unit`): in WAL mode a
reader sees the last committed state while another connection (``quotebot import`` in
another process, or this store's own writer) holds the write lock, and it sees an import's
quotes as soon as that import commits. A write that meets the lock is retried with backoff
for up to ``write_patience`` seconds (the bot waits up to two minutes; the CLI, which has a
person waiting, gives up after one ``busy_timeout`` and says so); between attempts the
writer thread is free for other units. Every unit is one transaction (or one statement), so
a retried unit is all or nothing.

Opening checks before changing anything: a schema newer than this code is refused before
the journal mode is touched, and ``check=True`` runs ``PRAGMA quick_check`` (``quotebot
run`` and ``stats``) so a damaged file is refused in one line instead of half served.

The tables are defined in ``bot/schema.py``; imports are written by ``bot/importing.py``; the
search engine (``bot/search/sql.py``) and the daily stores (``bot/daily/``) share this store.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import random
import sqlite3
import warnings
from collections.abc import Callable, Coroutine, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bot import publications
from bot.catalog import Catalog
from bot.corpus import Quote, parse_file
from bot.importing import ImportReport, add_quotes, fingerprint
from bot.provenance_file import SourcesFile
from bot.publications import LazyPublication, PublicationColumns
from bot.schema import (
    LATEST_VERSION,
    StoreError,
    configure,
    is_locked,
    max_quote_id,
    migrate,
    placeholders,
)
from bot.seed_data import CATALOG_FILE, SEED_DOCUMENT, SOURCES_FILE, data_dir

log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")
Unit = Callable[Concatenate[sqlite3.Connection, P], T]
"""A unit of work: a synchronous function of the connection, run on the store's thread."""


class RunsUnits(Protocol):
    async def run(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def unit_of_work(fn: Unit[P, T]) -> Callable[Concatenate[RunsUnits, P], Coroutine[Any, Any, T]]:
    """The async method form of ``fn(conn, ...)``: ``await store.method(...)`` runs it as one
    unit on the store's thread. For class bodies: ``speakers = unit_of_work(_speakers)``."""

    @functools.wraps(fn)
    async def method(self: RunsUnits, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.run(fn, *args, **kwargs)

    return method


def read_unit(fn: Unit[P, T]) -> Callable[Concatenate[RunsUnits, P], Coroutine[Any, Any, T]]:
    """:func:`unit_of_work` for a unit that only reads: it runs on the read connection."""

    @functools.wraps(fn)
    async def method(self: RunsUnits, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.read(fn, *args, **kwargs)

    return method


def _check_version(conn: sqlite3.Connection) -> None:
    """Refuse a schema newer than this code before anything (the journal mode) changes."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > LATEST_VERSION:
        raise StoreError(
            f"the database schema (v{version}) is newer than this quotebot (v{LATEST_VERSION}); "
            "nothing was changed: upgrade quotebot to use it"
        )


def _quick_check(conn: sqlite3.Connection) -> None:
    problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
    if problems != ["ok"]:
        found = " ".join("; ".join(problems).split())[:300]
        raise StoreError(f"the database is damaged (quick_check: {found})")


def _set_busy_timeout(conn: sqlite3.Connection, milliseconds: int) -> None:
    conn.execute(f"PRAGMA busy_timeout={int(milliseconds)}")


def _without_waiting(conn: sqlite3.Connection, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    timeout = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute("PRAGMA busy_timeout=0")
    try:
        return fn(conn, *args, **kw)
    finally:
        conn.execute(f"PRAGMA busy_timeout={timeout}")


def _read_only(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=5000")  # WAL readers are not blocked; recovery may be
    conn.execute("PRAGMA cache_size=-65536")


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


def database_directory_problem(path: Path) -> str | None:
    """Why no database can be kept at ``path``: its directory is missing or not writable
    (SQLite would only say "unable to open database file"); None when it can."""
    if str(path) == ":memory:":
        return None
    directory = path.expanduser().resolve().parent
    if not directory.is_dir():
        return f"the directory {directory} does not exist"
    if not os.access(directory, os.W_OK):  # WAL needs its -wal and -shm files beside it
        return f"the directory {directory} is not writable"
    return None


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


class QuoteStore:
    """The quotes database. Use ``await QuoteStore.open(path)`` and ``await store.close()``."""

    def __init__(self, conn: sqlite3.Connection, thread: ThreadPoolExecutor, path: Path) -> None:
        self._conn = conn
        self._thread = thread
        self._reader: sqlite3.Connection | None = None
        self._read_thread: ThreadPoolExecutor | None = None
        self._closed = False
        self.path = path
        self.write_patience = 0.0
        self.busy_timeout_ms = 5000

    @classmethod
    async def open(
        cls,
        path: Path | str,
        *,
        check: bool = False,
        write_patience: float = 0.0,
        busy_timeout_ms: int = 5000,
    ) -> QuoteStore:
        """Open (creating and migrating) the database at ``path``.

        ``check``: ``PRAGMA quick_check`` first. ``write_patience``: seconds a write that
        meets another connection's lock is retried (0: fail after ``busy_timeout_ms``)."""
        path = Path(path)
        if problem := database_directory_problem(path):
            raise StoreError(f"cannot open database {path}: {problem}")
        # One worker: the connection is created, used and closed on that thread only.
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quotebot-store")
        connect = functools.partial(sqlite3.connect, path, isolation_level=None)
        try:
            conn = await asyncio.get_running_loop().run_in_executor(thread, connect)
        except sqlite3.Error as exc:
            thread.shutdown()
            raise StoreError(f"cannot open database {path}: {exc}") from None
        except BaseException:
            thread.shutdown()
            raise
        store = cls(conn, thread, path)
        try:
            await store.run(_check_version)
            if check:
                await store.run(_quick_check)
            await store.run(configure)
            await store.run(_set_busy_timeout, busy_timeout_ms)
            await store.run(migrate)
            if str(path) != ":memory:":
                await store._open_reader()
        except sqlite3.DatabaseError as exc:
            await store.close()
            raise StoreError(f"cannot use database {path}: {exc}") from None
        except BaseException:
            await store.close()
            raise
        store.write_patience, store.busy_timeout_ms = write_patience, busy_timeout_ms
        return store

    async def _open_reader(self) -> None:
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quotebot-read")
        connect = functools.partial(sqlite3.connect, self.path, isolation_level=None)
        loop = asyncio.get_running_loop()
        try:
            reader = await loop.run_in_executor(thread, connect)
        except BaseException:
            thread.shutdown()
            raise
        self._reader, self._read_thread = reader, thread
        await loop.run_in_executor(thread, _read_only, reader)

    async def close(self) -> None:
        """Close the connections and end the store's threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            if self._reader is not None and self._read_thread is not None:
                try:
                    await loop.run_in_executor(self._read_thread, self._reader.close)
                finally:
                    self._read_thread.shutdown()
        finally:
            try:
                await loop.run_in_executor(self._thread, self._conn.close)
            finally:
                self._thread.shutdown()  # the worker is idle by now: this returns at once

    def __del__(self) -> None:
        # Like an unclosed file: a store dropped without close() had a thread and a
        # connection left to the garbage collector (the tests turn this into a failure).
        if not self._closed:
            message = f"unclosed QuoteStore {self.path}"
            warnings.warn(message, ResourceWarning, stacklevel=2, source=self)

    async def __aenter__(self) -> QuoteStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, *args, **kwargs)`` on the store's (writer) thread as one unit of
        work; while another connection holds the lock, retry for ``write_patience`` s."""
        call = functools.partial(fn, self._conn, *args, **kwargs)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.write_patience
        delay = 0.05
        while True:
            try:
                return await loop.run_in_executor(self._thread, call)
            except sqlite3.OperationalError as exc:
                if not is_locked(exc) or loop.time() + delay > deadline:
                    raise
                log.info("database busy (%s); %s retried in %.2f s", exc, fn.__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def run_once(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """:meth:`run` without waiting for a lock at all (``busy_timeout`` 0, no retries): for
        writes worth skipping rather than making a reply wait (they raise "locked")."""
        call = functools.partial(_without_waiting, self._conn, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the read-only unit ``fn(conn, ...)`` on the read connection: it never waits
        for a writer (the writer's connection when there is no separate reader: :memory:)."""
        if self._reader is None or self._read_thread is None:
            return await self.run(fn, *args, **kwargs)
        call = functools.partial(fn, self._reader, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._read_thread, call)

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


class FeatureStore:
    """A feature's tables on the shared :class:`QuoteStore` (the daily subscriptions and
    deliveries): its :func:`unit_of_work` methods run on the store's thread too."""

    def __init__(self, store: QuoteStore) -> None:
        self.store = store

    async def run(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.store.run(fn, *args, **kwargs)

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.store.read(fn, *args, **kwargs)
