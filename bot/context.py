"""Typed application state shared by handlers (PTB ``ContextTypes(bot_data=BotData)``):
:class:`BotData`, the handlers' :data:`Context` and the application type :data:`QuoteBotApp`.

It sits above the services it holds (store, lookup, daily) and below everything that handles
updates, so no module below it needs to know the application's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.config import Settings
from bot.daily.service import DailyService
from bot.flood import FloodGuard
from bot.languages import ChatLanguages
from bot.result_lists import ResultLists
from bot.search.service import Lookup
from bot.store import QuoteStore


@dataclass
class BotData:
    """Everything handlers need; resources are attached in ``post_init``."""

    settings: Settings = field(default_factory=Settings)
    flood: FloodGuard = field(default_factory=FloodGuard)
    results: ResultLists = field(default_factory=ResultLists)
    languages: ChatLanguages = field(default_factory=ChatLanguages)
    # Passed to bot.daily.jobs.start_daily from post_init (tests inject a clock here).
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
