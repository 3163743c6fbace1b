"""The catalog: organisations, cases and speakers known by name and alias (``catalog.toml``).

Documents name organisations and cases loosely ("HRW", "Human Rights Watch's"); the catalog
gives each one name, so attribution and case filters do not depend on a spelling.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.text import DocumentError, decode, fold, key, slugify

# How a name is written in an interface language, where it has its own spelling there:
# ``names = { ru = "Мухтар Аблязов", kk = "Мұхтар Әблязов" }`` ((language, name) pairs).
Spellings = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Organisation:
    name: str
    aliases: tuple[str, ...] = ()
    names: Spellings = ()


@dataclass(frozen=True)
class Case:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()
    names: Spellings = ()


@dataclass(frozen=True)
class Catalog:
    organisations: tuple[Organisation, ...] = ()
    cases: tuple[Case, ...] = ()
    speaker_names: tuple[str, ...] = ()

    @classmethod
    def from_toml(cls, text: str, source: str = "catalog.toml") -> Catalog:
        """Build the catalog from TOML; a malformed one raises :class:`DocumentError`."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            line = int(found.group(1)) if found else 1
            raise DocumentError(source, line, f"invalid TOML: {exc}") from None
        organisations = []
        for n, org in enumerate(_tables(data, "organisations", text, source), start=1):
            name = _catalog_name(org, "organisations", n, text, source)
            aliases = _catalog_strings(org, "aliases", "organisations", n, text, source)
            spellings = _spellings(org, "organisations", n, text, source)
            organisations.append(Organisation(name, aliases, spellings))
        cases = []
        for n, case in enumerate(_tables(data, "cases", text, source), start=1):
            name = _catalog_name(case, "cases", n, text, source)
            aliases = _catalog_strings(case, "aliases", "cases", n, text, source)
            slug = case.get("slug") or slugify(name)
            if not isinstance(slug, str):
                raise DocumentError(
                    source, _table_line(text, "cases", n), "a case's slug must be text"
                )
            cases.append(Case(slug, name, aliases, _spellings(case, "cases", n, text, source)))
        speakers = data.get("speakers", {})
        if not isinstance(speakers, dict):
            raise DocumentError(source, 1, "[speakers] must be a table with a names list")
        names = _catalog_strings(speakers, "names", "speakers", 0, text, source)
        return cls(tuple(organisations), tuple(cases), names)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        return cls.from_toml(decode(path.read_bytes(), str(path)), str(path))

    def spellings(self, language: str) -> dict[str, str]:
        """Case and organisation names as written in ``language``, where they have their own
        spelling there: {"Mukhtar Ablyazov": "Мухтар Аблязов"}."""
        entries: list[Organisation | Case] = [*self.organisations, *self.cases]
        return {
            entry.name: spelled
            for entry in entries
            for code, spelled in entry.names
            if code == language
        }

    def organisation_name(self, name_or_alias: str) -> str:
        """The catalog's name for an organisation given by name or alias, else as given."""
        return self._lookup.organisations.get(key(name_or_alias)) or name_or_alias.strip()

    def find_organisation(self, *texts: str) -> str | None:
        """The organisation named (by name or alias) in the first text that names one."""
        for text in texts:
            best: tuple[int, str] | None = None
            folded = fold(text)
            if not self._lookup.any_organisation.names_one(text, folded):
                continue
            for term, name in self._lookup.organisation_terms:
                pos = term.find(text, folded)
                if pos is not None and (best is None or pos < best[0]):
                    best = (pos, name)
            if best is not None:
                return best[1]
        return None

    def find_cases(self, text: str) -> tuple[str, ...]:
        """Case names whose name or alias occurs in ``text`` (possessives included)."""
        folded = fold(text)
        if not self._lookup.any_case.names_one(text, folded):
            return ()  # most texts name no case: one search instead of one per alias
        found = [
            name
            for name, terms in self._lookup.case_terms
            if any(term.find(text, folded) is not None for term in terms)
        ]
        return tuple(found)

    def case_name(self, name_or_alias: str) -> str:
        return self._lookup.cases.get(key(name_or_alias)) or name_or_alias.strip()

    @cached_property
    def _lookup(self) -> _Lookup:
        # Built once per catalog: an import asks these questions for every record, and
        # folding every alias again each time was most of a large import's parsing time.
        organisations: dict[str, str] = {}
        for org in self.organisations:
            for alias in (org.name, *org.aliases):
                organisations.setdefault(key(alias), org.name)
        cases: dict[str, str] = {}
        for case in self.cases:
            for alias in (case.name, case.slug, *case.aliases):
                cases.setdefault(key(alias), case.name)
        return _Lookup(
            organisations=organisations,
            cases=cases,
            organisation_terms=[
                (_Term.of(alias), org.name)
                for org in self.organisations
                for alias in (org.name, *org.aliases)
            ],
            case_terms=[
                (case.name, tuple(_Term.of(a) for a in (case.name, *case.aliases)))
                for case in self.cases
            ],
            any_organisation=_AnyTerm.of(
                a for org in self.organisations for a in (org.name, *org.aliases)
            ),
            any_case=_AnyTerm.of(a for case in self.cases for a in (case.name, *case.aliases)),
        )


