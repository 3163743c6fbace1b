"""Pure lookup logic: query cleaning, normalisation, transliteration, typo tolerance, name
matching and ranking. No I/O: :mod:`bot.lookup` asks the store for candidates and ranks them
with the functions here.

Queries
-------
* Control, format, surrogate and private-use characters become spaces, and a query is cut to
  :data:`MAX_QUERY_CHARS` (200) characters; at most :data:`MAX_QUERY_WORDS` (10) content
  words count.
* ``who:NAME``, ``case:NAME`` and ``org:NAME`` are filters (``who:"julia hall"`` or
  ``who:julia_hall`` for several words); anything else, ``text:xyz`` included, is plain text.
* Words are the runs of letters and digits, as SQLite's ``unicode61`` tokenizer sees them
  (``don't`` is ``don`` + ``t``, ``e-mail`` is ``e`` + ``mail``), folded by
  :func:`bot.corpus.fold` (case, apostrophes, diacritics, ё). Stop words do not count in the
  score (they only break ties, and are never highlighted) unless the query has nothing else.
  Every term sent to FTS5 is written as an FTS5 string (:func:`fts_string`), so no user text
  is ever FTS5 syntax; SQL gets bound parameters only.
* Typos (:func:`max_edits`): none in words of up to 3 letters, one edit up to 6 letters, two
  from 7 (a word of 5–6 letters with nothing one edit away may go to two); a transposition is
  one edit. A query word that matches nothing in the corpus, even with typos, is ignored when
  other words match. Cyrillic words are also tried transliterated (anyascii).

Scores and thresholds (0–100)
-----------------------------
* Names (``who``, ``case`` and the filters): the similarity of the query to the best alias of
  a speaker, organisation or case, in transliterated, variant-folded form (:func:`name_key`).
  100 is an exact name or alias; a query word that is a whole word of the name scores 100 for
  that word, less 3 per name word left unmatched ("hall" → "Julia Hall" = 97); a word with one
  typo scores about 85–93, a prefix of a name word 80–95. Results need
  :data:`NAME_THRESHOLD` (70).
* Text (``search``): ``coverage`` is the share of the query's content words found in the quote,
  each word weighted by its rarity (inverse document frequency) and by how well it matched
  (1 exact, 0.85–0.9 with one typo, 0.6–0.7 with two, 0.75 as a prefix); a word naming the
  quote's speaker, organisation or case counts at 0.9 of its name match, a word of the
  speaker's role at 0.9 × 0.8. ``phrase`` is the share of neighbouring query words that
  stand as far apart, in order, in the quote (half for one word more or less between them).
  ``score = 100 × coverage × (0.8 + 0.2 × phrase)`` (one-word queries: ``100 × coverage``);
  two words that both name the quote's speaker ("julia hall") count as neighbours. Ties go to
  the quote holding the whole query word for word, then to the one holding more of the
  query's stop words, then to the shorter quote.
  Results need :data:`SEARCH_THRESHOLD` (50): e.g. every word found but never side by side
  scores 80, two of three equally rare words found side by side 60, one of two 40 (dropped).
* "Did you mean" (when nothing clears a threshold): names scoring at least
  :data:`SUGGEST_THRESHOLD` (55) in any of the three kinds, and for ``search`` the query with
  each unknown word replaced by the nearest corpus word within one edit more than search
  allows.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.corpus import fold

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 10
NAME_THRESHOLD = 70.0
SEARCH_THRESHOLD = 50.0
SUGGEST_THRESHOLD = 55.0  # names offered as "did you mean" when nothing clears a threshold
FILTER_KINDS = ("who", "case", "org")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _words(
    "a an the and or but nor of to in on at by for from with without into onto over under "
    "about after before than then that this these those there here is are was were be been "
    "being am do does did doing have has had having it its he she they them their his "
    "her hers him we us our you your i me my mine who whom whose which what when where why "
    "how not no so as if also only very can could should would will shall may might must "
    "s t d ll re ve m any some such all each other more most"
    " и в во на не что с со по о об от к ко у за из а но же ли бы это как"
)
NAME_STOP_WORDS = _words("the of for and in at on de la le van von der du")

_WORD = re.compile(r"[^\W_]+")
_FILTER = re.compile(r'(?<![^\s(,;])(who|case|org):(?:"([^"]*)"?|(\S+))', re.IGNORECASE)
_STRIP_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co"))
_VARIANTS = (
    (re.compile(r"dzh"), "j"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"[yj]"), "i"),
    (re.compile(r"(?<=[aeiou])ie"), "e"),  # -ayeva/-aieva → -aeva
    (re.compile(r"([^aeou])\1+"), r"\1"),  # doubled consonants (and ii): Hall/Hal
)


# -- cleaning and normalisation -----------------------------------------------------------


def clean_query(text: str) -> str:
    """Control, format, surrogate and private-use characters become spaces; cut to length."""
    if not text:
        return ""
    text = text[: MAX_QUERY_CHARS * 4]
    cleaned = "".join(" " if unicodedata.category(c) in _STRIP_CATEGORIES else c for c in text)
    return " ".join(cleaned.split())[:MAX_QUERY_CHARS].strip()


def word_key(token: str) -> str:
    """The matching form of one token: case, diacritics, ё and apostrophes folded."""
    if token.isascii():
        return token.lower()
    return fold(token).replace(" ", "")


def translit(text: str) -> str:
    """Latin transliteration of folded text (``Аблязов`` → ``ablyazov``), letters and digits."""
    latin = anyascii(fold(text)).lower().replace("'", "")
    return " ".join(_WORD.findall(latin))


def name_key(text: str) -> str:
    """Transliterated and spelling-variant-folded form of a name, for fuzzy name matching.

    ya/ia, kh/h, ks/x, -ayeva/-aeva, j/y/i and doubled consonants all meet:
    ``name_key("Шалабаева") == name_key("Shalabayeva") == "shalabaeva"``.
    """
    out = []
    for token in translit(text).split():
        for pattern, repl in _VARIANTS:
            token = pattern.sub(repl, token)
        out.append(token)
    return " ".join(out)


def tokens(text: str) -> list[tuple[str, int, int]]:
    """(key, start, end) for every word of ``text``; offsets index the original string."""
    return [(word_key(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def fts_string(term: str) -> str:
    """An FTS5 string literal: whatever ``term`` holds, FTS5 reads it as text, not syntax.

    Double quotes are doubled; NUL (which ends an FTS5 query early) becomes a space.
    """
    return '"' + term.replace("\x00", " ").replace('"', '""') + '"'


def fts_any(terms: Iterable[str]) -> str:
    unique = list(dict.fromkeys(terms))
    if len(unique) == 1:
        return fts_string(unique[0])
    return "(" + " OR ".join(fts_string(t) for t in unique) + ")"


def fts_all(groups: Iterable[Iterable[str]]) -> str:
    return " AND ".join(fts_any(g) for g in groups)


def fts_phrase(terms: Sequence[str]) -> str:
    return fts_string(" ".join(terms))


# -- typo tolerance -----------------------------------------------------------------------


def max_edits(key: str) -> int:
    """Edits tolerated in a word: none up to 3 letters, 1 up to 6, 2 from 7 (a word of 5 or
    6 letters with no corpus word one edit away may go to 2)."""
    n = len(key)
    return 0 if n <= 3 else 1 if n <= 6 else 2


def deletes(key: str, depth: int = 1) -> set[str]:
    """Every string made by deleting up to ``depth`` characters (SymSpell's variants)."""
    found: set[str] = set()
    frontier = {key}
    for _ in range(depth):
        nxt: set[str] = set()
        for word in frontier:
            if len(word) <= 2:
                continue
            for i in range(len(word)):
                nxt.add(word[:i] + word[i + 1 :])
        found |= nxt
        frontier = nxt
    found.discard(key)
    return found


def edit_distance(a: str, b: str, cutoff: int | None = None) -> int:
    """Optimal-string-alignment distance (a transposition counts as one edit)."""
    return int(OSA.distance(a, b, score_cutoff=cutoff))


def typo_quality(distance: int, length: int) -> float:
    """How much a corpus word found ``distance`` edits from a query word counts (0..1]."""
    if distance == 0:
        return 1.0
    if distance == 1:
        return 0.9 if length >= 7 else 0.85
    return 0.7 if length >= 7 else 0.6


PREFIX_QUALITY = 0.75


# -- query parsing ------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryWord:
    key: str  # folded
    alt: str | None  # transliteration when it differs (Cyrillic, Greek, ...)
    position: int  # index in the query's word sequence (stop words included)
    stop: bool


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # cleaned query text without the filters
    words: tuple[QueryWord, ...]  # every word, in order
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def content(self) -> tuple[QueryWord, ...]:
        """The words that count: stop words only when the query has nothing else."""
        content = [w for w in self.words if not w.stop] or list(self.words)
        unique: dict[str, QueryWord] = {}
        for w in content:
            unique.setdefault(w.key, w)
        return tuple(unique.values())[:MAX_QUERY_WORDS]


def parse_query(text: str) -> ParsedQuery:
    text = clean_query(text)
    filters: dict[str, list[str]] = {}

    def take(match: re.Match[str]) -> str:
        value = match.group(2) if match.group(2) is not None else match.group(3)
        value = value.replace("_", " ").strip()
        if value:
            filters.setdefault(match.group(1).lower(), []).append(value)
        return " "

    rest = " ".join(_FILTER.sub(take, text).split())
    words = []
    for position, m in enumerate(_WORD.finditer(rest)):
        key = word_key(m.group())
        if not key:
            continue
        alt = translit(key) if not key.isascii() else None
        alt = alt if alt and alt != key else None
        words.append(QueryWord(key, alt, position, key in STOP_WORDS))
    return ParsedQuery(rest, tuple(words), {k: tuple(v) for k, v in filters.items()})


# -- ranking quote text ---------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One word of the query and what counts as finding it in a quote."""

    word: QueryWord
    terms: Mapping[str, float]  # word key in a quote -> match quality (0..1]
    df: int  # documents holding the commonest of its terms (0: unknown)
    entities: Mapping[tuple[str, int], float] = field(default_factory=dict)  # names it matches
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
    entities: frozenset[tuple[str, int]]  # ("speaker", id), ("organisation", id), ("case", id)


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
    steps = [{w.key, *by_word[w.key].terms} if w.key in by_word else {w.key} for w in query]
    weights = [g.weight(total_docs) for g in groups]
    total_weight = sum(weights)
    table = _lookup(groups)
    major = [gi for gi, g in enumerate(groups) if not g.minor]
    minors = [gi for gi, g in enumerate(groups) if g.minor]
    order = sorted(major, key=lambda gi: groups[gi].word.position)
    pairs = list(itertools.pairwise(order))
    named = [gi for gi, g in enumerate(groups) if g.entities]
    verbatim_possible = len(steps) > 1
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
            and all(not step.isdisjoint(vocabulary) for step in steps)
            and _holds(words, steps)
        )
        minor = sum(1 for gi in minors if best[gi]) if minors else 0
        ranked.append(Ranked(cand.id, round(min(score, 100.0), 1), len(words), verbatim, minor))
    ranked.sort(key=lambda r: (-r.score, not r.verbatim, -r.minor, r.length, r.id))
    return ranked


