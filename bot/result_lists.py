"""What the bot remembers about a chat across restarts: the result lists behind ◀ ▶ buttons,
and the one-time hints a chat has already been shown.

A result list is shown one quote at a time in one message; its ◀ ▶ buttons carry a short token
(callback data is at most 64 bytes: no room for a query). The list (quote ids, highlighted
spans, heading, buttons to leave out) is kept in memory for speed and written to the
``result_lists`` table, so buttons on a list posted before a restart still page, for
:data:`KEPT_DAYS` days (the newest :data:`KEPT_ON_DISK` of them); older lists are deleted
and their buttons answer "expired". Paging shows the quotes as they are now (a corrected
text shows corrected). While another process holds the write lock (an import), a list is
kept in memory only rather than hold up lookups.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store import QuoteStore

log = logging.getLogger(__name__)
KEPT_DAYS = 7  # ◀ ▶ keep working this long, restarts included (README: "Paging buttons")
KEPT_IN_MEMORY = 2_000  # recent lists also kept in memory (the rest are read back from disk)
KEPT_ON_DISK = 100_000  # at most this many lists in the database (about 1 KB each), newest kept
PRUNE_EVERY = 500  # lists saved between deletions of expired ones

Spans = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class ResultSet:
    """A list of results being paged through in one message."""

    chat_id: int
    quote_ids: tuple[int, ...]
    spans: tuple[Spans, ...]
    heading: str | None = None
    # Callback data of buttons not to show: they would open this very list again
    # ("More by Julia Hall" on Julia Hall's own quotes).
    omit: tuple[str, ...] = ()
    export: str = ""  # the Export button's callback data ("" for none; bot/callbacks.py)

    def to_json(self) -> str:
        body = {"q": self.quote_ids, "s": self.spans, "h": self.heading, "o": self.omit}
        if self.export:
            body["x"] = self.export
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def from_json(cls, chat_id: int, text: str) -> ResultSet:
        data: dict[str, Any] = json.loads(text)
        return cls(
            chat_id=chat_id,
            quote_ids=tuple(int(q) for q in data["q"]),
            spans=tuple(tuple((int(a), int(b)) for a, b in s) for s in data["s"]),
            heading=data.get("h"),
            omit=tuple(str(o) for o in data.get("o", ())),
            export=str(data.get("x", "")),
        )


def _save(
    conn: sqlite3.Connection, token: str, result: ResultSet, now: float, prune: int | None
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO result_lists (token, chat_id, created_at, body) VALUES (?,?,?,?)",
        (token, result.chat_id, now, result.to_json()),
    )
    if prune is not None:
        _prune(conn, now, prune)


def _prune(conn: sqlite3.Connection, now: float, kept: int) -> None:
    """Delete the lists older than KEPT_DAYS, and all but the newest ``kept``."""
    conn.execute("DELETE FROM result_lists WHERE created_at < ?", (now - KEPT_DAYS * 86_400.0,))
    conn.execute(
        """DELETE FROM result_lists WHERE created_at <
           (SELECT created_at FROM result_lists ORDER BY created_at DESC LIMIT 1 OFFSET ?)""",
        (kept - 1,),
    )


def _load(conn: sqlite3.Connection, token: str, oldest: float) -> tuple[float, ResultSet] | None:
    row = conn.execute(
        "SELECT chat_id, body, created_at FROM result_lists WHERE token = ? AND created_at >= ?",
        (token, oldest),
    ).fetchone()
    if row is None:
        return None
    try:
        return float(row[2]), ResultSet.from_json(int(row[0]), str(row[1]))
    except (ValueError, KeyError, TypeError):
        return None  # a row this version cannot read: the button answers "expired"


def _first_time(conn: sqlite3.Connection, chat_id: int, hint: str, now: float) -> bool:
    cursor = conn.execute(
        "INSERT OR IGNORE INTO chat_hints (chat_id, hint, shown_at) VALUES (?, ?, ?)",
        (chat_id, hint, now),
    )
    return cursor.rowcount == 1


class ResultLists:
    """Result lists by token: memory first, then the database (see the module doc)."""

    def __init__(
        self,
        kept_in_memory: int = KEPT_IN_MEMORY,
        kept_on_disk: int = KEPT_ON_DISK,
        prune_every: int = PRUNE_EVERY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kept_in_memory, self.kept_on_disk = kept_in_memory, kept_on_disk
        self.prune_every = prune_every
        self.clock = clock
        self._recent: OrderedDict[str, tuple[float, ResultSet]] = OrderedDict()
        self._saved = 0

    async def put(self, store: QuoteStore, result: ResultSet) -> str:
        token = secrets.token_urlsafe(6)
        now = self.clock()
        self._remember(token, now, result)
        self._saved += 1
        prune = self.kept_on_disk if (self._saved - 1) % self.prune_every == 0 else None
        try:
            # Never wait for another process's write lock (an import holds it for minutes):
            # the reply would wait with it. Locked, the list is kept in memory only.
            await store.run_once(_save, token, result, now, prune)
        except sqlite3.OperationalError as exc:
            log.info("result list kept in memory only: %s", exc)
        return token

    async def get(self, store: QuoteStore, token: str) -> ResultSet | None:
        oldest = self.clock() - KEPT_DAYS * 86_400.0
        kept = self._recent.get(token)
        if kept is not None:
            self._recent.move_to_end(token)
            return kept[1] if kept[0] >= oldest else None
        found = await store.read(_load, token, oldest)
        if found is None:
            return None
        self._remember(token, *found)
        return found[1]

    def _remember(self, token: str, at: float, result: ResultSet) -> None:
        self._recent[token] = (at, result)
        self._recent.move_to_end(token)
        while len(self._recent) > self.kept_in_memory:
            self._recent.popitem(last=False)


async def first_time(store: QuoteStore, chat_id: int, hint: str) -> bool:
    """True the first time ``hint`` is shown in this chat (remembered in the database). False
    while another process holds the write lock: the hint waits for another time."""
    try:
        return await store.run_once(_first_time, chat_id, hint, time.time())
    except sqlite3.OperationalError:
        return False
