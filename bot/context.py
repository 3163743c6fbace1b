"""Typed application state shared by handlers (PTB ``ContextTypes(bot_data=BotData)``):
:class:`BotData`, the handlers' :data:`Context` and the application type :data:`QuoteBotApp`.

It sits above the services it holds (store, lookup, daily) and below everything that handles
updates, so no module below it needs to know the application's type.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.daily.service import DailyService
from bot.flood import FloodGuard
from bot.search.service import Lookup
from bot.store import QuoteStore


@dataclass(frozen=True)
class ResultSet:
    """A list of results being paged through in one message."""

    chat_id: int
    quote_ids: tuple[int, ...]
    spans: tuple[tuple[tuple[int, int], ...], ...]
    heading: str | None = None
    export: str = ""  # the Export button's callback data ("" for none)


class ResultCache:
    """Recent result sets by short token, for ◀ ▶ buttons (64-byte callback data cannot hold
    a query). Bounded: the oldest expire first, and their buttons get a polite answer."""

    def __init__(self, max_sets: int = 20_000) -> None:
        self.max_sets = max_sets
        self._sets: OrderedDict[str, ResultSet] = OrderedDict()

    def put(self, result: ResultSet) -> str:
        token = secrets.token_urlsafe(6)
        self._sets[token] = result
        while len(self._sets) > self.max_sets:
            self._sets.popitem(last=False)
        return token

    def get(self, token: str) -> ResultSet | None:
        found = self._sets.get(token)
        if found is not None:
            self._sets.move_to_end(token)
        return found


@dataclass
class BotData:
    """Everything handlers need; resources are attached in ``post_init``."""

    settings: Settings = field(default_factory=Settings)
    flood: FloodGuard = field(default_factory=FloodGuard)
    results: ResultCache = field(default_factory=ResultCache)
    # Passed to bot.daily.commands.start_daily from post_init (tests inject a clock here).
    daily_options: dict[str, Any] = field(default_factory=dict)
    _store: QuoteStore | None = None
    _lookup: Lookup | None = None
    _daily: DailyService | None = None

    @property
    def store(self) -> QuoteStore:
        if self._store is None:
            raise RuntimeError("the store is opened in post_init; it is not open yet")
        return self._store

    @property
    def lookup(self) -> Lookup:
        if self._lookup is None:
            raise RuntimeError("the lookup engine is loaded in post_init; it is not loaded yet")
        return self._lookup

    @property
    def daily(self) -> DailyService:
        if self._daily is None:
            raise RuntimeError("the daily service starts in post_init; it has not started yet")
        return self._daily


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
QuoteBotApp = Application[Any, Context, dict[Any, Any], dict[Any, Any], BotData, Any]
