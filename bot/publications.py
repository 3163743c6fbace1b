"""The ``publications`` table: storing and reading the :class:`Publication` of each quote.

One row per distinct record, shared by every quote that cites it (a large import citing one
report stores it once): ``record_key`` is a digest of all the fields, for that sharing. A
quote with no row (``quotes.publication_id`` NULL) is "unknown, nothing recorded". The
quote fetch (``bot/store.py`` QUOTE_SELECT) reads the columns by one LEFT JOIN on the
integer key, in the order of :func:`publication_columns`.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.provenance import UNKNOWN, Compilation, PartialDate, Publication, Status
from bot.schema import placeholders, transaction

COLUMNS = (
    "status, publisher, title, kind, url, published, "
    "compilation_title, compilation_publisher, compilation_url, context, note"
)


def publication_columns(publication: Publication) -> tuple[str, ...]:
    """The ``publications`` columns named in :data:`COLUMNS`, in that order."""
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
    """The :class:`Publication` of the :data:`COLUMNS` of one row (all NULL: UNKNOWN).

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
        # Written by publication_columns from a checked date: split, not re-validated.
        published=PartialDate(*map(int, published.split("-"))) if published else None,
        compilation=compilation,
        context=context,
        note=note,
    )


@dataclass(frozen=True)
class PublicationColumns:
    """A row's publication columns, not yet made into a :class:`Publication`."""

    columns: tuple[Any, ...]


class LazyPublication:
    """A dataclass field holding a :class:`Publication`, built from its row's columns on
    first read. A lookup fetches up to 50 quotes and shows one: building the other records
    doubled a /who answer at 1M quotes (each 6-10 us, a record per quote). Assigning a
    :class:`Publication` stores it as is; assigning :class:`PublicationColumns` defers it."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_{name}_value"

    def __get__(self, obj: object | None, owner: type | None = None) -> Publication:
        if obj is None:
            return UNKNOWN  # the dataclass default
        value = obj.__dict__[self._slot]
        if isinstance(value, PublicationColumns):
            value = publication_from_row(value.columns)
            object.__setattr__(obj, self._slot, value)  # frozen: built once, then kept
        assert isinstance(value, Publication)
        return value

    def __set__(self, obj: object, value: Publication | PublicationColumns) -> None:
        object.__setattr__(obj, self._slot, value)


def publication_id(conn: sqlite3.Connection, publication: Publication) -> int | None:
    """The row recording ``publication`` (added if new); None for UNKNOWN (no row at all)."""
    if publication == UNKNOWN:
        return None
    columns = publication_columns(publication)
    record_key = hashlib.blake2b("\x1f".join(columns).encode(), digest_size=16).hexdigest()
    row = conn.execute("SELECT id FROM publications WHERE record_key = ?", (record_key,)).fetchone()
    if row:
        return int(row[0])
    sql = f"INSERT INTO publications (record_key, {COLUMNS}) VALUES (?, {placeholders(columns)})"
    return int(conn.execute(sql, (record_key, *columns)).lastrowid or 0)


def set_publication(conn: sqlite3.Connection, quote_id: int, publication: Publication) -> None:
    """Link quote ``quote_id`` to ``publication`` (UNKNOWN unlinks it). Call inside a
    transaction."""
    conn.execute(
        "UPDATE quotes SET publication_id = ? WHERE id = ?",
        (publication_id(conn, publication), quote_id),
    )


def fill_missing_publications(
    conn: sqlite3.Connection, records: Sequence[tuple[str, Publication]]
) -> int:
    """For each (quote fingerprint, publication): give the stored quote with that fingerprint
    the publication if it has none yet. Touches nothing else; returns how many were filled."""
    filled = 0
    with transaction(conn):
        for quote_fingerprint, publication in records:
            if publication == UNKNOWN:
                continue
            row = conn.execute(
                "SELECT id FROM quotes WHERE fingerprint = ? AND publication_id IS NULL",
                (quote_fingerprint,),
            ).fetchone()
            if row:
                set_publication(conn, row[0], publication)
                filled += 1
    return filled
