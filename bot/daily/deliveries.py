"""DeliveryStore: one chat's quote of the day, from claim to outcome, exactly once.

Delivery protocol, each step one transaction (``BEGIN IMMEDIATE``, so two processes - the
bot and ``quotebot broadcast`` - never both claim a day):

1. claim     no row yet: pick the quote, insert ``claimed`` (lease); a ``retry`` row whose
             time has come, or a ``claimed`` row whose lease expired, is claimed again with
             its quote. A row already ``sent``/``doubt``/``failed`` for that date: skip.
2. sending   written by the rate limiter's ``on_start`` hook the moment the request is
             released to Telegram: from here on the message may exist.
3. outcome   ``sent`` | ``retry`` (certainly not sent: 429, 5xx, no connection; and, with
             QUOTEBOT_DAILY_AMBIGUOUS=resend, the default, a timeout after the request
             left, marked :data:`AMBIGUOUS_RESENT`) | ``failed`` (not today: blocked,
             gone) | ``moved`` (chat migrated) | ``doubt`` (maybe sent: a crash in step 2,
             or a timeout with QUOTEBOT_DAILY_AMBIGUOUS=skip).

So the guarantee is: exactly once a day when every request's fate is known; when one is not
(a timeout after the request left), at least once with ``resend`` (the chat may get the
quote twice) or at most once with ``skip`` (it may miss the day). /stats counts both.

A ``sending`` row found after its lease expired means the sender died mid-request. Telegram
has no idempotency key, so it is resolved as ``doubt`` and NOT resent: at most once per
chat per day. Only that window - a request in flight when the process dies - can skip a day;
a crash anywhere else is resumed (a ``claimed`` row was never sent and is sent again).

Pass reports (``daily_runs``), the dry run and the pruning of old rows live here too.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from bot.connection import FeatureStore, unit_of_work
from bot.daily import schedule
from bot.daily.rotation import pick_quote
from bot.daily.subscriptions import (
    FINAL,
    State,
    Status,
    Subscription,
    done_on,
    due_chats,
    get_subscription,
    set_next,
    timestamp,
)
from bot.schema import transaction
from bot.store import StoredQuote, fetch_quotes_by_id

MAX_ATTEMPTS = 12


class NoClaim(StrEnum):
    """Why a chat's delivery was not claimed (no send now; counted in the pass report only
    when it matters: DOUBT)."""

    NOT_DUE = "not due"
    LATER = "later"  # its time (or its retry's) has not come yet
    NO_QUOTES = "no quotes"  # an empty corpus: nothing to send today
    DONE = "done"  # the day's delivery is already final (sent, doubt, failed, moved)
    IN_FLIGHT = "in flight elsewhere"  # another sender holds the lease
    DOUBT = "doubt"  # its sender died mid-request: resolved as maybe sent, not resent
    QUOTE_GONE = "quote gone"  # the day's quote was deleted: picked again in a minute


@dataclass(frozen=True)
class Claim:
    """A day's delivery, claimed for sending."""

    chat_id: int
    day: date
    quote: StoredQuote
    attempt: int


def _claim(
    conn: sqlite3.Connection,
    chat_id: int,
    now_dt: datetime,
    lease: float,
) -> Claim | NoClaim:
    """Claim the chat's due delivery, or say why not."""
    now = timestamp(now_dt)
    with transaction(conn):
        sub = get_subscription(conn, chat_id)
        if sub is None or sub.status is not Status.ACTIVE or timestamp(sub.next_due) > now:
            return NoClaim.NOT_DUE
        day, due, send_now = schedule.catch_up(sub.next_date, sub.at, sub.tz, now_dt)
        if day != sub.next_date:
            _expire(conn, chat_id, sub.next_date, now)
            set_next(conn, chat_id, day, due)
            sub = replace(sub, next_date=day, next_due=due)
        if not send_now:
            set_next(conn, chat_id, day, due)
            return NoClaim.LATER
        key = (chat_id, day.isoformat())
        row = conn.execute(
            """SELECT state, quote_id, attempts, lease_until, retry_at FROM daily_deliveries
               WHERE chat_id = ? AND local_date = ?""",
            key,
        ).fetchone()
        quote_id: int | None
        if row is None:
            quote_id = pick_quote(conn, chat_id, now)
            if quote_id is None:  # an empty corpus: nothing to send today
                set_next(conn, chat_id, *schedule.next_after(day, sub.at, sub.tz))
                return NoClaim.NO_QUOTES
            conn.execute(
                """INSERT INTO daily_deliveries
                       (chat_id, local_date, state, quote_id, attempts, lease_until, claimed_at)
                   VALUES (?, ?, 'claimed', ?, 1, ?, ?)""",
                (*key, quote_id, now + lease, now),
            )
            attempt = 1
        else:
            state, quote_id, attempts, lease_until, retry_at = row
            if state in FINAL:
                set_next(conn, chat_id, *schedule.next_after(day, sub.at, sub.tz))
                return NoClaim.DONE
            if state in (State.CLAIMED, State.SENDING) and lease_until > now:
                # Another sender (the bot, or `quotebot broadcast`) holds it: look again later.
                set_next(conn, chat_id, day, datetime.fromtimestamp(lease_until, UTC))
                return NoClaim.IN_FLIGHT
            if state == State.SENDING:
                # Its sender died mid-request: it may have arrived. At most once: never resend.
                _finish(conn, chat_id, day, State.DOUBT, "sender stopped mid-request", now, sub)
                return NoClaim.DOUBT
            if state == State.RETRY and retry_at is not None and retry_at > now:
                set_next(conn, chat_id, day, datetime.fromtimestamp(retry_at, UTC))
                return NoClaim.LATER
            attempt = attempts + 1
            conn.execute(
                """UPDATE daily_deliveries SET state = 'claimed', attempts = ?, lease_until = ?,
                       claimed_at = ? WHERE chat_id = ? AND local_date = ?""",
                (attempt, now + lease, now, *key),
            )
        found = fetch_quotes_by_id(conn, [quote_id])
        if not found:  # deleted since the day's pick: pick again in a minute
            conn.execute("DELETE FROM daily_deliveries WHERE chat_id = ? AND local_date = ?", key)
            set_next(conn, chat_id, day, now_dt + timedelta(minutes=1))
            return NoClaim.QUOTE_GONE
        return Claim(chat_id, day, found[0], attempt)


