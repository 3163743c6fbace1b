"""Handlers of corrections (issue 11 §6): ``/history N`` and ``/report N <what is wrong>``.

Thin, like bot/handlers.py: parse, ask the store (bot/corrections.py), render
(bot/render_trail.py), reply. A report is stored first, then sent to every
``QUOTEBOT_ADMINS`` user; one admin who cannot be reached (never started the bot, blocked
it) does not stop the others, and the report stays listed by ``quotebot reports``.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot import render, render_trail
from bot.context import Context
from bot.corrections import add_report, quote_history
from bot.handlers import argument, guarded, reply
from bot.i18n import DEFAULT, _, use_language
from bot.store import StoredQuote

log = logging.getLogger(__name__)
_QUOTE_ID = re.compile(r"#?(\d{1,9})")


async def history_command(update: Update, context: Context) -> None:
    query = argument(update, context)
    if await guarded(update, context, f"/history {query}", repeatable=True):
        await show_history(update, context, query)


async def show_history(update: Update, context: Context, query: str) -> None:
    quote = await _quote_named(update, context, query, render_trail.HISTORY_USAGE)
    if quote is None:
        return
    store = context.bot_data.store
    await reply(
        update, render_trail.history_messages(quote, await store.run(quote_history, quote.id))
    )


async def _quote_named(
    update: Update, context: Context, number: str, usage: str
) -> StoredQuote | None:
    """The quote ``number`` ("7" or "#7") names, or None once the user was told why not
    (``usage`` for a malformed number, "no such quote" for an unknown one)."""
    match = _QUOTE_ID.fullmatch(number)
    if match is None:
        await reply(update, [_(usage)])
        return None
    quote = await context.bot_data.store.get_quote_record(int(match.group(1)))
    if quote is None:
        await reply(update, [_(render.NO_SUCH_QUOTE).format(id=int(match.group(1)))])
    return quote


async def report_command(update: Update, context: Context) -> None:
    query = argument(update, context)
    # A report changes state: never dropped as a repeat (the hourly limit counts them).
    if not await guarded(update, context, f"/report {query}"):
        return
    number, _space, text = query.partition(" ")
    if not text.strip():
        await reply(update, [_(render_trail.REPORT_USAGE)])
        return
    quote = await _quote_named(update, context, number, render_trail.REPORT_USAGE)
    if quote is None:
        return
    store = context.bot_data.store
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    report = await store.run(add_report, quote.id, user.id, user.full_name, chat.id, text.strip())
    if report is None:
        await reply(update, [render_trail.too_many_reports()])
        return
    await reply(update, [render_trail.report_received(report)])
    username = context.bot.username
    with use_language(DEFAULT):  # for the curators, whatever the reporter's language
        text_for_admins = render_trail.report_for_admins(report, quote, username)
        keyboard = render_trail.report_keyboard(quote.id, username)
    for admin in sorted(context.bot_data.settings.admins):
        try:
            await context.bot.send_message(
                admin,
                text_for_admins,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
                disable_web_page_preview=True,
            )
        except TelegramError as exc:
            log.warning("report %s not delivered to admin %s: %s", report.id, admin, exc)
