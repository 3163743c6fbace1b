"""Quote of the day in chats: /daily, /stats and the ``d:`` buttons.

The handlers are registered in ``bot/app.py``'s one ordered list (the ``d:`` buttons before the
generic button handler). The bot's own membership changes are :mod:`bot.daily.membership`'s,
the service's start and stop :mod:`bot.daily.jobs`'; the SQL is in
:mod:`bot.daily.subscriptions` and :mod:`bot.daily.deliveries`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError

from bot import render
from bot.context import Context
from bot.daily import schedule
from bot.daily.schedule import parse_time, parse_zone
from bot.daily.service import DailyService, Outcome
from bot.daily.subscriptions import Status
from bot.handlers import guarded, is_group, reply, shows_already
from bot.i18n import N_, _, format_day_and_time, ngettext

# One logger for the whole daily package (bot.daily.service's too), so log filters and
# alerts on logger=bot.daily see every record of the quote of the day.
log = logging.getLogger("bot.daily")


# d:off, d:resume (status view); d:stop (under a quote of the day); d:on:HHMM (subscribe);
# d:z:HHMM:Area/City (the zone suggested for a bare city name).
_BUTTON = re.compile(
    r"d:(?P<action>off|stop|resume|on|z)"
    r"(?::(?P<hh>[01]\d|2[0-3])(?P<mm>[0-5]\d)(?::(?P<zone>[A-Za-z][A-Za-z0-9_+/-]{0,49}))?)?"
)
_BUTTON_SHAPES = {
    "off": (False, False),
    "stop": (False, False),
    "resume": (False, False),
    "on": (True, False),
    "z": (True, True),
}  # action: (time?, zone?)
# Translated where sent: _(BAD_TIME).format(given=...).
BAD_TIME = N_(
    "I couldn't read <i>{given}</i> as a time. Give a 24-hour time and, if you like, a time "
    "zone: <code>/daily 09:00</code> or <code>/daily 07:30 Europe/Paris</code>. "
    "<code>/daily off</code> stops the quote of the day."
)
BAD_ZONE = N_(
    "I don't know the time zone <i>{given}</i>. Use an Area/City name, e.g. "
    "<code>/daily 09:00 America/New_York</code> or <code>/daily 09:00 UTC</code>."
)
DID_YOU_MEAN_ZONE = N_(
    "I don't know the time zone <i>{given}</i>. Did you mean <b>{zone}</b>? "
    "<code>/daily {at} {zone}</code>"
)
NOT_WHOLE_HOUR = N_(
    "<i>{given}</i> is not a whole-hour offset, and only those can be set as an offset. Use "
    "your city's zone instead (it also follows daylight saving), e.g. "
    "<code>/daily 09:00 Asia/Kolkata</code>."
)
FIXED_OFFSET_NOTE = N_(
    "<i>{label} is a fixed offset: it does not follow daylight saving time. For local time "
    "all year, use your city's zone, e.g. <code>/daily {at} Europe/Moscow</code>.</i>"
)
NOT_ADMIN = N_(
    "Only this group's admins can change its quote of the day, so that one member cannot "
    "change it for everyone. Anyone can see it with /daily."
)
NOT_BOT_ADMIN = N_("/stats is only for the bot's administrators.")
OUTCOME_EXPLAINED = {
    Outcome.DOUBT: N_(
        " — the connection broke while sending, so these may or may not have arrived; "
        "they are not sent again, so that no chat gets the same quote twice"
    ),
    Outcome.RETRIED: N_(" — not sent because of a temporary error; tried again later that day"),
}
_PAUSED_WHY = {
    "blocked": N_("the bot could not reach this chat (blocked or removed)"),
    "removed": N_("the bot was removed from this chat"),
    "restricted": N_("the bot may not send messages here"),
}


def _when(moment: datetime, tz: ZoneInfo) -> str:
    """``Tue 3 Feb, 09:00`` in the reply's language."""
    return format_day_and_time(moment.astimezone(tz))


