"""Pure lookup logic: query cleaning, parsing, normalisation, transliteration and typo
tolerance, and the design of the scores that :mod:`bot.search.names` (name matching) and
:mod:`bot.search.rank` (ranking) implement. No I/O: :mod:`bot.search.service` asks the store
for candidates.

Queries
-------
* Format characters (zero-width space, soft hyphen, ...) are removed, control, surrogate and
  private-use characters become spaces, and a query is cut to
  :data:`MAX_QUERY_CHARS` (200) characters; at most :data:`MAX_QUERY_WORDS` (10) content
  words count.
* ``who:NAME``, ``case:NAME`` and ``org:NAME`` are filters (``who:"julia hall"`` or
  ``who:julia_hall`` for several words); anything else, ``text:xyz`` included, is plain text.
* Words are the runs of letters and digits, as SQLite's ``unicode61`` tokenizer sees them
  (``don't`` is ``don`` + ``t``, ``e-mail`` is ``e`` + ``mail``), folded by
  :func:`bot.text.fold` (case, apostrophes, diacritics, ё). Stop words do not count in the
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
  that word, less 3 per name word left unmatched ("julia" → "Julia Hall" = 97). A speaker is
  called by the surname alone: given names never count as unmatched once a later word
  matches ("hall" → Julia Hall = 100, so a speaker beats the "Hall Foundation" = 97), and
  particles (de la, van der, ter, al, ...) never count. A misspelt word scores by edits
  (one 88, two 78, three 68, plus under a point of ``fuzz.ratio``), so the nearest name in
  edits wins; a prefix of a name word scores 75–90 (never as much as a whole word, so
  ``Хью`` is Hugh Williamson rather than the alias "Хьюман Райтс Вотч"). Equal scores go to
  the name whose words stand in the query's order, then to the one with more quotes.
  Several words that name several things better than any one name ("amnesty hall",
  "ablyazov shalabayeva") are read as several names (:mod:`bot.search.segments`). Results
  need :data:`NAME_THRESHOLD` (70).
* Text (``search``): ``coverage`` is the share of the query's content words found in the quote,
  each word weighted by its rarity (inverse document frequency) and by how well it matched
  (1 exact, 0.85–0.9 with one typo, 0.6–0.7 with two, 0.75 as a prefix); a word naming the
  quote's speaker, organisation or case counts at 0.9 of its name match, a word of the
  speaker's role at 0.9 × 0.8. ``phrase`` is the share of neighbouring query words that
  stand as far apart, in order, in the quote (half for one word more or less between them).
  ``score = 100 × coverage × (0.8 + 0.2 × phrase)`` (one-word queries: ``100 × coverage``);
  two words that both name the quote's speaker ("julia hall") count as neighbours. Ties go to
  the quote holding the whole query word for word (a word the corpus does not know at all
  standing for any one word), then to the one holding more of the query's stop words, then
  to the shorter quote. A query of mostly common words is first looked up as an exact
  phrase (:mod:`bot.search.phrases`).
  Results need :data:`SEARCH_THRESHOLD` (50): e.g. every word found but never side by side
  scores 80, two of three equally rare words found side by side 60, one of two 40 (dropped).
* "Did you mean" (when nothing clears a threshold): names scoring at least
  :data:`SUGGEST_THRESHOLD` (55) in any of the three kinds (below :data:`NAME_THRESHOLD`
  only when a query word begins like a word of the name: "fardo" → Fardeau, not "Italy" →
  "Amnesty Intl"), and for ``search`` the query with
  each unknown word replaced by the nearest corpus word within one edit more than search
  allows. A suggestion is shown only when running it finds at least one quote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.text import fold

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 10
NAME_THRESHOLD = 70.0
SEARCH_THRESHOLD = 50.0
SUGGEST_THRESHOLD = 55.0  # names offered as "did you mean" when nothing clears a threshold


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
NAME_STOP_WORDS = _words(
    "the of for and in at on de la le van von der du di da del della dos das bin ibn al el "
    "ter ten o"
)

_WORD = re.compile(r"[^\W_]+")
_APOSTROPHES = re.compile(r"['’ʼ`]")
_FILTER = re.compile(r'(?<![^\s(,;])(who|case|org):(?:"([^"]*)"?|(\S+))', re.IGNORECASE)
_SPACE_CATEGORIES = frozenset(("Cc", "Cs", "Co"))  # control, surrogate, private use
_INVISIBLE = "Cf"  # format: zero-width space and joiners, soft hyphen, direction marks
_VARIANTS = (
    (re.compile(r"dzh"), "j"),
    (re.compile(r"kh"), "h"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"ck"), "k"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"[yj]"), "i"),
    # English names in Cyrillic and back: Хью/Hugh, Уильямсон/Williamson, Хьюман/Human.
    (re.compile(r"(?<=[aeiou])gh$"), ""),
    (re.compile(r"(?<=[^aeiou])iu"), "u"),
    (re.compile(r"^w"), "u"),
    (re.compile(r"(?<=[aeiou])ie"), "e"),  # -ayeva/-aieva → -aeva
    (re.compile(r"([^aeou])\1+"), r"\1"),  # doubled consonants (and ii): Hall/Hal
)


# -- cleaning and normalisation -----------------------------------------------------------


def clean_query(text: str) -> str:
    """Format characters (zero-width space, soft hyphen, joiners, direction marks) are
    removed, since they sit invisibly *inside* words (``ha\u200bll`` is ``hall``); control,
    surrogate and private-use characters become spaces; cut to length."""
    if not text:
        return ""
    text = text[: MAX_QUERY_CHARS * 4]
    cleaned = "".join(_clean_char(c) for c in text)
    return " ".join(cleaned.split())[:MAX_QUERY_CHARS].strip()


def _clean_char(c: str) -> str:
    if c.isprintable() or c.isspace():
        return c
    category = unicodedata.category(c)
    if category == _INVISIBLE:
        return ""
    return " " if category in _SPACE_CATEGORIES else c


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
    # O'Connor, d'Arc: the apostrophe separates a particle (translit would join them).
    for token in translit(_APOSTROPHES.sub(" ", text)).split():
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


class Vocabulary:
    """Word keys of the corpus bucketed by (first letter, length) and by (second letter,
    length), for a bounded fuzzy scan that still reaches a typo in the first letter."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._buckets: dict[tuple[str, int], list[str]] = {}
        self._by_second: dict[tuple[str, int], list[str]] = {}
        count = 0
        for key in keys:
            if key:
                self._buckets.setdefault((key[0], len(key)), []).append(key)
                if len(key) >= 4:
                    self._by_second.setdefault((key[1], len(key)), []).append(key)
                count += 1
        self.size = count

    def near(self, key: str, edits: int = 2, limit: int = 64) -> list[tuple[str, int]]:
        """Keys within ``edits`` edits of ``key`` that start with its first or second letter
        (a swap of the first two letters, or a letter typed before the word), or whose second
        letter is its first or second (the first letter replaced or dropped)."""
        if not key:
            return []
        found: dict[str, int] = {}
        n = len(key)
        first, second = key[0], key[1:2]
        # (index, letter, lengths): where a term within ``edits`` can start
        scans = [(self._buckets, first, range(max(1, n - edits), n + edits + 1))]
        if second:  # a letter typed before the word, or the first two swapped
            scans.append((self._buckets, second, range(max(1, n - edits), n + 2)))
        if n >= 4:  # the first letter replaced (same second letter) or dropped
            scans.append((self._by_second, second, range(n - 1, n + 2)))
            scans.append((self._by_second, first, range(n + 1, n + edits + 1)))
        for buckets, letter, lengths in scans:
            for length in lengths:
                bucket = buckets.get((letter, length))
                if bucket:
                    for term, dist, _ in process.extract(
                        key, bucket, scorer=OSA.distance, score_cutoff=edits, limit=limit
                    ):
                        found[term] = int(dist)
        return sorted(found.items(), key=lambda td: td[1])[:limit]
