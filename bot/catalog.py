"""The catalog: organisations, cases and speakers known by name and alias (``catalog.toml``).

Documents name organisations and cases loosely ("HRW", "Human Rights Watch's"); the catalog
gives each one name, so attribution and case filters do not depend on a spelling.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.text import DocumentError, decode, fold, key, slugify


@dataclass(frozen=True)
class Organisation:
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    slug: str
    name: str
    aliases: tuple[str, ...] = ()


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
            organisations.append(Organisation(name, aliases))
        cases = []
        for n, case in enumerate(_tables(data, "cases", text, source), start=1):
            name = _catalog_name(case, "cases", n, text, source)
            aliases = _catalog_strings(case, "aliases", "cases", n, text, source)
            slug = case.get("slug") or slugify(name)
            if not isinstance(slug, str):
                raise DocumentError(
                    source, _table_line(text, "cases", n), "a case's slug must be text"
                )
            cases.append(Case(slug, name, aliases))
        speakers = data.get("speakers", {})
        if not isinstance(speakers, dict):
            raise DocumentError(source, 1, "[speakers] must be a table with a names list")
        names = _catalog_strings(speakers, "names", "speakers", 0, text, source)
        return cls(tuple(organisations), tuple(cases), names)

    @classmethod
    def load(cls, path: Path) -> Catalog:
        return cls.from_toml(decode(path.read_bytes(), str(path)), str(path))

    def organisation_name(self, name_or_alias: str) -> str:
        """The catalog's name for an organisation given by name or alias, else as given."""
        k = key(name_or_alias)
        for org in self.organisations:
            if k in {key(org.name), *(key(a) for a in org.aliases)}:
                return org.name
        return name_or_alias.strip()

    def find_organisation(self, *texts: str) -> str | None:
        """The organisation named (by name or alias) in the first text that names one."""
        for text in texts:
            best: tuple[int, str] | None = None
            for org in self.organisations:
                for alias in (org.name, *org.aliases):
                    pos = _find_term(alias, text)
                    if pos is not None and (best is None or pos < best[0]):
                        best = (pos, org.name)
            if best is not None:
                return best[1]
        return None

    def find_cases(self, text: str) -> tuple[str, ...]:
        """Case names whose name or alias occurs in ``text`` (possessives included)."""
        found = [
            case.name
            for case in self.cases
            if any(_find_term(alias, text) is not None for alias in (case.name, *case.aliases))
        ]
        return tuple(found)

    def case_name(self, name_or_alias: str) -> str:
        k = key(name_or_alias)
        for case in self.cases:
            if k in {key(case.name), key(case.slug), *(key(a) for a in case.aliases)}:
                return case.name
        return name_or_alias.strip()


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


def _find_term(term: str, text: str) -> int | None:
    """Where ``term`` occurs in ``text`` as whole words (case-folded), else None.

    Short all-caps acronyms (AI, ODF) only match in capitals, so "ai" in a word never counts.
    """
    if term.isupper() and len(term) <= 4:
        match = re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", text)
    else:
        match = re.search(rf"(?<![\w]){re.escape(fold(term))}(?![\w])", fold(text))
    return match.start() if match else None
