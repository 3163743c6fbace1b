"""Wiring: ``build_application(settings, request=None)`` returns a ready PTB Application.

The one place where handlers are registered: :func:`handler_list`, one ordered list in one
group, where the first handler that matches an update handles it (so the ``d:`` buttons come
before the generic button handler, and every command before the private-chat pointer to
/help for unknown commands, then plain text in private chats, which is a search).
Resources open in ``post_init`` and close in ``post_shutdown``; ``async with app`` does
not run them, so callers that skip ``run_polling`` must call :func:`start_resources` /
:func:`stop_resources` themselves.
"""

from __future__ import annotations

import html
import logging

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot import callbacks, handlers, i18n, inline, render, trail
from bot.config import Settings
from bot.context import BotData, Context, QuoteBotApp
from bot.daily import commands as daily
from bot.daily import jobs, membership
from bot.i18n import _, use_language
from bot.lang import lang_command, localized, on_lang_button
from bot.ratelimit import PriorityRateLimiter
from bot.search.service import Lookup
from bot.store import QuoteStore
from bot.transport import BotApiRequest

log = logging.getLogger(__name__)
# A syntactically valid token for the offline console and tests; it reaches no real bot.
OFFLINE_TOKEN = "123456:" + "offline-console-token-not-real-0000"[:35]

COMMAND_HANDLERS = {
    "start": handlers.start,
    "help": handlers.help_command,
    **{name: handlers.command(name) for name in handlers.RUNNERS},
    "history": trail.history_command,
    "report": trail.report_command,
    "daily": daily.daily_command,
    "lang": lang_command,
    "stats": daily.stats_command,
}


def build_application(
    settings: Settings,
    request: BaseRequest | None = None,
    *,
    get_updates_request: BaseRequest | None = None,
    rate_limiter: AIORateLimiter | None = None,
) -> QuoteBotApp:
    builder = (
        ApplicationBuilder()
        .token(settings.token or OFFLINE_TOKEN)
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .context_types(ContextTypes(bot_data=BotData))
        .defaults(render.BOT_DEFAULTS)
        .rate_limiter(rate_limiter or PriorityRateLimiter())
        .concurrent_updates(16)
        .post_init(start_resources)
        .post_shutdown(stop_resources)
    )
    # Every Bot API call passes bot.transport (clean updates in, safe retries out). PTB's
    # defaults otherwise: a pool of 256 connections for calls, one for getUpdates.
    calls = request or HTTPXRequest(connection_pool_size=256)
    updates = get_updates_request or request or HTTPXRequest(connection_pool_size=1)
    builder = builder.request(BotApiRequest(calls)).get_updates_request(BotApiRequest(updates))
    app: QuoteBotApp = builder.build()
    app.bot_data.settings = settings
    register_handlers(app)
    return app


def handler_list() -> list[BaseHandler[Update, Context, None]]:
    """Every handler, in order: the first that matches an update handles it."""
    # Edited messages would answer a command twice; only new messages count.
    new_messages = filters.UpdateType.MESSAGE
    return [
        *(
            CommandHandler(name, localized(callback), filters=new_messages)
            for name, callback in COMMAND_HANDLERS.items()
        ),
        CallbackQueryHandler(localized(daily.on_daily_button), pattern=r"^d:"),
        CallbackQueryHandler(localized(on_lang_button), pattern=r"^l:"),
        CallbackQueryHandler(localized(callbacks.on_button)),
        InlineQueryHandler(localized(inline.on_inline_query)),
        ChatMemberHandler(
            localized(membership.on_my_chat_member), ChatMemberHandler.MY_CHAT_MEMBER
        ),
        MessageHandler(filters.StatusUpdate.MIGRATE, membership.on_migrate),
        MessageHandler(
            filters.COMMAND & filters.ChatType.PRIVATE & new_messages, localized(handlers.unknown)
        ),
        # Plain text in a private chat is a search; in groups it is not the bot's business.
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & new_messages,
            localized(handlers.plain_text),
        ),
    ]


def register_handlers(app: QuoteBotApp) -> None:
    app.add_handlers(handler_list())
    app.add_error_handler(on_error)


async def start_resources(app: QuoteBotApp) -> None:
    """post_init: open the store (seeding it if empty), load the lookup indexes, set menus."""
    data = app.bot_data
    # Writes wait for another process's import (retried for two minutes, 100 ms at a time,
    # so the writer thread is never held long); reads do not wait at all (see bot.store).
    store = await QuoteStore.open(data.settings.db_path, write_patience=120, busy_timeout_ms=100)
    await store.ensure_seeded()
    lookup = Lookup(store)
    await lookup.load()
    data._store, data._lookup = store, lookup
    await data.languages.load(store)
    try:
        await set_command_menus(app)
    except TelegramError as exc:  # cosmetic: the commands work without the menu
        log.warning("command menus not set: %s: %s", type(exc).__name__, exc)
    await jobs.start_daily(app, **data.daily_options)


async def stop_resources(app: QuoteBotApp) -> None:
    data = app.bot_data
    await jobs.stop_daily(app)
    if data._store is not None:
        await data._store.close()
        data._store = data._lookup = None


async def set_command_menus(app: QuoteBotApp) -> None:
    """The command menus and the bot's description in each language: Telegram shows a user
    the ones for their app's language (``language_code``), English (no code) to the rest."""
    for language in i18n.LANGUAGES:
        code = None if language == i18n.DEFAULT else language
        with use_language(language):
            private = [BotCommand(c.name, _(c.description)) for c in render.COMMANDS if not c.admin]
            groups = [
                BotCommand(c.name, _(c.description))
                for c in render.COMMANDS
                if c.groups and not c.admin
            ]
            description, short = _(render.DESCRIPTION), _(render.SHORT_DESCRIPTION)
        bot = app.bot
        await bot.set_my_commands(private, BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(groups, BotCommandScopeAllGroupChats(), language_code=code)
        await bot.set_my_description(description, language_code=code)
        await bot.set_my_short_description(short, language_code=code)


async def on_error(update: object, context: Context) -> None:
    """Log the failure (the logging filter strips the token) and tell the user briefly.

    Forbidden is no failure of ours: the bot was removed from the group, or blocked, while
    the update waited (Telegram delivered it before). Logged in one line; a button press is
    still answered (that needs no chat), no message is attempted."""
    unreachable = isinstance(context.error, Forbidden)
    if unreachable:
        chat = update.effective_chat if isinstance(update, Update) else None
        log.info("chat %s unreachable: %s", chat.id if chat else "?", context.error)
    else:
        log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update):
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(render.ERROR[:200])
        except Exception:
            log.debug("could not answer the failed button press")
        return
    message = update.effective_message
    if unreachable or message is None or message.from_user is None or message.from_user.is_bot:
        return
    try:
        await message.reply_text(html.escape(render.ERROR))
    except Exception:
        log.debug("could not tell the user about the failure")