async def status_view(
    service: DailyService, chat_id: int, default_zone: str
) -> tuple[str, InlineKeyboardMarkup]:
    sub = await service.subs.get(chat_id)
    if sub is None or sub.status is Status.OFF:
        zone = schedule.zone_label(sub.timezone if sub else default_zone)
        text = _(
            "This chat has no quote of the day. Subscribe with "
            "<code>/daily 09:00</code> ({zone}) or e.g. <code>/daily 07:30 Europe/Paris</code>."
        ).format(zone=render.e(zone))
        subscribe = render.button(_("Subscribe at 09:00"), "d:on:0900")
        return text, InlineKeyboardMarkup([[subscribe]])
    at, zone = schedule.format_time(sub.at), render.e(schedule.zone_label(sub.timezone))
    if sub.status is Status.PAUSED:
        why = _(_PAUSED_WHY.get(sub.reason, N_("it was paused")))
        text = _(
            "The quote of the day at <b>{at}</b> ({zone}) is paused: {why}. "
            "Resume it with the button or <code>/daily {at}</code>."
        ).format(at=at, zone=zone, why=why)
        buttons = [[render.button(_("Resume"), "d:resume"), render.button(_("Turn off"), "d:off")]]
        return text, InlineKeyboardMarkup(buttons)
    now = service.clock()
    nxt = _("now") if sub.next_due <= now else _when(sub.next_due, sub.tz)
    text = _(
        "Quote of the day: every day at <b>{at}</b> ({zone}).\nNext: {next}.\n"
        "Change it with e.g. <code>/daily 07:30</code>; stop it with <code>/daily off</code>."
    ).format(at=at, zone=zone, next=nxt)
    if schedule.is_fixed_offset(sub.timezone):
        text += "\n" + _(FIXED_OFFSET_NOTE).format(label=zone, at=at)
    return text, InlineKeyboardMarkup([[render.button(_("Turn off"), "d:off")]])


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


def resolve_zone(given: str, at: time) -> tuple[str | None, str, InlineKeyboardMarkup | None]:
    """The zone key ``given`` names: an Area/City name, or a whole-hour UTC offset (kept as
    ``Etc/GMT-3``, shown as ``UTC+3``). Otherwise ``(None, reply, buttons)``: the zone a bare
    city name most likely means, with a button to use it, or how to write one."""
    offset = schedule.parse_offset(given)
    if isinstance(offset, str):
        return offset, "", None
    shown = render.e(given[:40])
    if offset is not None:
        return None, _(NOT_WHOLE_HOUR).format(given=shown), None
    tz = parse_zone(given)
    if tz is not None:
        return tz.key, "", None
    city = schedule.suggest_zone(given)
    if city is None:
        return None, _(BAD_ZONE).format(given=shown), None
    hhmm = schedule.format_time(at)
    text = _(DID_YOU_MEAN_ZONE).format(given=shown, zone=render.e(city), at=hhmm)
    use = render.button(_("Use {zone}").format(zone=city), f"d:z:{hhmm.replace(':', '')}:{city}")
    return None, text, InlineKeyboardMarkup([[use]])


async def daily_command(update: Update, context: Context) -> None:
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
            await reply(update, [_(NOT_ADMIN)])
            return
        if await service.subs.unsubscribe(chat.id, now, user_id):
            text = _(
                "The quote of the day is off for this chat. "
                "<code>/daily 09:00</code> brings it back."
            )
        else:
            text = _(
                "This chat has no quote of the day. Start one with <code>/daily 09:00</code> "
                "or <code>/daily 07:30 Europe/Paris</code>."
            )
        await reply(update, [text])
        return
    at = parse_time(args[0])
    if at is None or len(args) > 2:
        await reply(update, [_(BAD_TIME).format(given=render.e(" ".join(args)[:40]))])
        return
    if len(args) == 2:
        zone, problem, suggestion = resolve_zone(args[1], at)
        if zone is None:
            await reply(update, [problem], suggestion)
            return
    else:
        existing = await service.subs.get(chat.id)
        zone = existing.timezone if existing else settings.timezone
    if not await may_manage(update, context):
        await reply(update, [_(NOT_ADMIN)])
        return
    await service.subs.subscribe(chat.id, chat.type, at, zone, now, user_id)
    text, markup = await status_view(service, chat.id, settings.timezone)
    await reply(update, [_("Done. {status}").format(status=text)], markup)


