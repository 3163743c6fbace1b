"""Several words naming several things: ``/case ablyazov shalabayeva`` (two cases),
``/who amnesty hall`` (a speaker within an organisation), ``/who Julia Hall Amnesty``.

:func:`split_names` cuts the words of a query into consecutive runs that each name a
speaker, organisation or case clearly (:data:`PART_THRESHOLD`), when that explains the query
better than one name for all of it. :func:`combine` turns the parts into the quotes that
satisfy every part the way the words say: speakers of one query are alternatives (either
speaker), an organisation narrows speakers to its members, and every case must be on the
quote. When no quote satisfies every part, the weakest part is set aside and the lookup says
which words it set aside.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from bot.search import sql as ss
from bot.search.indexes import Indexes, match_names
from bot.search.names import NameEntry, NameKind
from bot.search.query import NAME_STOP_WORDS, clean_query

PART_THRESHOLD = 85.0  # each part must name its thing at least this clearly
MAX_PART_WORDS = 6  # longer queries are one name or nothing
WHOLE_IS_ENOUGH = 85.0  # a query naming one thing this well is that one thing


@dataclass(frozen=True)
class Part:
    words: str  # the query words, as typed
    entry: NameEntry
    score: float


def split_names(
    state: Indexes, query: str, kinds: Sequence[NameKind], whole_score: float
) -> list[Part] | None:
    """The best way to read ``query`` as two or more names, if it beats ``whole_score`` (the
    score of the best single name for the whole query); else None."""
    words = [w for w in clean_query(query).split() if w.lower() not in NAME_STOP_WORDS]
    if not 2 <= len(words) <= MAX_PART_WORDS or whole_score >= WHOLE_IS_ENOUGH:
        return None
    best_of: dict[tuple[int, int], Part | None] = {}

    def best(i: int, j: int) -> Part | None:
        if (i, j) not in best_of:
            text = " ".join(words[i:j])
            found = [
                (e, s) for e, s in match_names(state, text, kinds, 3, PART_THRESHOLD) if e.weight
            ]
            best_of[i, j] = Part(text, found[0][0], found[0][1]) if found else None
        return best_of[i, j]

    chosen: list[Part] | None = None
    chosen_score = whole_score
    n = len(words)
    for cuts in _cut_points(n):
        bounds = list(itertools.pairwise((0, *cuts, n)))
        parts = [best(i, j) for i, j in bounds]
        if any(p is None for p in parts):
            continue
        found = [p for p in parts if p is not None]
        if len({(p.entry.kind, p.entry.id) for p in found}) < len(found):
            continue  # two parts naming the same thing: that is one name, typed in pieces
        total = sum(len(p.words) for p in found)
        score = sum(p.score * len(p.words) for p in found) / total
        if score > chosen_score + 0.5:
            chosen, chosen_score = found, score
    return chosen


def _cut_points(n: int) -> list[tuple[int, ...]]:
    """Every way to cut ``n`` words into two or more consecutive runs (fewest cuts first)."""
    points = range(1, n)
    return [c for k in range(1, n) for c in itertools.combinations(points, k)]


def combine(
    conn: sqlite3.Connection, state: Indexes, parts: Sequence[Part], limit: int
) -> tuple[list[int], list[Part], list[Part]]:
    """Quote ids satisfying every part; when there are none, the weakest part is set aside
    until some quote satisfies the rest. Returns (ids, parts used, parts set aside)."""
    used = list(parts)
    aside: list[Part] = []
    while used:
        ids = ss.restricted_ids(conn, _restrictions(state, used), limit)
        if ids or len(used) == 1:
            return ids, used, aside
        weakest = min(reversed(used), key=lambda p: (p.score, p.entry.weight))
        used.remove(weakest)
        aside.append(weakest)
    return [], used, aside


def _restrictions(state: Indexes, parts: Sequence[Part]) -> list[ss.Restriction]:
    speakers: list[int] = []
    organisations: list[int] = []
    found: list[ss.Restriction] = []
    for p in parts:
        if p.entry.kind == NameKind.SPEAKER:
            speakers.append(p.entry.id)
        elif p.entry.kind == NameKind.ORGANISATION:
            organisations.append(p.entry.id)
        else:  # every case named must be on the quote
            found.append(ss.Restriction.of(NameKind.CASE, [p.entry.id], p.entry.weight))
    if speakers:
        size = sum(state.speakers[i].quotes for i in speakers if i in state.speakers)
        found.append(ss.Restriction.of(NameKind.SPEAKER, speakers, size))
    if organisations:
        size = sum(state.orgs[i].quotes for i in organisations if i in state.orgs)
        found.append(ss.Restriction.of(NameKind.ORGANISATION, organisations, size))
    return found
