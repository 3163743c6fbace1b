"""Telegram's send limits for the whole bot, with interactive replies ahead of broadcasts.

PTB's ``AIORateLimiter`` gets three things wrong for a bot that broadcasts:

* it has no per-chat limit for private chats (only negative or ``@name`` ids are limited),
  and Telegram allows about one message per second there;
* it is first come, first served: a reply to a user waits behind thousands of queued
  quote-of-the-day messages;
* one ``RetryAfter`` pauses *every* request, so a 429 for one chat stalls a broadcast.

:class:`PriorityRateLimiter` keeps the ``AIORateLimiter`` interface (so ``build_application``
takes it) and replaces its throttling: sliding windows (30/s overall, 20/min per group,
1/s per private chat) with a small safety margin, granted by one dispatcher task in priority
order (interactive first, then broadcast, FIFO within each; a request whose chat is at its
limit does not hold up others). Requests are marked as broadcast with
``rate_limit_args=Broadcast(...)``; such requests are never retried here (the broadcast
reschedules them itself) and may carry an ``on_start`` hook that runs once the slot is
granted, right before the HTTP request - the daily service records "sending" there.

``RetryAfter`` pauses only the chat it came from, unless 429s from several chats arrive at
once (Telegram's bot-wide flood control), which pauses everything.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
# A Bot API result as PTB's BaseRateLimiter.process_request types it; PTB exports no public
# name for that type, so it is spelled out here.
JSONDict = dict[str, Any]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


@dataclass(frozen=True)
class Broadcast:
    """``rate_limit_args`` for a broadcast send: lowest priority, no retry here."""

    on_start: Callable[[], Awaitable[None]] | None = None


BROADCAST = Broadcast()
INTERACTIVE, BULK = 0, 1  # priorities: lower is served first


def is_message_method(endpoint: str) -> bool:
    """Methods that put a message in a chat, which Telegram counts against its limits."""
    name = endpoint.lower()
    if name == "sendchataction":
        return False
    return name.startswith(("send", "copymessage", "forwardmessage", "edit", "stoppoll"))


def retry_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds: a timedelta (PTB_TIMEDELTA, see ``bot/__init__``)
    or, when that is turned off, PTB 22's int."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Window:
    """At most ``limit`` events in any ``span`` seconds (a sliding log of event times)."""

    __slots__ = ("limit", "span", "stamps")

    def __init__(self, limit: int, span: float) -> None:
        self.limit, self.span = limit, span
        self.stamps: deque[float] = deque()

    def free_at(self, now: float) -> float:
        """The earliest time >= now when one more event fits."""
        stamps = self.stamps
        while stamps and stamps[0] <= now - self.span:
            stamps.popleft()
        if len(stamps) < self.limit:
            return now
        return stamps[len(stamps) - self.limit] + self.span

    def take(self, now: float) -> None:
        self.stamps.append(now)

    def restamp(self, old: float, new: float) -> None:
        """Move an event from ``old`` to the later ``new`` (when it really happened)."""
        try:
            self.stamps.remove(old)
        except ValueError:
            return  # already out of the window
        bisect.insort(self.stamps, new)

    def idle(self, now: float) -> bool:
        return not self.stamps or self.stamps[-1] <= now - self.span


@dataclass(eq=False)
class _Ticket:
    priority: int
    seq: int
    chat: int | str
    future: asyncio.Future[float] = field(repr=False)


class PriorityRateLimiter(AIORateLimiter):
    """See the module docstring. ``clock``/``sleep`` are injectable for tests."""

    def __init__(
        self,
        overall_max_rate: int = 30,
        overall_time_period: float = 1.0,
        group_max_rate: int = 20,
        group_time_period: float = 60.0,
        private_max_rate: int = 1,
        private_time_period: float = 1.0,
        max_retries: int = 2,
        *,
        margin: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        # The parent's aiolimiter buckets are switched off: this class does the throttling.
        super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
        # The margin absorbs jitter between our clock and Telegram's: a request released at
        # exactly 1.000 s after the 30th-last may arrive a few ms sooner relative to it
        # (20 ms let one 429 through in some 3,000-chat benchmark runs; 50 ms costs ~3% of
        # the ceiling: 94.7% -> 92.0% of 30/s there).
        self._overall = (
            Window(overall_max_rate, overall_time_period + margin)
            if overall_max_rate and overall_time_period
            else None
        )
        self._group = (group_max_rate, group_time_period + margin) if group_max_rate else None
        self._private = (
            (private_max_rate, private_time_period + margin) if private_max_rate else None
        )
        # Broadcast sends are spread evenly (one per span/limit) instead of leaving in bursts
        # of 30: the window then always has a slot soon, and a reply waits one slot at most.
        self._bulk_interval = (
            (overall_time_period + margin) / overall_max_rate if self._overall else 0.0
        )
        self._bulk_next = float("-inf")
        self._clock, self._sleep = clock, sleep
        self._chats: dict[int | str, Window] = {}
        self._paused: dict[int | str, float] = {}
        self._global_pause = 0.0
        self._recent_429: deque[tuple[float, int | str | None]] = deque()
        self._tickets: list[_Ticket] = []
        self._seq = itertools.count()
        self._arrival = asyncio.Event()
        self._dispatcher: asyncio.Task[None] | None = None
        self.granted = {INTERACTIVE: 0, BULK: 0}  # counters, for stats and tests

    async def shutdown(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
            self._dispatcher = None

    # ------------------------------------------------------------------ requests
    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | Broadcast | None,
    ) -> bool | JSONDict | list[JSONDict]:
        broadcast = rate_limit_args if isinstance(rate_limit_args, Broadcast) else None
        chat = _chat_key(data.get("chat_id"))
        limited = chat is not None and is_message_method(endpoint)
        if isinstance(rate_limit_args, Broadcast):
            retries = 0  # the broadcast reschedules the chat itself
        else:
            retries = rate_limit_args or self._max_retries
        for attempt in itertools.count():
            granted = 0.0
            if limited:
                assert chat is not None
                granted = await self._acquire(chat, BULK if broadcast else INTERACTIVE)
            else:
                await self._wait_global_pause()
            if broadcast is not None and broadcast.on_start is not None and attempt == 0:
                await broadcast.on_start()
                if limited:
                    # The hook waited for the database; Telegram sees the request only now.
                    # Counting it from its grant would let a later send in too early.
                    self._restamp(chat, granted, self._clock())
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self._note_retry_after(chat, retry_seconds(exc))
                if attempt >= retries:
                    raise
                log.info("429 for chat %s, retrying (attempt %d)", chat, attempt + 1)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _wait_global_pause(self) -> None:
        while (delay := self._global_pause - self._clock()) > 0:
            await self._sleep(delay)

    def _note_retry_after(self, chat: int | str | None, seconds: float) -> None:
        now = self._clock()
        until = now + seconds + 0.1
        if chat is None:
            self._global_pause = max(self._global_pause, until)
            return
        self._paused[chat] = max(self._paused.get(chat, 0.0), until)
        self._recent_429.append((now, chat))
        while self._recent_429 and self._recent_429[0][0] < now - 2.0:
            self._recent_429.popleft()
        if len({c for _, c in self._recent_429}) >= 3:
            # Several chats flood-limited at once: this is the bot-wide limit speaking.
            log.warning("429s from several chats: pausing all sends for %.1f s", seconds)
            self._global_pause = max(self._global_pause, until)
        self._arrival.set()

    # ---------------------------------------------------------------- dispatching
    async def _acquire(self, chat: int | str, priority: int) -> float:
        """Wait for a slot; returns the time it was granted."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        ticket = _Ticket(priority, next(self._seq), chat, future)
        self._tickets.append(ticket)
        self._tickets.sort(key=lambda t: (t.priority, t.seq))
        self._arrival.set()
        if self._dispatcher is None or self._dispatcher.done():
            self._dispatcher = asyncio.create_task(self._dispatch(), name="rate-limiter")
        try:
            return await future
        finally:
            if ticket in self._tickets:  # cancelled while waiting
                self._tickets.remove(ticket)

    def _window(self, chat: int | str) -> Window | None:
        spec = self._group if isinstance(chat, str) or chat < 0 else self._private
        if spec is None:
            return None
        window = self._chats.get(chat)
        if window is None:
            if len(self._chats) > 10_000:
                self._forget_idle()
            window = self._chats[chat] = Window(*spec)
        return window

    def _restamp(self, chat: int | str | None, old: float, new: float) -> None:
        if new <= old or chat is None:
            return
        for window in (self._overall, self._chats.get(chat)):
            if window is not None:
                window.restamp(old, new)

    def _forget_idle(self) -> None:
        now = self._clock()
        for key in [k for k, w in self._chats.items() if w.idle(now)]:
            del self._chats[key]
        for key in [k for k, until in self._paused.items() if until <= now]:
            del self._paused[key]

    def _ready_at(self, ticket: _Ticket, now: float) -> float:
        """When this ticket's chat (and, for a broadcast, the pacing) allows a send; the
        overall window is checked by the dispatcher."""
        window = self._window(ticket.chat)
        chat_free = window.free_at(now) if window is not None else now
        ready = max(chat_free, self._paused.get(ticket.chat, 0.0))
        if ticket.priority == BULK:
            ready = max(ready, self._bulk_next)
        return ready

    async def _dispatch(self) -> None:
        """Grant tickets one at a time, best first, as the windows allow."""
        while self._tickets:
            self._arrival.clear()
            now = self._clock()
            overall_free = max(
                self._overall.free_at(now) if self._overall else now, self._global_pause
            )
            earliest = float("inf")
            granted = False
            if overall_free <= now:
                for ticket in self._tickets:
                    if ticket.future.done():
                        continue
                    ready = self._ready_at(ticket, now)
                    if ready <= now:
                        self._grant(ticket, now)
                        granted = True
                        break
                    earliest = min(earliest, ready)
            else:
                earliest = overall_free
            if granted:
                await asyncio.sleep(0)  # let the granted request start before the next grant
                continue
            self._tickets = [t for t in self._tickets if not t.future.done()]
            if self._tickets:
                await self._nap(max(earliest - now, 0.0))

    def _grant(self, ticket: _Ticket, now: float) -> None:
        if self._overall is not None:
            self._overall.take(now)
        if ticket.priority == BULK:
            # On an even schedule: a grant that came late (loop latency) lets the next one
            # come that much sooner, so small delays do not add up to a lower rate.
            base = max(self._bulk_next, now - self._bulk_interval)
            self._bulk_next = base + self._bulk_interval
        window = self._window(ticket.chat)
        if window is not None:
            window.take(now)
        self._tickets.remove(ticket)
        self.granted[ticket.priority] += 1
        ticket.future.set_result(now)

    async def _nap(self, delay: float) -> None:
        """Sleep ``delay`` seconds (injected sleep), or until a new ticket or 429 arrives."""
        if delay == float("inf"):
            await self._arrival.wait()
            return
        arrival = asyncio.ensure_future(self._arrival.wait())
        sleeper = asyncio.ensure_future(self._sleep(delay))
        try:
            await asyncio.wait({arrival, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (arrival, sleeper):
                task.cancel()


def _chat_key(raw: object) -> int | str | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    text = str(raw)
    with contextlib.suppress(ValueError):
        return int(text)
    return text.lower()  # "@channelname": a group-like chat