async def on_daily_button(update: Update, context: Context) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None:
        return
    match = _BUTTON.fullmatch(query.data or "")
    action = match.group("action") if match else ""
    shape = (bool(match.group("hh")), bool(match.group("zone"))) if match else None
    zone_given = match.group("zone") if match else None
    if (
        match is None
        or chat is None
        or shape != _BUTTON_SHAPES[action]
        or (zone_given is not None and parse_zone(zone_given) is None)
    ):
        await query.answer(_(render.STALE_BUTTON))
        return
    if not await may_manage(update, context):
        await query.answer(_(NOT_ADMIN)[:200], show_alert=True)
        return
    service, settings = context.bot_data.daily, context.bot_data.settings
    now, user_id = service.clock(), user.id if user else 0
    if action == "stop":
        await _turn_off_under_quote(update, context)
        return
    if action == "off":
        await service.subs.unsubscribe(chat.id, now, user_id)
        answer = _("The quote of the day is off.")
    elif action == "resume":
        resumed = await service.subs.resume(chat.id, now, user_id)
        answer = _("Resumed.") if resumed else _("Nothing to resume.")
    else:
        existing = await service.subs.get(chat.id)
        zone = zone_given or (existing.timezone if existing else settings.timezone)
        at = time(int(match.group("hh")), int(match.group("mm")))
        await service.subs.subscribe(chat.id, chat.type, at, zone, now, user_id)
        label = schedule.zone_label(zone)
        answer = _("Subscribed: every day at {at} ({zone}).").format(
            at=schedule.format_time(at), zone=label
        )
    await query.answer(answer)
    text, markup = await status_view(service, chat.id, settings.timezone)
    if shows_already(query.message, text, markup):
        return  # pressed twice, or on an older copy: Telegram refuses a no-op edit
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        # Shown already (a second press), or under a message without text: answered above.
        if "not modified" not in exc.message and "no text" not in exc.message:
            raise


async def _turn_off_under_quote(update: Update, context: Context) -> None:
    """ "Turn off" under a quote of the day: unsubscribe, and take the button off that message;
    the quote itself stays as it was."""
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None
    service = context.bot_data.daily
    stopped = await service.subs.unsubscribe(chat.id, service.clock(), user.id if user else 0)
    await query.answer(
        _("The quote of the day is off. /daily 09:00 brings it back.")
        if stopped
        else _("The quote of the day was already off.")
    )
    message = query.message
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return
    rows = [
        [b for b in row if b.callback_data != render.DAILY_TURN_OFF]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup([r for r in rows if r]))
    except BadRequest as exc:
        if "not modified" not in exc.message:
            raise


async def stats_command(update: Update, context: Context) -> None:
    user = update.effective_user
    if not await guarded(update, context, "/stats"):
        return
    if user is None or user.id not in context.bot_data.settings.admins:
        await reply(update, [_(NOT_BOT_ADMIN)])
        return
    service = context.bot_data.daily
    counts = await service.subs.counts()
    lines = [
        _("<b>Quote of the day</b>"),
        _(
            "Subscribed: {active} active, {paused} paused ({private}, {groups}); {off} turned off."
        ).format(
            active=counts["active"],
            paused=counts["paused"],
            private=ngettext(
                "{count} private chat", "{count} private chats", counts["private"]
            ).format(count=counts["private"]),
            groups=ngettext("{count} group", "{count} groups", counts["groups"]).format(
                count=counts["groups"]
            ),
            off=counts["off"],
        ),
    ]
    last = await service.deliveries.last_run()
    if last is None:
        lines.append(_("No broadcast yet."))
    else:
        started = datetime.fromtimestamp(last["started_at"], UTC)
        took = (last["finished_at"] or last["started_at"]) - last["started_at"]
        lines.append(
            _("Last broadcast: {when} UTC ({source}, {seconds} s)").format(
                when=f"{started:%Y-%m-%d %H:%M}", source=last["source"], seconds=f"{took:.0f}"
            )
        )
        for outcome in (
            Outcome.DELIVERED,
            Outcome.FAILED,
            Outcome.BLOCKED,
            Outcome.MIGRATED,
            Outcome.REMOVED,
            Outcome.RETRIED,
            Outcome.DOUBT,
        ):
            explained = _(OUTCOME_EXPLAINED.get(outcome, ""))
            lines.append(f"  {outcome}: {last.get(outcome, 0)}{explained}")
    week = await service.deliveries.ambiguous_counts(service.clock() - timedelta(days=7))
    setting = context.bot_data.settings.daily_ambiguous
    resent = ngettext("{count} quote", "{count} quotes", week["resent"]).format(
        count=week["resent"]
    )
    lines.append(
        _(
            "Timed out while sending, last 7 days (QUOTEBOT_DAILY_AMBIGUOUS={setting}): "
            "{resent} sent again (may have arrived twice), {not_resent} not sent again "
            "(may be missing)."
        ).format(setting=setting, resent=resent, not_resent=week["not_resent"])
    )
    await reply(update, ["\n".join(lines)])
