"""SubscriptionStore: who gets a quote of the day, when; on the QuoteStore's connection.

Tables (migration 2 in ``bot/schema.py``):

``daily_subscriptions``  one row per chat: time, zone, status (active/paused/off) and the next
                         delivery (local date + UTC instant, indexed for active rows).
``daily_deliveries``     one row per (chat, local date): the day's quote and how far its
                         delivery got (the protocol: ``bot/daily/deliveries.py``).
``daily_rotation``       one row per (chat, quote): the rotation round it was last sent in
                         (the pick: ``bot/daily/rotation.py``).
``daily_runs``           one row per broadcast pass that did anything: its report.

The helpers that read and move a subscription's next delivery (:func:`get_subscription`,
:func:`set_next`, :func:`done_on`) are shared with the delivery protocol.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.connection import FeatureStore, unit_of_work
from bot.daily import schedule
from bot.schema import transaction


class Status(StrEnum):
    """A subscription's status (the ``daily_subscriptions.status`` column)."""

    ACTIVE = "active"
    PAUSED = "paused"  # by the bot: blocked, removed, restricted (``reason`` says which)
    OFF = "off"  # by the chat: /daily off


class State(StrEnum):
    """How far a day's delivery got (the ``daily_deliveries.state`` column; the protocol is
    in :mod:`bot.daily.deliveries`)."""

    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    DOUBT = "doubt"
    FAILED = "failed"
    MOVED = "moved"


FINAL = (State.SENT, State.DOUBT, State.FAILED, State.MOVED)


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    chat_type: str
    at: time
    timezone: str
    status: Status
    reason: str  # why paused: blocked, kicked, left, restricted
    next_date: date
    next_due: datetime

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Subscription:
        chat_id, chat_type, at, zone, status, reason, next_date, next_due = row
        hour, minute = (int(x) for x in at.split(":"))
        return cls(
            chat_id,
            chat_type,
            time(hour, minute),
            zone,
            Status(status),
            reason,
            date.fromisoformat(next_date),
            datetime.fromtimestamp(next_due, UTC),
        )


_SUB = (
    "SELECT chat_id, chat_type, at, timezone, status, reason, next_date, next_due "
    "FROM daily_subscriptions"
)


def timestamp(moment: datetime) -> float:
    return moment.timestamp()


def get_subscription(conn: sqlite3.Connection, chat_id: int) -> Subscription | None:
    row = conn.execute(_SUB + " WHERE chat_id = ?", (chat_id,)).fetchone()
    return Subscription.from_row(row) if row else None


def done_on(conn: sqlite3.Connection, chat_id: int, day: date) -> bool:
    """Whether ``day``'s quote is sent, maybe sent, or on its way: no second one that day."""
    row = conn.execute(
        "SELECT state FROM daily_deliveries WHERE chat_id = ? AND local_date = ?",
        (chat_id, day.isoformat()),
    ).fetchone()
    return row is not None and row[0] in (*FINAL, State.SENDING, State.CLAIMED)


def set_next(conn: sqlite3.Connection, chat_id: int, day: date, due: datetime) -> None:
    conn.execute(
        "UPDATE daily_subscriptions SET next_date = ?, next_due = ? WHERE chat_id = ?",
        (day.isoformat(), timestamp(due), chat_id),
    )


