"""Parse statement documents into :class:`Quote` records.

Pure: no I/O beyond reading the text handed in (or a file named by the caller). Quote text
is kept verbatim for display; :func:`fold` normalises only for matching.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
# Attribution lines end in " -" (the last one may not); the role may end in "." too.
_TRAILING_DASH = re.compile(r"\s*-\s*$")
_LOWER_UPPER = re.compile(r"(?<=[a-zà-ÿа-яё])(?=[A-ZÀ-ÞА-ЯЁ])")
_MAX_ATTRIBUTION = 300
STRUCTURED_FIELDS = ("text", "speaker", "role", "organisation", "cases", "source", "date")


class DocumentError(ValueError):
    """A document the parser refuses, with the file and line that show why."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}, line {line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


def fold(text: str) -> str:
    """Normalise for matching: case, apostrophes, diacritics, ё, whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(APOSTROPHES).casefold()
    text = text.replace("ё", "е")
    decomposed = unicodedata.normalize("NFD", text)
    # Drop combining marks, but keep the Cyrillic short i (й = и + breve) intact.
    stripped = "".join(
        c
        for i, c in enumerate(decomposed)
        if not (unicodedata.combining(c) and not _keeps(decomposed, i))
    )
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _keeps(text: str, i: int) -> bool:
    return text[i] == "\u0306" and i > 0 and text[i - 1] in "иИ"


def key(text: str) -> str:
    """An identity key: folded, letters and digits only (merges role/name punctuation)."""
    return "".join(c for c in fold(text) if c.isalnum())


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_") or "case"


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
    def from_toml(cls, text: str) -> Catalog:
        data = tomllib.loads(text)
        return cls(
            organisations=tuple(
                Organisation(o["name"], tuple(o.get("aliases", ())))
                for o in data.get("organisations", [])
            ),
            cases=tuple(
                Case(c.get("slug") or slugify(c["name"]), c["name"], tuple(c.get("aliases", ())))
                for c in data.get("cases", [])
            ),
            speaker_names=tuple(data.get("speakers", {}).get("names", ())),
        )

    @classmethod
    def load(cls, path: Path) -> Catalog:
        return cls.from_toml(path.read_text(encoding="utf-8"))

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


def _find_term(term: str, text: str) -> int | None:
    """Where ``term`` occurs in ``text`` as whole words (case-folded), else None.

    Short all-caps acronyms (AI, ODF) only match in capitals, so "ai" in a word never counts.
    """
    if term.isupper() and len(term) <= 4:
        match = re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", text)
    else:
        match = re.search(rf"(?<![\w]){re.escape(fold(term))}(?![\w])", fold(text))
    return match.start() if match else None


@dataclass(frozen=True)
class Quote:
    text: str
    speaker: str
    role: str
    organisation: str | None
    cases: tuple[str, ...]
    source: str
    position: int
    line: int = 0
    date: str | None = None

    @property
    def fingerprint(self) -> str:
        return key(self.speaker) + "|" + key(self.text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "speaker": self.speaker,
            "role": self.role,
            "organisation": self.organisation,
            "cases": list(self.cases),
            "source": self.source,
            "position": self.position,
            "date": self.date,
        }


@dataclass
class _Speakers:
    """Merges one speaker's records: one name spelling and one role per speaker."""

    names: dict[str, str] = field(default_factory=dict)
    roles: dict[tuple[str, str], str] = field(default_factory=dict)

    def canonical(self, name: str, role: str) -> tuple[str, str]:
        name = self.names.setdefault(key(name), name)
        role = self.roles.setdefault((key(name), key(role)), role)
        return name, role


def split_attribution(line: str, catalog: Catalog) -> tuple[str, str]:
    """Split ``"Julia HallAmnesty International’s expert …"`` into name and role."""
    text = _TRAILING_DASH.sub("", line).strip()
    known = sorted(
        (*catalog.speaker_names, *(o.name for o in catalog.organisations)), key=len, reverse=True
    )
    for name in known:
        if text.startswith(name):
            rest = text[len(name) :]
            if not rest or not rest[0].islower():
                return name, _clean_role(rest)
    match = _LOWER_UPPER.search(text)
    if match is None:
        return text, ""
    return text[: match.start()].strip(), _clean_role(text[match.start() :])


