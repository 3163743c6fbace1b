"""The seed's provenance file (``data/sources.toml``): facts about where statements were
published, matched to parsed statements by the start of their text.

The format (the file's own header comments explain it to curators)::

    [compilation]            # optional: the page all the document's statements come from
    title = "World reacts - NGOs"
    publisher = "mukhtarablyazov.org (...)"
    url = "https://..."

    [[quote]]
    n = 1                    # the curator's number; informative only
    starts = "Not only do we have fears"
    status = "verified"      # verified | likely | unknown
    publisher = "Amnesty International"
    kind = "press release"
    title = "..."
    date = "2014-01-09"      # YYYY, YYYY-MM or YYYY-MM-DD
    url = "https://..."
    context = "..."          # optional
    note = "..."             # optional

The ``[compilation]`` applies to every statement of the document the file is applied to
(the file says they all come from it); a statement no ``[[quote]]`` names stays ``unknown``
with only the compilation. Nothing is filled in: a field the file leaves empty stays empty.
A ``starts`` that matches no statement, or more than one, is an error naming the file and
line, so a fact can never land on the wrong statement.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.corpus import Quote
from bot.provenance import (
    Compilation,
    PartialDate,
    ProvenanceError,
    Publication,
    Status,
    check_url,
)
from bot.text import DocumentError, fold

_QUOTE_FIELDS = frozenset(
    {"n", "starts", "status", "publisher", "kind", "title", "date", "url", "context", "note"}
)
_COMPILATION_FIELDS = frozenset({"title", "publisher", "url"})


@dataclass(frozen=True)
class SourceEntry:
    """One ``[[quote]]``: the start of a statement and what is known of its publication."""

    starts: str
    publication: Publication  # without the compilation; :meth:`SourcesFile.apply` adds it
    line: int


@dataclass(frozen=True)
class SourcesFile:
    name: str
    compilation: Compilation | None
    entries: tuple[SourceEntry, ...]

    @classmethod
    def from_toml(cls, text: str, name: str = "sources.toml") -> SourcesFile:
        """Parse the file; anything malformed raises :class:`DocumentError` (file, line)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            found = re.search(r"line (\d+)", str(exc))
            raise DocumentError(
                name, int(found.group(1)) if found else 1, f"invalid TOML: {exc}"
            ) from None
        compilation = None
        if "compilation" in data:
            table = data["compilation"]
            line = _header_line(text, "compilation", 0)
            if not isinstance(table, dict):
                raise DocumentError(name, line, "[compilation] must be a table")
            _only(table, _COMPILATION_FIELDS, name, line, "[compilation]")
            compilation = Compilation(
                title=_text(table, "title", name, line),
                publisher=_text(table, "publisher", name, line),
                url=_url(table, name, line),
            )
        quotes = data.get("quote", [])
        if not isinstance(quotes, list) or not all(isinstance(q, dict) for q in quotes):
            raise DocumentError(name, 1, "statements must be written as [[quote]] tables")
        unknown_tables = set(data) - {"compilation", "quote"}
        if unknown_tables:
            raise DocumentError(name, 1, f"unknown table(s): {', '.join(sorted(unknown_tables))}")
        entries = [
            _entry(table, name, _header_line(text, "quote", n))
            for n, table in enumerate(quotes, start=1)
        ]
        return cls(name, compilation, tuple(entries))

    @classmethod
    def load(cls, path: Path) -> SourcesFile:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError(str(path), 1, "the file is not valid UTF-8 text") from None
        return cls.from_toml(text, str(path))

    def apply(self, quotes: Sequence[Quote]) -> list[Quote]:
        """``quotes`` with their publication set from this file (see the module docstring)."""
        folded = [fold(q.text) for q in quotes]
        found: dict[int, Publication] = {}
        for entry in self.entries:
            start = fold(entry.starts)
            matches = [i for i, text in enumerate(folded) if text.startswith(start)]
            if len(matches) != 1:
                how = "no statement" if not matches else f"{len(matches)} statements"
                raise DocumentError(
                    self.name, entry.line, f"starts = {entry.starts!r} matches {how}, not one"
                )
            if matches[0] in found:
                raise DocumentError(
                    self.name, entry.line, "a second [[quote]] for the same statement"
                )
            found[matches[0]] = entry.publication
        return [
            dataclasses.replace(
                quote,
                publication=dataclasses.replace(
                    found.get(index, Publication()), compilation=self.compilation
                ),
            )
            for index, quote in enumerate(quotes)
        ]


def _entry(table: Mapping[str, Any], name: str, line: int) -> SourceEntry:
    _only(table, _QUOTE_FIELDS, name, line, "[[quote]]")
    starts = _text(table, "starts", name, line)
    if not starts:
        raise DocumentError(name, line, "starts must give the first words of the statement")
    status_text = _text(table, "status", name, line) or "unknown"
    try:
        status = Status(status_text)
    except ValueError:
        raise DocumentError(
            name, line, f"status {status_text!r}: use verified, likely or unknown"
        ) from None
    date = _text(table, "date", name, line)
    try:
        published = PartialDate.parse(date) if date else None
    except ProvenanceError as exc:
        raise DocumentError(name, line, str(exc)) from None
    publication = Publication(
        status=status,
        publisher=_text(table, "publisher", name, line),
        title=_text(table, "title", name, line),
        kind=_text(table, "kind", name, line),
        url=_url(table, name, line),
        published=published,
        context=_text(table, "context", name, line),
        note=_text(table, "note", name, line),
    )
    if status is not Status.UNKNOWN and not (publication.url or publication.publisher):
        raise DocumentError(name, line, f"a {status} statement needs its publisher or url")
    return SourceEntry(starts, publication, line)


def _only(
    table: Mapping[str, Any], allowed: frozenset[str], name: str, line: int, what: str
) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise DocumentError(name, line, f"unknown field(s) in {what}: {', '.join(extra)}")


def _text(table: Mapping[str, Any], field_name: str, name: str, line: int) -> str:
    value = table.get(field_name, "")
    if not isinstance(value, str):
        raise DocumentError(name, line, f"{field_name} must be text in double quotes")
    return value.strip()


def _url(table: Mapping[str, Any], name: str, line: int) -> str:
    url = _text(table, "url", name, line)
    try:
        return check_url(url) if url else ""
    except ProvenanceError as exc:
        raise DocumentError(name, line, str(exc)) from None


def _header_line(text: str, table: str, n: int) -> int:
    """The line of the ``n``-th ``[[table]]`` header (``[table]`` for n == 0), else 1."""
    header = re.compile(rf"^\s*\[\[\s*{table}\s*\]\]" if n else rf"^\s*\[\s*{table}\s*\]")
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            seen += 1
            if seen >= max(n, 1):
                return number
    return 1
