"""The in-memory indexes lookups work from (what they return is in :mod:`bot.search.results`).

:class:`Indexes` holds the names and aliases of speakers, organisations and cases (two
fuzzy :class:`bot.search.names.NameIndex`), the vocabulary bucketed for a bounded fuzzy scan, and
small lookup tables; :func:`build_indexes` makes it from the database, :func:`match_names` asks it.
Shared by :mod:`bot.search.service` (the service) and :mod:`bot.search.free_text` (free text).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from bot.search import sql as ss
from bot.search.names import NameEntry, NameIndex, NameKind
from bot.search.query import (
    NAME_STOP_WORDS,
    NAME_THRESHOLD,
    SUGGEST_THRESHOLD,
    Vocabulary,
    name_key,
    tokens,
)
from bot.search.results import COMMANDS, Suggestion
from bot.store import CaseRow, SpeakerRow


@dataclass
class Indexes:
    """What a Lookup keeps in memory, rebuilt when quotes are added."""

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


def build_indexes(conn: sqlite3.Connection, index: ss.IndexState) -> Indexes:
    """The in-memory indexes over the names and vocabulary on disk (``index``: the
    persisted search index they go with)."""
    data = ss.load_names(conn)
    entries: list[NameEntry] = []
    for s in data.speakers:
        aliases = tuple(data.aliases.get((NameKind.SPEAKER, s.id), ()))
        entries.append(NameEntry(NameKind.SPEAKER, s.id, s.name, aliases, s.quotes))
    for o in data.organisations:
        aliases = tuple(data.aliases.get((NameKind.ORGANISATION, o.id), ()))
        entries.append(NameEntry(NameKind.ORGANISATION, o.id, o.name, aliases, o.quotes))
    for c in data.cases:
        aliases = (c.slug, *data.aliases.get((NameKind.CASE, c.id), ()))
        entries.append(NameEntry(NameKind.CASE, c.id, c.name, aliases, c.quotes))
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
    return Indexes(
        people=NameIndex(e for e in entries if e.kind != NameKind.CASE),
        cases_index=NameIndex(e for e in entries if e.kind == NameKind.CASE),
        data=data,
        vocab=Vocabulary(ss.vocabulary_keys(conn)),
        max_id=index.max_id,
        org_speakers=org_speakers,
        role_words=role_words,
        speakers={s.id: s for s in data.speakers},
        cases={c.id: c for c in data.cases},
        orgs={o.id: o for o in data.organisations},
        stale=index.rebuilt is ss.Rebuild.SKIPPED,
    )


def match_names(
    state: Indexes, query: str, kinds: Sequence[NameKind], limit: int, cutoff: float
) -> list[tuple[NameEntry, float]]:
    """Speakers/organisations and cases live in two indexes (so that a word that is
    exactly a speaker's name still finds a case it misspells); merge when asked for both."""
    found: list[tuple[NameEntry, float]] = []
    if any(k != NameKind.CASE for k in kinds):
        found += state.people.match(query, kinds, limit, cutoff)
    if NameKind.CASE in kinds:
        found += state.cases_index.match(query, kinds, limit, cutoff)
    found.sort(key=lambda es: -es[1])  # stable: each index has ordered its equal scores
    return found[:limit]


def suggest_names(
    state: Indexes, query: str, kinds: Sequence[NameKind], limit: int = 3
) -> list[Suggestion]:
    found = match_names(state, query, kinds, limit, SUGGEST_THRESHOLD)
    words = [w for w in name_key(query).split() if len(w) >= 3]
    return [
        Suggestion(e.kind, e.label, COMMANDS[e.kind], e.label)
        for e, score in found
        if score >= NAME_THRESHOLD or _begins_alike(words, e)
    ]


def _begins_alike(words: Sequence[str], entry: NameEntry) -> bool:
    """Some query word begins with the same two letters as a word of the entry's names (a
    loose match that does not is a coincidence of letters: "Italy" and "Amnesty Intl")."""
    starts = {t[:2] for name in (entry.label, *entry.aliases) for t in name_key(name).split()}
    return any(w[:2] in starts for w in words)
