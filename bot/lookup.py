"""The lookup service behind /who, /case, /search and filtered /random.

:class:`Lookup` keeps small in-memory indexes (names and aliases of speakers, organisations and
cases; the vocabulary bucketed for a bounded fuzzy scan) and asks the store for everything
else. Each lookup is one :meth:`bot.store.QuoteStore.run` unit of work: freshness check,
vocabulary and typo expansion, FTS5 candidate retrieval, ranking (:func:`bot.search.rank`)
and fetching the quotes all happen in one trip to the database thread.

Retrieval for ``search`` (see :mod:`bot.search` for the scores and thresholds): every content
word is expanded to the corpus terms within its edit budget (exact, SymSpell deletion index,
a prefix for the last word, and a first-letter-bucketed fuzzy scan for long words with no
closer term). Candidates then come from a few cheap, *unranked* FTS5 queries with ``LIMIT``
(so common words never make FTS5 score half the corpus): the query as a phrase of its best
corrections, the AND of the best corrections, the AND of all expansions, leave-one-out ANDs
when that finds little, and quotes of any speaker, organisation or case a word names. At most
a few hundred candidates are ranked in Python. A time budget (SQLite's progress handler)
bounds the FTS5 work of a single lookup.
"""

from __future__ import annotations

import logging
import random as _random
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial

from bot import search_store as ss
from bot.search import (
    MAX_QUERY_WORDS,
    NAME_STOP_WORDS,
    NAME_THRESHOLD,
    PREFIX_QUALITY,
    SEARCH_THRESHOLD,
    SUGGEST_THRESHOLD,
    Group,
    NameEntry,
    NameIndex,
    ParsedQuery,
    QueryWord,
    Vocabulary,
    clean_query,
    edit_distance,
    fts_all,
    fts_any,
    fts_phrase,
    highlight,
    max_edits,
    parse_query,
    rank,
    tokens,
    typo_quality,
    word_keys,
    word_spans,
)
from bot.store import CaseRow, QuoteStore, SpeakerRow, StoredQuote, fetch_quotes_by_id

__all__ = ["Hit", "Lookup", "LookupResult", "Suggestion"]
log = logging.getLogger(__name__)

PER_STAGE = 100  # rows per FTS5 query
PER_RELAXED = 50  # rows per leave-one-out query
MAX_CANDIDATES = 300  # quotes ranked in Python per search
SMALL_SET = 300  # a filter or a named speaker this small is ranked whole
TIME_BUDGET = 0.035  # seconds of FTS5 work per search
MAX_TYPO_TERMS = 16  # corpus terms one misspelt word may stand for
ROLE_QUALITY = 0.8  # a word of a speaker's role, as a match for that speaker's quotes
COMMANDS = {"speaker": "who", "organisation": "who", "case": "case"}
ANSWERS_KEPT = 256  # recent answers remembered (see Answers)


@dataclass(frozen=True)
class Hit:
    quote: StoredQuote
    score: float  # 0-100
    matched: tuple[tuple[int, int], ...]  # [start, end) spans of quote.text to highlight


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "speaker" | "organisation" | "case" | "word"
    label: str
    command: str  # "who" | "case" | "search"
    query: str


@dataclass(frozen=True)
class LookupResult:
    hits: list[Hit]
    suggestions: list[Suggestion] = field(default_factory=list)
    title: str | None = None


class Answers:
    """Recent answers by (kind, query): inline mode asks again for every page and every
    keystroke, and a group asks the same /who many times. Emptied whenever the quotes
    change. Lives in the database thread only, like everything the store runs."""

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[str, str], tuple[int, LookupResult]] = OrderedDict()
        self.hits = self.misses = 0
        self._version = -1

    def get(self, key: tuple[str, str], limit: int) -> LookupResult | None:
        kept = self._kept.get(key)
        # An answer computed for fewer results serves a deeper request only if it was all.
        if kept is None or (kept[0] < limit and len(kept[1].hits) >= kept[0]):
            self.misses += 1
            return None
        self.hits += 1
        self._kept.move_to_end(key)
        result = kept[1]
        return LookupResult(result.hits[:limit], list(result.suggestions), result.title)

    def put(self, key: tuple[str, str], limit: int, result: LookupResult) -> None:
        self._kept[key] = (limit, result)
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def clear(self) -> None:
        self._kept.clear()

    def check(self, conn: sqlite3.Connection) -> None:
        """Forget everything when another connection (an import, an edit) has committed."""
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._kept.clear()
            self._version = version


