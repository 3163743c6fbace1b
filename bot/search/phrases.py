"""Phrases of common words ("simple the is the a", "not that file and the"): an exact
phrase lookup, before anything else.

Every word of such a query is in a large share of the quotes, so the usual candidate stages
(ANDs of each word's corrections, leave-one-out) would each walk long FTS5 doclists and run
out of the time budget with nothing found. What the user typed is almost always a phrase
copied from a quote, so one FTS5 phrase query for the words exactly as typed, with a budget
of its own (:data:`PHRASE_BUDGET`), finds it; only when it does not do the usual stages run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from bot.search import sql as ss
from bot.search.query import ParsedQuery, fts_phrase

PHRASE_BUDGET = 0.12  # seconds of FTS5 work for the exact phrase of a common-word query
COMMON_SHARE = 0.01  # a word in at least this share of the quotes is a common word
MIN_WORDS = 3
PER_PHRASE = 100  # quotes holding the phrase, at most


def common_phrase(conn: sqlite3.Connection, parsed: ParsedQuery, total_quotes: int) -> list[str]:
    """The FTS5 terms of ``parsed`` as a phrase when it is mostly common words that are all
    in the corpus exactly (a misspelt word cannot be in an exact phrase); else ``[]``."""
    words = parsed.words
    if len(words) < MIN_WORDS:
        return []
    found = ss.terms_by_key(conn, [w.key for w in words])
    if any(w.key not in found for w in words):
        return []
    floor = max(1, int(total_quotes * COMMON_SHARE))
    common = sum(1 for w in words if w.stop or max(t.df for t in found[w.key]) >= floor)
    if common * 2 <= len(words):
        return []
    return [max(found[w.key], key=lambda t: t.df).term for w in words]


def phrase_ids(
    conn: sqlite3.Connection, terms: Sequence[str], restrictions: Sequence[ss.Restriction]
) -> tuple[list[int], bool]:
    """Quotes holding ``terms`` as a phrase, and whether the lookup finished in time."""
    deadline = ss.Deadline(conn, PHRASE_BUDGET)
    ids = ss.fts_ids(conn, fts_phrase(terms), PER_PHRASE, deadline, restrictions)
    return ids, not deadline.passed
