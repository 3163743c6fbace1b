"""An in-process fake of the Telegram Bot API, for tests, the offline console and benchmarks.

Point python-telegram-bot at it through an httpx transport; no socket is opened::

    fake = FakeBotAPI()
    request = HTTPXRequest(httpx_kwargs={"transport": fake.transport()})
    app = ApplicationBuilder().token(TOKEN).request(request).get_updates_request(...).build()

It answers ``{anything}/bot{token}/{method}`` with the bodies, HTTP statuses and error texts
Telegram uses, so PTB raises its real exceptions (``BadRequest``, ``Forbidden``,
``ChatMigrated``, ``RetryAfter``, ``TimedOut``, ``NetworkError``). Telegram's stateless rules
(HTML parsing, payload limits, request decoding) live in :mod:`bot.fake_telegram.html`.

This module is the core: state, transport, dispatch, failure modes and rate limits. The Bot
API methods are :class:`bot.fake_telegram.methods.BotAPIMethods`, the builders of incoming updates
:class:`bot.fake_telegram.updates.UpdateBuilders`; :class:`FakeBotAPI` mixes both in.
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

from bot.fake_telegram.html import JSON, ApiError, bad_request, decode_params
from bot.fake_telegram.methods import BotAPIMethods
from bot.fake_telegram.state import SentFile, SentMessage
from bot.fake_telegram.updates import UpdateBuilders

FAULT_KINDS = frozenset(
    {"retry_after", "server_error", "bad_request", "forbidden", "timeout", "connect_timeout"}
    | {"network_error", "timeout_after_send", "malformed_json", "dropped_connection"}
)
# handle() answers this status for a "malformed_json" fault: the transport then sends
# MALFORMED_BODY with status 200, as a broken proxy in front of Telegram might.
MALFORMED = -1
MALFORMED_BODY = b"<html><body>502 Bad Gateway</body></html"
_TOKEN_RE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,64}")
_PATH_RE = re.compile(r"/bot([^/]*)/([A-Za-z0-9_]+)/?$")


class TransportFault(Exception):
    """Tells the transport to simulate a timeout or a refused connection."""


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
            if str(fault) == "dropped_connection":
                raise httpx.RemoteProtocolError(
                    "fake: server disconnected without sending a response", request=request
                ) from None
            raise httpx.ReadTimeout("fake: read timed out", request=request) from None
        if status == MALFORMED:
            return httpx.Response(200, content=MALFORMED_BODY)
        # ASCII JSON as Telegram sends it: a lone surrogate travels as a \ud800 escape.
        body = json.dumps(payload).encode()
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})


class FakeBotAPI(BotAPIMethods, UpdateBuilders):
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
        # Updates the bot never receives: group messages hidden by privacy mode, and anything
        # from a group the bot was removed from.
        self.privacy_dropped: list[JSON] = []
        self.commands: dict[str, list[JSON]] = {}
        # setMyDescription / setMyShortDescription by language_code ("" for the default).
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        # Telegram's language_code of each user's app (users not listed send none).
        self.user_languages: dict[int, str] = {}
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
            if fault == "malformed_json":
                return MALFORMED, {}
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

    def unanswered_queries(self) -> list[str]:
        """Ids of callback and inline queries the bot never answered (Telegram shows a
        spinner on the button until it is answered)."""
        return [query_id for query_id, answered in self._queries.items() if not answered]

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
        client times out, the duplicate-on-retry case), dropped_connection (the connection
        closes before any answer: the call was not performed), malformed_json (Telegram
        performs the call but the answer is not JSON, as from a broken proxy).
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
        if fault.kind not in ("timeout_after_send", "malformed_json"):
            raise TransportFault(fault.kind)
        return fault.kind

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

    def _record(
        self,
        method: str,
        message: JSON,
        params: JSON,
        markup: JSON | None,
        document: SentFile | None = None,
    ) -> JSON:
        reply = message.get("reply_to_message")
        text_key = "caption" if document is not None else "text"
        text = message.get(text_key, "")
        self.sent.append(
            SentMessage(
                chat_id=message["chat"]["id"],
                message_id=message["message_id"],
                text=text,
                html=str(params.get(text_key) or text),
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
                reply_to_message_id=reply["message_id"] if reply else None,
                method=method,
                time=self.clock(),
                document=document,
            )
        )
        self._notify()
        return copy.deepcopy(message)