def _holds(words: Sequence[str], steps: Sequence[set[str]]) -> bool:
    """Whether ``words`` has a run whose i-th word is in ``steps[i]``, for every i."""
    first, n = steps[0], len(steps)
    starts = [i for i, w in enumerate(words[: len(words) - n + 1]) if w in first]
    return any(all(words[i + j] in steps[j] for j in range(1, n)) for i in starts)


def highlight(text: str, groups: Sequence[Group]) -> tuple[tuple[int, int], ...]:
    """[start, end) spans of the words of ``text`` that matched a query word (not the stop
    words of a query that has other words)."""
    table = _lookup([g for g in groups if not g.minor])
    return tuple((start, end) for key, start, end in tokens(text) if key in table)


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


@dataclass(frozen=True)
class NameEntry:
    kind: str  # "speaker" | "organisation" | "case"
    id: int
    label: str
    aliases: tuple[str, ...] = ()
    weight: int = 0  # number of quotes: breaks ties


@dataclass(frozen=True)
class _Alias:
    entry: int
    kind: str
    tokens: tuple[str, ...]
    joined: str


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
            names = dict.fromkeys(name_key(a) for a in (entry.label, *entry.aliases))
            if entry.kind == "organisation":
                short = acronym(entry.label)
                if short:
                    names.setdefault(short)
            for joined in names:
                if not joined:
                    continue
                alias_tokens = tuple(joined.split())
                alias_id = len(self._aliases)
                self._aliases.append(_Alias(index, entry.kind, alias_tokens, joined))
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

    def _similar_tokens(self, q: str) -> dict[str, float]:
        found: dict[str, float] = {}
        if q in self._by_token:
            found[q] = 100.0
        if len(q) >= 3:
            i = bisect.bisect_left(self._tokens, q)
            for tok in self._tokens[i : i + 200]:
                if not tok.startswith(q):
                    break
                if tok != q:
                    found[tok] = min(95.0, 80.0 + 20.0 * len(q) / len(tok))
            if q not in found:
                for tok, sim in self._fuzzy(q, 60.0, 40):
                    found[tok] = max(found.get(tok, 0.0), sim)
        return found

    def match(
        self, query: str, kinds: Collection[str] | None = None, limit: int = 10, cutoff: float = 0
    ) -> list[tuple[NameEntry, float]]:
        """Entries named by ``query``, best first, with a score 0–100 (see module docstring)."""
        key = name_key(query)
        q_tokens = [t for t in key.split() if t not in NAME_STOP_WORDS] or key.split()
        if not q_tokens:
            return []
        q_tokens = q_tokens[:8]
        sims = [self._similar_tokens(q) for q in q_tokens]
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
        matched = {tok for found in sims for tok in found}
        lengths = [len(q) for q in q_tokens]
        total = sum(lengths)
        scored = []
        for alias_id, row in rows.items():
            alias = self._aliases[alias_id]
            if kinds is not None and alias.kind not in kinds:
                continue
            score = sum(p * n for p, n in zip(row, lengths, strict=True)) / total
            unmatched = sum(1 for t in alias.tokens if t not in matched)
            scored.append((score - 3.0 * min(unmatched, 3), alias_id))
        scored.sort(reverse=True)
        joined = " ".join(q_tokens)
        best: dict[int, float] = {}
        for rank_, (score, alias_id) in enumerate(scored):
            alias = self._aliases[alias_id]
            if rank_ < 50 and (len(alias.tokens) > 1 or width > 1):
                score = max(score, float(fuzz.ratio(joined, alias.joined)))
            if score > best.get(alias.entry, -1.0):
                best[alias.entry] = score
        ranked = sorted(
            ((self.entries[i], round(s, 1)) for i, s in best.items() if s >= cutoff),
            key=lambda es: (-es[1], -es[0].weight, es[0].label),
        )
        return ranked[:limit]

    def word_entities(self, word: QueryWord, fuzzy: bool) -> dict[tuple[str, int], float]:
        """Entities one search word names (a word of their name or alias), with 0..1 quality."""
        keys = {name_key(word.key)} | ({name_key(word.alt)} if word.alt else set())
        found: dict[tuple[str, int], float] = {}
        for key in keys:
            if len(key) < 3 or " " in key or key in NAME_STOP_WORDS:
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


# -- vocabulary in memory (for the rare two-typo fallback and suggestions) --------------------


class Vocabulary:
    """Word keys of the corpus bucketed by (first letter, length), for a bounded fuzzy scan."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._buckets: dict[tuple[str, int], list[str]] = {}
        count = 0
        for key in keys:
            if key:
                self._buckets.setdefault((key[0], len(key)), []).append(key)
                count += 1
        self.size = count

    def near(self, key: str, edits: int = 2, limit: int = 64) -> list[tuple[str, int]]:
        """Keys within ``edits`` edits of ``key`` starting with its first or second letter
        (a swap of the first two letters is a common typo)."""
        if not key:
            return []
        found: list[tuple[str, int]] = []
        for first in dict.fromkeys(key[:2]):
            for length in range(max(1, len(key) - edits), len(key) + edits + 1):
                bucket = self._buckets.get((first, length))
                if bucket:
                    found.extend(
                        (term, int(dist))
                        for term, dist, _ in process.extract(
                            key, bucket, scorer=OSA.distance, score_cutoff=edits, limit=limit
                        )
                    )
        found.sort(key=lambda td: td[1])
        return found[:limit]
