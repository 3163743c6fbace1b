"""Free-text search (``/search``, inline mode): from a parsed query to ranked hits.

Retrieval (see :mod:`bot.search.query` for the scores and thresholds): every content word is
expanded to the corpus terms within its edit budget (exact, SymSpell deletion index, a prefix
for the last word, and a fuzzy scan bucketed by first and second letter for long words with no
closer term; never a stop word, and only spelling variants for a word that is a whole word of
a name: "hall" is Julia Hall, not "all"). A query of mostly common words is first looked up
as an exact phrase (:mod:`bot.search.phrases`). Candidates then come from a few cheap,
*unranked* FTS5 queries with ``LIMIT`` (so common words never make FTS5 score half the
corpus): the query as a phrase of its best corrections (or, around a word the corpus does not
know, ``NEAR()`` of the known runs), the AND of the best corrections, the AND of all
expansions, leave-one-out ANDs when that finds little, and quotes of any speaker,
organisation or case a word names. At most a few hundred candidates are ranked in Python.
When several misspelt words each stood for many corrections and nothing was found, up to
:data:`WIDE_TYPO_TERMS` corrections each are tried in what is left of the budget. A time
budget (:data:`TIME_BUDGET`, SQLite's progress handler) bounds the FTS5 work of a search.
Everything here runs in the database thread, inside one :meth:`bot.store.QuoteStore.run`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial

from bot.search import phrases
from bot.search import sql as ss
from bot.search.indexes import Indexes, match_names, suggest_names
from bot.search.names import NameKind
from bot.search.query import (
    MAX_QUERY_WORDS,
    NAME_THRESHOLD,
    PREFIX_QUALITY,
    SEARCH_THRESHOLD,
    STOP_WORDS,
    ParsedQuery,
    QueryWord,
    edit_distance,
    fts_all,
    fts_any,
    fts_phrase,
    max_edits,
    name_key,
    typo_quality,
)
from bot.search.rank import Group, Ranked, highlight, rank
from bot.search.results import Hit, LookupResult, Suggestion
from bot.store import fetch_quotes_by_id

PER_STAGE = 100  # rows per FTS5 query
PER_RELAXED = 50  # rows per leave-one-out query
MAX_CANDIDATES = 300  # quotes ranked in Python per search
SMALL_SET = 300  # a filter or a named speaker this small is ranked whole
TIME_BUDGET = 0.025  # seconds of FTS5 work per search
MAX_TYPO_TERMS = 16  # corpus terms one misspelt word may stand for
WIDE_TYPO_TERMS = 64  # ... when the likeliest corrections of several words find nothing
ROLE_QUALITY = 0.8  # a word of a speaker's role, as a match for that speaker's quotes


def search(
    conn: sqlite3.Connection,
    state: Indexes,
    parsed: ParsedQuery,
    limit: int,
    budget: float = TIME_BUDGET,
) -> LookupResult:
    """The answer to a free-text query (``complete`` False: the FTS5 time budget, ``budget``
    seconds, ran out)."""
    restrictions: list[ss.Restriction] = []
    titles: list[str] = []
    filter_score = 100.0
    for kind, values in parsed.filters.items():
        for value in values:
            resolved = _resolve_filter(state, kind, value)
            if resolved is None:
                everything = (NameKind.CASE, NameKind.SPEAKER, NameKind.ORGANISATION)
                return LookupResult([], suggest_names(state, value, everything))
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
    groups = _groups(conn, state, content, last=parsed.words[-1])
    if not any(g.terms or g.entities for g in groups):
        return LookupResult([], _suggest_search(conn, state, parsed), title)
    groups = [g for g in groups if g.terms or g.entities]
    groups += _minor_groups(conn, parsed, content)
    found: list[int] = []
    phrase = phrases.common_phrase(conn, parsed, state.data.total_quotes)
    if phrase:  # mostly common words: the exact phrase first, with a budget of its own
        found, _ = phrases.phrase_ids(conn, phrase, restrictions)
    deadline = ss.Deadline(conn, budget)
    ranked = _ranked(conn, state, parsed, groups, restrictions, limit, deadline, found)
    many = sum(1 for g in groups if len(g.terms) >= MAX_TYPO_TERMS)
    if not ranked and many >= 2 and not deadline.passed:
        # Several words each stood for many corrections and the likeliest ones never meet:
        # try the less likely ones too, in what is left of the budget, before giving up.
        wider = _groups(conn, state, content, parsed.words[-1], WIDE_TYPO_TERMS)
        wider = [g for g in wider if g.terms or g.entities]
        wider += _minor_groups(conn, parsed, content)
        ranked = _ranked(conn, state, parsed, wider, restrictions, limit, deadline)
        groups = wider
    complete = not deadline.passed
    if not ranked:
        return LookupResult([], _suggest_search(conn, state, parsed, groups), title, complete)
    by_id = {q.id: q for q in fetch_quotes_by_id(conn, [r.id for r in ranked])}
    hits = [
        Hit(by_id[r.id], r.score, highlight(by_id[r.id].text, groups))
        for r in ranked
        if r.id in by_id
    ]
    return LookupResult(hits, [], title, complete)


def _ranked(
    conn: sqlite3.Connection,
    state: Indexes,
    parsed: ParsedQuery,
    groups: Sequence[Group],
    restrictions: Sequence[ss.Restriction],
    limit: int,
    deadline: ss.Deadline,
    found: Sequence[int] = (),
) -> list[Ranked]:
    """The candidates (``found``, else those :func:`_candidates` finds within ``deadline``)
    ranked and cut at the threshold."""
    ids = list(found) or _candidates(conn, state, parsed, groups, restrictions, deadline)
    with_cases = any(k == NameKind.CASE for g in groups for k, _ in g.entities)
    candidates = ss.fetch_candidates(conn, ids, with_cases)
    ranked = rank(candidates, groups, state.data.total_quotes, parsed.words)
    return [r for r in ranked if r.score >= SEARCH_THRESHOLD][:limit]


def _resolve_filter(
    state: Indexes, kind: str, value: str
) -> tuple[ss.Restriction, str, float] | None:
    kinds = {
        "who": (NameKind.SPEAKER, NameKind.ORGANISATION),
        "org": (NameKind.ORGANISATION,),
        "case": (NameKind.CASE,),
    }
    found = match_names(state, value, kinds[kind], 10, NAME_THRESHOLD)
    if not found:
        return None
    best, score = found[0]
    chosen = [e for e, s in found if e.kind == best.kind and s >= score - 5]
    size = sum(e.weight for e in chosen)
    restriction = ss.Restriction.of(best.kind, [e.id for e in chosen], size)
    return restriction, best.label, score


def _groups(
    conn: sqlite3.Connection,
    state: Indexes,
    content: Sequence[QueryWord],
    last: QueryWord,
    typo_terms: int = MAX_TYPO_TERMS,
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
        entities = state.people.word_entities(w, fuzzy=not exact_df)
        entities.update(state.cases_index.word_entities(w, fuzzy=not exact_df))
        # A word that is a whole word of a name is that name, not a typo of a text word
        # ("hall" is Julia Hall, not "all"): only its spelling variants count.
        spelling = name_key(w.alt or w.key) if any(q >= 1.0 for q in entities.values()) else ""
        for form in (w.key, w.alt):
            if not form or max_edits(form) == 0 or exact_df >= 1000 or w.stop:
                continue
            # A real word may still be a typo of another: keep its closest neighbours.
            neighbours = 0
            for t, q in _near(conn, state, form, bool(exact_df), typo_terms):
                if t.key in STOP_WORDS or (spelling and name_key(t.key) != spelling):
                    continue
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
        if w.key in state.role_words and len(state.role_words[w.key]) <= 200:
            for sid in state.role_words[w.key]:
                entities.setdefault((NameKind.SPEAKER, sid), ROLE_QUALITY)
        best = sorted(fts.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
        df = best[0][1][1] if best else 0
        groups.append(Group(w, quality, df, entities, tuple(t for t, _ in best)))
    return groups


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
    conn: sqlite3.Connection, state: Indexes, form: str, has_exact: bool, limit: int
) -> list[tuple[ss.Term, float]]:
    """Corpus terms within the edit budget of ``form``, nearest (then commonest) first."""
    edits = max_edits(form)
    found = _within(conn, form, edits)
    if not found and not has_exact and edits == 1 and len(form) >= 5:
        edits = 2
        found = _within(conn, form, edits)
    if edits >= 2 and not has_exact and not any(d <= 1 for d, _ in found):
        keys = [k for k, _ in state.vocab.near(form, edits)]
        known = {t.term for _, t in found}
        for group in ss.terms_by_key(conn, keys).values():
            for t in group:
                distance = edit_distance(form, t.key, edits)
                if distance <= edits and t.term not in known:
                    found.append((distance, t))
    found.sort(key=lambda dt: (dt[0], -dt[1].df))
    return [(t, typo_quality(d, len(form))) for d, t in found[:limit]]


def _within(conn: sqlite3.Connection, form: str, edits: int) -> list[tuple[int, ss.Term]]:
    found = []
    for t in ss.terms_near(conn, form, edits):
        if t.key != form:
            distance = edit_distance(form, t.key, edits)
            if distance <= edits:
                found.append((distance, t))
    return found


def _candidates(
    conn: sqlite3.Connection,
    state: Indexes,
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
        else:  # a word the corpus does not know: the phrase around it, one word apart
            near = _phrase_around_unknown(parsed, by_key, phrase)
            if near:
                add(ss.fts_ids(conn, near, PER_STAGE, deadline, restrictions))
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
        named = _named_restriction(state, g)
        if named is None:
            continue
        others = [_fts_terms(x) for x in text if x is not g]
        if named.size <= SMALL_SET or not others:
            add(ss.restricted_ids(conn, [*restrictions, named], SMALL_SET))
        else:
            add(ss.fts_ids(conn, fts_all(others), PER_STAGE, deadline, [*restrictions, named]))
    return list(ids)


def _phrase_around_unknown(
    parsed: ParsedQuery, by_key: dict[str, Group], phrase: Sequence[str]
) -> str | None:
    """``NEAR("in the" "a significant", 1)`` for "in the nic a significangt" when "nic"
    matches nothing: the known runs of the phrase, as far apart as the unknown words."""
    runs: list[list[str]] = [[]]
    unknown = 0
    for w, term in zip(parsed.words, phrase, strict=True):
        if w.stop or w.key in by_key:
            runs[-1].append(term)
        else:
            unknown += 1
            if runs[-1]:
                runs.append([])
    runs = [r for r in runs if r]
    if len(runs) < 2 or unknown > 2 or sum(len(r) for r in runs) < 3:
        return None
    return "NEAR(" + " ".join(fts_phrase(r) for r in runs) + f", {unknown})"


def _named_restriction(state: Indexes, group: Group) -> ss.Restriction | None:
    """The quotes of what a word names (a name, or a word of a speaker's role when the
    word is not in the quotes themselves)."""
    floor = 0.85 if group.terms else ROLE_QUALITY
    strong = [e for e, q in group.entities.items() if q >= floor]
    if not strong:
        return None
    kind = min(
        (k for k, _ in strong), key=[NameKind.CASE, NameKind.SPEAKER, NameKind.ORGANISATION].index
    )
    ids = sorted(i for k, i in strong if k == kind)[:50]
    if kind == NameKind.SPEAKER:
        size = sum(state.speakers[i].quotes for i in ids if i in state.speakers)
    elif kind == NameKind.CASE:
        size = sum(state.cases[i].quotes for i in ids if i in state.cases)
    else:
        size = sum(state.orgs[i].quotes for i in ids if i in state.orgs)
    return ss.Restriction.of(kind, ids, size)


def _suggest_search(
    conn: sqlite3.Connection, state: Indexes, parsed: ParsedQuery, tried: Sequence[Group] = ()
) -> list[Suggestion]:
    """ "Did you mean": looser corrections of the words the search could not correct
    (``tried``: the words it did correct, which need no second scan), names the words
    come close to, and the query without each of its words."""
    suggestions: list[Suggestion] = []
    words = []
    changed = False
    known = ss.terms_by_key(conn, [w.key for w in parsed.words])
    corrected = {g.word.key for g in tried if g.terms}
    for w in parsed.words[: MAX_QUERY_WORDS * 2]:
        near = []
        if not w.stop and len(w.key) >= 3 and w.key not in known and w.key not in corrected:
            near = ss.suggest_terms(conn, w.key, state.vocab)
        words.append(near[0].key if near else w.key)
        changed = changed or bool(near)
    if changed:
        spelt = " ".join(words)
        suggestions.append(Suggestion("word", spelt, "search", spelt))
    suggestions += suggest_names(
        state, parsed.text, (NameKind.SPEAKER, NameKind.ORGANISATION, NameKind.CASE)
    )
    # A word that spoils the rest ("NEAR(torture fair)"): the query without it. Every
    # suggestion is run before it is shown (Lookup keeps those that find something).
    content = [w for w in parsed.words if not w.stop]
    misspelt = sum(1 for w in content if w.key not in known)
    if 2 <= len(content) <= 4 and misspelt <= 1:
        for left_out in content:
            rest = " ".join(w.key for w in parsed.words if w is not left_out)
            suggestions.append(Suggestion("word", rest, "search", rest))
    return suggestions


def _add_term(
    quality: dict[str, float], fts: dict[str, tuple[float, int]], term: ss.Term, q: float
) -> None:
    if q > quality.get(term.key, 0.0):
        quality[term.key] = q
    if q > fts.get(term.term, (0.0, 0))[0]:
        fts[term.term] = (q, term.df)


def _fts_terms(group: Group | None) -> tuple[str, ...]:
    return group.fts_terms if group is not None else ()
