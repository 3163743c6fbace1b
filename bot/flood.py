"""Per-chat flood guard: duplicate commands answered once; chatty users get bounded replies."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ANSWER = "answer"
    DUPLICATE = "duplicate"  # same command and arguments in this chat moments ago: stay silent
    SLOW_DOWN = "slow_down"  # user just went over the limit: tell them once
    SILENT = "silent"  # still over the limit: ignore


class FloodGuard:
    """Remembers recent commands per chat and per user, in bounded memory."""

    def __init__(
        self,
        *,
        duplicate_window: float = 5.0,
        per_user: int = 12,
        per_user_window: float = 60.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.duplicate_window = duplicate_window
        self.per_user = per_user
        self.per_user_window = per_user_window
        self.max_entries = max_entries
        self.clock = clock
        self._recent: OrderedDict[tuple[int, str], float] = OrderedDict()
        self._users: OrderedDict[tuple[int, int], deque[float]] = OrderedDict()
        self._warned: dict[tuple[int, int], float] = {}

    def check(self, chat_id: int, user_id: int, command: str) -> Verdict:
        now = self.clock()
        key = (chat_id, " ".join(command.casefold().split()))
        last = self._recent.get(key)
        if last is not None and now - last < self.duplicate_window:
            return Verdict.DUPLICATE
        user = (chat_id, user_id)
        times = self._users.get(user)
        if times is None:
            times = self._users[user] = deque()
        self._users.move_to_end(user)
        while times and now - times[0] >= self.per_user_window:
            times.popleft()
        if len(times) >= self.per_user:
            warned = self._warned.get(user)
            if warned is not None and now - warned < self.per_user_window:
                return Verdict.SILENT
            self._warned[user] = now
            return Verdict.SLOW_DOWN
        times.append(now)
        self._recent[key] = now
        self._recent.move_to_end(key)
        self._trim()
        return Verdict.ANSWER

    def _trim(self) -> None:
        while len(self._recent) > self.max_entries:
            self._recent.popitem(last=False)
        while len(self._users) > self.max_entries:
            user, _ = self._users.popitem(last=False)
            self._warned.pop(user, None)
