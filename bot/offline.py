"""An in-process fake of the Telegram Bot API, for tests, the offline console and benchmarks.

Point python-telegram-bot at it through an httpx transport; no socket is opened::

    fake = FakeBotAPI()
    request = HTTPXRequest(httpx_kwargs={"transport": fake.transport()})
    app = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(...).build()

It answers ``{anything}/bot{token}/{method}`` with the bodies, HTTP statuses and error texts
Telegram uses, so PTB raises its real exceptions (``BadRequest``, ``Forbidden``,
``ChatMigrated``, ``RetryAfter``, ``TimedOut``, ``NetworkError``). Telegram's stateless rules
(HTML parsing, payload limits, request decoding) live in :mod:`bot.tg_html`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from bot.tg_html import (
    CHAT_ACTIONS,
    JSON,
    NOT_MODIFIED,
    QUERY_INVALID,
    ApiError,
    bad_request,
    check_commands,
    check_inline_answer,
    check_reply_markup,
    command_entity,
    decode_params,
    message_text,
)

FAULT_KINDS = frozenset(
    {"retry_after", "server_error", "bad_request", "forbidden", "timeout", "connect_timeout"}
    | {"network_error", "timeout_after_send"}
)
_ADMIN_RIGHTS: JSON = {
    **dict.fromkeys(("can_be_edited", "is_anonymous", "can_promote_members"), False),
    **dict.fromkeys(("can_post_stories", "can_edit_stories", "can_delete_stories"), False),
    **dict.fromkeys(("can_manage_chat", "can_delete_messages", "can_manage_video_chats"), True),
    **dict.fromkeys(("can_restrict_members", "can_change_info", "can_invite_users"), True),
}
_OFF_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,64}")
_PATH_RE = re.compile(r"/bot([^/]*)/([A-Za-z0-9_]+)/?$")


class TransportFault(Exception):
    """Tells the transport to simulate a timeout or a refused connection."""


@dataclass
class SentMessage:
    """A message the bot sent, or an edit Telegram accepted."""

    chat_id: int
    message_id: int
    text: str  # plain text after entity parsing
    html: str  # the text exactly as the bot sent it
    parse_mode: str | None
    reply_markup: JSON | None
    reply_to_message_id: int | None
    method: str  # sendMessage / editMessageText / editMessageReplyMarkup
    time: float  # clock() when accepted


@dataclass(frozen=True)
class RateLimits:
    """Sliding windows (count, seconds); private chats: bursts of 3, then about 1/s."""

    overall: tuple[int, float] = (30, 1.0)
    group: tuple[int, float] = (20, 60.0)
    private: tuple[int, float] = (3, 3.0)


@dataclass
class _Fault:
    method: str
    kind: str
    chat_id: int | None
    times: int
    retry_after: int


class _Transport(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeBotAPI) -> None:
        self._fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        url, ctype = request.url, request.headers.get("content-type", "")
        try:
            status, payload = await self._fake.handle(url.path, url.query.decode(), ctype, body)
        except TransportFault as fault:
            if str(fault) == "connect_timeout":
                raise httpx.ConnectTimeout("fake: connect timed out", request=request) from None
            if str(fault) == "network_error":
                raise httpx.ConnectError("fake: connection refused", request=request) from None
            raise httpx.ReadTimeout("fake: read timed out", request=request) from None
        return httpx.Response(status, json=payload)


class FakeBotAPI:
    """Telegram's Bot API in memory: chats, messages, an update queue and failure modes.

    ``privacy_mode``: in groups the bot only receives commands, replies and mentions unless it
    is an admin. ``auto_create_chats``: unknown chat ids become chats instead of "chat not
    found". ``valid_token``: other well-formed tokens get 401 Unauthorized.
    """

    def __init__(
        self,
        *,
        bot_id: int = 1000,
        username: str = "QuoteBot",
        first_name: str = "QuoteBot",
        clock: Callable[[], float] = time.monotonic,
        enforce_rate_limits: bool = False,
        rate_limits: RateLimits | None = None,
        privacy_mode: bool = True,
        auto_create_chats: bool = True,
        valid_token: str | None = None,
    ) -> None:
        self.bot_user: JSON = {"id": bot_id, "is_bot": True, "first_name": first_name}
        self.bot_user["username"] = username
        self.clock, self.enforce_rate_limits = clock, enforce_rate_limits
        self.rate_limits = rate_limits or RateLimits()
        self.privacy_mode, self.auto_create_chats = privacy_mode, auto_create_chats
        self.valid_token = valid_token
        self.chats: dict[int, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.messages: dict[int, dict[int, JSON]] = {}  # chat id -> message id -> Message
        self.updates: list[JSON] = []  # pending: not yet confirmed by getUpdates' offset
        self.calls: list[tuple[str, JSON]] = []
        self.sent: list[SentMessage] = []
        self.too_many_requests: list[tuple[float, str, int]] = []
        self.token_seen: set[str] = set()
        self.errors: list[tuple[str, int, str]] = []  # (method, error_code, description)
        self.privacy_dropped: list[JSON] = []  # group messages a privacy-mode bot never sees
        self.commands: dict[str, list[JSON]] = {}
        self.webhook: JSON = {"url": ""}
        self.blocked: set[int] = set()
        self.migrated: dict[int, int] = {}
        self.forgotten: set[int] = set()
        self.admins: dict[int, set[int]] = {}
        self.creators: dict[int, int] = {}
        self._last_message_id: dict[int, int] = {}
        self._update_id, self._query_seq, self._poll_generation = 1, 0, 0
        self._queries: dict[str, bool] = {}  # callback/inline query id -> answered
        self._allowed: set[str] | None = None
        self._faults: list[_Fault] = []
        self._windows: dict[str | int, deque[float]] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            name[3:]: getattr(self, name) for name in dir(self) if name.startswith("_m_")
        }
        self._canonical = {name.lower(): name for name in self._handlers}

    # ------------------------------------------------------------------ plumbing
    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport answering like api.telegram.org, for ``HTTPXRequest``."""
        return _Transport(self)

    async def handle(self, path: str, query: str, ctype: str, body: bytes) -> tuple[int, JSON]:
        """Answer one HTTP request with (status, JSON body), or raise TransportFault."""
        method = path
        try:
            match = _PATH_RE.search(path)
            if match is None:
                raise ApiError(404, "Not Found")
            token, name = match.groups()
            self.token_seen.add(token)
            method = self._canonical.get(name.lower(), name)
            params = decode_params(ctype, body, query)
            self.calls.append((method, params))
            if not _TOKEN_RE.fullmatch(token):
                raise ApiError(404, "Not Found")
            if self.valid_token is not None and token != self.valid_token:
                raise ApiError(401, "Unauthorized: invalid token specified")
            fault = self._take_fault(method, params.get("chat_id"))
            if method not in self._handlers:
                raise ApiError(404, "Not Found")
            result = self._handlers[method](params)
            if inspect.isawaitable(result):
                result = await result
            if fault == "timeout_after_send":
                raise TransportFault("timeout")
            return 200, {"ok": True, "result": result}
        except ApiError as err:
            self.errors.append((method, err.code, err.description))
            payload: JSON = {"ok": False, "error_code": err.code, "description": err.description}
            if err.parameters:
                payload["parameters"] = err.parameters
            return err.code, payload

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            with contextlib.suppress(RuntimeError):  # RuntimeError: its loop is closed
                if not fut.done():
                    fut.set_result(None)

    async def _wait(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait([fut], timeout=max(seconds, 0))
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)

    # ---------------------------------------------------------------- inspection
    def calls_to(self, method: str) -> list[JSON]:
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def last_text(self, chat_id: int) -> str | None:
        found = self.messages_to(chat_id)
        return found[-1].text if found else None

    async def wait_for_sent(
        self, count: int = 1, *, chat_id: int | None = None, within: float = 5.0
    ) -> list[SentMessage]:
        """Wait until ``count`` messages were sent (to ``chat_id``); raise TimeoutError."""
        deadline = asyncio.get_running_loop().time() + within
        while len(found := self.sent if chat_id is None else self.messages_to(chat_id)) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"only {len(found)} of {count} messages were sent")
            await self._wait(remaining)
        return list(found)

    @property
    def next_update_id(self) -> int:
        return self._update_id

    # ------------------------------------------------------------- configuration
    def add_chat(
        self, chat_id: int, *, chat_type: str | None = None, title: str | None = None, **names: Any
    ) -> JSON:
        """Register a chat (type from the id: >0 private, -100... supergroup, else group).

        ``names``: ``username`` (resolves "@username" chat ids), ``first_name``.
        """
        default = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        kind = chat_type or ("private" if chat_id > 0 else default)
        if kind not in ("private", "group", "supergroup") or (kind == "private") != (chat_id > 0):
            raise ValueError(f"bad chat type {kind!r} for id {chat_id}")
        chat: JSON = {"id": chat_id, "type": kind}
        if kind == "private":
            chat["first_name"] = names.get("first_name") or f"User {chat_id}"
        else:
            chat["title"] = title or f"Group {-chat_id}"
        if names.get("username"):
            chat["username"] = names["username"]
        self.chats[chat_id] = chat
        self.forgotten.discard(chat_id)
        return chat

    def _ensure_chat(self, chat_id: int, chat_type: str | None, **names: Any) -> JSON:
        chat = self.chats.get(chat_id)
        if chat is None or chat_type not in (None, chat["type"]):
            return self.add_chat(chat_id, chat_type=chat_type, **names)
        self.forgotten.discard(chat_id)
        return chat

    def set_chat_admins(self, chat_id: int, admins: Iterable[int], *, creator: int = 0) -> None:
        """getChatMember answers "administrator" for ``admins``, "creator" for ``creator``."""
        self.admins[chat_id] = set(admins)
        if creator:
            self.creators[chat_id] = creator

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (private chat) or the bot was removed from the group."""
        self.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self.blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """Group ``chat_id`` became supergroup ``new_chat_id``."""
        old = self._ensure_chat(chat_id, None)
        self.add_chat(new_chat_id, chat_type="supergroup", title=old.get("title"))
        self.migrated[chat_id] = new_chat_id

    def forget(self, chat_id: int) -> None:
        """Telegram no longer knows the chat: every call about it gets "chat not found"."""
        self.forgotten.add(chat_id)

    def inject(
        self,
        method: str,
        kind: str,
        *,
        chat_id: int | None = None,
        times: int = 1,
        retry_after: int = 3,
    ) -> None:
        """Fail the next ``times`` calls of ``method`` (only for ``chat_id`` if given).

        Kinds: retry_after (429), server_error (502), bad_request (400), forbidden (403),
        timeout / connect_timeout (httpx timeouts: PTB ``TimedOut``), network_error (refused
        connection: ``NetworkError``), timeout_after_send (Telegram performs the call but the
        client times out, the duplicate-on-retry case).
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        self._faults.append(_Fault(method.lower(), kind, chat_id, times, retry_after))

    def _take_fault(self, method: str, chat_id: Any) -> str | None:
        match = [f for f in self._faults if f.method == method.lower()]
        fault = next((f for f in match if f.chat_id is None or f.chat_id == chat_id), None)
        if fault is None:
            return None
        fault.times -= 1
        if fault.times <= 0:
            self._faults.remove(fault)
        if fault.kind == "retry_after":
            cid = chat_id if isinstance(chat_id, int) else 0
            self.too_many_requests.append((self.clock(), method, cid))
            seconds = fault.retry_after
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        if fault.kind == "server_error":
            raise ApiError(502, "Bad Gateway")
        if fault.kind == "bad_request":
            raise bad_request("injected failure")
        if fault.kind == "forbidden":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if fault.kind != "timeout_after_send":
            raise TransportFault(fault.kind)
        return fault.kind

    # ------------------------------------------------------------ update builders
    def _user(self, user_id: int, first_name: str = "Tester", username: str | None = None) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        self.users[user_id] = user
        return user

    @staticmethod
    def _sender_id(chat_id: int, user_id: int | None) -> int:
        return user_id or (chat_id if chat_id > 0 else 777)

    def _known_user(self, user_id: int) -> JSON:
        return self.users.get(user_id) or self._user(user_id)

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
        deliver = self._privacy_allows(chat, text, reply)
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
                "creator": {"is_anonymous": False}, "administrator": _ADMIN_RIGHTS,
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

    # ------------------------------------------------------------ state helpers
    def _store(
        self,
        chat: JSON,
        sender: JSON,
        text: str,
        entities: list[JSON],
        markup: JSON | None,
        reply: JSON | None,
    ) -> JSON:
        chat_id = chat["id"]
        message_id = self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        message: JSON = {"message_id": message_id, "from": sender, "chat": chat}
        message.update(date=int(time.time()), text=text)
        if entities:
            message["entities"] = entities
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        if reply is not None:
            message["reply_to_message"] = {
                k: v for k, v in reply.items() if k != "reply_to_message"
            }
        self.messages.setdefault(chat_id, {})[message_id] = message
        return message

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

    def _rate_check(self, method: str, chat_id: int) -> None:
        if not self.enforce_rate_limits:
            return
        now, limits = self.clock(), self.rate_limits
        per_chat = limits.group if chat_id < 0 else limits.private
        windows: list[tuple[str | int, tuple[int, float]]] = [
            ("*", limits.overall),
            (chat_id, per_chat),
        ]
        wait = 0.0
        for key, (limit, span) in windows:
            stamps = self._windows.setdefault(key, deque())
            while stamps and stamps[0] <= now - span:
                stamps.popleft()
            if len(stamps) >= limit:
                wait = max(wait, stamps[0] + span - now)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            self.too_many_requests.append((now, method, chat_id))
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        for key, _ in windows:
            self._windows[key].append(now)

    def _record(self, method: str, message: JSON, params: JSON, markup: JSON | None) -> JSON:
        reply = message.get("reply_to_message")
        self.sent.append(
            SentMessage(
                chat_id=message["chat"]["id"],
                message_id=message["message_id"],
                text=message["text"],
                html=str(params.get("text", message["text"])),
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=reply["message_id"] if reply else None,
                method=method,
                time=self.clock(),
            )
        )
        self._notify()
        return copy.deepcopy(message)

    def _member(self, chat_id: int, user_id: int) -> JSON:
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id)
        user = user or {"id": user_id, "is_bot": False, "first_name": "User"}
        if self.creators.get(chat_id) == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self.admins.get(chat_id, ()):
            return {"status": "administrator", "user": user, **_ADMIN_RIGHTS}
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

    def _edit(self, params: JSON, method: str, text: str, entities: list[JSON]) -> JSON | bool:
        markup = self._markup(params)
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers True for them
        message = self._own_message(params, method)
        new_markup = markup if markup and markup.get("inline_keyboard") else None
        old = (message["text"], message.get("entities", []), message.get("reply_markup"))
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
        text, entities = message["text"], message.get("entities", [])
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
    def _scope(params: JSON) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

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
