"""Quote of the day: the broadcast pass (:class:`DailyService`) and its wiring.

``register_daily(app)`` adds /daily, /stats, the ``d:`` buttons and my_chat_member handling;
``start_daily(app)`` (post_init, store open) starts the service, the JobQueue check and a
catch-up pass; ``stop_daily(app)`` (before the store closes) stops them. All are idempotent.
SQL lives in :mod:`bot.subscriptions`, due times in :mod:`bot.schedule`, send pacing in
:mod:`bot.ratelimit`.

A pass: due chats come from the index on ``next_due``; up to ``workers`` deliveries run at
once, each claim -> send -> record (the protocol is in :mod:`bot.subscriptions`), the rate
limiter deciding the pace. Retries due within ``linger`` seconds are waited for in the same
pass; later ones are found by a later check.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ExtBot,
    MessageHandler,
    filters,
)

from bot import render, schedule
from bot.config import Settings
from bot.context import Context
from bot.handlers import guarded, is_group, reply
from bot.ratelimit import Broadcast, PriorityRateLimiter, retry_seconds
from bot.schedule import parse_time, parse_zone
from bot.store import QuoteStore, StoredQuote
from bot.subscriptions import Claim, CorpusEntry, SubscriptionStore

if TYPE_CHECKING:
    from bot.app import QuoteBotApp

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
ResultHook = Callable[[int, date, int, str], None]
HEADING = "📅 <b>Quote of the day</b>"
# Reasons that mean "this chat is not reachable by the bot now" (kept, paused).
_NO_RIGHTS = ("not enough rights", "have no rights", "need administrator rights")
# httpx failures where the request certainly never reached Telegram: safe to send again.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClaimLost(Exception):
    """Another process took this chat's day over while we waited for a send slot."""


@dataclass
class PassReport:
    """What one pass did; ``outcomes`` counts delivered, retried, blocked, migrated, ..."""

    source: str
    started: datetime
    finished: datetime | None = None
    outcomes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return dict(self.outcomes)


