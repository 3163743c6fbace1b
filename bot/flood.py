"""The flood guard: a polite user is never refused; one person cannot flood a group or the bot.

Two rules, both per user (a chat's other members are never affected):

* **Allowance.** Each (chat, user) has a token bucket: ``burst`` commands in a row, then
  ``per_minute`` more each minute. A private chat with one person gets
  :data:`PRIVATE_ALLOWANCE` (30 in a row, then 60 a minute: one a second, Telegram's own
  per-chat sending rate, so someone reading quotes one a second is never refused); in a
  group each member gets :data:`GROUP_ALLOWANCE` (10 in a row, then 12 a minute), so one
  member cannot spend the group's 20 messages a minute that Telegram allows. Over it, the
  user is told when they may continue (at most once a minute), and otherwise ignored until
  the allowance refills.
  ``/help`` and ``/start`` are answered even then (``exempt``), saying when.
* **Repeat.** The same command with the same arguments from the same user within
  ``duplicate_window`` (5 s) is answered once -- a double tap -- but only for ``repeatable``
  commands, whose answer cannot have changed in between (lookups and /help; the caller puts
  the statements' version in the command, see ``bot.handlers.guarded``). ``/daily``,
  ``/random`` and anything that changes state are never suppressed.

Memory is bounded: the least recently seen users are forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ANSWER = "answer"
    DUPLICATE = "duplicate"  # the same user sent the same repeatable command moments ago
    SLOW_DOWN = "slow_down"  # user just went over their allowance: tell them once
    SILENT = "silent"  # still over the allowance, already told: ignore


@dataclass(frozen=True)
class Allowance:
    """``burst`` commands in a row, refilled at ``per_minute`` a minute."""

    burst: int
    per_minute: float

    @property
    def per_second(self) -> float:
        return self.per_minute / 60.0


PRIVATE_ALLOWANCE = Allowance(burst=30, per_minute=60)
GROUP_ALLOWANCE = Allowance(burst=10, per_minute=12)
DUPLICATE_WINDOW = 5.0  # seconds
WARN_EVERY = 60.0  # seconds: a user over the allowance is told at most this often


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    wait: int = 0  # whole seconds until the user may send commands again (when refused)

    @property
    def answer(self) -> bool:
        return self.verdict is Verdict.ANSWER


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: float | None = None


class FloodGuard:
    """Per-user allowances and the repeat rule, in bounded memory."""

    def __init__(
        self,
        *,
        private: Allowance = PRIVATE_ALLOWANCE,
        group: Allowance = GROUP_ALLOWANCE,
        duplicate_window: float = DUPLICATE_WINDOW,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.private, self.group = private, group
        self.duplicate_window = duplicate_window
        self.max_entries = max_entries
        self.clock = clock
        self._recent: OrderedDict[tuple[int, int, str], float] = OrderedDict()
        self._buckets: OrderedDict[tuple[int, int], _Bucket] = OrderedDict()

    def check(
        self,
        chat_id: int,
        user_id: int,
        command: str,
        *,
        private: bool,
        repeatable: bool = False,
        exempt: bool = False,
    ) -> Decision:
        """Whether to answer ``command``; an answered command spends one of the allowance.

        ``exempt`` (/help, /start): answered even over the allowance, spending nothing, with
        ``wait`` saying when the user may continue; the repeat rule still applies."""
        now = self.clock()
        key = (chat_id, user_id, " ".join(command.casefold().split()))
        if repeatable:
            last = self._recent.get(key)
            if last is not None and now - last < self.duplicate_window:
                return Decision(Verdict.DUPLICATE)
        allowance = self.private if private else self.group
        bucket = self._refill((chat_id, user_id), allowance, now)
        if bucket.tokens < 1.0:
            wait = self._wait(bucket, allowance)
            if exempt:
                self._remember(key, now, repeatable)
                return Decision(Verdict.ANSWER, wait)
            if bucket.warned is not None and now - bucket.warned < WARN_EVERY:
                return Decision(Verdict.SILENT, wait)
            bucket.warned = now
            return Decision(Verdict.SLOW_DOWN, wait)
        bucket.tokens -= 1.0
        self._remember(key, now, repeatable)
        return Decision(Verdict.ANSWER)

    def _remember(self, key: tuple[int, int, str], now: float, repeatable: bool) -> None:
        if repeatable:
            self._recent[key] = now
            self._recent.move_to_end(key)
        self._trim()

    def _refill(self, user: tuple[int, int], allowance: Allowance, now: float) -> _Bucket:
        bucket = self._buckets.get(user)
        if bucket is None:
            bucket = self._buckets[user] = _Bucket(float(allowance.burst), now)
        else:
            gained = (now - bucket.updated) * allowance.per_second
            bucket.tokens = min(float(allowance.burst), bucket.tokens + gained)
            bucket.updated = now
        self._buckets.move_to_end(user)
        return bucket

    @staticmethod
    def _wait(bucket: _Bucket, allowance: Allowance) -> int:
        return max(1, math.ceil((1.0 - bucket.tokens) / allowance.per_second))

    def _trim(self) -> None:
        while len(self._recent) > self.max_entries:
            self._recent.popitem(last=False)
        while len(self._buckets) > self.max_entries:
            self._buckets.popitem(last=False)