def _expire(conn: sqlite3.Connection, chat_id: int, day: date, now: float) -> None:
    """A past day that never completed (the bot was down past its end): recorded as missed,
    except an in-flight one, which may have arrived."""
    conn.execute(
        """UPDATE daily_deliveries SET state = CASE state WHEN 'sending' THEN 'doubt'
               ELSE 'failed' END, error = 'missed: day over', finished_at = ?
           WHERE chat_id = ? AND local_date = ? AND state IN ('claimed', 'sending', 'retry')""",
        (now, chat_id, day.isoformat()),
    )


def _finish(
    conn: sqlite3.Connection,
    chat_id: int,
    day: date,
    state: State,
    error: str,
    now: float,
    sub: Subscription | None,
    message_id: int | None = None,
) -> None:
    conn.execute(
        """UPDATE daily_deliveries SET state = ?, error = ?, finished_at = ?,
               message_id = coalesce(?, message_id)
           WHERE chat_id = ? AND local_date = ?""",
        (state, error, now, message_id, chat_id, day.isoformat()),
    )
    if sub is not None and sub.next_date <= day:
        set_next(conn, chat_id, *schedule.next_after(day, sub.at, sub.tz))


def _mark_sending(conn: sqlite3.Connection, claim: Claim, lease_until: datetime) -> bool:
    """claimed -> sending, only if this claim still holds (the attempt number matches):
    False means another process took the day over and this send must not happen."""
    with transaction(conn):
        cursor = conn.execute(
            """UPDATE daily_deliveries SET state = 'sending', lease_until = ?
               WHERE chat_id = ? AND local_date = ? AND state = 'claimed' AND attempts = ?""",
            (timestamp(lease_until), claim.chat_id, claim.day.isoformat(), claim.attempt),
        )
        return cursor.rowcount == 1


AMBIGUOUS_RESENT = "ambiguous, resent: "
"""Marks a day's delivery that was sent again after an attempt that may have arrived (the
``resend`` choice of QUOTEBOT_DAILY_AMBIGUOUS): the chat may have it twice. Kept through
later retries and the final state, so /stats can count these days."""


def _keep_mark(conn: sqlite3.Connection, chat_id: int, day: date, error: str) -> str:
    """``error``, carrying the row's :data:`AMBIGUOUS_RESENT` mark if it has one."""
    row = conn.execute(
        "SELECT error FROM daily_deliveries WHERE chat_id = ? AND local_date = ?",
        (chat_id, day.isoformat()),
    ).fetchone()
    if row is None or AMBIGUOUS_RESENT not in row[0] or AMBIGUOUS_RESENT in error:
        return error
    return f"{AMBIGUOUS_RESENT}{error or 'then sent'}"[:300]


def _ambiguous_counts(conn: sqlite3.Connection, since: datetime) -> dict[str, int]:
    """Deliveries claimed since ``since`` whose fate was unknown at some point: ``resent``
    (sent again: may have arrived twice) and ``not_resent`` (``doubt``: may be missing)."""
    resent, not_resent = conn.execute(
        """SELECT coalesce(sum(instr(error, ?) > 0 AND state != 'doubt'), 0),
                  coalesce(sum(state = 'doubt'), 0)
           FROM daily_deliveries WHERE claimed_at >= ?""",
        (AMBIGUOUS_RESENT, timestamp(since)),
    ).fetchone()
    return {"resent": int(resent), "not_resent": int(not_resent)}