def render_daily(quote: StoredQuote) -> str:
    return render.render_quote(quote, heading=HEADING)


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
    (risking a duplicate) instead of recording ``doubt`` (risking a missed day). Off: at
    most once per chat per day.
    """

    def __init__(
        self,
        store: QuoteStore,
        bot: ExtBot[Any],
        settings: Settings,
        *,
        clock: Clock = utcnow,
        sleep: Sleep = asyncio.sleep,
        workers: int = 32,
        lease: float = 120.0,
        linger: float = 30.0,
        resend_ambiguous: bool = False,
        admin_ttl: float = 60.0,
    ) -> None:
        self.subs = SubscriptionStore(store)
        self.bot, self.settings = bot, settings
        self.clock, self.sleep = clock, sleep
        self.workers, self.lease, self.linger = workers, lease, linger
        self.resend_ambiguous = resend_ambiguous
        self.admin_ttl = admin_ttl
        self.last_report: PassReport | None = None
        self._admins: dict[tuple[int, int], tuple[datetime, bool]] = {}
        self._lock = asyncio.Lock()
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
            corpus = await self.subs.corpus()
            linger = self.linger if linger is None else linger
            in_flight: set[int] = set()
            broken: set[int] = set()  # failed unexpectedly: not again in this pass
            slots = asyncio.Semaphore(self.workers)
            tasks: set[asyncio.Task[None]] = set()
            fatal: list[BaseException] = []

            async def deliver(chat_id: int) -> None:
                try:
                    await self._deliver(chat_id, corpus, report, on_result)
                except Exception:
                    # One chat's unexpected failure must not stop the others' quotes.
                    log.exception("daily quote to chat %s failed unexpectedly", chat_id)
                    report.outcomes["error"] += 1
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
                        run_id = await self.subs.start_run(now, source)
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
                await self.subs.finish_run(run_id, report.finished, report.as_dict())
                self.last_report = report
            return report

    async def _deliver(
        self,
        chat_id: int,
        corpus: list[CorpusEntry],
        report: PassReport,
        on_result: ResultHook | None,
        *,
        hops: int = 0,
    ) -> None:
        claim = await self.subs.claim(chat_id, self.clock(), self.lease, corpus)
        if isinstance(claim, str):
            if claim == "doubt":
                report.outcomes["doubt"] += 1
            return
        outcome, new_chat = await self._send(claim)
        report.outcomes[outcome] += 1
        if on_result is not None:
            on_result(claim.chat_id, claim.day, claim.quote.id, outcome)
        if new_chat is not None and hops < 3:
            # The quote goes to the supergroup the same day, in the same pass.
            await self._deliver(new_chat, corpus, report, on_result, hops=hops + 1)

    async def _send(self, claim: Claim) -> tuple[str, int | None]:
        """Send one claimed quote and record the outcome; returns (outcome, migrated-to id)."""
        subs, chat_id = self.subs, claim.chat_id

        async def on_start() -> None:
            until = self.clock() + timedelta(seconds=self.lease)
            if not await subs.mark_sending(claim, until):
                raise ClaimLost

        quote = claim.quote
        kwargs: dict[str, Any] = {
            "parse_mode": ParseMode.HTML,
            "reply_markup": render.pager_keyboard("", 0, 1, quote),
            "link_preview_options": LinkPreviewOptions(is_disabled=True),
        }
        try:
            if isinstance(self.bot.rate_limiter, PriorityRateLimiter):
                kwargs["rate_limit_args"] = Broadcast(on_start=on_start)
            else:
                await on_start()  # no slot to wait for: the request leaves now
            message = await self.bot.send_message(chat_id, render_daily(quote), **kwargs)
        except ClaimLost:
            return "lost claim", None
        except ChatMigrated as exc:
            await subs.migrate(chat_id, exc.new_chat_id, claim.day, self.clock())
            return "migrated", exc.new_chat_id
        except RetryAfter as exc:
            retry_at = self.clock() + timedelta(seconds=retry_seconds(exc) + 0.1)
            ok = await subs.record_retry(claim, retry_at, "429 flood control", self.clock())
            return ("retried" if ok else "failed"), None
        except Forbidden as exc:
            # Blocked or kicked: keep the subscription for a later unblock; never loop on it.
            await subs.pause_after_failure(claim, "blocked", exc.message, self.clock())
            return "blocked", None
        except BadRequest as exc:
            text = exc.message.lower()
            if "chat not found" in text:
                await subs.remove(chat_id, claim.day, exc.message, self.clock())
                return "removed", None
            if any(reason in text for reason in _NO_RIGHTS):
                await subs.pause_after_failure(claim, "restricted", exc.message, self.clock())
                return "blocked", None
            # Anything else is a bug on our side or in the quote: not retried today.
            log.error("daily quote to chat %s refused: %s", chat_id, exc.message)
            await subs.record(claim, "failed", self.clock(), exc.message)
            return "failed", None
        except NetworkError as exc:  # timeouts, 5xx, connection failures
            if certainly_not_sent(exc) or self.resend_ambiguous:
                retry_at = self.clock() + timedelta(seconds=backoff(claim.attempt))
                ok = await subs.record_retry(claim, retry_at, str(exc)[:200], self.clock())
                return ("retried" if ok else "failed"), None
            # The request left and no answer came back: it may have arrived. At most once.
            await subs.record(claim, "doubt", self.clock(), f"ambiguous: {exc}"[:200])
            return "doubt", None
        except TelegramError as exc:
            log.error("daily quote to chat %s failed: %s", chat_id, exc)
            retry_at = self.clock() + timedelta(seconds=backoff(claim.attempt))
            ok = await subs.record_retry(claim, retry_at, str(exc)[:200], self.clock())
            return ("retried" if ok else "failed"), None
        await subs.record(claim, "sent", self.clock(), message_id=message.message_id)
        return "delivered", None

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


# ======================================================================== chat handlers

DAILY_GROUP = -1  # before the generic handlers (group 0); each handler ends processing
JOB_NAME = "daily-check"
CHECK_INTERVAL = 20.0  # seconds between looks at the due index
_BUTTON = re.compile(r"d:(off|resume|on:([01]\d|2[0-3])([0-5]\d))")
EXAMPLE = "<code>/daily 09:00</code> or <code>/daily 07:30 Europe/Paris</code>"
BAD_TIME = (
    "I couldn't read <i>{given}</i> as a time. Give a 24-hour time and, if you like, a time "
    "zone: " + EXAMPLE + ". <code>/daily off</code> stops the quote of the day."
)
BAD_ZONE = (
    "I don't know the time zone <i>{given}</i>. Use an Area/City name, e.g. "
    "<code>/daily 09:00 America/New_York</code> or <code>/daily 09:00 UTC</code>."
)
NOT_ADMIN = (
    "Only this group's admins can change its quote of the day, so that one member cannot "
    "change it for everyone. Anyone can see it with /daily."
)
NOT_BOT_ADMIN = "/stats is only for the bot's administrators."
_PAUSED_WHY = {
    "blocked": "the bot could not reach this chat (blocked or removed)",
    "removed": "the bot was removed from this chat",
    "restricted": "the bot may not send messages here",
}


Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def _stops(fn: Handler) -> Handler:
    """Run a handler in DAILY_GROUP, then stop: the generic handlers must not see the update
    too (the private-chat "unknown command" reply, the stale-button answer). A failure goes
    to the application's error handlers, as it would in group 0."""

    @functools.wraps(fn)
    async def run(update: Update, context: Context) -> None:
        try:
            await fn(update, context)
        except Exception as exc:
            await context.application.process_error(update, exc)
        raise ApplicationHandlerStop

    return run