def _subscribe(
    conn: sqlite3.Connection,
    chat_id: int,
    chat_type: str,
    at: time,
    zone: str,
    now: datetime,
    user_id: int = 0,
) -> Subscription:
    tz = ZoneInfo(zone)
    with transaction(conn):
        today = schedule.local_date(now, tz)
        day, due = schedule.first_due(at, tz, now, done_today=done_on(conn, chat_id, today))
        conn.execute(
            """INSERT INTO daily_subscriptions
                   (chat_id, chat_type, at, timezone, status, reason, next_date, next_due,
                    updated_at, updated_by)
               VALUES (?, ?, ?, ?, 'active', '', ?, ?, ?, ?)
               ON CONFLICT (chat_id) DO UPDATE SET
                   chat_type = excluded.chat_type, at = excluded.at,
                   timezone = excluded.timezone, status = 'active', reason = '',
                   next_date = excluded.next_date, next_due = excluded.next_due,
                   updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
            (
                chat_id,
                chat_type,
                schedule.format_time(at),
                zone,
                day.isoformat(),
                timestamp(due),
                timestamp(now),
                user_id,
            ),
        )
        found = get_subscription(conn, chat_id)
    assert found is not None
    return found


def _set_status(
    conn: sqlite3.Connection,
    chat_id: int,
    status: Status,
    reason: str,
    now: datetime,
    user_id: int,
    only_from: tuple[Status, ...],
) -> Subscription | None:
    """Move a subscription to ``status`` if it is in one of ``only_from``; None if not."""
    with transaction(conn):
        sub = get_subscription(conn, chat_id)
        if sub is None or sub.status not in only_from:
            return None
        conn.execute(
            """UPDATE daily_subscriptions SET status = ?, reason = ?, updated_at = ?,
                   updated_by = ? WHERE chat_id = ?""",
            (status, reason, timestamp(now), user_id, chat_id),
        )
        if status is Status.ACTIVE:
            # Paused days are skipped, not made up: resume from the next time still ahead.
            today = schedule.local_date(now, sub.tz)
            day, due = schedule.first_due(
                sub.at, sub.tz, now, done_today=done_on(conn, chat_id, today)
            )
            set_next(conn, chat_id, day, due)
        return get_subscription(conn, chat_id)


def due_chats(conn: sqlite3.Connection, now: datetime, limit: int = 500) -> list[int]:
    rows = conn.execute(
        """SELECT chat_id FROM daily_subscriptions INDEXED BY daily_subscriptions_due
           WHERE status = 'active' AND next_due <= ? ORDER BY next_due LIMIT ?""",
        (timestamp(now), limit),
    )
    return [int(r[0]) for r in rows]


def _next_due(conn: sqlite3.Connection) -> datetime | None:
    row = conn.execute(
        """SELECT min(next_due) FROM daily_subscriptions INDEXED BY daily_subscriptions_due
           WHERE status = 'active'"""
    ).fetchone()
    return datetime.fromtimestamp(row[0], UTC) if row and row[0] is not None else None


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    counts = dict.fromkeys((*Status, "private", "groups"), 0)
    for status, kind, n in conn.execute(
        """SELECT status, chat_type = 'private', count(*) FROM daily_subscriptions
           GROUP BY status, chat_type = 'private'"""
    ):
        counts[status] = counts.get(status, 0) + n
        if status != Status.OFF:
            counts["private" if kind else "groups"] += n
    return counts


def _unsubscribe(conn: sqlite3.Connection, chat_id: int, now: datetime, user_id: int = 0) -> bool:
    only_from = (Status.ACTIVE, Status.PAUSED)
    return _set_status(conn, chat_id, Status.OFF, "", now, user_id, only_from) is not None


def _pause(conn: sqlite3.Connection, chat_id: int, reason: str, now: datetime) -> bool:
    only_from = (Status.ACTIVE,)
    return _set_status(conn, chat_id, Status.PAUSED, reason, now, 0, only_from) is not None


def _resume(
    conn: sqlite3.Connection, chat_id: int, now: datetime, user_id: int = 0
) -> Subscription | None:
    return _set_status(conn, chat_id, Status.ACTIVE, "", now, user_id, (Status.PAUSED,))


class SubscriptionStore(FeatureStore):
    """The functions above as methods; each call is one unit of work on the store."""

    get = unit_of_work(get_subscription)
    subscribe = unit_of_work(_subscribe)
    unsubscribe = unit_of_work(_unsubscribe)
    pause = unit_of_work(_pause)
    resume = unit_of_work(_resume)
    due_chats = unit_of_work(due_chats)
    next_due = unit_of_work(_next_due)
    counts = unit_of_work(_counts)
