"""Parse statement documents (the statements format, CSV, JSON) into :class:`Quote` records.

Pure: no I/O beyond reading the text handed in (or a file named by the caller). Quote text
is kept verbatim for display; organisations and cases are named as the catalog
(``bot/catalog.py``) names them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import attribution
from bot.catalog import Catalog
from bot.provenance import (
    UNKNOWN,
    PartialDate,
    ProvenanceError,
    Publication,
    Status,
    check_url,
)
from bot.text import DocumentError, decode, key

_TRAILING_DASH = attribution.TRAILING_DASH
_MAX_ATTRIBUTION = 300
# Where a statement was published, per CSV/JSON row or, for a statements text document,
# once for the whole file (the import command's --url, --published … options).
SOURCE_FIELDS = ("url", "published", "publisher", "title", "kind", "status")
STRUCTURED_FIELDS = (
    "text",
    "speaker",
    "role",
    "organisation",
    "cases",
    "source",
    "date",
    *SOURCE_FIELDS,
)


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
    # Where it was published, when the document (or the seed's provenance file) says.
    publication: Publication = UNKNOWN

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


def split_attribution(
    line: str, catalog: Catalog, known_speakers: Iterable[str] = ()
) -> tuple[str, str]:
    """Split ``"Julia HallAmnesty International’s expert …"`` into name and role.

    The catalog's speaker and organisation names and ``known_speakers`` win; otherwise
    :func:`bot.attribution.split_attribution` decides or raises
    :class:`bot.attribution.SplitUnclear` (never a guess that cuts a name in two)."""
    known = (*catalog.speaker_names, *(o.name for o in catalog.organisations), *known_speakers)
    return attribution.split_attribution(line, known)


def _is_attribution_line(line: str) -> bool:
    return bool(_TRAILING_DASH.search(line)) and len(line) <= _MAX_ATTRIBUTION


def parse_statements(
    data: str | bytes,
    catalog: Catalog,
    source: str = "statements.txt",
    *,
    known_speakers: Iterable[str] = (),
    publication: Publication = UNKNOWN,
) -> list[Quote]:
    """Parse the statements format: quote line, then ``NameRole -`` line, repeated.

    The document may start with a lone ``-``; the last attribution may lack its dash.
    Raises :class:`DocumentError` naming the line of the first problem; attributions whose
    name cannot be told from the role are all reported at once, each with its candidates.
    Every quote gets ``publication`` (the document's one source, given by the curator).
    """
    text = decode(data, source) if isinstance(data, bytes) else data
    lines = [(n, raw.strip()) for n, raw in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if line and line != "-"]
    if not lines:
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    speakers = _Speakers()
    quotes: list[Quote] = []
    unclear: list[tuple[int, str]] = []
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
        try:
            name, role = speakers.canonical(*split_attribution(line, catalog, known_speakers))
        except attribution.SplitUnclear as exc:
            unclear.append((number, str(exc)))
            name, role = "", ""
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
                publication=publication,
            )
        )
        pending = None
    if unclear:
        (first, reason), *more = unclear
        raise DocumentError(source, first, reason, tuple(more))
    return quotes


def parse_structured(data: str | bytes, catalog: Catalog, source: str, fmt: str) -> list[Quote]:
    """Parse a CSV or JSON collection with fields text, speaker, role, organisation, cases,
    source, date. Missing organisation and cases are resolved from the catalog."""
    text = decode(data, source) if isinstance(data, bytes) else data
    if fmt not in ("csv", "json"):
        raise DocumentError(source, 1, f"unknown format {fmt!r}: use .csv or .json")
    if not text.strip():
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    rows = _csv_rows(text, source) if fmt == "csv" else _json_rows(text, source)
    if not rows:
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    speakers = _Speakers()
    quotes: list[Quote] = []
    for line, label, row in rows:
        if not isinstance(row, Mapping):
            raise DocumentError(source, line, f"{label}expected an object with text and speaker")
        for name in STRUCTURED_FIELDS:
            if name != "cases" and not isinstance(row.get(name), str | int | float | None):
                raise DocumentError(source, line, f"{label}the {name} must be text")
        body = _field(row, "text")
        speaker = _field(row, "speaker")
        if not body or not speaker:
            what = "text" if not body else "speaker"
            raise DocumentError(source, line, f"{label}the {what} is empty")
        name, role = speakers.canonical(speaker, _field(row, "role"))
        given_org = _field(row, "organisation")
        org = catalog.organisation_name(given_org) if given_org else None
        cases = _cases(row.get("cases"), catalog) or catalog.find_cases(body)
        try:
            publication = publication_from_fields({f: _field(row, f) for f in SOURCE_FIELDS})
        except ProvenanceError as exc:
            raise DocumentError(source, line, f"{label}{exc}") from None
        quotes.append(
            Quote(
                text=body,
                speaker=name,
                role=role,
                organisation=org or catalog.find_organisation(name, role),
                cases=cases,
                source=_field(row, "source") or source,
                position=len(quotes) + 1,
                line=line,
                date=_field(row, "date") or None,
                publication=publication,
            )
        )
    return quotes


def publication_from_fields(fields: Mapping[str, str]) -> Publication:
    """The source record given by a row's (or the command line's) url, published, publisher,
    title, kind and status; empty fields stay empty. Raises
    :class:`bot.provenance.ProvenanceError` for a bad date, URL or status.

    Nobody checked the words at the URL when a document is imported, so the status is
    ``likely`` unless the document says ``verified`` (or ``unknown``); with no url and no
    publisher there is nothing to be sure of, and the status stays ``unknown``."""
    url = check_url(fields["url"]) if fields.get("url") else ""
    published = PartialDate.parse(fields["published"]) if fields.get("published") else None
    publisher, title, kind = (fields.get(f, "").strip() for f in ("publisher", "title", "kind"))
    given = fields.get("status", "").strip().lower()
    if given and given not in {s.value for s in Status}:
        raise ProvenanceError(f"bad status {given!r}: use verified, likely or unknown")
    if not (url or publisher or title or published):
        if given and given != Status.UNKNOWN:
            raise ProvenanceError(f"status {given!r} needs a url or a publisher")
        return UNKNOWN
    status = Status(given) if given else Status.LIKELY
    if not (url or publisher):
        status = Status.UNKNOWN
    return Publication(
        status=status, publisher=publisher, title=title, kind=kind, url=url, published=published
    )


def _csv_rows(text: str, source: str) -> list[tuple[int, str, Any]]:
    """(first line, label, row) for each CSV record; refuses missing columns and fields."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows: list[tuple[int, str, Any]] = []
    try:
        header = [(h or "").strip().lower() for h in reader.fieldnames or []]
        missing = [f for f in ("text", "speaker") if f not in header]
        if missing:
            raise DocumentError(source, 1, f"missing column(s): {', '.join(missing)}")
        reader.fieldnames = header
        for row in reader:
            extra = row.pop(None, None)
            fields = [v for v in row.values() if v is not None] + list(extra or [])
            line = reader.line_num - sum(v.count("\n") for v in fields)
            if extra or len(fields) < len(header):
                raise DocumentError(
                    source,
                    line,
                    f"{len(fields)} field(s) where the header has {len(header)} columns "
                    "(put text containing commas in double quotes)",
                )
            rows.append((line, "", row))
    except csv.Error as exc:
        raise DocumentError(source, reader.line_num, f"CSV error: {exc}") from None
    return rows


