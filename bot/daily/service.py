"""Quote of the day: the broadcast pass (:class:`DailyService`); ``quotebot broadcast`` runs
one from the command line (:mod:`bot.daily.cli`).

The chat side is in :mod:`bot.daily.commands` (/daily, /stats, buttons) and
:mod:`bot.daily.membership` (the bot blocked, removed, re-added); the service's start and
stop with the application in :mod:`bot.daily.jobs`; SQL lives in
:mod:`bot.daily.subscriptions` and :mod:`bot.daily.deliveries`, due times in
:mod:`bot.daily.schedule`, send pacing in :mod:`bot.ratelimit`.

A pass: due chats come from the index on ``next_due``; up to ``workers`` deliveries run at
once, each claim -> send -> record (the protocol is in :mod:`bot.daily.deliveries`), the rate
limiter deciding the pace. Retries due within ``linger`` seconds are waited for in the same
pass; later ones are found by a later check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import ExtBot

from bot import render
from bot.daily.deliveries import AMBIGUOUS_RESENT, Claim, DeliveryStore, NoClaim
from bot.daily.subscriptions import State, SubscriptionStore
from bot.i18n import N_, _, use_language
from bot.languages import stored_language
from bot.ratelimit import Broadcast, PriorityRateLimiter, retry_seconds
from bot.store import QuoteStore, StoredQuote

log = logging.getLogger("bot.daily")  # one logger for the whole daily package

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
ResultHook = Callable[[int, date, int, "Outcome"], None]
HEADING = N_("📅 <b>Quote of the day</b>")
KEEP_DAYS = 90  # days of delivery rows kept (see DailyService._prune)
# Reasons that mean "this chat is not reachable by the bot now" (kept, paused).
_NO_RIGHTS = ("not enough rights", "have no rights", "need administrator rights")
# httpx failures where the request certainly never reached Telegram: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Outcome(StrEnum):
    """What became of one chat's quote in a pass (the pass report counts these)."""

    DELIVERED = "delivered"
    RETRIED = "retried"  # certainly not sent; tried again later that day
    FAILED = "failed"  # not today: refused, or no attempt left
    BLOCKED = "blocked"  # blocked, kicked or restricted: the subscription is paused
    MIGRATED = "migrated"  # the group became a supergroup: sent there instead
    REMOVED = "removed"  # the chat is gone: the subscription is removed
    DOUBT = "doubt"  # may have arrived: not sent again (at most once)
    LOST_CLAIM = "lost claim"  # another process took the day over before the send
    ERROR = "error"  # an unexpected failure (logged); the other chats go on


class ClaimLost(Exception):
    """Another process took this chat's day over while we waited for a send slot."""


@dataclass
class PassReport:
    """What one pass did: how many chats had each :class:`Outcome`."""

    source: str
    started: datetime
    finished: datetime | None = None
    outcomes: Counter[Outcome] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {str(outcome): n for outcome, n in self.outcomes.items()}


def render_daily(quote: StoredQuote) -> str:
    """The quote of the day in the current language (the chat's: see :meth:`DailyService._send`)."""
    return render.render_quote(quote, heading=_(HEADING))


def backoff(attempt: int) -> float:
    """Seconds before another try after a failure that certainly sent nothing."""
    return float(min(30 * 2 ** max(attempt - 1, 0), 1800))


def certainly_not_sent(exc: NetworkError) -> bool:
    """True when Telegram cannot have performed the request (so a resend is no duplicate):
    an HTTP error status came back, or the connection was never made."""
    cause = exc.__cause__
    if isinstance(cause, httpx.HTTPError):
        return isinstance(cause, _NOT_SENT)
    # No httpx cause: Telegram answered with an error status (5xx "Bad Gateway" and such).
    return not isinstance(exc, TimedOut)