def _when(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


async def status_view(
    service: DailyService, chat_id: int, default_zone: str
) -> tuple[str, InlineKeyboardMarkup]:
    sub = await service.subs.get(chat_id)
    if sub is None or sub.status == "off":
        zone = sub.timezone if sub else default_zone
        text = (
            "This chat has no quote of the day. Subscribe with "
            f"<code>/daily 09:00</code> ({render.e(zone)}) or e.g. "
            "<code>/daily 07:30 Europe/Paris</code>."
        )
        return text, InlineKeyboardMarkup([[render.button("Subscribe at 09:00", "d:on:0900")]])
    at, zone = schedule.format_time(sub.at), render.e(sub.timezone)
    if sub.status == "paused":
        why = _PAUSED_WHY.get(sub.reason, "it was paused")
        text = (
            f"The quote of the day at <b>{at}</b> ({zone}) is paused: {why}. "
            f"Resume it with the button or <code>/daily {at}</code>."
        )
        buttons = [[render.button("Resume", "d:resume"), render.button("Turn off", "d:off")]]
        return text, InlineKeyboardMarkup(buttons)
    now = service.clock()
    nxt = "now" if sub.next_due <= now else _when(sub.next_due, sub.tz)
    text = (
        f"Quote of the day: every day at <b>{at}</b> ({zone}).\nNext: {nxt}.\n"
        f"Change it with e.g. <code>/daily 07:30</code>; stop it with <code>/daily off</code>."
    )
    return text, InlineKeyboardMarkup([[render.button("Turn off", "d:off")]])


async def may_manage(update: Update, context: Context) -> bool:
    """Private chats: yes. Groups: the chat's admins (getChatMember, cached briefly), and an
    anonymous admin writing as the group itself."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return False
    if not is_group(update):
        return True
    message = update.message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    if user is None:
        return False
    try:
        return await context.bot_data.daily.is_admin(chat.id, user.id)
    except TelegramError as exc:
        log.warning("admin check failed in chat %s: %s", chat.id, exc)
        return False


async def _daily_command(update: Update, context: Context) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return
    args = (context.args or [])[:3]
    if not await guarded(update, context, "/daily " + " ".join(args)):
        return
    service, settings = context.bot_data.daily, context.bot_data.settings
    if not args:
        text, markup = await status_view(service, chat.id, settings.timezone)
        await reply(update, [text], markup)
        return
    now, user_id = service.clock(), user.id if user else 0
    if args[0].lower() in ("off", "stop"):
        if not await may_manage(update, context):
            await reply(update, [NOT_ADMIN])
            return
        if await service.subs.unsubscribe(chat.id, now, user_id):
            text = (
                "The quote of the day is off for this chat. "
                "<code>/daily 09:00</code> brings it back."
            )
        else:
            text = "This chat has no quote of the day. Start one with " + EXAMPLE + "."
        await reply(update, [text])
        return
    at = parse_time(args[0])
    if at is None or len(args) > 2:
        await reply(update, [BAD_TIME.format(given=render.e(" ".join(args)[:40]))])
        return
    if len(args) == 2:
        tz = parse_zone(args[1])
        if tz is None:
            await reply(update, [BAD_ZONE.format(given=render.e(args[1][:40]))])
            return
        zone = tz.key
    else:
        existing = await service.subs.get(chat.id)
        zone = existing.timezone if existing else settings.timezone
    if not await may_manage(update, context):
        await reply(update, [NOT_ADMIN])
        return
    await service.subs.subscribe(chat.id, chat.type, at, zone, now, user_id)
    text, markup = await status_view(service, chat.id, settings.timezone)
    await reply(update, ["Done. " + text], markup)


async def _on_button(update: Update, context: Context) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None:
        return
    match = _BUTTON.fullmatch(query.data or "")
    if match is None or chat is None:
        await query.answer(render.STALE_BUTTON)
        return
    if not await may_manage(update, context):
        await query.answer(NOT_ADMIN[:200], show_alert=True)
        return
    service, settings = context.bot_data.daily, context.bot_data.settings
    now, user_id, action = service.clock(), user.id if user else 0, match.group(1)
    if action == "off":
        await service.subs.unsubscribe(chat.id, now, user_id)
        answer = "The quote of the day is off."
    elif action == "resume":
        resumed = await service.subs.resume(chat.id, now, user_id)
        answer = "Resumed." if resumed else "Nothing to resume."
    else:
        existing = await service.subs.get(chat.id)
        zone = existing.timezone if existing else settings.timezone
        at = time(int(match.group(2)), int(match.group(3)))
        await service.subs.subscribe(chat.id, chat.type, at, zone, now, user_id)
        answer = f"Subscribed: every day at {schedule.format_time(at)} ({zone})."
    await query.answer(answer)
    text, markup = await status_view(service, chat.id, settings.timezone)
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def _stats_command(update: Update, context: Context) -> None:
    user = update.effective_user
    if not await guarded(update, context, "/stats"):
        return
    if user is None or user.id not in context.bot_data.settings.admins:
        await reply(update, [NOT_BOT_ADMIN])
        return
    service = context.bot_data.daily
    counts = await service.subs.counts()
    lines = [
        "<b>Quote of the day</b>",
        f"Subscribed: {counts['active']} active, {counts['paused']} paused "
        f"({counts['private']} private chats, {counts['groups']} groups); "
        f"{counts['off']} turned off.",
    ]
    last = await service.subs.last_run()
    if last is None:
        lines.append("No broadcast yet.")
    else:
        started = datetime.fromtimestamp(last["started_at"], UTC)
        took = (last["finished_at"] or last["started_at"]) - last["started_at"]
        lines.append(
            f"Last broadcast: {started:%Y-%m-%d %H:%M} UTC ({last['source']}, {took:.0f} s)"
        )
        for name in ("delivered", "failed", "blocked", "migrated", "removed", "retried", "doubt"):
            lines.append(f"  {name}: {last.get(name, 0)}")
    await reply(update, ["\n".join(lines)])


async def _on_my_chat_member(update: Update, context: Context) -> None:
    """The bot was blocked, removed or re-added: pause or resume without a failed send."""
    change = update.my_chat_member
    if change is None:
        return
    chat, member = change.chat, change.new_chat_member
    service = context.bot_data.daily
    now = service.clock()
    status = member.status
    reachable = status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, "member")
    if status == ChatMemberStatus.RESTRICTED:
        reachable = bool(getattr(member, "is_member", False)) and bool(
            getattr(member, "can_send_messages", False)
        )
    if reachable:
        if await service.subs.resume(chat.id, now):
            log.info("daily quotes resumed in chat %s", chat.id)
        return
    reason = "restricted" if status == ChatMemberStatus.RESTRICTED else "blocked"
    if chat.type != "private" and status != ChatMemberStatus.RESTRICTED:
        reason = "removed"
    if await service.subs.pause(chat.id, reason, now):
        log.info("daily quotes paused in chat %s (%s)", chat.id, status)


async def _on_migrate(update: Update, context: Context) -> None:
    """The group's "upgraded to supergroup" service message: move the subscription now."""
    message = update.effective_message
    if message is None or not message.migrate_to_chat_id:
        return
    service = context.bot_data.daily
    await service.subs.migrate(message.chat.id, message.migrate_to_chat_id, None, service.clock())


daily_command = _stops(_daily_command)
stats_command = _stops(_stats_command)
on_daily_button = _stops(_on_button)
on_my_chat_member = _stops(_on_my_chat_member)
on_migrate = _stops(_on_migrate)


# ============================================================================== wiring


def register_daily(app: QuoteBotApp) -> None:
    """Add the daily handlers in group DAILY_GROUP (-1), ahead of the generic ones."""
    if any(h.callback is daily_command for h in app.handlers.get(DAILY_GROUP, [])):
        return
    new_messages = filters.UpdateType.MESSAGE
    handlers: list[BaseHandler[Update, Context, None]] = [
        CommandHandler("daily", daily_command, filters=new_messages),
        CommandHandler("stats", stats_command, filters=new_messages),
        CallbackQueryHandler(on_daily_button, pattern=r"^d:"),
        ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    ]
    for handler in handlers:
        app.add_handler(handler, group=DAILY_GROUP)


async def _check(context: Context) -> None:
    service = context.bot_data._daily
    if service is not None and not service.busy:
        await service.run_due()


async def start_daily(app: QuoteBotApp, *, catch_up: bool = True, **options: Any) -> None:
    """post_init, after the store is open: the service, the JobQueue check and a catch-up
    pass in the background (post_init must not wait for a whole broadcast). ``options`` go
    to :class:`DailyService` (tests inject a clock)."""
    data = app.bot_data
    if data._daily is not None:
        return
    service = DailyService(data.store, app.bot, data.settings, **options)
    data._daily = service
    jobs = app.job_queue
    if jobs is not None and not jobs.get_jobs_by_name(JOB_NAME):
        jobs.run_repeating(
            _check,
            interval=CHECK_INTERVAL,
            first=CHECK_INTERVAL,
            name=JOB_NAME,
            # A long broadcast outlives several ticks; those return at once (``busy``).
            job_kwargs={"max_instances": 4, "coalesce": True},
        )
    if catch_up:
        service.spawn(service.run_due(source="catch-up"))


async def stop_daily(app: QuoteBotApp) -> None:
    """post_shutdown, before the store closes: stop checks; let in-flight sends finish."""
    data = app.bot_data
    service = data._daily
    if service is None:
        return
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
    await service.close()
    data._daily = None


# ========================================================================= command line


async def run_broadcast_cli(settings: Settings, *, dry_run: bool) -> int:
    """``quotebot broadcast [--dry-run]``: one pass now, printing each chat's outcome.

    The dry run needs no token and writes nothing. A real run needs TELEGRAM_BOT_TOKEN:
    sending through the offline fake would record deliveries that never reached anyone.
    """
    from bot.logs import setup_logging
    from bot.store import DATA_DIR

    if not dry_run and settings.token is None:
        print(
            "quotebot: error: a real broadcast needs TELEGRAM_BOT_TOKEN (see .env.example); "
            "`quotebot broadcast --dry-run` shows what would be sent without one.",
            file=sys.stderr,
        )
        return 2
    setup_logging("WARNING", settings.token)
    async with await QuoteStore.open(settings.db_path) as store:
        await store.ensure_seeded(DATA_DIR)
        if dry_run:
            subs = SubscriptionStore(store)
            planned = await subs.plan(utcnow(), await subs.corpus())
            for chat_id, day, quote in planned:
                print(f"would send  chat {chat_id}  {day}  quote #{quote.id}  {quote.speaker}")
            print(f"dry run: {len(planned)} quote(s) due now; nothing was sent or recorded")
            return 0
        assert settings.token is not None
        bot: ExtBot[Any] = ExtBot(
            settings.token,
            base_url=f"{settings.api_url}/bot",
            base_file_url=f"{settings.api_url}/file/bot",
            rate_limiter=PriorityRateLimiter(),
        )
        async with bot:
            service = DailyService(store, bot, settings)

            def show(chat_id: int, day: date, quote_id: int, outcome: str) -> None:
                print(f"{outcome:<10}  chat {chat_id}  {day}  quote #{quote_id}", flush=True)

            report = await service.run_due(source="cli", linger=300.0, on_result=show)
        summary = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items())) or "nothing due"
        print(f"broadcast: {summary}")
    return 0
