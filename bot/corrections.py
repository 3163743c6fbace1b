"""Corrections with a trail: correcting and withdrawing quotes, their history, users' reports.

A quote is never deleted and its number never changes, because people have cited it by
that number. A curator corrects a field (``quotebot correct``) or withdraws the quote
(``quotebot withdraw``), always with a reason; each change is one row of ``quote_changes``
(migration 7): when, which field, the value before and after, and why. A withdrawn quote
keeps its row with ``withdrawn_at`` set: ``/quote N`` and old deep links say when and why it
was withdrawn, and every search, the daily rotation and inline mode leave it out (the quote
fetch for lists skips it, see ``bot/store.py``).

Two things follow a correction on other connections, e.g. the running bot when the CLI
corrects: SQLite's ``PRAGMA data_version`` changes, so the lookup forgets its remembered
answers, and :func:`last_change_id` grows, so it reloads its name indexes. A corrected
text also marks the search vocabulary stale (``search_state``), which the next load
rebuilds; FTS5 itself follows by its UPDATE trigger.

A quote keeps its fingerprint (speaker and text as first imported): re-importing the
original document must find the corrected quote, not add the uncorrected one again.

All functions here are units of work (``fn(conn, ...)``) for :meth:`QuoteStore.run`.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot import publications
from bot.provenance import UNKNOWN, PartialDate, ProvenanceError, Publication, Status, check_url
from bot.schema import transaction
from bot.text import key

CORRECTABLE = ("text", "speaker", "role")
SOURCE_FIELDS = ("url", "published", "publisher", "title", "kind", "status")
REPORTS_PER_HOUR = 3  # reports one user may send per hour (README: /report)
MAX_REPORT = 1000  # characters of a report kept


class CorrectionError(ValueError):
    """A correction, withdrawal or report that cannot be made; the message says why."""


@dataclass(frozen=True)
class Change:
    id: int
    quote_id: int
    at: str  # ISO 8601 UTC, e.g. 2026-12-02T12:50:00Z
    action: str  # "correct" or "withdraw"
    field: str  # a CORRECTABLE or SOURCE_FIELDS name; "withdrawn" for a withdrawal
    before: str
    after: str
    reason: str


@dataclass(frozen=True)
class Report:
    id: int
    quote_id: int
    user_id: int
    user_name: str
    chat_id: int
    text: str
    created_at: str
    status: str  # "open" or "closed"
    closed_at: str | None
    close_reason: str


def timestamp(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_change_id(conn: sqlite3.Connection) -> int:
    """The newest change's id (0 when none): grows with every correction or withdrawal."""
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM quote_changes").fetchone()[0])


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise CorrectionError("a reason is required, e.g. --reason 'typo in the source'")
    return reason


def _quote_row(conn: sqlite3.Connection, quote_id: int) -> tuple[str, str, str, int | None, str]:
    row = conn.execute(
        """SELECT q.text, s.name, q.role, q.publication_id, coalesce(q.withdrawn_at, '')
           FROM quotes q JOIN speakers s ON s.id = q.speaker_id WHERE q.id = ?""",
        (quote_id,),
    ).fetchone()
    if row is None:
        raise CorrectionError(f"there is no quote #{quote_id}")
    return row[0], row[1], row[2], row[3], row[4]


def _publication(conn: sqlite3.Connection, publication_id: int | None) -> Publication:
    if publication_id is None:
        return UNKNOWN
    row = conn.execute(
        f"SELECT {publications.COLUMNS} FROM publications WHERE id = ?", (publication_id,)
    ).fetchone()
    return publications.publication_from_row(tuple(row)) if row else UNKNOWN


def _source_value(publication: Publication, field: str) -> str:
    if field == "published":
        return publication.published.iso() if publication.published else ""
    if field == "status":
        return publication.status.value
    return str(getattr(publication, field))