class DailyService:
    """Delivers due quotes of the day. ``clock`` and ``sleep`` are injectable for tests.

    ``resend_ambiguous``: after a timeout that may have delivered the message, send again
    later that day (risking a duplicate) instead of recording ``doubt`` (risking a missed
    day). On by default, as the daily issue asks ("timeouts … retried later that day, not
    lost"); Telegram has no idempotency key, so one of the two risks must be taken. A crash
    while a request is in flight is still resolved as ``doubt`` (at most once).
    """

    def __init__(
        self,
        store: QuoteStore,
        bot: ExtBot[Any],
        *,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        workers: int = 32,
        lease: float = 120.0,
        linger: float = 30.0,
        resend_ambiguous: bool = True,
        admin_ttl: float = 60.0,
    ) -> None:
        self.store = store
        self.subs = SubscriptionStore(store)
        self.deliveries = DeliveryStore(store)
        self.bot = bot
        self.clock, self.sleep = clock, sleep
        self.workers, self.lease, self.linger = workers, lease, linger
        self.resend_ambiguous = resend_ambiguous
        self.admin_ttl = admin_ttl
        self._admins: dict[tuple[int, int], tuple[datetime, bool]] = {}
        self._lock = asyncio.Lock()
        self._pruned_on: date | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def stop(self) -> None:
        """Let a running pass finish its in-flight sends and start no more."""
        self._stopping = True

    # ----------------------------------------------------------------- admins
    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """getChatMember, cached for ``admin_ttl`` seconds (a failed check is not cached)."""
        now = self.clock()
        key = (chat_id, user_id)
        cached = self._admins.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        member = await self.bot.get_chat_member(chat_id, user_id)
        allowed = member.status in ("creator", "administrator")
        if len(self._admins) > 10_000:
            self._admins = {k: v for k, v in self._admins.items() if v[0] > now}
        self._admins[key] = (now + timedelta(seconds=self.admin_ttl), allowed)
        return allowed

    # ----------------------------------------------------------------- passes
    async def run_due(
        self,
        *,
        source: str = "scheduler",
        linger: float | None = None,
        on_result: ResultHook | None = None,
    ) -> PassReport:
        """Deliver everything due now; one pass at a time (a second caller waits)."""
        async with self._lock:
            report = PassReport(source, self.clock())
            run_id: int | None = None
            linger = self.linger if linger is None else linger
            in_flight: set[int] = set()
            broken: set[int] = set()  # failed unexpectedly: not again in this pass
            slots = asyncio.Semaphore(self.workers)
            tasks: set[asyncio.Task[None]] = set()
            fatal: list[BaseException] = []

            async def deliver(chat_id: int) -> None:
                try:
                    await self._deliver(chat_id, report, on_result)
                except Exception:
                    # One chat's unexpected failure must not stop the others' quotes.
                    log.exception("daily quote to chat %s failed unexpectedly", chat_id)
                    report.outcomes[Outcome.ERROR] += 1
                    broken.add(chat_id)
                except asyncio.CancelledError:
                    raise
                except BaseException as exc:  # an interrupt or exit: the pass re-raises it
                    fatal.append(exc)
                finally:
                    in_flight.discard(chat_id)
                    slots.release()

            while not (self._stopping or fatal):
                now = self.clock()
                fetched = await self.subs.due_chats(now, 4 * self.workers)
                due = [c for c in fetched if c not in in_flight and c not in broken]
                if due:
                    if run_id is None:
                        run_id = await self.deliveries.start_run(now, source)
                    for chat_id in due:
                        await slots.acquire()
                        if self._stopping or fatal:
                            slots.release()
                            break
                        in_flight.add(chat_id)
                        task = asyncio.create_task(deliver(chat_id))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                    continue
                if tasks:
                    await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
                    continue
                if fetched:  # all of them broken
                    break
                upcoming = await self.subs.next_due()
                if upcoming is None or (wait := (upcoming - now).total_seconds()) > linger:
                    break
                await self.sleep(max(wait, 0.0))
            if fatal:
                for task in tasks:
                    task.cancel()
                raise fatal[0]
            if tasks:
                await asyncio.wait(set(tasks))
            report.finished = self.clock()
            if run_id is not None:
                await self.deliveries.finish_run(run_id, report.finished, report.as_dict())
            await self._prune(report.finished)
            return report

    async def _prune(self, now: datetime) -> None:
        """Once a (UTC) day: forget deliveries older than KEEP_DAYS, which only /stats and
        debugging ever read; without this the table grows by one row per chat per day."""
        today = now.date()
        if self._pruned_on != today:
            self._pruned_on = today
            removed = await self.deliveries.prune(today - timedelta(days=KEEP_DAYS))
            if removed:
                log.info("forgot %d daily deliveries older than %d days", removed, KEEP_DAYS)

    async def _deliver(
        self,
        chat_id: int,
        report: PassReport,
        on_result: ResultHook | None,
        *,
        hops: int = 0,
    ) -> None:
        claim = await self.deliveries.claim(chat_id, self.clock(), self.lease)
        if isinstance(claim, NoClaim):
            if claim is NoClaim.DOUBT:
                report.outcomes[Outcome.DOUBT] += 1
            return
        outcome, new_chat = await self._send(claim)
        report.outcomes[outcome] += 1
        if on_result is not None:
            on_result(claim.chat_id, claim.day, claim.quote.id, outcome)
        if new_chat is not None and hops < 3:
            # The quote goes to the supergroup the same day, in the same pass.
            await self._deliver(new_chat, report, on_result, hops=hops + 1)

    async def _send(self, claim: Claim) -> tuple[Outcome, int | None]:
        """Send one claimed quote and record the outcome; returns (outcome, migrated-to id)."""
        deliveries, chat_id = self.deliveries, claim.chat_id

        async def on_start() -> None:
            until = self.clock() + timedelta(seconds=self.lease)
            if not await deliveries.mark_sending(claim, until):
                raise ClaimLost

        quote = claim.quote
        # Nobody is writing: the chat's chosen language, else the one last seen there.
        with use_language(await self.store.run(stored_language, chat_id)):
            text = render_daily(quote)
            markup = render.pager_keyboard("", 0, 1, quote, turn_off=True)
        kwargs: dict[str, Any] = {"reply_markup": markup}
        try:
            if isinstance(self.bot.rate_limiter, PriorityRateLimiter):
                kwargs["rate_limit_args"] = Broadcast(on_start=on_start)
            else:
                await on_start()  # no slot to wait for: the request leaves now
            message = await self.bot.send_message(chat_id, text, **kwargs)
        except ClaimLost:
            return Outcome.LOST_CLAIM, None
        except ChatMigrated as exc:
            await deliveries.migrate(chat_id, exc.new_chat_id, claim.day, self.clock())
            return Outcome.MIGRATED, exc.new_chat_id
        except RetryAfter as exc:
            retry_at = self.clock() + timedelta(seconds=retry_seconds(exc) + 0.1)
            ok = await deliveries.record_retry(claim, retry_at, "429 flood control", self.clock())
            return (Outcome.RETRIED if ok else Outcome.FAILED), None
        except Forbidden as exc:
            # Blocked or kicked: keep the subscription for a later unblock; never loop on it.
            await deliveries.pause_after_failure(claim, "blocked", exc.message, self.clock())
            return Outcome.BLOCKED, None
        except BadRequest as exc:
            text = exc.message.lower()
            if "chat not found" in text:
                await deliveries.remove(chat_id, claim.day, exc.message, self.clock())
                return Outcome.REMOVED, None
            if any(reason in text for reason in _NO_RIGHTS):
                await deliveries.pause_after_failure(claim, "restricted", exc.message, self.clock())
                return Outcome.BLOCKED, None
            # Anything else is a bug on our side or in the quote: not retried today.
            log.error("daily quote to chat %s refused: %s", chat_id, exc.message)
            await deliveries.record(claim, State.FAILED, self.clock(), exc.message)
            return Outcome.FAILED, None
        except NetworkError as exc:  # timeouts, 5xx, connection failures
            return await self._failed_send(claim, exc, sent=not certainly_not_sent(exc)), None
        except TelegramError as exc:
            # An answer that is not JSON (a broken proxy): Telegram may have sent it.
            maybe_sent = isinstance(exc.__cause__, ValueError)
            if not maybe_sent:
                log.error("daily quote to chat %s failed: %s", chat_id, exc)
            return await self._failed_send(claim, exc, sent=maybe_sent), None
        await deliveries.record(claim, State.SENT, self.clock(), message_id=message.message_id)
        return Outcome.DELIVERED, None

    async def _failed_send(self, claim: Claim, exc: TelegramError, *, sent: bool) -> Outcome:
        """A send that failed: retried later that day when it ``sent`` nothing; when it may
        have (the fate is unknown), resent (marked, counted) or recorded as ``doubt``,
        as QUOTEBOT_DAILY_AMBIGUOUS says."""
        deliveries = self.deliveries
        if not sent or self.resend_ambiguous:
            retry_at = self.clock() + timedelta(seconds=backoff(claim.attempt))
            # Marked when the first copy may have arrived: /stats counts these resends.
            note = f"{AMBIGUOUS_RESENT}{exc}" if sent else str(exc)
            ok = await deliveries.record_retry(claim, retry_at, note[:200], self.clock())
            return Outcome.RETRIED if ok else Outcome.FAILED
        # The request left and no answer came back: it may have arrived. At most once.
        await deliveries.record(claim, State.DOUBT, self.clock(), f"ambiguous: {exc}"[:200])
        return Outcome.DOUBT

    # -------------------------------------------------------------- lifecycle
    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, grace: float = 10.0) -> None:
        """Stop: in-flight sends get ``grace`` seconds to finish and be recorded."""
        self.stop()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        # A pass started by the JobQueue is not ours to cancel; it stops after its sends.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace), self._lock:
                pass
