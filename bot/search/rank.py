"""Ranking quote text against a parsed query, and the spans to highlight (see
:mod:`bot.search.query` for the scores)."""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.search.names import NameKind
from bot.search.query import _WORD, QueryWord, word_key

# -- ranking quote text ---------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One word of the query and what counts as finding it in a quote."""

    word: QueryWord
    terms: Mapping[str, float]  # word key in a quote -> match quality (0..1]
    df: int  # documents holding the commonest of its terms (0: unknown)
    entities: Mapping[tuple[NameKind, int], float] = field(default_factory=dict)  # names it matches
    fts_terms: tuple[str, ...] = ()  # FTS5 terms to ask for, best first
    minor: bool = False  # a stop word beside content words: it only breaks ties

    def weight(self, total_docs: int) -> float:
        if self.minor:
            return 0.0
        df = max(self.df, 1)
        return max(0.5, math.log(1 + max(total_docs, df) / df))


@dataclass(frozen=True)
class Candidate:
    id: int
    text: str
    entities: frozenset[tuple[NameKind, int]]  # the names the quote is attributed to


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float
    length: int  # words in the quote
    verbatim: bool = False  # holds the whole query, stop words included, word for word
    minor: int = 0  # how many of the query's stop words it holds


# ASCII letters and digits stay; every other ASCII character separates words. For ASCII
# text, translate-and-split gives what _WORD.findall gives, in half the time (ranking
# splits a hundred quotes per search).
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def word_keys(text: str) -> list[str]:
    """The keys of the words of ``text``, in order (what :func:`tokens` gives, faster)."""
    if text.isascii():
        return text.lower().translate(_ASCII_SEPARATORS).split()
    return [word_key(w) for w in _WORD.findall(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each word of ``text``: the i-th belongs to ``word_keys(text)[i]``."""
    return [m.span() for m in _WORD.finditer(text)]


def _lookup(groups: Sequence[Group]) -> dict[str, list[tuple[int, float]]]:
    table: dict[str, list[tuple[int, float]]] = {}
    for gi, g in enumerate(groups):
        for term, quality in g.terms.items():
            table.setdefault(term, []).append((gi, quality))
    return table


def rank(
    candidates: Iterable[Candidate],
    groups: Sequence[Group],
    total_docs: int,
    query: Sequence[QueryWord] = (),
) -> list[Ranked]:
    """Score candidates (see the module docstring), best first. Ties go to the quotes that
    hold the whole ``query`` word for word (stop words included), then to those holding more
    of its stop words, then to shorter quotes."""
    if not groups:
        return []
    by_word = {g.word.key: g for g in groups}
    # What each query word may be in a verbatim run; a content word the corpus does not
    # know at all (no group) stands for any one word: "in the nic a significant" still
    # holds the source phrase whose third word was mistyped beyond recognition.
    steps: list[set[str] | None] = [
        {w.key, *by_word[w.key].terms} if w.key in by_word else ({w.key} if w.stop else None)
        for w in query
    ]
    weights = [g.weight(total_docs) for g in groups]
    total_weight = sum(weights)
    table = _lookup(groups)
    major = [gi for gi, g in enumerate(groups) if not g.minor]
    minors = [gi for gi, g in enumerate(groups) if g.minor]
    order = sorted(major, key=lambda gi: groups[gi].word.position)
    pairs = list(itertools.pairwise(order))
    named = [gi for gi, g in enumerate(groups) if g.entities]
    verbatim_possible = len(steps) > 1 and any(step is not None for step in steps)
    nowhere: list[list[int]] = [[] for _ in groups]  # shared: read, never written
    ranked = []
    for cand in candidates:
        best = [0.0] * len(groups)
        by_name = [False] * len(groups)
        positions = nowhere
        words = word_keys(cand.text)
        vocabulary = set(words)
        present = table.keys() & vocabulary
        for key in present:
            for gi, quality in table[key]:
                if quality > best[gi]:
                    best[gi] = quality
        if pairs and len(present) > 1:
            positions = [[] for _ in groups]
            for index, key in [(i, k) for i, k in enumerate(words) if k in present]:
                for gi, _ in table[key]:
                    positions[gi].append(index)
        for gi in named:
            entities = groups[gi].entities
            for entity in cand.entities:
                quality = 0.9 * entities.get(entity, 0.0)
                if quality > best[gi]:
                    best[gi] = quality
                    by_name[gi] = True
        coverage = sum(map(operator.mul, weights, best)) / total_weight
        if pairs:
            near = sum(
                1.0
                if by_name[a] and by_name[b]
                else _adjacent(positions[a], positions[b], groups, a, b)
                for a, b in pairs
            )
            score = 100.0 * coverage * (0.8 + 0.2 * near / len(pairs))
        else:
            score = 100.0 * coverage
        verbatim = (
            verbatim_possible
            and all(step is None or not step.isdisjoint(vocabulary) for step in steps)
            and _holds(words, steps)
        )
        minor = sum(1 for gi in minors if best[gi]) if minors else 0
        ranked.append(Ranked(cand.id, round(min(score, 100.0), 1), len(words), verbatim, minor))
    ranked.sort(key=lambda r: (-r.score, not r.verbatim, -r.minor, r.length, r.id))
    return ranked


def _holds(words: Sequence[str], steps: Sequence[set[str] | None]) -> bool:
    """Whether ``words`` has a run whose i-th word is in ``steps[i]`` (any word for None),
    for every i."""
    while steps and steps[0] is None:  # leading wildcards: any words before the run
        steps = steps[1:]
    if not steps:
        return False
    first, n = steps[0] or set(), len(steps)
    starts = [i for i, w in enumerate(words[: len(words) - n + 1]) if w in first]
    return any(all(_step_holds(words[i + j], steps[j]) for j in range(1, n)) for i in starts)


def _step_holds(word: str, step: set[str] | None) -> bool:
    return step is None or word in step


def highlight(text: str, groups: Sequence[Group]) -> tuple[tuple[int, int], ...]:
    """[start, end) spans of the words of ``text`` that matched a query word (not the stop
    words of a query that has other words)."""
    table = _lookup([g for g in groups if not g.minor])
    keys = word_keys(text)  # fast for ASCII; the spans only when some word matched
    if table.keys().isdisjoint(keys):
        return ()
    spans = word_spans(text)
    return tuple(span for key, span in zip(keys, spans, strict=True) if key in table)


def _adjacent(
    first: list[int], second: list[int], groups: Sequence[Group], a: int, b: int
) -> float:
    """1 when the two words stand as far apart as in the query (stop words between them
    included), 0.5 when one word more lies between them, else 0."""
    if not first or not second:
        return 0.0
    gap = max(1, groups[b].word.position - groups[a].word.position)
    wanted = set(second)
    if any(p + gap in wanted for p in first):
        return 1.0
    loose = (gap + 1, gap - 1) if gap > 1 else (gap + 1,)
    return 0.5 if any(p + d in wanted for p in first for d in loose) else 0.0


# -- name matching --------------------------------------------------------------------------