def _corrected_publication(current: Publication, given: Mapping[str, str]) -> Publication:
    """``current`` with the ``given`` source fields (empty clears one); checked."""
    fields: dict[str, object] = {}
    try:
        if "url" in given:
            fields["url"] = check_url(given["url"]) if given["url"] else ""
        if "published" in given:
            fields["published"] = (
                PartialDate.parse(given["published"]) if given["published"] else None
            )
        for name in ("publisher", "title", "kind"):
            if name in given:
                fields[name] = given[name]
        if "status" in given:
            if given["status"] not in {s.value for s in Status}:
                raise ProvenanceError(
                    f"bad status {given['status']!r}: use verified, likely or unknown"
                )
            fields["status"] = Status(given["status"])
    except ProvenanceError as exc:
        raise CorrectionError(str(exc)) from None
    updated = dataclasses.replace(current, **fields)  # type: ignore[arg-type]
    if (
        "status" not in given
        and updated.status is Status.UNKNOWN
        and (updated.url or updated.publisher)
    ):
        # A source now named but never checked at its URL: likely, as an import would say.
        updated = dataclasses.replace(updated, status=Status.LIKELY)
    return updated


def _speaker_id(conn: sqlite3.Connection, name: str, quote_id: int) -> int:
    """The speaker called ``name`` (same key), or a new one with the quote's role and
    organisation."""
    row = conn.execute("SELECT id FROM speakers WHERE key = ?", (key(name) or name,)).fetchone()
    if row:
        return int(row[0])
    role, org = conn.execute(
        "SELECT role, organisation_id FROM quotes WHERE id = ?", (quote_id,)
    ).fetchone()
    cursor = conn.execute(
        "INSERT INTO speakers (name, key, role, organisation_id) VALUES (?, ?, ?, ?)",
        (name, key(name) or name, role, org),
    )
    return int(cursor.lastrowid or 0)


def correct_quote(
    conn: sqlite3.Connection,
    quote_id: int,
    given: Mapping[str, str],
    reason: str,
    now: datetime | None = None,
) -> list[Change]:
    """Set the ``given`` fields (text, speaker, role and the source fields) of quote
    ``quote_id`` and record each change; all or nothing. Fields already equal to the value
    given are left out; nothing to change at all is an error."""
    reason = _reason(reason)
    unknown = sorted(set(given) - set(CORRECTABLE) - set(SOURCE_FIELDS))
    if unknown or not given:
        raise CorrectionError(
            f"nothing to correct{': unknown ' + ', '.join(unknown) if unknown else ''}; "
            "give --text, --speaker, --role or a source field (--url, --published, …)"
        )
    at = timestamp(now)
    changes: list[tuple[str, str, str]] = []
    with transaction(conn):
        text, speaker, role, publication_id, _ = _quote_row(conn, quote_id)
        if "text" in given and given["text"].strip() != text:
            new_text = given["text"].strip()
            if not new_text:
                raise CorrectionError("the text cannot be empty")
            conn.execute("UPDATE quotes SET text = ? WHERE id = ?", (new_text, quote_id))
            # The typo index (bot/search/sql.py) rebuilds its vocabulary at the next load.
            conn.execute("DELETE FROM search_state WHERE name = 'version'")
            changes.append(("text", text, new_text))
        if "speaker" in given and " ".join(given["speaker"].split()) != speaker:
            name = " ".join(given["speaker"].split())
            if not name:
                raise CorrectionError("the speaker cannot be empty")
            conn.execute(
                "UPDATE quotes SET speaker_id = ? WHERE id = ?",
                (_speaker_id(conn, name, quote_id), quote_id),
            )
            changes.append(("speaker", speaker, name))
        if "role" in given and given["role"].strip() != role:
            conn.execute(
                "UPDATE quotes SET role = ? WHERE id = ?", (given["role"].strip(), quote_id)
            )
            changes.append(("role", role, given["role"].strip()))
        source = {f: given[f].strip() for f in SOURCE_FIELDS if f in given}
        if source:
            current = _publication(conn, publication_id)
            updated = _corrected_publication(current, source)
            for field in SOURCE_FIELDS:
                before, after = _source_value(current, field), _source_value(updated, field)
                if before != after:
                    changes.append((field, before, after))
            if updated != current:
                conn.execute(
                    "UPDATE quotes SET publication_id = ? WHERE id = ?",
                    (publications.publication_id(conn, updated), quote_id),
                )
        if not changes:
            raise CorrectionError(f"quote #{quote_id} already says that: nothing changed")
        conn.executemany(
            """INSERT INTO quote_changes (quote_id, at, action, field, before, after, reason)
               VALUES (?, ?, 'correct', ?, ?, ?, ?)""",
            [(quote_id, at, field, before, after, reason) for field, before, after in changes],
        )
    return quote_history(conn, quote_id)[-len(changes) :]