def _record(
    conn: sqlite3.Connection,
    claim: Claim,
    state: State,
    now: datetime,
    error: str = "",
    message_id: int | None = None,
) -> None:
    """A claimed delivery's final state (sent, failed, doubt)."""
    with transaction(conn):
        error = _keep_mark(conn, claim.chat_id, claim.day, error)
        _finish(
            conn,
            claim.chat_id,
            claim.day,
            state,
            error,
            timestamp(now),
            get_subscription(conn, claim.chat_id),
            message_id,
        )


def _record_retry(
    conn: sqlite3.Connection, claim: Claim, retry_at: datetime, error: str, now: datetime
) -> bool:
    """Schedule another attempt the same local day; False (and ``failed``) if none is left."""
    chat_id, day = claim.chat_id, claim.day
    with transaction(conn):
        error = _keep_mark(conn, chat_id, day, error)
        sub = get_subscription(conn, chat_id)
        attempts = conn.execute(
            "SELECT attempts FROM daily_deliveries WHERE chat_id = ? AND local_date = ?",
            (chat_id, day.isoformat()),
        ).fetchone()
        if (
            sub is None
            or retry_at >= schedule.end_of_day(day, sub.tz)
            or (attempts and attempts[0] >= MAX_ATTEMPTS)
        ):
            _finish(conn, chat_id, day, State.FAILED, f"gave up: {error}", timestamp(now), sub)
            return False
        conn.execute(
            """UPDATE daily_deliveries SET state = 'retry', retry_at = ?, error = ?
               WHERE chat_id = ? AND local_date = ?""",
            (timestamp(retry_at), error, chat_id, day.isoformat()),
        )
        if sub.next_date == day:
            set_next(conn, chat_id, day, retry_at)
        return True


def _pause_after_failure(
    conn: sqlite3.Connection, claim: Claim, reason: str, error: str, now: datetime
) -> None:
    """The chat cannot be reached (blocked, restricted): the day failed, the subscription
    is paused (kept for an unblock), never retried in a loop."""
    chat_id, day = claim.chat_id, claim.day
    with transaction(conn):
        conn.execute(
            """UPDATE daily_subscriptions SET status = 'paused', reason = ?, updated_at = ?
               WHERE chat_id = ? AND status = 'active'""",
            (reason, timestamp(now), chat_id),
        )
        _finish(
            conn, chat_id, day, State.FAILED, error, timestamp(now), get_subscription(conn, chat_id)
        )


def _remove(
    conn: sqlite3.Connection, chat_id: int, day: date | None, error: str, now: datetime
) -> None:
    """The chat is gone ("chat not found"): its subscription and rotation are forgotten."""
    with transaction(conn):
        if day is not None:
            _finish(conn, chat_id, day, State.FAILED, error, timestamp(now), None)
        conn.execute("DELETE FROM daily_subscriptions WHERE chat_id = ?", (chat_id,))
        conn.execute("DELETE FROM daily_rotation WHERE chat_id = ?", (chat_id,))


def _migrate(
    conn: sqlite3.Connection, old: int, new: int, day: date | None, now_dt: datetime
) -> bool:
    """Move ``old``'s subscription and rotation to supergroup ``new``; True if moved. The day
    being delivered is handed over with its quote, due at once in the new chat."""
    now = timestamp(now_dt)
    with transaction(conn):
        quote = None
        if day is not None:
            _finish(conn, old, day, State.MOVED, f"migrated to {new}", now, None)
            row = conn.execute(
                "SELECT quote_id FROM daily_deliveries WHERE chat_id = ? AND local_date = ?",
                (old, day.isoformat()),
            ).fetchone()
            quote = row[0] if row else None
        sub = get_subscription(conn, old)
        if sub is None:
            return False
        if get_subscription(conn, new) is None:
            conn.execute(
                "UPDATE daily_subscriptions SET chat_id = ?, chat_type = 'supergroup' "
                "WHERE chat_id = ?",
                (new, old),
            )
            conn.execute(
                "UPDATE OR IGNORE daily_rotation SET chat_id = ? WHERE chat_id = ?", (new, old)
            )
            handover = day is not None and quote is not None and sub.status is Status.ACTIVE
            if handover and day is not None and not done_on(conn, new, day):
                conn.execute(
                    """INSERT INTO daily_deliveries (chat_id, local_date, state, quote_id,
                           attempts, lease_until, retry_at, claimed_at)
                       VALUES (?, ?, 'retry', ?, 0, 0, ?, ?)""",
                    (new, day.isoformat(), quote, now, now),
                )
                set_next(conn, new, day, now_dt)
        conn.execute("DELETE FROM daily_subscriptions WHERE chat_id = ?", (old,))
        conn.execute("DELETE FROM daily_rotation WHERE chat_id = ?", (old,))
        return True