def _json_rows(text: str, source: str) -> list[tuple[int, str, Any]]:
    """(first line, label, record) for each record of a JSON array (or {"quotes": [...]})."""
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(source, exc.lineno, f"invalid JSON: {exc.msg}") from None
    if isinstance(loaded, dict) and isinstance(loaded.get("quotes"), list):
        loaded = loaded["quotes"]
    if not isinstance(loaded, list):
        raise DocumentError(source, 1, "expected a JSON array of quote objects")
    lines = _json_record_lines(text)
    if len(lines) != len(loaded):
        lines = [1] * len(loaded)
    return [
        (line, f"record {n}: ", row)
        for n, (line, row) in enumerate(zip(lines, loaded, strict=True), start=1)
    ]


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_record_lines(text: str) -> list[int]:
    """The line where each element of the top-level array (or of its "quotes") starts.

    ``text`` is valid JSON (already loaded), so the scan only needs to skip values.
    """
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        match = _JSON_SPACE.match(text, i)
        return match.end() if match else i

    i = skip(0)
    if text.startswith("{", i):
        array_at = -1
        i = skip(i + 1)
        while not text.startswith("}", i):
            name, i = decoder.raw_decode(text, i)
            i = skip(skip(i) + 1)  # the colon
            if name == "quotes" and text.startswith("[", i):
                array_at = i
            _, i = decoder.raw_decode(text, i)
            i = skip(i)
            if text.startswith(",", i):
                i = skip(i + 1)
        i = array_at
    if i < 0 or not text.startswith("[", i):
        return []
    lines: list[int] = []
    line, counted = 1, 0
    i = skip(i + 1)
    while not text.startswith("]", i):
        line += text.count("\n", counted, i)
        counted = i
        lines.append(line)
        _, i = decoder.raw_decode(text, i)
        i = skip(i)
        if text.startswith(",", i):
            i = skip(i + 1)
    return lines


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


def parse_file(
    path: Path,
    catalog: Catalog,
    source: str | None = None,
    *,
    known_speakers: Iterable[str] = (),
    publication: Publication = UNKNOWN,
) -> list[Quote]:
    """Parse a document by its extension: .csv, .json, else the statements format.

    Quotes are recorded under ``source`` (default: the file name); errors name the file.
    ``known_speakers`` (speakers already stored, names the curator gave) win when an
    attribution line is split; ``publication`` is a statements document's one source (CSV
    and JSON rows carry their own).
    """
    name = source or path.name
    data = path.read_bytes()
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".json"):
            if publication != UNKNOWN:
                raise DocumentError(
                    name,
                    1,
                    "CSV and JSON give the source per row (url, published, publisher, "
                    "title, kind columns), not on the command line",
                )
            return parse_structured(data, catalog, name, suffix[1:])
        return parse_statements(
            data, catalog, name, known_speakers=known_speakers, publication=publication
        )
    except DocumentError as exc:
        raise DocumentError(str(path), exc.line, exc.reason, exc.more) from None
