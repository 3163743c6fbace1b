"""``/lang [en|ru|kk]`` and its buttons, and :func:`localized`, which runs every handler in
the language of its update (see :mod:`bot.languages` for how that is chosen).

In a private chat /lang sets the user's language; in a group, the group's, and only its
admins may change it (the same check as ``/daily``); anyone may see it. The reply to a
change is already in the new language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from bot import render
from bot.context import Context
from bot.daily.commands import may_manage
from bot.handlers import argument, guarded, is_group, reply
from bot.i18n import NATIVE_NAMES, _, language_of_code, use_language

Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
BUTTON = re.compile(r"l:(en|ru|kk)")
# What /lang understands besides the codes: each language's own name and English name.
_NAMES = {
    **{name.lower(): code for code, name in NATIVE_NAMES.items()},
    "english": "en",
    "russian": "ru",
    "kazakh": "kk",
    "kz": "kk",
    "рус": "ru",
    "русский язык": "ru",
    "қазақ": "kk",
    "қазақ тілі": "kk",
    "казахский": "kk",
}


def localized(callback: Callback) -> Callback:
    """``callback`` run in the language of the update it handles."""

    @functools.wraps(callback)
    async def handle(update: Update, context: Context) -> None:
        data = context.bot_data
        with use_language(await data.languages.for_update(data.store, update)):
            await callback(update, context)

    return handle


def parse_language(text: str) -> str | None:
    """``ru``, ``RU``, ``ru-RU``, ``Русский``, ``russian`` → ``ru``; None if not a language."""
    asked = " ".join(text.lower().split())
    if asked in _NAMES:
        return _NAMES[asked]
    code = language_of_code(asked)
    return code if asked and code == asked.split("-")[0] else None


async def lang_command(update: Update, context: Context) -> None:
    asked = argument(update, context)
    if not await guarded(update, context, f"/lang {asked}"):
        return
    chat = update.effective_chat
    if chat is None:
        return
    group = is_group(update)
    chosen = context.bot_data.languages.chosen(chat.id)
    if not asked:
        await reply(update, [render.language_status(chosen, group)], render.language_keyboard())
        return
    language = parse_language(asked)
    if language is None:
        await reply(update, [render.unknown_language(asked)], render.language_keyboard())
        return
    await _set(update, context, language)


async def _set(update: Update, context: Context, language: str) -> None:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None
    if not await may_manage(update, context):
        await reply(update, [_(render.LANG_NOT_ADMIN)])
        return
    user_id = user.id if user else 0
    await context.bot_data.languages.choose(context.bot_data.store, chat.id, language, user_id)
    with use_language(language):
        await reply(update, [render.language_set(is_group(update))])


async def on_lang_button(update: Update, context: Context) -> None:
    """``l:ru``: the same as ``/lang ru`` (in groups, admins only), answered in place."""
    query = update.callback_query
    if query is None:
        return
    if (match := BUTTON.fullmatch(query.data or "")) is None:
        await query.answer(_(render.STALE_BUTTON))  # forged or outdated: still answered
        return
    language = match.group(1)
    if not await may_manage(update, context):
        await query.answer(_(render.LANG_NOT_ADMIN)[:200], show_alert=True)
        return
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        await query.answer(_(render.STALE_BUTTON))
        return
    store = context.bot_data.store
    await context.bot_data.languages.choose(store, chat.id, language, user.id if user else 0)
    with use_language(language):
        await query.answer(NATIVE_NAMES[language])
        await reply(update, [render.language_set(is_group(update))])