def _prune(conn: sqlite3.Connection, before: date, batch: int) -> int:
    """Forget up to ``batch`` deliveries dated before ``before`` (and the pass reports of
    that time); the rotation keeps its own history, so no quote repeats because of this."""
    with transaction(conn):
        removed = conn.execute(
            """DELETE FROM daily_deliveries WHERE (chat_id, local_date) IN (
                   SELECT chat_id, local_date FROM daily_deliveries
                   WHERE local_date < ? LIMIT ?)""",
            (before.isoformat(), batch),
        ).rowcount
        cutoff = datetime.combine(before, time(), UTC).timestamp()
        conn.execute("DELETE FROM daily_runs WHERE started_at < ?", (cutoff,))
    return int(removed)


def _start_run(conn: sqlite3.Connection, now: datetime, source: str) -> int:
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO daily_runs (started_at, source) VALUES (?, ?)", (timestamp(now), source)
        )
        return int(cursor.lastrowid or 0)


def _finish_run(
    conn: sqlite3.Connection, run_id: int, now: datetime, report: dict[str, int]
) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE daily_runs SET finished_at = ?, report = ? WHERE id = ?",
            (timestamp(now), json.dumps(report, sort_keys=True), run_id),
        )


def _last_run(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT started_at, finished_at, source, report FROM daily_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    started, finished, source, report = row
    return {"started_at": started, "finished_at": finished, "source": source, **json.loads(report)}


def _plan(
    conn: sqlite3.Connection, now_dt: datetime, limit: int = 100_000
) -> list[tuple[int, date, StoredQuote]]:
    """What a pass would send now, without writing anything (the dry run)."""
    now = timestamp(now_dt)
    planned: list[tuple[int, date, StoredQuote]] = []
    conn.execute("SAVEPOINT dry_run")  # pick_quote writes; all of it is rolled back
    try:
        for chat_id in due_chats(conn, now_dt, limit):
            sub = get_subscription(conn, chat_id)
            assert sub is not None
            day, _, send_now = schedule.catch_up(sub.next_date, sub.at, sub.tz, now_dt)
            if not send_now or done_on(conn, chat_id, day):
                continue
            row = conn.execute(
                "SELECT state, quote_id, retry_at FROM daily_deliveries "
                "WHERE chat_id = ? AND local_date = ?",
                (chat_id, day.isoformat()),
            ).fetchone()
            if row is not None and row[0] == State.RETRY and (row[2] or 0) > now:
                continue
            quote_id = row[1] if row else pick_quote(conn, chat_id, now)
            found = fetch_quotes_by_id(conn, [quote_id]) if quote_id is not None else []
            if found:
                planned.append((chat_id, day, found[0]))
    finally:
        conn.execute("ROLLBACK TO dry_run")
        conn.execute("RELEASE dry_run")
    return planned


def _delivery(conn: sqlite3.Connection, chat_id: int, day: date) -> tuple[State, int, str] | None:
    """(state, quote id, error) of a chat's delivery for ``day``."""
    row = conn.execute(
        "SELECT state, quote_id, error FROM daily_deliveries WHERE chat_id = ? AND local_date = ?",
        (chat_id, day.isoformat()),
    ).fetchone()
    return (State(row[0]), int(row[1]), str(row[2])) if row else None


class DeliveryStore(FeatureStore):
    """The functions above as methods; each call is one unit of work on the store."""

    claim = unit_of_work(_claim)
    mark_sending = unit_of_work(_mark_sending)
    record = unit_of_work(_record)
    record_retry = unit_of_work(_record_retry)
    pause_after_failure = unit_of_work(_pause_after_failure)
    remove = unit_of_work(_remove)
    migrate = unit_of_work(_migrate)
    start_run = unit_of_work(_start_run)
    finish_run = unit_of_work(_finish_run)
    last_run = unit_of_work(_last_run)
    plan = unit_of_work(_plan)
    delivery = unit_of_work(_delivery)
    ambiguous_counts = unit_of_work(_ambiguous_counts)

    async def prune(self, before: date, batch: int = 5000) -> int:
        """Deliveries dated before ``before`` removed, one batch per unit of work (so that
        lookups waiting for the connection get a turn between batches)."""
        total = 0
        while (removed := await self.run(_prune, before, batch)) > 0:
            total += removed
            if removed < batch:
                break
        return total
