"""The Bot API methods of the fake in :mod:`bot.fake_telegram.api`, as a mixin of
:class:`FakeBotAPI`.

Each ``_m_<method>`` answers one Bot API method with Telegram's result or raises
:class:`bot.fake_telegram.html.ApiError` with its error; ``FakeBotAPI`` finds them by that prefix.
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
import time
from typing import Any

from bot.fake_telegram.html import (
    CHAT_ACTIONS,
    JSON,
    MAX_UPLOAD,
    NOT_MODIFIED,
    QUERY_INVALID,
    ApiError,
    bad_request,
    caption_text,
    check_commands,
    check_inline_answer,
    check_reply_markup,
    message_text,
)
from bot.fake_telegram.state import FakeState, SentFile

ADMIN_RIGHTS: JSON = {
    **dict.fromkeys(("can_be_edited", "is_anonymous", "can_promote_members"), False),
    **dict.fromkeys(("can_post_stories", "can_edit_stories", "can_delete_stories"), False),
    **dict.fromkeys(("can_manage_chat", "can_delete_messages", "can_manage_video_chats"), True),
    **dict.fromkeys(("can_restrict_members", "can_change_info", "can_invite_users"), True),
}


_OFF_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class BotAPIMethods(FakeState):
    """Bot API method implementations, mixed into :class:`bot.fake_telegram.api.FakeBotAPI`."""

    # ------------------------------------------------------------ method helpers
    def _chat(self, params: JSON, method: str) -> JSON:
        """Resolve ``chat_id`` as Telegram does, raising its chat-level errors."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str):  # only "@username" of a known chat resolves
            name = raw.removeprefix("@").lower()
            found = [c["id"] for c in self.chats.values() if c.get("username", "").lower() == name]
            raw = found[0] if raw.startswith("@") and found else None
        if not isinstance(raw, int) or isinstance(raw, bool) or raw == 0:
            raise bad_request("chat not found")
        if raw in self.migrated:
            new_id = self.migrated[raw]
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )
        chat = self.chats.get(raw)
        if raw in self.forgotten or (chat is None and not self.auto_create_chats):
            raise bad_request("chat not found")
        chat = chat or self.add_chat(raw)
        if raw in self.blocked and chat["type"] != "private":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        if raw in self.blocked and method not in ("getChat", "getChatMember"):
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _member(self, chat_id: int, user_id: int) -> JSON:
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        user = user or {"id": user_id, "is_bot": False, "first_name": "User"}
        if self.creators.get(chat_id) == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self.admins.get(chat_id, ()):
            return {"status": "administrator", "user": user, **ADMIN_RIGHTS}
        return {"status": "member", "user": user}

    def _markup(self, params: JSON) -> JSON | None:
        if params.get("reply_markup") is not None:
            check_reply_markup(params["reply_markup"])
        return params.get("reply_markup")

    def _reply_target(self, chat: JSON, params: JSON) -> JSON | None:
        reply, allow = params.get("reply_parameters"), params.get("allow_sending_without_reply")
        if isinstance(reply, dict):
            if "message_id" not in reply:
                raise bad_request('can\'t find field "message_id"')
            allow = reply.get("allow_sending_without_reply", allow)
        message_id = reply["message_id"] if isinstance(reply, dict) else None
        message_id = message_id or params.get("reply_to_message_id")
        target = self.messages.get(chat["id"], {}).get(message_id or 0)
        if message_id and target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _own_message(self, params: JSON, method: str) -> JSON:
        chat = self._chat(params, method)
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message = self.messages.get(chat["id"], {}).get(params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return message

    # ------------------------------------------------------------ Bot API methods
    def _m_getMe(self, params: JSON) -> JSON:
        flags = {"can_join_groups": True, "can_read_all_group_messages": not self.privacy_mode}
        flags.update(supports_inline_queries=True, can_connect_to_business=False)
        return {**self.bot_user, **flags, "has_main_web_app": False}

    def _m_sendMessage(self, params: JSON) -> JSON:
        text, entities = message_text(params)
        markup = self._markup(params)
        chat = self._chat(params, "sendMessage")
        reply = self._reply_target(chat, params)
        self._rate_check("sendMessage", chat["id"])
        message = self._store(chat, self.bot_user, text, entities, markup, reply)
        return self._record("sendMessage", message, params, markup)

    def _m_sendDocument(self, params: JSON) -> JSON:
        """A document uploaded with multipart/form-data (the fake keeps no files, so a file_id
        or URL is refused); the bytes are kept in :attr:`SentMessage.document`."""
        upload = params.get("document")
        if upload is None or upload == "":
            raise bad_request("there is no document in the request")
        if not isinstance(upload, dict):
            raise bad_request("wrong file identifier/HTTP URL specified")
        if upload["size"] == 0:
            raise bad_request("file must be non-empty")
        if upload["size"] > MAX_UPLOAD:
            raise ApiError(413, "Request Entity Too Large")
        caption, entities = caption_text(params)
        markup = self._markup(params)
        chat = self._chat(params, "sendDocument")
        reply = self._reply_target(chat, params)
        self._rate_check("sendDocument", chat["id"])
        message = self._store(chat, self.bot_user, caption, entities, markup, reply)
        del message["text"]
        message.pop("entities", None)
        if caption:
            message["caption"] = caption
        if entities:
            message["caption_entities"] = entities
        name = str(upload["filename"])
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        sequence = sum(len(m) for m in self.messages.values())
        message["document"] = {
            "file_id": f"fake-document-{sequence}",
            "file_unique_id": f"fake-{sequence}",
            "file_name": name,
            "mime_type": mime,
            "file_size": upload["size"],
        }
        document = SentFile(file_name=name, data=upload["data"], mime_type=mime)
        return self._record("sendDocument", message, params, markup, document)

    def _edit(self, params: JSON, method: str, text: str, entities: list[JSON]) -> JSON | bool:
        markup = self._markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers True for them
        message = self._own_message(params, method)
        if "text" not in message and method == "editMessageText":
            raise bad_request("there is no text in the message to edit")
        new_markup = markup if markup and markup.get("inline_keyboard") else None
        old = (message.get("text", ""), message.get("entities", []), message.get("reply_markup"))
        if old == (text, entities, new_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._rate_check(method, message["chat"]["id"])
        message.update(text=text, edit_date=int(time.time()))
        for key, value in (("entities", entities), ("reply_markup", new_markup)):
            if value:
                message[key] = value
            else:
                message.pop(key, None)
        return self._record(method, message, params, markup)

    def _m_editMessageText(self, params: JSON) -> JSON | bool:
        return self._edit(params, "editMessageText", *message_text(params))

    def _m_editMessageReplyMarkup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return self._edit(params, "editMessageReplyMarkup", "", [])
        message = self._own_message(params, "editMessageReplyMarkup")
        key = (message["chat"]["id"], message["message_id"])
        last = next((s for s in reversed(self.sent) if (s.chat_id, s.message_id) == key), None)
        shown = {"text": last.html, "parse_mode": last.parse_mode} if last else {}
        text, entities = message.get("text", ""), message.get("entities", [])
        return self._edit({**params, **shown}, "editMessageReplyMarkup", text, entities)

    def _m_deleteMessage(self, params: JSON) -> bool:
        chat = self._chat(params, "deleteMessage")
        stored = self.messages.get(chat["id"], {})
        message = stored.get(params.get("message_id") or 0)
        if message is None:
            raise bad_request("message to delete not found")
        bot_status = self._member(chat["id"], self.bot_user["id"])["status"]
        own = message["from"]["id"] == self.bot_user["id"] or chat["type"] == "private"
        if not own and bot_status not in ("administrator", "creator"):
            raise bad_request("message can't be deleted")
        del stored[message["message_id"]]
        return True

    def _answer_query(self, query_id: Any) -> bool:
        if self._queries.get(str(query_id), True):  # unknown or already answered
            raise ApiError(400, QUERY_INVALID)
        self._queries[str(query_id)] = True
        return True

    def _m_answerCallbackQuery(self, params: JSON) -> bool:
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        return self._answer_query(params.get("callback_query_id"))

    def _m_answerInlineQuery(self, params: JSON) -> bool:
        check_inline_answer(params.get("results"), str(params.get("next_offset") or ""))
        return self._answer_query(params.get("inline_query_id"))

    @staticmethod
    def _language_code(params: JSON) -> str:
        """A two-letter ISO 639-1 code, or "" (for users of every other language)."""
        code = params.get("language_code") or ""
        if not isinstance(code, str) or (code and not re.fullmatch(r"[a-z]{2}", code)):
            raise bad_request("LANG_CODE_INVALID")
        return code

    def _scope(self, params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, self._language_code(params)], sort_keys=True)

    def _m_setMyDescription(self, params: JSON) -> bool:
        return self._set_text(self.descriptions, params, "description", 512)

    def _m_getMyDescription(self, params: JSON) -> JSON:
        return {"description": self.descriptions.get(self._language_code(params), "")}

    def _m_setMyShortDescription(self, params: JSON) -> bool:
        return self._set_text(self.short_descriptions, params, "short_description", 120)

    def _m_getMyShortDescription(self, params: JSON) -> JSON:
        code = self._language_code(params)
        return {"short_description": self.short_descriptions.get(code, "")}

    def _set_text(self, texts: dict[str, str], params: JSON, field: str, limit: int) -> bool:
        """setMy(Short)Description: ``field`` (at most ``limit`` characters; empty removes
        the language's own text) for ``language_code``."""
        text = params.get(field) or ""
        if not isinstance(text, str) or len(text) > limit:
            raise bad_request(f"{field.upper()}_INVALID")
        code = self._language_code(params)
        if text:
            texts[code] = text
        else:
            texts.pop(code, None)
        return True

    def _m_setMyCommands(self, params: JSON) -> bool:
        check_commands(params.get("commands"))
        self.commands[self._scope(params)] = list(params["commands"])
        return True

    def _m_getMyCommands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._scope(params), [])

    def _m_deleteMyCommands(self, params: JSON) -> bool:
        self.commands.pop(self._scope(params), None)
        return True

    def _m_getChat(self, params: JSON) -> JSON:
        chat = self._chat(params, "getChat")
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        accepted = dict.fromkeys((*gifts, "gifts_from_channels"), False)
        info = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": accepted}
        return {**chat, **info}

    def _m_getChatMember(self, params: JSON) -> JSON:
        chat = self._chat(params, "getChatMember")
        if not isinstance(params.get("user_id"), int):
            raise bad_request("invalid user_id specified")
        return self._member(chat["id"], params["user_id"])

    def _m_getChatAdministrators(self, params: JSON) -> list[JSON]:
        chat = self._chat(params, "getChatAdministrators")
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        creator = {self.creators[chat["id"]]} if chat["id"] in self.creators else set()
        ids = sorted(self.admins.get(chat["id"], set()) | creator)
        return [self._member(chat["id"], user_id) for user_id in ids]

    def _m_sendChatAction(self, params: JSON) -> bool:
        self._chat(params, "sendChatAction")
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _m_setWebhook(self, params: JSON) -> bool:
        url = str(params.get("url") or "")
        if url and not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("allowed_updates") is not None:
            self._allowed = set(params["allowed_updates"]) or None
        return self._m_deleteWebhook({**params, "url": url})

    def _m_deleteWebhook(self, params: JSON) -> bool:
        self.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        if params.get("drop_pending_updates"):
            self.updates.clear()
        return True

    def _m_getWebhookInfo(self, params: JSON) -> JSON:
        info: JSON = {"url": self.webhook["url"], "has_custom_certificate": False}
        info["pending_update_count"] = len(self.updates)
        if self._allowed is not None:
            info["allowed_updates"] = sorted(self._allowed)
        return info

    def _m_logOut(self, params: JSON) -> bool:
        return True

    def _m_close(self, params: JSON) -> bool:
        return True

    def _wanted(self, update: JSON) -> bool:
        kind = next(key for key in update if key != "update_id")
        return kind in self._allowed if self._allowed else kind not in _OFF_BY_DEFAULT

    async def _m_getUpdates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm below ``offset``, wait up to ``timeout`` s for updates."""
        if self.webhook["url"]:
            reason = "can't use getUpdates method while webhook is active; use deleteWebhook"
            raise ApiError(409, f"Conflict: {reason} to delete the webhook first")
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if params.get("allowed_updates") is not None:
            self._allowed = set(params["allowed_updates"]) or None
        if offset:
            keep = self.updates[offset:] if offset < 0 else self.updates
            self.updates = [u for u in keep if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # a long poll still waiting ends with 409 Conflict, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            if generation != self._poll_generation:
                reason = "terminated by other getUpdates request; make sure that only one bot"
                raise ApiError(409, f"Conflict: {reason} instance is running")
            self.updates = [u for u in self.updates if self._wanted(u)]
            if self.updates or loop.time() >= deadline:
                return copy.deepcopy(self.updates[: min(max(limit, 1), 100)])
            await self._wait(deadline - loop.time())