def _clean_role(role: str) -> str:
    return role.strip().rstrip(".").strip()


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DocumentError(source, line, "this looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(source, line, "the file is not valid UTF-8 text") from None


def _is_attribution_line(line: str) -> bool:
    return bool(_TRAILING_DASH.search(line)) and len(line) <= _MAX_ATTRIBUTION


def parse_statements(
    data: str | bytes, catalog: Catalog, source: str = "statements.txt"
) -> list[Quote]:
    """Parse the statements format: quote line, then ``NameRole -`` line, repeated.

    The document may start with a lone ``-``; the last attribution may lack its dash.
    Raises :class:`DocumentError` naming the line of the first problem.
    """
    text = _decode(data, source) if isinstance(data, bytes) else data
    lines = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and line != "-"]
    if not lines:
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    speakers = _Speakers()
    quotes: list[Quote] = []
    pending: tuple[int, str] | None = None
    last_index = len(lines) - 1
    for index, (number, line) in enumerate(lines):
        if pending is None:
            if _is_attribution_line(line):
                raise DocumentError(source, number, "an attribution with no quote before it")
            if index == last_index:
                raise DocumentError(source, number, "a quote with no attribution after it")
            pending = (number, line)
            continue
        if not _is_attribution_line(line) and index != last_index:
            raise DocumentError(source, pending[0], "a quote with no attribution after it")
        if len(line) > _MAX_ATTRIBUTION:
            raise DocumentError(source, number, "expected an attribution line (Name Role -)")
        name, role = speakers.canonical(*split_attribution(line, catalog))
        quote_line, quote_text = pending
        quotes.append(
            Quote(
                text=quote_text,
                speaker=name,
                role=role,
                organisation=catalog.find_organisation(name, role),
                cases=catalog.find_cases(quote_text),
                source=source,
                position=len(quotes) + 1,
                line=quote_line,
            )
        )
        pending = None
    return quotes


def parse_structured(data: str | bytes, catalog: Catalog, source: str, fmt: str) -> list[Quote]:
    """Parse a CSV or JSON collection with fields text, speaker, role, organisation, cases,
    source, date. Missing organisation and cases are resolved from the catalog."""
    text = _decode(data, source) if isinstance(data, bytes) else data
    rows: Sequence[tuple[int, Mapping[str, Any]]]
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        missing = [f for f in ("text", "speaker") if f not in header]
        if missing:
            raise DocumentError(source, 1, f"missing column(s): {', '.join(missing)}")
        reader.fieldnames = header
        try:
            rows = [(reader.line_num, row) for row in reader]
        except csv.Error as exc:
            raise DocumentError(source, reader.line_num, f"CSV error: {exc}") from None
    elif fmt == "json":
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(source, exc.lineno, f"invalid JSON: {exc.msg}") from None
        if isinstance(loaded, dict) and isinstance(loaded.get("quotes"), list):
            loaded = loaded["quotes"]
        if not isinstance(loaded, list):
            raise DocumentError(source, 1, "expected a JSON array of quote objects")
        rows = [(i, row) for i, row in enumerate(loaded, start=1)]
    else:
        raise DocumentError(source, 1, f"unknown format {fmt!r}: use .csv or .json")
    if not rows:
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    speakers = _Speakers()
    quotes: list[Quote] = []
    for number, row in rows:
        where = number if fmt == "csv" else 1
        label = f"record {number}: " if fmt == "json" else ""
        if not isinstance(row, Mapping):
            raise DocumentError(source, where, f"{label}expected an object with text and speaker")
        body = _field(row, "text")
        speaker = _field(row, "speaker")
        if not body or not speaker:
            what = "text" if not body else "speaker"
            raise DocumentError(source, where, f"{label}the {what} is empty")
        name, role = speakers.canonical(speaker, _field(row, "role"))
        org = _field(row, "organisation") or catalog.find_organisation(name, role)
        cases = _cases(row.get("cases"), catalog) or catalog.find_cases(body)
        quotes.append(
            Quote(
                text=body,
                speaker=name,
                role=role,
                organisation=org or None,
                cases=cases,
                source=_field(row, "source") or source,
                position=len(quotes) + 1,
                line=where,
                date=_field(row, "date") or None,
            )
        )
    return quotes


def _field(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _cases(value: Any, catalog: Catalog) -> tuple[str, ...]:
    items: Iterable[Any]
    if value is None or value == "":
        return ()
    items = value if isinstance(value, list) else re.split(r"[;|,]", str(value))
    names = [catalog.case_name(str(v)) for v in items if str(v).strip()]
    return tuple(dict.fromkeys(names))


def parse_file(path: Path, catalog: Catalog, source: str | None = None) -> list[Quote]:
    """Parse a document by its extension: .csv, .json, else the statements format."""
    name = source or path.name
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".csv", ".json"):
        return parse_structured(data, catalog, name, suffix[1:])
    return parse_statements(data, catalog, name)