def withdraw_quote(
    conn: sqlite3.Connection, quote_id: int, reason: str, now: datetime | None = None
) -> Change:
    """Withdraw quote ``quote_id``: it stays, with its number, but leaves every list."""
    reason = _reason(reason)
    at = timestamp(now)
    with transaction(conn):
        withdrawn = _quote_row(conn, quote_id)[4]
        if withdrawn:
            raise CorrectionError(f"quote #{quote_id} was already withdrawn on {withdrawn[:10]}")
        conn.execute("UPDATE quotes SET withdrawn_at = ? WHERE id = ?", (at, quote_id))
        conn.execute(
            """INSERT INTO quote_changes (quote_id, at, action, field, before, after, reason)
               VALUES (?, ?, 'withdraw', 'withdrawn', '', ?, ?)""",
            (quote_id, at, at, reason),
        )
    return quote_history(conn, quote_id)[-1]


def quote_history(conn: sqlite3.Connection, quote_id: int) -> list[Change]:
    """Every change of quote ``quote_id``, oldest first."""
    rows = conn.execute(
        """SELECT id, quote_id, at, action, field, before, after, reason FROM quote_changes
           WHERE quote_id = ? ORDER BY id""",
        (quote_id,),
    )
    return [Change(*row) for row in rows]


# -- reports ----------------------------------------------------------------------------------

_REPORT_COLUMNS = (
    "id, quote_id, user_id, user_name, chat_id, text, created_at, status, closed_at, close_reason"
)


def add_report(
    conn: sqlite3.Connection,
    quote_id: int,
    user_id: int,
    user_name: str,
    chat_id: int,
    text: str,
    now: datetime | None = None,
) -> Report | None:
    """Store a user's report about quote ``quote_id``; None when the user has already sent
    :data:`REPORTS_PER_HOUR` in the past hour (nothing is stored then)."""
    now = now or datetime.now(UTC)
    text = " ".join(text.split())[:MAX_REPORT]
    with transaction(conn):
        recent = conn.execute(
            "SELECT count(*) FROM reports WHERE user_id = ? AND created_at > ?",
            (user_id, timestamp(now - timedelta(hours=1))),
        ).fetchone()[0]
        if recent >= REPORTS_PER_HOUR:
            return None
        cursor = conn.execute(
            """INSERT INTO reports (quote_id, user_id, user_name, chat_id, text, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (quote_id, user_id, user_name, chat_id, text, timestamp(now)),
        )
        report_id = int(cursor.lastrowid or 0)
    return _report(conn, report_id)


def _report(conn: sqlite3.Connection, report_id: int) -> Report | None:
    row = conn.execute(
        f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id = ?", (report_id,)
    ).fetchone()
    return Report(*row) if row else None


def open_reports(conn: sqlite3.Connection) -> list[Report]:
    rows = conn.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE status = 'open' ORDER BY id")
    return [Report(*row) for row in rows]


def close_report(
    conn: sqlite3.Connection, report_id: int, reason: str, now: datetime | None = None
) -> Report:
    reason = _reason(reason)
    with transaction(conn):
        found = _report(conn, report_id)
        if found is None:
            raise CorrectionError(f"there is no report #{report_id}")
        if found.status == "closed":
            raise CorrectionError(f"report #{report_id} was already closed on {found.closed_at}")
        conn.execute(
            """UPDATE reports SET status = 'closed', closed_at = ?, close_reason = ?
               WHERE id = ?""",
            (timestamp(now), reason, report_id),
        )
    closed = _report(conn, report_id)
    assert closed is not None
    return closed
