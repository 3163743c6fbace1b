"""Fuzzy matching of speaker, organisation and case names and their aliases (see
:mod:`bot.search.query` for the scores)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.search.query import NAME_STOP_WORDS, QueryWord, name_key, translit

HELD = 70.0  # a name word this like a query word counts as named by it
PREFIX_MAX = 90.0  # a prefix of a name word; a whole word scores at least 100 - 3 x 3


class NameKind(StrEnum):
    """What a catalog name stands for; the values are those of the ``aliases.kind`` column."""

    SPEAKER = "speaker"
    ORGANISATION = "organisation"
    CASE = "case"


@dataclass(frozen=True)
class NameEntry:
    kind: NameKind
    id: int
    label: str
    aliases: tuple[str, ...] = ()
    weight: int = 0  # number of quotes: breaks ties


@dataclass(frozen=True)
class _Alias:
    entry: int
    kind: NameKind
    tokens: tuple[str, ...]
    joined: str
    given: int = 0  # leading tokens that are a speaker's given name ("Karl-Heinz": 2)


def acronym(name: str) -> str | None:
    """Initials of a name of three or more significant words (Human Rights Watch → hrw)."""
    words = [w for w in translit(name).split() if w not in NAME_STOP_WORDS]
    return "".join(w[0] for w in words) if len(words) >= 3 else None


class NameIndex:
    """Fuzzy matching over speaker, organisation and case names and aliases (in memory).

    Every alias is reduced to :func:`name_key` words. A query word is compared with the
    distinct alias words: exactly, as a prefix, and (only when it is no alias word itself)
    with rapidfuzz over the alias words of compatible length.
    """

    def __init__(self, entries: Iterable[NameEntry]) -> None:
        self.entries: list[NameEntry] = list(entries)
        self._aliases: list[_Alias] = []
        self._by_token: dict[str, list[int]] = {}
        for index, entry in enumerate(self.entries):
            names: dict[str, str] = {}  # name key -> the first name or alias giving it
            for text in (entry.label, *entry.aliases):
                names.setdefault(name_key(text), text)
            if entry.kind == NameKind.ORGANISATION:
                short = acronym(entry.label)
                if short:
                    names.setdefault(short, short)
            for joined in names:
                if not joined:
                    continue
                alias_tokens = tuple(joined.split())
                alias_id = len(self._aliases)
                text = names[joined]
                given = 0
                if entry.kind == NameKind.SPEAKER and len(text.split()) > 1:
                    given = len(name_key(text.split()[0]).split())
                alias = _Alias(index, entry.kind, alias_tokens, joined, given)
                self._aliases.append(alias)
                for tok in set(alias_tokens):
                    self._by_token.setdefault(tok, []).append(alias_id)
        self._tokens = sorted(self._by_token)
        self._by_length: dict[int, list[str]] = {}
        for tok in self._tokens:
            self._by_length.setdefault(len(tok), []).append(tok)

    def __len__(self) -> int:
        return len(self.entries)

    def _fuzzy(self, q: str, cutoff: float, limit: int) -> list[tuple[str, float]]:
        """Alias words with ``fuzz.ratio >= cutoff``: only lengths that can reach it."""
        c = cutoff / 100.0
        low, high = math.ceil(len(q) * c / (2 - c)), math.floor(len(q) * (2 - c) / c)
        found: list[tuple[str, float]] = []
        for length in range(max(1, low), high + 1):
            bucket = self._by_length.get(length)
            if bucket:
                found.extend(
                    (tok, float(sim))
                    for tok, sim, _ in process.extract(
                        q, bucket, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit
                    )
                )
        found.sort(key=lambda ts: -ts[1])
        return found[:limit]

    def _within_edits(self, q: str, edits: int, limit: int = 40) -> list[str]:
        """Name words at most ``edits`` edits (OSA) from ``q``."""
        found: list[str] = []
        for length in range(max(1, len(q) - edits), len(q) + edits + 1):
            bucket = self._by_length.get(length)
            if bucket:
                found.extend(
                    tok
                    for tok, _, _ in process.extract(
                        q, bucket, scorer=OSA.distance, score_cutoff=edits, limit=limit
                    )
                )
        return found

    def _similar_tokens(self, q: str, multi: bool = False) -> dict[str, float]:
        found: dict[str, float] = {}
        if q in self._by_token:
            found[q] = 100.0
        if len(q) >= 3:
            i = bisect.bisect_left(self._tokens, q)
            for tok in self._tokens[i : i + 200]:
                if not tok.startswith(q):
                    break
                if tok != q:  # below any whole word (>= 91): "hu" is Hugh, not Human
                    found[tok] = min(PREFIX_MAX, 75.0 + 15.0 * len(q) / len(tok))
            # Even beside an exact word: "pensen vlsson" may be Pensen-Velsson, not Pensen.
            if q not in found or multi:
                for tok, sim in self._fuzzy(q, 60.0, 80):
                    found[tok] = max(found.get(tok, 0.0), typo_similarity(q, tok, sim))
                # Swaps and dropped letters can keep a near word below the ratio cut-off.
                for tok in self._within_edits(q, 1 if len(q) <= 4 else 2):
                    if tok not in found:
                        found[tok] = typo_similarity(q, tok, float(fuzz.ratio(q, tok)))
        return found

    def match(
        self,
        query: str,
        kinds: Collection[NameKind] | None = None,
        limit: int = 10,
        cutoff: float = 0,
    ) -> list[tuple[NameEntry, float]]:
        """Entries named by ``query``, best first, with a score 0–100 (see module docstring)."""
        key = name_key(query)
        q_tokens = [t for t in key.split() if t not in NAME_STOP_WORDS] or key.split()
        if not q_tokens:
            return []
        q_tokens = q_tokens[:8]
        sims = [self._similar_tokens(q, len(q_tokens) > 1) for q in q_tokens]
        width = len(q_tokens)
        rows: dict[int, list[float]] = {}
        for qi, found in enumerate(sims):
            for tok, sim in found.items():
                for alias_id in self._by_token[tok]:
                    row = rows.get(alias_id)
                    if row is None:
                        row = rows[alias_id] = [0.0] * width
                    if sim > row[qi]:
                        row[qi] = sim
        # Name words the query holds (a loose likeness is not holding it).
        matched = {tok for found in sims for tok, sim in found.items() if sim >= HELD}
        lengths = [len(q) for q in q_tokens]
        total = sum(lengths)
        scored = []
        for alias_id, row in rows.items():
            alias = self._aliases[alias_id]
            if kinds is not None and alias.kind not in kinds:
                continue
            score = sum(p * n for p, n in zip(row, lengths, strict=True)) / total
            scored.append((score - 3.0 * min(_unmatched(alias, matched), 3), alias_id))
        scored.sort(reverse=True)
        joined = " ".join(q_tokens)
        best: dict[int, tuple[float, float]] = {}  # entry -> (score, likeness in order)
        for rank_, (score, alias_id) in enumerate(scored):
            alias = self._aliases[alias_id]
            in_order = 0.0
            if rank_ < 200 and (len(alias.tokens) > 1 or width > 1):
                in_order = float(fuzz.ratio(joined, alias.joined))
                score = max(score, in_order)
            if (score, in_order) > best.get(alias.entry, (-1.0, 0.0)):
                best[alias.entry] = (score, in_order)
        # Equal scores: the name whose words stand in the query's order, then more quotes.
        ranked = sorted(
            ((self.entries[i], s) for i, s in best.items() if s[0] >= cutoff),
            key=lambda es: (-round(es[1][0], 1), -es[1][1], -es[0].weight, es[0].label),
        )
        return [(entry, round(s[0], 1)) for entry, s in ranked[:limit]]

    def word_entities(self, word: QueryWord, fuzzy: bool) -> dict[tuple[NameKind, int], float]:
        """Entities one search word names (a word of their name or alias), with 0..1 quality."""
        keys = {name_key(word.key)} | ({name_key(word.alt)} if word.alt else set())
        found: dict[tuple[NameKind, int], float] = {}
        for key in keys:  # "Хью" folds to "hu": the word typed counts, not its key
            if len(word.key) < 3 or not key or " " in key or key in NAME_STOP_WORDS:
                continue
            sims = {key: 100.0} if key in self._by_token else {}
            if fuzzy and not sims and len(key) >= 5:
                sims.update(self._fuzzy(key, 85.0, 10))
            for tok, sim in sims.items():
                for alias_id in self._by_token.get(tok, ()):
                    alias = self._aliases[alias_id]
                    ident = (alias.kind, self.entries[alias.entry].id)
                    found[ident] = max(found.get(ident, 0.0), sim / 100.0)
        return found


def typo_similarity(q: str, token: str, ratio: float) -> float:
    """How well a misspelt query word matches a name word: by edits first (one edit 88,
    two 78, three 68 for words of up to 8 letters; a longer word loses 80/length points per
    edit, so three edits in "viglaxtfeild" still name Viglartfield), then by ``fuzz.ratio``
    (under one point), so the nearest name in edits is the best match (``genn`` is Glenn
    before Gene only by the surname rule, both are one edit away)."""
    distance = int(OSA.distance(q, token))
    if not distance:
        return 100.0
    per_edit = min(10.0, 80.0 / max(len(q), 1))
    return max(0.0, 98.0 - per_edit * distance) + ratio / 101.0


def _unmatched(alias: _Alias, matched: Collection[str]) -> int:
    """Name words the query left out (particles such as "de la" never count). A speaker
    is called by the surname alone: the given names do not count once a later word is
    matched ("adewell" is Karl-Heinz Adewell as fully as the "Adewell Foundation" is not;
    "stromley" is Siobhan Stromley more than Rosley-Stromley)."""
    tokens = alias.tokens
    if alias.given and any(t in matched for t in tokens[alias.given :]):
        tokens = tokens[alias.given :]
    return sum(1 for t in tokens if t not in matched and t not in NAME_STOP_WORDS)


# -- vocabulary in memory (for the rare two-typo fallback and suggestions) --------------------
