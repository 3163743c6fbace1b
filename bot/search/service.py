"""The lookup service behind /who, /case, /search and filtered /random.

:class:`Lookup` keeps small in-memory indexes (:mod:`bot.search.indexes`) and asks the store for
everything else. Each lookup is one :meth:`bot.store.QuoteStore.run` unit of work: freshness
check, name matching or free-text search (:mod:`bot.search.free_text`), and fetching the quotes all
happen in one trip to the database thread. Recent answers are remembered (:class:`Answers`).
"""

from __future__ import annotations

import logging
import random as _random
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache, partial

from bot.corrections import last_change_id
from bot.schema import max_quote_id
from bot.search import free_text
from bot.search import sql as ss
from bot.search.indexes import Indexes, build_indexes, match_names, suggest_names
from bot.search.names import NameEntry, NameKind
from bot.search.query import NAME_THRESHOLD, clean_query, parse_query
from bot.search.rank import word_keys, word_spans
from bot.search.results import Hit, LookupResult, Suggestion
from bot.search.segments import Part, combine, split_names
from bot.store import CaseRow, QuoteStore, SpeakerRow, fetch_quotes_by_id

__all__ = ["Hit", "Lookup", "LookupResult", "Suggestion"]
log = logging.getLogger(__name__)

ANSWERS_KEPT = 256  # recent answers remembered (see Answers)
ALL_KINDS = (NameKind.SPEAKER, NameKind.ORGANISATION, NameKind.CASE)
MAX_SUGGESTIONS = 5  # "did you mean" buttons
SUGGEST_BUDGET = 0.015  # seconds spent checking that suggestions find something
RANDOM_NAME_THRESHOLD = 90.0  # a bare /random text this close to a name is that name
RANDOM_FROM = 200  # /random with free text picks among this many best matches


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
        return replace(result, hits=result.hits[:limit], suggestions=list(result.suggestions))

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