@dataclass
class _State:
    people: NameIndex  # speakers and organisations (who, who:, org:)
    cases_index: NameIndex  # cases (case, case:)
    data: ss.NameData
    vocab: Vocabulary
    max_id: int
    org_speakers: dict[int, list[SpeakerRow]]
    role_words: dict[str, set[int]]
    speakers: dict[int, SpeakerRow]
    cases: dict[int, CaseRow]
    orgs: dict[int, ss.OrganisationRow]
    stale: bool = False  # the persisted vocabulary could not be brought up to date


class Lookup:
    """Fuzzy lookups over a :class:`QuoteStore`; call :meth:`load` once, then look up."""

    def __init__(self, store: QuoteStore, answers_kept: int = ANSWERS_KEPT) -> None:
        self.store = store
        self._state: _State | None = None
        self.last_index: ss.IndexState | None = None
        self.answers = Answers(answers_kept)
        self._complete = True  # cleared when a search ran out of time: not remembered

    # -- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Bring the persisted index up to date and (re)build the in-memory indexes."""
        await self.store.run(self._load)

    def _load(self, conn: sqlite3.Connection) -> _State:
        try:
            self.last_index = ss.refresh_index(conn)
        except sqlite3.OperationalError as exc:  # locked by a writer, or a read-only file
            # FTS5 is current anyway (triggers); only typo corrections miss the new words.
            log.warning("lookup index not refreshed (%s); serving the one on disk", exc)
            max_id = ss.current_max_id(conn)
            self.last_index = ss.IndexState(max_id, -1, -1, "skipped", 0.0)
        data = ss.load_names(conn)
        entries: list[NameEntry] = []
        for s in data.speakers:
            aliases = tuple(data.aliases.get(("speaker", s.id), ()))
            entries.append(NameEntry("speaker", s.id, s.name, aliases, s.quotes))
        for o in data.organisations:
            aliases = tuple(data.aliases.get(("organisation", o.id), ()))
            entries.append(NameEntry("organisation", o.id, o.name, aliases, o.quotes))
        for c in data.cases:
            aliases = (c.slug, *data.aliases.get(("case", c.id), ()))
            entries.append(NameEntry("case", c.id, c.name, aliases, c.quotes))
        org_speakers: dict[int, list[SpeakerRow]] = {}
        role_words: dict[str, set[int]] = {}
        for s in data.speakers:
            org_id = data.speaker_orgs.get(s.id)
            if org_id is not None:
                org_speakers.setdefault(org_id, []).append(s)
            for key, _, _ in tokens(s.role):
                if len(key) >= 3 and key not in NAME_STOP_WORDS:
                    role_words.setdefault(key, set()).add(s.id)
        for speakers in org_speakers.values():
            speakers.sort(key=lambda s: (-s.quotes, s.name))
        state = _State(
            people=NameIndex(e for e in entries if e.kind != "case"),
            cases_index=NameIndex(e for e in entries if e.kind == "case"),
            data=data,
            vocab=Vocabulary(ss.vocabulary_keys(conn)),
            max_id=self.last_index.max_id,
            org_speakers=org_speakers,
            role_words=role_words,
            speakers={s.id: s for s in data.speakers},
            cases={c.id: c for c in data.cases},
            orgs={o.id: o for o in data.organisations},
            stale=self.last_index.rebuilt == "skipped",
        )
        self._state = state
        self.answers.clear()
        return state

    def _fresh(self, conn: sqlite3.Connection) -> _State:
        state = self._state
        if state is None or ss.current_max_id(conn) != state.max_id:
            state = self._load(conn)
        return state

    def _remembered(
        self,
        conn: sqlite3.Connection,
        kind: str,
        query: str,
        limit: int,
        compute: Callable[[], LookupResult],
    ) -> LookupResult:
        self._fresh(conn)  # reloads, and forgets every answer, when quotes were added
        self.answers.check(conn)
        key = (kind, query)
        found = self.answers.get(key, limit)
        if found is None:
            self._complete = True
            found = compute()
            if self._complete:
                self.answers.put(key, limit, found)
        return found

    @property
    def quote_count(self) -> int:
        """Quotes in the corpus as of the last (re)load: free, for health checks."""
        return self._loaded.data.total_quotes

    @property
    def _loaded(self) -> _State:
        if self._state is None:
            raise RuntimeError("Lookup.load() has not been awaited")
        return self._state

    # -- listings --------------------------------------------------------------------------

    async def speakers(self) -> list[SpeakerRow]:
        """Speakers with quotes, by organisation then name, from memory (no full-table count:
        an empty /who or inline query must stay cheap at a million quotes)."""
        state = await self.store.run(self._fresh)
        return sorted(
            state.speakers.values(),
            key=lambda s: (s.organisation is None, s.organisation or "", s.name),
        )

    async def cases(self) -> list[CaseRow]:
        """Cases by name, with their number of quotes, from memory."""
        state = await self.store.run(self._fresh)
        return sorted(state.cases.values(), key=lambda c: c.name)

    # -- names ---------------------------------------------------------------------------

    @staticmethod
    def _match(
        state: _State, query: str, kinds: Sequence[str], limit: int, cutoff: float
    ) -> list[tuple[NameEntry, float]]:
        """Speakers/organisations and cases live in two indexes (so that a word that is
        exactly a speaker's name still finds a case it misspells); merge when asked for both."""
        found: list[tuple[NameEntry, float]] = []
        if any(k != "case" for k in kinds):
            found += state.people.match(query, kinds, limit, cutoff)
        if "case" in kinds:
            found += state.cases_index.match(query, kinds, limit, cutoff)
        found.sort(key=lambda es: (-es[1], -es[0].weight, es[0].label))
        return found[:limit]

    def find_speaker(self, query: str, limit: int = 5) -> list[tuple[SpeakerRow, float]]:
        state = self._loaded
        found = self._match(state, clean_query(query), ("speaker",), limit, NAME_THRESHOLD)
        return [(state.speakers[e.id], s) for e, s in found if e.id in state.speakers]

    def find_organisation(
        self, query: str, limit: int = 5
    ) -> list[tuple[ss.OrganisationRow, float]]:
        state = self._loaded
        found = self._match(state, clean_query(query), ("organisation",), limit, NAME_THRESHOLD)
        return [(state.orgs[e.id], s) for e, s in found if e.id in state.orgs]

    def find_case(self, query: str, limit: int = 5) -> list[tuple[CaseRow, float]]:
        state = self._loaded
        found = self._match(state, clean_query(query), ("case",), limit, NAME_THRESHOLD)
        return [(state.cases[e.id], s) for e, s in found if e.id in state.cases]

    @staticmethod
    def _suggest_names(
        state: _State, query: str, kinds: Sequence[str], limit: int = 3
    ) -> list[Suggestion]:
        found = Lookup._match(state, query, kinds, limit, SUGGEST_THRESHOLD)
        return [Suggestion(e.kind, e.label, COMMANDS[e.kind], e.label) for e, _ in found]

    # -- who / case ------------------------------------------------------------------------

    async def who(self, query: str, limit: int = 50) -> LookupResult:
        query = clean_query(query)
        if not query or limit <= 0:
            return LookupResult([])
        return await self.store.run(
            lambda c: self._remembered(c, "who", query, limit, lambda: self._who(c, query, limit))
        )

    def _who(self, conn: sqlite3.Connection, query: str, limit: int) -> LookupResult:
        state = self._fresh(conn)
        found = self._match(state, query, ("speaker", "organisation"), 20, NAME_THRESHOLD)
        found = [(e, s) for e, s in found if e.weight > 0]  # an organisation with no quotes
        if not found:
            return LookupResult(
                [], self._suggest_names(state, query, ("speaker", "organisation", "case"))
            )
        best, best_score = found[0]
        ordered: list[tuple[int, int | None, float, NameEntry]] = []  # speaker, org, score
        if best.kind == "organisation":
            for s in state.org_speakers.get(best.id, []):
                ordered.append((s.id, best.id, best_score, best))
        else:
            for entry, score in found:
                if entry.kind == "speaker" and score >= best_score - 10:
                    ordered.append((entry.id, None, score, entry))
        ids: list[tuple[int, float, NameEntry]] = []
        for speaker_id, org_id, score, entry in ordered:
            if len(ids) >= limit:
                break
            for qid in ss.quote_ids_by_speaker(conn, speaker_id, limit - len(ids), org_id):
                ids.append((qid, score, entry))
        hits = self._hits(conn, ids)
        return LookupResult(hits, [], best.label)

    async def case(self, query: str, limit: int = 50) -> LookupResult:
        query = clean_query(query)
        if not query or limit <= 0:
            return LookupResult([])
        return await self.store.run(
            lambda c: self._remembered(c, "case", query, limit, lambda: self._case(c, query, limit))
        )

    def _case(self, conn: sqlite3.Connection, query: str, limit: int) -> LookupResult:
        state = self._fresh(conn)
        found = self._match(state, query, ("case",), 10, NAME_THRESHOLD)
        found = [(e, s) for e, s in found if e.weight > 0]
        if not found:
            return LookupResult(
                [], self._suggest_names(state, query, ("case", "speaker", "organisation"))
            )
        best, best_score = found[0]
        ids: list[tuple[int, float, NameEntry]] = []
        for entry, score in found:
            if score < best_score - 5 or len(ids) >= limit:
                break
            for qid in ss.quote_ids_by_case(conn, entry.id, limit - len(ids)):
                ids.append((qid, score, entry))
        return LookupResult(self._hits(conn, ids), [], best.label)

    async def by_speaker_id(self, speaker_id: int, limit: int = 50) -> LookupResult | None:
        """A speaker's quotes by id (for buttons); None when no such speaker."""
        return await self._by_id_remembered("speaker", speaker_id, limit)

    async def by_case_id(self, case_id: int, limit: int = 50) -> LookupResult | None:
        """A case's quotes by id (for buttons); None when no such case."""
        return await self._by_id_remembered("case", case_id, limit)

    async def _by_id_remembered(self, kind: str, target: int, limit: int) -> LookupResult | None:
        def compute(conn: sqlite3.Connection) -> LookupResult | None:
            self._fresh(conn)
            self.answers.check(conn)
            key = (f"{kind}-id", str(target))
            found = self.answers.get(key, limit)
            if found is None:
                found = self._by_id(conn, kind, target, limit)
                if found is not None:
                    self.answers.put(key, limit, found)
            return found

        return await self.store.run(compute)

    def _by_id(
        self, conn: sqlite3.Connection, kind: str, target: int, limit: int
    ) -> LookupResult | None:
        state = self._fresh(conn)
        index = state.cases_index if kind == "case" else state.people
        entry = next((e for e in index.entries if e.kind == kind and e.id == target), None)
        if entry is None:
            return None
        if kind == "speaker":
            found = ss.quote_ids_by_speaker(conn, target, limit, None)
        else:
            found = ss.quote_ids_by_case(conn, target, limit)
        return LookupResult(self._hits(conn, [(q, 100.0, entry) for q in found]), [], entry.label)

    def _hits(
        self, conn: sqlite3.Connection, ids: Sequence[tuple[int, float, NameEntry]]
    ) -> list[Hit]:
        seen: dict[int, tuple[float, NameEntry]] = {}
        for qid, score, entry in ids:
            seen.setdefault(qid, (score, entry))
        quotes = fetch_quotes_by_id(conn, list(seen))
        hits = []
        for q in quotes:
            score, entry = seen[q.id]
            hits.append(Hit(q, score, _name_spans(q.text, (entry.label, *entry.aliases))))
        return hits

    # -- search ----------------------------------------------------------------------------

    async def search(self, text: str, limit: int = 50) -> LookupResult:
        """Free text with typos, ``who:``/``case:``/``org:`` filters; best first."""
        parsed = parse_query(text)
        if (not parsed.words and not parsed.filters) or limit <= 0:
            return LookupResult([])
        return await self.store.run(
            lambda c: self._remembered(
                c, "search", " ".join(text.split()), limit, lambda: self._search(c, parsed, limit)
            )
        )

    def _search(self, conn: sqlite3.Connection, parsed: ParsedQuery, limit: int) -> LookupResult:
        state = self._fresh(conn)
        restrictions: list[ss.Restriction] = []
        titles: list[str] = []
        filter_score = 100.0
        for kind, values in parsed.filters.items():
            for value in values:
                resolved = self._resolve_filter(state, kind, value)
                if resolved is None:
                    everything = ("case", "speaker", "organisation")
                    return LookupResult([], self._suggest_names(state, value, everything))
                restriction, label, score = resolved
                restrictions.append(restriction)
                titles.append(label)
                filter_score = min(filter_score, score)
        title = ", ".join(titles) or None
        content = parsed.content
        if not content:
            ids = ss.restricted_ids(conn, restrictions, limit)
            quotes = fetch_quotes_by_id(conn, ids)
            return LookupResult([Hit(q, filter_score, ()) for q in quotes], [], title)
        groups = self._groups(conn, state, content, last=parsed.words[-1])
        if not any(g.terms or g.entities for g in groups):
            return LookupResult([], self._suggest_search(conn, state, parsed), title)
        groups = [g for g in groups if g.terms or g.entities]
        groups += self._minor_groups(conn, parsed, content)
        deadline = ss.Deadline(conn, TIME_BUDGET)
        ids = self._candidates(conn, state, parsed, groups, restrictions, deadline)
        self._complete = self._complete and not deadline.passed
        with_cases = any(k == "case" for g in groups for k, _ in g.entities)
        candidates = ss.fetch_candidates(conn, ids, with_cases)
        ranked = rank(candidates, groups, state.data.total_quotes, parsed.words)
        ranked = [r for r in ranked if r.score >= SEARCH_THRESHOLD][:limit]
        if not ranked:
            return LookupResult([], self._suggest_search(conn, state, parsed), title)
        by_id = {q.id: q for q in fetch_quotes_by_id(conn, [r.id for r in ranked])}
        hits = [
            Hit(by_id[r.id], r.score, highlight(by_id[r.id].text, groups))
            for r in ranked
            if r.id in by_id
        ]
        return LookupResult(hits, [], title)

    def _resolve_filter(
        self, state: _State, kind: str, value: str
    ) -> tuple[ss.Restriction, str, float] | None:
        kinds = {"who": ("speaker", "organisation"), "org": ("organisation",), "case": ("case",)}
        found = self._match(state, value, kinds[kind], 10, NAME_THRESHOLD)
        if not found:
            return None
        best, score = found[0]
        chosen = [e for e, s in found if e.kind == best.kind and s >= score - 5]
        size = sum(e.weight for e in chosen)
        restriction = ss.Restriction.of(best.kind, [e.id for e in chosen], size)
        return restriction, best.label, score

    def _groups(
        self,
        conn: sqlite3.Connection,
        state: _State,
        content: Sequence[QueryWord],
        last: QueryWord,
    ) -> list[Group]:
        forms = [f for w in content for f in (w.key, w.alt) if f]
        exact = ss.terms_by_key(conn, forms)
        groups = []
        for w in content:
            quality: dict[str, float] = {}  # word key in quotes -> quality
            fts: dict[str, tuple[float, int]] = {}  # FTS5 term -> (quality, df)
            add = partial(_add_term, quality, fts)

            exact_df = 0
            for form in (w.key, w.alt):
                for t in exact.get(form or "", ()):
                    add(t, 1.0)
                    exact_df = max(exact_df, t.df)
            for form in (w.key, w.alt):
                if not form or max_edits(form) == 0 or exact_df >= 1000 or w.stop:
                    continue
                # A real word may still be a typo of another: keep its closest neighbours.
                neighbours = 0
                for t, q in self._near(conn, state, form, has_exact=bool(exact_df)):
                    if not exact_df or t.df >= 20 * exact_df:
                        add(t, q)
                    elif neighbours < 3 and q >= typo_quality(1, len(form)):
                        add(t, q)
                        neighbours += 1
            if not fts and w is last and len(w.key) >= 4:
                for t in ss.terms_with_prefix(conn, w.key, 3):
                    add(t, PREFIX_QUALITY)
            if not fts and state.stale:  # the vocabulary may lack the newest words
                add(ss.Term(w.key, w.key, 1), 1.0)
            entities = state.people.word_entities(w, fuzzy=not exact_df)
            entities.update(state.cases_index.word_entities(w, fuzzy=not exact_df))
            if w.key in state.role_words and len(state.role_words[w.key]) <= 200:
                for sid in state.role_words[w.key]:
                    entities.setdefault(("speaker", sid), ROLE_QUALITY)
            best = sorted(fts.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
            df = best[0][1][1] if best else 0
            groups.append(Group(w, quality, df, entities, tuple(t for t, _ in best)))
        return groups

    @staticmethod
    def _minor_groups(
        conn: sqlite3.Connection, parsed: ParsedQuery, content: Sequence[QueryWord]
    ) -> list[Group]:
        """The stop words of a query that has other words: exact, and weighing little."""
        if any(w.stop for w in content):
            return []
        stops = list(dict.fromkeys(w.key for w in parsed.words if w.stop))
        found = ss.terms_by_key(conn, stops)
        groups = []
        for w in parsed.words:
            terms = found.pop(w.key, None)
            if w.stop and terms:
                quality = {t.key: 1.0 for t in terms}
                fts = tuple(t.term for t in terms)
                groups.append(Group(w, quality, terms[0].df, {}, fts, minor=True))
        return groups

    def _near(
        self, conn: sqlite3.Connection, state: _State, form: str, has_exact: bool
    ) -> list[tuple[ss.Term, float]]:
        """Corpus terms within the edit budget of ``form``, nearest (then commonest) first."""
        edits = max_edits(form)
        found = self._within(conn, form, edits)
        if not found and not has_exact and edits == 1 and len(form) >= 5:
            edits = 2
            found = self._within(conn, form, edits)
        if edits >= 2 and not has_exact and not any(d <= 1 for d, _ in found):
            keys = [k for k, _ in state.vocab.near(form, edits)]
            known = {t.term for _, t in found}
            for group in ss.terms_by_key(conn, keys).values():
                for t in group:
                    distance = edit_distance(form, t.key, edits)
                    if distance <= edits and t.term not in known:
                        found.append((distance, t))
        found.sort(key=lambda dt: (dt[0], -dt[1].df))
        return [(t, typo_quality(d, len(form))) for d, t in found[:MAX_TYPO_TERMS]]

    @staticmethod
    def _within(conn: sqlite3.Connection, form: str, edits: int) -> list[tuple[int, ss.Term]]:
        found = []
        for t in ss.terms_near(conn, form, edits):
            if t.key != form:
                distance = edit_distance(form, t.key, edits)
                if distance <= edits:
                    found.append((distance, t))
        return found

    def _candidates(
        self,
        conn: sqlite3.Connection,
        state: _State,
        parsed: ParsedQuery,
        groups: Sequence[Group],
        restrictions: Sequence[ss.Restriction],
        deadline: ss.Deadline,
    ) -> list[int]:
        ids: dict[int, None] = {}

        def add(found: Iterable[int]) -> None:
            for i in found:
                if len(ids) >= MAX_CANDIDATES:
                    return
                ids.setdefault(i)

        if restrictions and min(r.size for r in restrictions) <= SMALL_SET:
            add(ss.restricted_ids(conn, restrictions, SMALL_SET))
            return list(ids)
        text = [g for g in groups if _fts_terms(g) and not g.minor]
        minor = [g for g in groups if g.minor]
        by_key = {g.word.key: g for g in text}
        # 1. the query as a phrase of its best corrections (stop words as typed)
        if len(parsed.words) >= 2 and len(parsed.words) <= MAX_QUERY_WORDS + 4:
            phrase = []
            for w in parsed.words:
                g = by_key.get(w.key)
                phrase.append(_fts_terms(g)[0] if g else w.key)
            if all(w.stop or w.key in by_key for w in parsed.words):
                before = len(ids)
                add(ss.fts_ids(conn, fts_phrase(phrase), PER_STAGE, deadline, restrictions))
                # Nothing: the best correction of one word may be the wrong one; try others.
                for i, w in enumerate(parsed.words):
                    if len(ids) > before or deadline.passed:
                        break
                    for alternative in _fts_terms(by_key.get(w.key))[1:4]:
                        other = [*phrase[:i], alternative, *phrase[i + 1 :]]
                        match = fts_phrase(other)
                        add(ss.fts_ids(conn, match, PER_RELAXED, deadline, restrictions))
        # 2. all words, best correction each; then all words with every correction
        if text:
            best = fts_all([_fts_terms(g)[:1] for g in text])
            found = ss.fts_ids(conn, best, PER_STAGE, deadline, restrictions)
            if len(found) >= PER_STAGE and minor:  # too many: the stop words may tell them apart
                narrower = fts_all([_fts_terms(g)[:1] for g in (*text, *minor)])
                add(ss.fts_ids(conn, narrower, PER_STAGE, deadline, restrictions))
            add(found)
            every = fts_all([_fts_terms(g) for g in text])
            if every != best:
                add(ss.fts_ids(conn, every, PER_STAGE, deadline, restrictions))
        # 3. too few: leave one word out (the commonest first), or each word alone
        if len(ids) < 30 and len(text) >= 2:
            commonest = sorted(text, key=lambda g: -g.df)
            if len(text) >= 3:
                for g in commonest:
                    others = [_fts_terms(x) for x in text if x is not g]
                    add(ss.fts_ids(conn, fts_all(others), PER_RELAXED, deadline, restrictions))
            else:
                for g in reversed(commonest):
                    match = fts_any(_fts_terms(g))
                    add(ss.fts_ids(conn, match, PER_RELAXED, deadline, restrictions))
        # 4. quotes of the speakers, organisations and cases the words name
        for g in groups:
            named = self._named_restriction(state, g)
            if named is None:
                continue
            others = [_fts_terms(x) for x in text if x is not g]
            if named.size <= SMALL_SET or not others:
                add(ss.restricted_ids(conn, [*restrictions, named], SMALL_SET))
            else:
                add(ss.fts_ids(conn, fts_all(others), PER_STAGE, deadline, [*restrictions, named]))
        return list(ids)

    @staticmethod
    def _named_restriction(state: _State, group: Group) -> ss.Restriction | None:
        """The quotes of what a word names (a name, or a word of a speaker's role when the
        word is not in the quotes themselves)."""
        floor = 0.85 if group.terms else ROLE_QUALITY
        strong = [e for e, q in group.entities.items() if q >= floor]
        if not strong:
            return None
        kind = min((k for k, _ in strong), key=["case", "speaker", "organisation"].index)
        ids = sorted(i for k, i in strong if k == kind)[:50]
        if kind == "speaker":
            size = sum(state.speakers[i].quotes for i in ids if i in state.speakers)
        elif kind == "case":
            size = sum(state.cases[i].quotes for i in ids if i in state.cases)
        else:
            size = sum(state.orgs[i].quotes for i in ids if i in state.orgs)
        return ss.Restriction.of(kind, ids, size)

    def _suggest_search(
        self, conn: sqlite3.Connection, state: _State, parsed: ParsedQuery
    ) -> list[Suggestion]:
        suggestions: list[Suggestion] = []
        words = []
        changed = False
        known = ss.terms_by_key(conn, [w.key for w in parsed.words])
        for w in parsed.words[: MAX_QUERY_WORDS * 2]:
            near = []
            if not w.stop and len(w.key) >= 3 and w.key not in known:
                near = ss.suggest_terms(conn, w.key, state.vocab)
            words.append(near[0].key if near else w.key)
            changed = changed or bool(near)
        if changed:
            corrected = " ".join(words)
            suggestions.append(Suggestion("word", corrected, "search", corrected))
        suggestions += self._suggest_names(state, parsed.text, ("speaker", "organisation", "case"))
        return suggestions[:5]

    # -- random ----------------------------------------------------------------------------

    async def random(self, filter_text: str = "", rng: _random.Random | None = None) -> Hit | None:
        """A random quote, optionally of a speaker, organisation or case (``who:``, ``org:``,
        ``case:`` or a bare name); ``None`` when the filter names nothing."""
        rng = rng or _random.Random()
        parsed = parse_query(filter_text)
        if self._state is None:
            await self.load()
        state = self._loaded
        speaker_ids: list[int] = []
        case_ids: list[int] = []
        score = 100.0
        wanted: list[tuple[str, tuple[str, ...]]] = []
        filter_kinds = {"who": ("speaker", "organisation"), "org": ("organisation",)}
        for kind, values in parsed.filters.items():
            wanted += [(v, filter_kinds.get(kind, ("case",))) for v in values]
        if parsed.text:
            wanted.append((parsed.text, ("speaker", "organisation", "case")))
        for value, kinds in wanted:
            found = self._match(state, value, kinds, 1, NAME_THRESHOLD)
            if not found:
                return None
            entry, s = found[0]
            score = min(score, s)
            if entry.kind == "speaker":
                speaker_ids.append(entry.id)
            elif entry.kind == "organisation":
                members = [sp.id for sp in state.org_speakers.get(entry.id, [])]
                if not members:
                    return None
                speaker_ids.extend(members)
            else:
                case_ids.append(entry.id)
        qid = await self.store.random_quote_id(speaker_ids=speaker_ids, case_ids=case_ids, rng=rng)
        if qid is None:
            return None
        quote = await self.store.get_quote(qid)
        return Hit(quote, score, ()) if quote else None


def _add_term(
    quality: dict[str, float], fts: dict[str, tuple[float, int]], term: ss.Term, q: float
) -> None:
    if q > quality.get(term.key, 0.0):
        quality[term.key] = q
    if q > fts.get(term.term, (0.0, 0))[0]:
        fts[term.term] = (q, term.df)


def _fts_terms(group: Group | None) -> tuple[str, ...]:
    return group.fts_terms if group is not None else ()


@lru_cache(maxsize=4096)
def _name_words(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    wanted = {tuple(word_keys(name)) for name in names}
    return tuple(w for w in wanted if w and (len(w) > 1 or len(w[0]) >= 3))


def _name_spans(text: str, names: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Where a whole name or alias is written in ``text`` (consecutive words)."""
    # Which names stand in the text, word for word, found on its joined word keys; only
    # then the offsets (most quotes of a /who or /case page name nobody in their text).
    keys = word_keys(text)
    joined = f" {' '.join(keys)} "
    wanted = tuple(w for w in _name_words(names) if f" {' '.join(w)} " in joined)
    if not wanted:
        return ()
    bounds = word_spans(text)
    spans: set[tuple[int, int]] = set()
    for name in wanted:
        n = len(name)
        for i in range(len(keys) - n + 1):
            if keys[i] == name[0] and tuple(keys[i : i + n]) == name:
                spans.update(bounds[i : i + n])
    return tuple(sorted(spans))
