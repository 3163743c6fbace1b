"""Builders of incoming updates for the fake in :mod:`bot.fake_telegram.api`, as a mixin of
:class:`FakeBotAPI`: a user writes, presses a button, types an inline query, or changes the
bot's membership. Each enqueues the update for getUpdates and returns it.
"""

from __future__ import annotations

import copy
import time

from bot.fake_telegram.html import JSON, command_entity
from bot.fake_telegram.methods import ADMIN_RIGHTS
from bot.fake_telegram.state import FakeState


class UpdateBuilders(FakeState):
    """Update builders, mixed into :class:`bot.fake_telegram.api.FakeBotAPI`."""

    def _user(self, user_id: int, first_name: str = "Tester", username: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if code := self.user_languages.get(user_id):
            user["language_code"] = code
        self.users[user_id] = user
        return user

    @staticmethod
    def _sender_id(chat_id: int, user_id: int | None) -> int:
        return user_id or (chat_id if chat_id > 0 else 777)

    def _known_user(self, user_id: int) -> JSON:
        known = self.users.get(user_id)
        if known is None:
            return self._user(user_id)
        return self._user(user_id, known["first_name"], known.get("username"))

    def _enqueue(self, kind: str, payload: JSON, *, deliver: bool = True) -> JSON:
        update = {"update_id": self._update_id, kind: copy.deepcopy(payload)}
        self._update_id += 1
        if deliver:
            self.updates.append(update)
            self._notify()
        return copy.deepcopy(update)

    def user_message(
        self,
        text: str,
        *,
        chat_id: int,
        user_id: int | None = None,
        chat_type: str | None = None,
        first_name: str = "Tester",
        username: str | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A user writes ``text``: enqueue the update and return it (``Update.de_json``-able).

        ``chat_type`` defaults to the known chat's, else to what the id implies (see
        :meth:`add_chat`); ``user_id`` to ``chat_id`` in private chats, 777 in groups. A leading
        ``/command[@bot]`` gets its ``bot_command`` entity. Messages a privacy-mode bot would
        not receive are returned but not queued (see ``privacy_dropped``).
        """
        names = {"first_name": first_name, "username": username} if chat_id > 0 else {}
        chat = self._ensure_chat(chat_id, chat_type, **names)
        user = self._user(self._sender_id(chat_id, user_id), first_name, username)
        reply = self.messages.get(chat_id, {}).get(reply_to or 0)
        if reply_to is not None and reply is None:
            raise ValueError(f"no message {reply_to} in chat {chat_id}")
        entity = command_entity(text)
        message = self._store(chat, user, text, [entity] if entity else [], None, reply)
        if chat["type"] == "private":
            self.blocked.discard(chat_id)  # a user writing to the bot has unblocked it
        # A bot that was removed from a group receives nothing from it.
        removed = chat["type"] != "private" and chat_id in self.blocked
        deliver = not removed and self._privacy_allows(chat, text, reply)
        update = self._enqueue("message", message, deliver=deliver)
        if not deliver:
            self.privacy_dropped.append(update)
        return update

    def _privacy_allows(self, chat: JSON, text: str, reply: JSON | None) -> bool:
        bot_id, bot_name = self.bot_user["id"], str(self.bot_user["username"]).lower()
        if chat["type"] == "private" or not self.privacy_mode:
            return True
        if bot_id in self.admins.get(chat["id"], ()) or self.creators.get(chat["id"]) == bot_id:
            return True
        if reply is not None and reply["from"]["id"] == bot_id:
            return True
        entity = command_entity(text)
        if entity is not None:  # /cmd or /cmd@ThisBot, but not /cmd@OtherBot
            return text[: entity["length"]].partition("@")[2].lower() in ("", bot_name)
        return f"@{bot_name}" in text.lower()

    def raw_update(self, kind: str, payload: JSON) -> JSON:
        """Enqueue any update as given (a channel post, an edited message, a message without
        ``from``...): for updates the builders do not make. Returns it."""
        return self._enqueue(kind, payload)

    def new_query_id(self) -> str:
        """A callback query id the fake expects an answer to (for :meth:`raw_update`)."""
        return self._new_query_id(4_000_000_000_000)

    def unparseable_update(self, kind: str = "message") -> JSON:
        """Enqueue an update python-telegram-bot cannot parse (a ``kind`` object without the
        fields it requires, as a newer or broken Bot API might send); return it."""
        update = {"update_id": self._update_id, kind: {"message_id": 1, "text": "secret words"}}
        self._update_id += 1
        self.updates.append(update)
        self._notify()
        return copy.deepcopy(update)

    def _new_query_id(self, base: int) -> str:
        self._query_seq += 1
        query_id = str(base + self._query_seq)
        self._queries[query_id] = False
        return query_id

    def callback_query(
        self, *, chat_id: int, message_id: int, data: str, user_id: int | None = None
    ) -> JSON:
        """A user presses a button under stored message ``message_id``: enqueue, return."""
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat_id}")
        query = {
            "id": self._new_query_id(4_000_000_000_000),
            "from": self._known_user(self._sender_id(chat_id, user_id)),
            "message": message,
            "chat_instance": str(abs(chat_id) * 31 + 7),
            "data": data,
        }
        if chat_id < 0 and chat_id in self.blocked:  # removed from the group: nothing comes
            del self._queries[str(query["id"])]  # so nothing to answer
            update = self._enqueue("callback_query", query, deliver=False)
            self.privacy_dropped.append(update)
            return update
        return self._enqueue("callback_query", query)

    def inline_callback_query(
        self, *, user_id: int, data: str, inline_message_id: str = "BAAAAInlineMsg01"
    ) -> JSON:
        """A user presses a button under a message sent via inline mode: such a press has
        ``inline_message_id`` and no message (the bot may not even be in that chat)."""
        query = {
            "id": self._new_query_id(4_000_000_000_000),
            "from": self._known_user(user_id),
            "inline_message_id": inline_message_id,
            "chat_instance": "-4242",
            "data": data,
        }
        return self._enqueue("callback_query", query)

    def inline_query(
        self, query: str, *, user_id: int, offset: str = "", chat_type: str | None = "sender"
    ) -> JSON:
        """A user types ``@bot query``: enqueue the inline query update and return it."""
        if len(query) > 256:
            raise ValueError("inline queries are at most 256 characters")
        payload: JSON = {
            "id": self._new_query_id(5_000_000_000_000),
            "from": self._known_user(user_id),
            "query": query,
            "offset": offset,
        }
        if chat_type:
            payload["chat_type"] = chat_type
        return self._enqueue("inline_query", payload)

    def my_chat_member(
        self,
        *,
        chat_id: int,
        chat_type: str | None = None,
        old_status: str,
        new_status: str,
        user_id: int | None = None,
    ) -> JSON:
        """The bot's own membership changed: enqueue and return the update.

        Statuses: creator, administrator, member, left, kicked. "kicked"/"left" also block the
        chat, "member"/"administrator" unblock it, as on Telegram.
        """
        chat = self._ensure_chat(chat_id, chat_type)

        def member(status: str) -> JSON:
            extra: dict[str, JSON] = {
                "creator": {"is_anonymous": False}, "administrator": ADMIN_RIGHTS,
                "member": {}, "left": {}, "kicked": {"until_date": 0},
            }  # fmt: skip
            if status not in extra:
                raise ValueError(f"unsupported chat member status {status!r}")
            return {"status": status, "user": self.bot_user, **extra[status]}

        payload = {
            "chat": chat,
            "from": self._known_user(self._sender_id(chat_id, user_id)),
            "date": int(time.time()),
            "old_chat_member": member(old_status),
            "new_chat_member": member(new_status),
        }
        admins = self.admins.setdefault(chat_id, set())
        admins.discard(self.bot_user["id"])
        if new_status == "administrator":
            admins.add(self.bot_user["id"])
        if new_status in ("kicked", "left"):
            self.blocked.add(chat_id)
        else:
            self.blocked.discard(chat_id)
        return self._enqueue("my_chat_member", payload)
