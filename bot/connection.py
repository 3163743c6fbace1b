"""The database's connections, each on a thread of its own: the store's threads.

One SQLite connection (WAL) is the single writer, owned by one thread: the store's thread.
Every unit of work (an import, a subscription change) runs there as one synchronous
function via :meth:`StoreConnection.run`: one thread hop per unit instead of one per statement,
and the event loop never waits on SQLite. :func:`unit_of_work` turns such a function into a
method, so a store's async API is a list of its units.

Reads never wait for a writer. A second connection, read-only (``query_only``), on a thread
of its own, runs the read units (:meth:`StoreConnection.read`, :func:`read_unit`): in WAL mode a
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

:class:`bot.store.QuoteStore` (the quotes) is a :class:`StoreConnection`; the search engine
(``bot/search/sql.py``) and the daily stores (:class:`FeatureStore`, ``bot/daily/``) share it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import warnings
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, Self, TypeVar

from bot.schema import LATEST_VERSION, StoreError, configure, is_locked, migrate

log = logging.getLogger("bot.store")  # the name these records have always had
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


class StoreConnection:
    """The database's connections on their threads. ``await cls.open(path)`` opens them (the
    schema migrated) and ``await close()`` closes them; :meth:`run` runs a unit of work on
    the writer, :meth:`read` a read unit on the reader."""

    def __init__(self, conn: sqlite3.Connection, thread: ThreadPoolExecutor, path: Path) -> None:
        self._connection = conn
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
    ) -> Self:
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
                await loop.run_in_executor(self._thread, self._connection.close)
            finally:
                self._thread.shutdown()  # the worker is idle by now: this returns at once

    def __del__(self) -> None:
        # Like an unclosed file: a store dropped without close() had a thread and a
        # connection left to the garbage collector (the tests turn this into a failure).
        if not self._closed:
            message = f"unclosed store {self.path}"
            warnings.warn(message, ResourceWarning, stacklevel=2, source=self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def run(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(conn, *args, **kwargs)`` on the store's (writer) thread as one unit of
        work; while another connection holds the lock, retry for ``write_patience`` s."""
        call = functools.partial(fn, self._connection, *args, **kwargs)
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
        call = functools.partial(_without_waiting, self._connection, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the read-only unit ``fn(conn, ...)`` on the read connection: it never waits
        for a writer (the writer's connection when there is no separate reader: :memory:)."""
        if self._reader is None or self._read_thread is None:
            return await self.run(fn, *args, **kwargs)
        call = functools.partial(fn, self._reader, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._read_thread, call)


class FeatureStore:
    """A feature's tables (the daily subscriptions and deliveries) on the connections of a
    :class:`bot.store.QuoteStore`: its :func:`unit_of_work` and :func:`read_unit` methods run
    there too."""

    def __init__(self, store: StoreConnection) -> None:
        self.store = store

    async def run(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.store.run(fn, *args, **kwargs)

    async def read(self, fn: Unit[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.store.read(fn, *args, **kwargs)
