"""What lookups return: hits, suggestions, results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.search.names import NameKind
from bot.store import StoredQuote

COMMANDS = {NameKind.SPEAKER: "who", NameKind.ORGANISATION: "who", NameKind.CASE: "case"}


@dataclass(frozen=True)
class Hit:
    quote: StoredQuote
    score: float  # 0-100
    matched: tuple[tuple[int, int], ...]  # [start, end) spans of quote.text to highlight


@dataclass(frozen=True)
class Suggestion:
    kind: NameKind | Literal["word"]  # "word": a spelling correction for /search
    label: str
    command: str  # "who" | "case" | "search"
    query: str


@dataclass(frozen=True)
class LookupResult:
    hits: list[Hit]
    suggestions: list[Suggestion] = field(default_factory=list)
    title: str | None = None
    # False when a search ran out of its FTS5 time budget: it may lack candidates, so it is
    # shown but not remembered.
    complete: bool = True
    # Words of the query that named something no quote has together with the rest, and
    # were set aside (``/case pavlov shalabayeva``: no quote is on both cases).
    set_aside: tuple[str, ...] = ()
