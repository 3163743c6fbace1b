"""The fake Bot API's shared state types: :class:`SentMessage` (what the bot sent) and
:class:`FakeState` (what the mixins in :mod:`bot.fake_telegram.methods` and
:mod:`bot.fake_telegram.updates` use of :class:`bot.fake_telegram.api.FakeBotAPI`), so the
mixins need not import the class they are mixed into.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.fake_telegram.html import JSON


@dataclass(frozen=True)
class SentFile:
    """A document the bot uploaded (``sendDocument``), as Telegram received it."""

    file_name: str
    data: bytes
    mime_type: str


@dataclass
class SentMessage:
    """A message the bot sent, or an edit Telegram accepted; for a document, ``text`` and
    ``html`` are its caption and ``document`` the file."""

    chat_id: int
    message_id: int
    text: str  # plain text after entity parsing
    html: str  # the text exactly as the bot sent it
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    method: str  # sendMessage / sendDocument / editMessageText / editMessageReplyMarkup
    time: float  # clock() when accepted
    document: SentFile | None = None


class FakeState:
    """What the fake's mixins (:class:`BotAPIMethods`, and
    :class:`bot.fake_telegram.updates.UpdateBuilders`) use of
    :class:`bot.fake_telegram.api.FakeBotAPI`, declared once for the type checker; empty at
    run time."""

    if TYPE_CHECKING:  # provided by FakeBotAPI
        bot_user: JSON
        privacy_mode: bool
        auto_create_chats: bool
        chats: dict[int, JSON]
        users: dict[int, JSON]
        messages: dict[int, dict[int, JSON]]
        updates: list[JSON]
        sent: list[SentMessage]
        commands: dict[str, list[JSON]]
        descriptions: dict[str, str]
        short_descriptions: dict[str, str]
        user_languages: dict[int, str]
        webhook: JSON
        blocked: set[int]
        migrated: dict[int, int]
        forgotten: set[int]
        admins: dict[int, set[int]]
        creators: dict[int, int]
        _queries: dict[str, bool]
        privacy_dropped: list[JSON]
        _update_id: int
        _query_seq: int
        _allowed: set[str] | None
        _poll_generation: int

        def add_chat(
            self,
            chat_id: int,
            *,
            chat_type: str | None = None,
            title: str | None = None,
            **names: Any,
        ) -> JSON: ...
        def _ensure_chat(self, chat_id: int, chat_type: str | None, **names: Any) -> JSON: ...
        def _store(
            self,
            chat: JSON,
            sender: JSON,
            text: str,
            entities: list[JSON],
            markup: JSON | None,
            reply: JSON | None,
        ) -> JSON: ...
        def _rate_check(self, method: str, chat_id: int) -> None: ...
        def _record(
            self,
            method: str,
            message: JSON,
            params: JSON,
            markup: JSON | None,
            document: SentFile | None = None,
        ) -> JSON: ...
        def _notify(self) -> None: ...
        async def _wait(self, seconds: float) -> None: ...