@dataclass(frozen=True)
class _Term:
    """A catalog name or alias, compiled once, found as whole words (see :meth:`find`)."""

    pattern: re.Pattern[str]
    in_capitals: bool

    @classmethod
    def of(cls, term: str) -> _Term:
        # Short all-caps acronyms (AI, ODF) only match in capitals, so "ai" in a word never
        # counts; everything else matches case-folded.
        in_capitals = term.isupper() and len(term) <= 4
        text = term if in_capitals else fold(term)
        return cls(re.compile(rf"(?<![\w]){re.escape(text)}(?![\w])"), in_capitals)

    def find(self, text: str, folded: str) -> int | None:
        """Where the term starts in ``text`` (``folded`` is ``fold(text)``), else None."""
        match = self.pattern.search(text if self.in_capitals else folded)
        return match.start() if match else None


@dataclass(frozen=True)
class _AnyTerm:
    """Whether any of many terms occurs, in one search of each form of the text."""

    folded: re.Pattern[str] | None
    in_capitals: re.Pattern[str] | None

    @classmethod
    def of(cls, terms: Iterable[str]) -> _AnyTerm:
        folded: list[str] = []
        in_capitals: list[str] = []
        for term in terms:
            if term.isupper() and len(term) <= 4:
                in_capitals.append(re.escape(term))
            else:
                folded.append(re.escape(fold(term)))

        def compiled(alternatives: list[str]) -> re.Pattern[str] | None:
            if not alternatives:
                return None
            return re.compile(rf"(?<![\w])(?:{'|'.join(alternatives)})(?![\w])")

        return cls(compiled(folded), compiled(in_capitals))

    def names_one(self, text: str, folded: str) -> bool:
        return bool(
            (self.folded and self.folded.search(folded))
            or (self.in_capitals and self.in_capitals.search(text))
        )


@dataclass(frozen=True)
class _Lookup:
    organisations: dict[str, str]  # key of a name or alias -> the organisation's name
    cases: dict[str, str]  # key of a name, slug or alias -> the case's name
    organisation_terms: list[tuple[_Term, str]]
    case_terms: list[tuple[str, tuple[_Term, ...]]]
    any_organisation: _AnyTerm
    any_case: _AnyTerm


def _table_line(text: str, table: str, n: int) -> int:
    """The line of the ``n``-th ``[[table]]`` header (``[table]`` for n == 0), else 1."""
    header = rf"^\s*\[\[\s*{table}\s*\]\]" if n else rf"^\s*\[\s*{table}\s*\]"
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(header, line):
            seen += 1
            if seen >= max(n, 1):
                return number
    return 1


def _tables(data: Mapping[str, Any], table: str, text: str, source: str) -> list[Any]:
    tables = data.get(table, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise DocumentError(source, 1, f"{table} must be written as [[{table}]] tables")
    return tables


def _catalog_name(table: Mapping[str, Any], kind: str, n: int, text: str, source: str) -> str:
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DocumentError(source, _table_line(text, kind, n), f"each of [[{kind}]] needs a name")
    return name.strip()


def _spellings(table: Mapping[str, Any], kind: str, n: int, text: str, source: str) -> Spellings:
    names = table.get("names", {})
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in names.items()
    ):
        raise DocumentError(
            source,
            _table_line(text, kind, n),
            'names must map a language to a spelling, e.g. names = { ru = "Мухтар Аблязов" }',
        )
    return tuple((k, v.strip()) for k, v in sorted(names.items()))


def _catalog_strings(
    table: Mapping[str, Any], field_name: str, kind: str, n: int, text: str, source: str
) -> tuple[str, ...]:
    values = table.get(field_name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise DocumentError(
            source,
            _table_line(text, kind, n),
            f'{field_name} must be a list of names, e.g. {field_name} = ["HRW", "Human Rights"]',
        )
    return tuple(v.strip() for v in values)
