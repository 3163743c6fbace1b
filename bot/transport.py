"""The edge between the bot and the Bot API: what comes in is made parseable, what goes out
is retried when that is safe.

:class:`BotApiRequest` wraps the ``BaseRequest`` PTB talks through (a public extension point:
``ApplicationBuilder.request``/``get_updates_request``), so every call of the bot passes here:

* **Incoming updates** (``getUpdates`` answers, and webhook bodies via :func:`clean_update`):
  unpaired UTF-16 surrogates (``"\\ud800"`` is valid JSON but no valid text; it would fail
  later, in SQLite or in the reply) become U+FFFD. An update PTB cannot parse at all is
  replaced by its bare ``{"update_id": N}``: PTB then acknowledges it with the next offset
  like any other, no handler matches it, and it is logged once, by id and error type, never
  with its contents. Without this, PTB fails the whole batch and fetches it again forever.
* **Retries**: a call that failed before Telegram could act on it (the connection was never
  made) is retried for every method. A call whose fate is unknown (a 5xx answer, a read
  timeout, a dropped connection, an answer that is not JSON) is retried only for methods
  where a repeat does no harm (edits, callback and inline answers, reads and settings); a
  new message is never resent on doubt, since it may already be in the chat. When the repeat
  of an edit or an answer is refused because the first attempt did arrive ("message is not
  modified", "query is too old"), that counts as success. ``getUpdates`` is not retried here:
  the Updater has its own loop for it, nor ``getMe``: :mod:`bot.runner` has one at start.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

# Repeating these changes nothing Telegram shows twice.
REPEATABLE = frozenset(
    {
        "answerCallbackQuery",
        "answerInlineQuery",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getMyCommands",
        "getWebhookInfo",
        "setMyCommands",
        "deleteMyCommands",
        "setWebhook",
        "deleteWebhook",
        "sendChatAction",
    }
)
# Callers with retry loops of their own: the Updater polls again, bot.runner asks getMe
# again at start (logging each attempt).
_RETRIED_ELSEWHERE = frozenset({"getUpdates", "getMe"})
# A repeat refused for one of these reasons means the first attempt arrived.
_ALREADY_DONE = ("message is not modified", "query is too old", "query id is invalid")
_OK_TRUE = b'{"ok":true,"result":true}'
# httpx errors raised before the request reached Telegram.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SURROGATE = re.compile("[\ud800-\udfff]")


def fix_surrogates(value: Any) -> Any:
    """``value`` (parsed JSON) with every unpaired surrogate in its strings replaced by U+FFFD.
    (``json.loads`` joins the valid pairs itself, so any surrogate left is unpaired.)"""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [fix_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {fix_surrogates(key): fix_surrogates(item) for key, item in value.items()}
    return value


def clean_update(data: dict[str, Any]) -> dict[str, Any]:
    """An update PTB can parse: surrogates fixed; if it still does not parse, its bare id
    (logged once, without its contents). ``data`` must hold an integer ``update_id``."""
    fixed: dict[str, Any] = fix_surrogates(data)
    try:
        Update.de_json(fixed, None)
    except Exception as exc:  # whatever the parser trips on: KeyError, TypeError, ...
        kinds = sorted(key for key in fixed if key != "update_id")
        log.warning(
            "unparseable update %s skipped (%s: %s)",
            fixed["update_id"],
            type(exc).__name__,
            ",".join(kinds)[:100],
        )
        return {"update_id": fixed["update_id"]}
    return fixed


def clean_updates(payload: bytes) -> bytes:
    """A ``getUpdates`` answer with every update made parseable (see :func:`clean_update`)."""
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return payload  # PTB reports an answer that is not JSON itself
    results = data.get("result") if isinstance(data, dict) else None
    if not isinstance(results, list):
        return payload
    cleaned = [
        clean_update(item)
        if isinstance(item, dict) and isinstance(item.get("update_id"), int)
        else item
        for item in results
    ]
    if cleaned == results:
        return payload  # the common case: nothing to fix
    return json.dumps({**data, "result": cleaned}).encode()


class BotApiRequest(BaseRequest):
    """A ``BaseRequest`` around another: cleans incoming updates, retries safe calls
    (see the module docstring). ``delays``: seconds before each retry."""

    def __init__(self, inner: BaseRequest, *, delays: tuple[float, ...] = (0.25, 1.0)) -> None:
        self.inner, self.delays = inner, delays

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rpartition("/")[2]
        repeatable = api_method in REPEATABLE
        doubt = False  # an earlier attempt may have arrived
        for attempt, delay in enumerate((*self.delays, None)):
            try:
                code, payload = await self.inner.do_request(
                    url,
                    method,
                    request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except (TimedOut, NetworkError) as exc:
                never_sent = isinstance(exc.__cause__, _NEVER_SENT)
                retry = never_sent or repeatable
                if delay is None or api_method in _RETRIED_ELSEWHERE or not retry:
                    raise
                doubt = doubt or not never_sent
                log.info("%s failed (%s); retry %d", api_method, type(exc).__name__, attempt + 1)
                await asyncio.sleep(delay)
                continue
            if api_method == "getUpdates":
                return code, clean_updates(payload) if code == 200 else payload
            if doubt and code == 400 and _already_done(payload):
                return 200, _OK_TRUE
            if repeatable and delay is not None and (code >= 500 or not _is_json(payload)):
                doubt = True
                log.info("%s answered %d; retry %d", api_method, code, attempt + 1)
                await asyncio.sleep(delay)
                continue
            return code, payload
        raise AssertionError("unreachable: the last attempt returns or raises")


def _is_json(payload: bytes) -> bool:
    try:
        json.loads(payload)
    except (ValueError, RecursionError):
        return False
    return True


def _already_done(payload: bytes) -> bool:
    try:
        description = str(json.loads(payload).get("description", "")).lower()
    except (ValueError, AttributeError, RecursionError):
        return False
    return any(reason in description for reason in _ALREADY_DONE)