class Lookup:
    """Fuzzy lookups over a :class:`QuoteStore`; call :meth:`load` once, then look up."""

    def __init__(self, store: QuoteStore, answers_kept: int = ANSWERS_KEPT) -> None:
        self.store = store
        self._state: Indexes | None = None
        self.last_index: ss.IndexState | None = None
        self.answers = Answers(answers_kept)
        self.index_stale = False  # new quotes were loaded without refreshing the typo index
        self._changes = -1  # the change log's last id as of the last load

    # -- loading -------------------------------------------------------------------------

    async def load(self) -> None:
        """Bring the persisted index up to date and (re)build the in-memory indexes."""
        await self.store.run(self._load)

    def _load(self, conn: sqlite3.Connection) -> Indexes:
        self._changes = last_change_id(conn)
        try:
            self.last_index = ss.refresh_index(conn)
        except sqlite3.OperationalError as exc:  # locked by a writer, or a read-only file
            # FTS5 is current anyway (triggers); only typo corrections miss the new words.
            if "readonly" in str(exc).replace(" ", "").lower():
                # The store's read connection saw new quotes: loaded here from disk; the
                # typo index is refreshed on the writer next (see _refreshed).
                self.index_stale = True
            else:
                log.warning("lookup index not refreshed (%s); serving the one on disk", exc)
            max_id = max_quote_id(conn)
            self.last_index = ss.IndexState(max_id, -1, -1, ss.Rebuild.SKIPPED, 0.0)
        state = build_indexes(conn, self.last_index)
        self._state = state
        self.answers.clear()
        return state

    async def _refreshed(self) -> bool:
        """After a read found new quotes (an import committed) and loaded them without the
        typo index (the read connection cannot write): refresh that index and reload on
        the store's writer. True when it did (the caller reads again: answers were reset)."""
        if not self.index_stale:
            return False
        self.index_stale = False
        await self.store.run(self._load)
        return True

    def _fresh(self, conn: sqlite3.Connection) -> Indexes:
        state = self._state
        # New quotes raise max(id); a correction or withdrawal (also by the CLI, on another
        # connection) adds a change-log row (bot/corrections.py): either reloads.
        if (
            state is None
            or max_quote_id(conn) != state.max_id
            or last_change_id(conn) != self._changes
        ):
            state = self._load(conn)
        return state

    def _remembered(
        self,
        conn: sqlite3.Connection,
        key: tuple[str, str],
        limit: int,
        compute: Callable[[sqlite3.Connection, Indexes], LookupResult | None],
    ) -> LookupResult | None:
        """A remembered answer for ``key`` if one serves, else ``compute``'s (kept when
        complete). Runs in the database thread."""
        state = self._fresh(conn)  # reloads, and forgets every answer, when quotes were added
        self.answers.check(conn)
        found = self.answers.get(key, limit)
        if found is None:
            found = compute(conn, state)
            if found is not None and not found.hits and found.suggestions:
                found = replace(found, suggestions=self._leading(conn, state, found.suggestions))
            if found is not None and found.complete:
                self.answers.put(key, limit, found)
        return found

    async def _answer(
        self,
        key: tuple[str, str],
        limit: int,
        compute: Callable[[sqlite3.Connection, Indexes], LookupResult],
    ) -> LookupResult:
        found = await self.store.read(self._remembered, key, limit, compute)
        if await self._refreshed():
            found = await self.store.read(self._remembered, key, limit, compute)
        assert found is not None  # compute always answers
        return found

    def _leading(
        self, conn: sqlite3.Connection, state: Indexes, suggestions: Sequence[Suggestion]
    ) -> list[Suggestion]:
        """The suggestions that lead somewhere: each is run, as its button would run it, and
        kept only when it finds at least one quote. Checking stops after
        :data:`SUGGEST_BUDGET` (a suggestion not checked is not shown)."""
        kept: list[Suggestion] = []
        until = time.perf_counter() + SUGGEST_BUDGET
        for suggestion in dict.fromkeys(suggestions):
            if time.perf_counter() > until:
                break
            query = clean_query(suggestion.query)
            if suggestion.command == "who":
                found = self._who(query, 1, conn, state)
            elif suggestion.command == "case":
                found = self._case(query, 1, conn, state)
            else:
                left = max(0.002, until - time.perf_counter())
                found = free_text.search(conn, state, parse_query(query), 1, left)
            if found.hits:
                kept.append(suggestion)
                if len(kept) >= MAX_SUGGESTIONS:
                    break
        return kept

    @property
    def quote_count(self) -> int:
        """Quotes in the corpus as of the last (re)load: free, for health checks."""
        return self._loaded.data.total_quotes

    @property
    def _loaded(self) -> Indexes:
        if self._state is None:
            raise RuntimeError("Lookup.load() has not been awaited")
        return self._state

    # -- listings --------------------------------------------------------------------------

    async def speakers(self) -> list[SpeakerRow]:
        """Speakers with quotes, by organisation then name, from memory (no full-table count:
        an empty /who or inline query must stay cheap at a million quotes)."""
        state = await self.store.read(self._fresh)
        return sorted(
            state.speakers.values(),
            key=lambda s: (s.organisation is None, s.organisation or "", s.name),
        )

    async def cases(self) -> list[CaseRow]:
        """Cases by name, with their number of quotes, from memory."""
        state = await self.store.read(self._fresh)
        return sorted(state.cases.values(), key=lambda c: c.name)

    # -- names ---------------------------------------------------------------------------

    def find_speaker(self, query: str, limit: int = 5) -> list[tuple[SpeakerRow, float]]:
        state = self._loaded
        found = match_names(state, clean_query(query), (NameKind.SPEAKER,), limit, NAME_THRESHOLD)
        return [(state.speakers[e.id], s) for e, s in found if e.id in state.speakers]

    def find_organisation(
        self, query: str, limit: int = 5
    ) -> list[tuple[ss.OrganisationRow, float]]:
        state = self._loaded
        found = match_names(
            state, clean_query(query), (NameKind.ORGANISATION,), limit, NAME_THRESHOLD
        )
        return [(state.orgs[e.id], s) for e, s in found if e.id in state.orgs]

    def find_case(self, query: str, limit: int = 5) -> list[tuple[CaseRow, float]]:
        state = self._loaded
        found = match_names(state, clean_query(query), (NameKind.CASE,), limit, NAME_THRESHOLD)
        return [(state.cases[e.id], s) for e, s in found if e.id in state.cases]

    # -- who / case ------------------------------------------------------------------------

    async def who(self, query: str, limit: int = 50) -> LookupResult:
        query = clean_query(query)
        if not query or limit <= 0:
            return LookupResult([])
        return await self._answer(("who", query), limit, partial(self._who, query, limit))

    def _who(
        self, query: str, limit: int, conn: sqlite3.Connection, state: Indexes
    ) -> LookupResult:
        found = match_names(
            state, query, (NameKind.SPEAKER, NameKind.ORGANISATION), 20, NAME_THRESHOLD
        )
        found = [(e, s) for e, s in found if e.weight > 0]  # an organisation with no quotes
        parts = split_names(state, query, ALL_KINDS, found[0][1] if found else 0.0)
        if parts and any(p.entry.kind != NameKind.CASE for p in parts):
            return self._parts(conn, state, parts, limit)
        if not found:
            return LookupResult(
                [],
                suggest_names(
                    state, query, (NameKind.SPEAKER, NameKind.ORGANISATION, NameKind.CASE)
                ),
            )
        best, best_score = found[0]
        ordered: list[tuple[int, int | None, float, NameEntry]] = []  # speaker, org, score
        if best.kind == NameKind.ORGANISATION:
            for s in state.org_speakers.get(best.id, []):
                ordered.append((s.id, best.id, best_score, best))
        else:
            for entry, score in found:
                if entry.kind == NameKind.SPEAKER and score >= best_score - 10:
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
        return await self._answer(("case", query), limit, partial(self._case, query, limit))

    def _case(
        self, query: str, limit: int, conn: sqlite3.Connection, state: Indexes
    ) -> LookupResult:
        found = match_names(state, query, (NameKind.CASE,), 10, NAME_THRESHOLD)
        found = [(e, s) for e, s in found if e.weight > 0]
        parts = split_names(state, query, ALL_KINDS, found[0][1] if found else 0.0)
        if parts and any(p.entry.kind == NameKind.CASE for p in parts):
            return self._parts(conn, state, parts, limit)
        if not found:
            return LookupResult(
                [],
                suggest_names(
                    state, query, (NameKind.CASE, NameKind.SPEAKER, NameKind.ORGANISATION)
                ),
            )
        best, best_score = found[0]
        ids: list[tuple[int, float, NameEntry]] = []
        for entry, score in found:
            if score < best_score - 5 or len(ids) >= limit:
                break
            for qid in ss.quote_ids_by_case(conn, entry.id, limit - len(ids)):
                ids.append((qid, score, entry))
        return LookupResult(self._hits(conn, ids), [], best.label)

    def _parts(
        self, conn: sqlite3.Connection, state: Indexes, parts: Sequence[Part], limit: int
    ) -> LookupResult:
        """The quotes several names select together (see :mod:`bot.search.segments`)."""
        ids, used, aside = combine(conn, state, parts, limit)
        score = min(p.score for p in used)
        hits = self._hits(conn, [(qid, score, used[0].entry) for qid in ids])
        title = " & ".join(p.entry.label for p in used)
        return LookupResult(hits, [], title, set_aside=tuple(p.words for p in aside))

    async def by_speaker_id(self, speaker_id: int, limit: int = 50) -> LookupResult | None:
        """A speaker's quotes by id (for buttons); None when no such speaker."""
        compute = partial(self._by_id, NameKind.SPEAKER, speaker_id, limit)
        return await self.store.read(
            self._remembered, ("speaker-id", str(speaker_id)), limit, compute
        )

    async def by_case_id(self, case_id: int, limit: int = 50) -> LookupResult | None:
        """A case's quotes by id (for buttons); None when no such case."""
        compute = partial(self._by_id, NameKind.CASE, case_id, limit)
        return await self.store.read(self._remembered, ("case-id", str(case_id)), limit, compute)

    def _by_id(
        self, kind: NameKind, target: int, limit: int, conn: sqlite3.Connection, state: Indexes
    ) -> LookupResult | None:
        index = state.cases_index if kind == NameKind.CASE else state.people
        entry = next((e for e in index.entries if e.kind == kind and e.id == target), None)
        if entry is None:
            return None
        if kind == NameKind.SPEAKER:
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
        key = ("search", " ".join(text.split()))
        return await self._answer(
            key, limit, lambda conn, state: free_text.search(conn, state, parsed, limit)
        )

    # -- random ----------------------------------------------------------------------------

    async def random(self, filter_text: str = "", rng: _random.Random | None = None) -> Hit | None:
        """A random quote; optionally one that ``filter_text`` names or finds. ``who:``,
        ``org:`` and ``case:`` filters and a bare name (``hall``, ``Хью``) pick among that
        speaker's, organisation's or case's quotes; other text picks among what ``/search``
        would find for it (filters included). ``None`` when nothing matches."""
        rng = rng or _random.Random()
        parsed = parse_query(filter_text)
        if self._state is None:
            await self.load()
        state = self._loaded
        bare = parsed.text if parsed.words else ""
        # A bare text that clearly names someone is that name; otherwise it is free text.
        named = match_names(state, bare, ALL_KINDS, 1, RANDOM_NAME_THRESHOLD) if bare else []
        if bare and not named:
            found = await self.search(filter_text, limit=RANDOM_FROM)
            if found.hits:
                return rng.choice(found.hits)
            named = match_names(state, bare, ALL_KINDS, 1, NAME_THRESHOLD)
            if not named:
                return None
        speaker_ids: list[int] = []
        case_ids: list[int] = []
        score = 100.0
        wanted: list[tuple[str, tuple[NameKind, ...]]] = []
        filter_kinds = {
            "who": (NameKind.SPEAKER, NameKind.ORGANISATION),
            "org": (NameKind.ORGANISATION,),
        }
        for kind, values in parsed.filters.items():
            wanted += [(v, filter_kinds.get(kind, (NameKind.CASE,))) for v in values]
        if bare:
            wanted.append((bare, ALL_KINDS))
        for value, kinds in wanted:
            found_names = match_names(state, value, kinds, 1, NAME_THRESHOLD)
            if not found_names:
                return None
            entry, s = found_names[0]
            score = min(score, s)
            if entry.kind == NameKind.SPEAKER:
                speaker_ids.append(entry.id)
            elif entry.kind == NameKind.ORGANISATION:
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
