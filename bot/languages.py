"""Which language each chat is answered in, kept in the ``chat_languages`` table.

A reply's language is the chat's chosen one (``/lang``: in a private chat the user's, in a
group the group's), else the language of the person writing (Telegram's ``language_code``:
``ru``, ``kk``; anything else is English). Inline queries have no chat: the user's own
choice (made in the private chat, whose id is the user's) counts there.

A quote of the day is sent with nobody writing, so the language last seen in a chat is kept
too (``chosen = 0``): a Russian-speaking subscriber gets a Russian heading without having run
``/lang``. Only chats whose language is not the default have a row, and a row is written only
when the language changes, so the table stays small and ordinary updates write nothing.
All rows are kept in memory (:class:`ChatLanguages`), so resolving a language reads nothing.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Update

from bot.i18n import DEFAULT, LANGUAGES, language_of_code

if TYPE_CHECKING:
    from bot.store import QuoteStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatLanguage:
    language: str
    chosen: bool  # set with /lang (else: the language last seen in the chat)


def _load(conn: sqlite3.Connection) -> dict[int, ChatLanguage]:
    rows = conn.execute("SELECT chat_id, language, chosen FROM chat_languages").fetchall()
    return {int(c): ChatLanguage(str(lang), bool(ch)) for c, lang, ch in rows if lang in LANGUAGES}


def stored_language(conn: sqlite3.Connection, chat_id: int) -> str:
    """The language a message to ``chat_id`` with nobody writing (a quote of the day) is in."""
    row = conn.execute(
        "SELECT language FROM chat_languages WHERE chat_id = ?", (chat_id,)
    ).fetchone()
    return str(row[0]) if row and row[0] in LANGUAGES else DEFAULT


def _write(
    conn: sqlite3.Connection, chat_id: int, language: str, chosen: bool, user_id: int
) -> None:
    """One statement, so atomic: the chat's row as given, or none for the plain default."""
    if language == DEFAULT and not chosen:
        conn.execute("DELETE FROM chat_languages WHERE chat_id = ?", (chat_id,))
        return
    conn.execute(
        "INSERT INTO chat_languages (chat_id, language, chosen, updated_at, updated_by) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, "
        "chosen = excluded.chosen, updated_at = excluded.updated_at, "
        "updated_by = excluded.updated_by",
        (chat_id, language, int(chosen), time.time(), user_id),
    )


class ChatLanguages:
    """The chats' languages in memory, written through to the database."""

    def __init__(self) -> None:
        self._chats: dict[int, ChatLanguage] = {}

    async def load(self, store: QuoteStore) -> None:
        self._chats = await store.run(_load)

    def chosen(self, chat_id: int) -> str | None:
        """The language chosen with /lang for this chat, None when none was."""
        kept = self._chats.get(chat_id)
        return kept.language if kept and kept.chosen else None

    def peek(self, update: Update) -> str:
        """The language to answer ``update`` in: the chat's chosen one (inline queries: the
        user's own), else the user's app language."""
        chat, user = update.effective_chat, update.effective_user
        target = chat.id if chat is not None else (user.id if user is not None else None)
        if target is not None and (chosen := self.chosen(target)):
            return chosen
        return language_of_code(user.language_code if user else None)

    async def for_update(self, store: QuoteStore, update: Update) -> str:
        """:meth:`peek`, remembering the language seen in the chat (for its quote of the
        day) when it changed."""
        language = self.peek(update)
        chat, user = update.effective_chat, update.effective_user
        seen = chat is not None and user is not None and not user.is_bot
        if seen and chat is not None and self.chosen(chat.id) is None:
            await self._seen(store, chat.id, language)
        return language

    async def _seen(self, store: QuoteStore, chat_id: int, language: str) -> None:
        kept = self._chats.get(chat_id)
        if (kept.language if kept else DEFAULT) == language:
            return
        try:
            await store.run(_write, chat_id, language, False, 0)
        except sqlite3.OperationalError as exc:  # locked by an import: remember next time
            log.info("language of chat %s not saved: %s", chat_id, exc)
            return
        self._remember(chat_id, ChatLanguage(language, False))

    async def choose(self, store: QuoteStore, chat_id: int, language: str, user_id: int) -> None:
        """/lang: answer this chat in ``language`` from now on."""
        await store.run(_write, chat_id, language, True, user_id)
        self._remember(chat_id, ChatLanguage(language, True))

    def _remember(self, chat_id: int, kept: ChatLanguage) -> None:
        if kept.language == DEFAULT and not kept.chosen:
            self._chats.pop(chat_id, None)
        else:
            self._chats[chat_id] = kept
