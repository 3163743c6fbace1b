"""Parse statement documents (the statements format, CSV, JSON) into :class:`Quote` records.

Pure: no I/O beyond reading the text handed in (or a file named by the caller). Quote text
is kept verbatim for display; organisations and cases are named as the catalog
(``bot/catalog.py``) names them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import attribution, documents
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
    """:func:`read_statements` of a whole text in memory."""
    text = decode(data, source) if isinstance(data, bytes) else data
    lines = enumerate(text.splitlines(), start=1)
    return list(
        read_statements(
            lines, catalog, source, known_speakers=known_speakers, publication=publication
        )
    )


def _with_last(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str, bool]]:
    """The non-blank lines (a lone ``-`` is blank too), stripped, each with whether it is
    the document's last: one line of lookahead."""
    pending: tuple[int, str] | None = None
    for number, raw in lines:
        line = raw.strip()
        if not line or line == "-":
            continue
        if pending is not None:
            yield (*pending, False)
        pending = (number, line)
    if pending is not None:
        yield (*pending, True)


def read_statements(
    lines: Iterable[tuple[int, str]],
    catalog: Catalog,
    source: str = "statements.txt",
    *,
    known_speakers: Iterable[str] = (),
    publication: Publication = UNKNOWN,
) -> Iterator[Quote]:
    """Parse the statements format from numbered lines: quote line, then ``NameRole -``
    line, repeated; each quote is yielded as soon as its attribution is read.

    The document may start with a lone ``-``; the last attribution may lack its dash.
    Raises :class:`DocumentError` naming the line of the first problem; attributions whose
    name cannot be told from the role are all reported at once (at the end), each with its
    candidates. Every quote gets ``publication`` (the document's one source, given by the
    curator).
    """
    # Longest first, once per document: the split tries them in this order on every line.
    known = tuple(
        sorted(
            {*catalog.speaker_names, *(o.name for o in catalog.organisations), *known_speakers},
            key=len,
            reverse=True,
        )
    )
    speakers = _Speakers()
    unclear: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    position = 0
    for number, line, last in _with_last(lines):
        if pending is None:
            if _is_attribution_line(line):
                raise DocumentError(source, number, "an attribution with no quote before it")
            if last:
                raise DocumentError(source, number, "a quote with no attribution after it")
            pending = (number, line)
            continue
        if not _is_attribution_line(line) and not last:
            raise DocumentError(source, pending[0], "a quote with no attribution after it")
        if len(line) > _MAX_ATTRIBUTION:
            raise DocumentError(source, number, "expected an attribution line (Name Role -)")
        try:
            name, role = speakers.canonical(*attribution.split_attribution(line, known))
        except attribution.SplitUnclear as exc:
            unclear.append((number, str(exc)))
            name, role = "", ""
        quote_line, quote_text = pending
        position += 1
        pending = None
        if unclear:
            continue  # the document will be refused: nothing more to yield
        yield Quote(
            text=quote_text,
            speaker=name,
            role=role,
            organisation=catalog.find_organisation(name, role),
            cases=catalog.find_cases(quote_text),
            source=source,
            position=position,
            line=quote_line,
            publication=publication,
        )
    if position == 0:
        raise DocumentError(source, 1, "the document is empty: no quotes found")
    if unclear:
        (first, reason), *more = unclear
        raise DocumentError(source, first, reason, tuple(more))


def parse_structured(data: str | bytes, catalog: Catalog, source: str, fmt: str) -> list[Quote]:
    """:func:`read_structured` of a whole CSV or JSON text in memory."""
    text = decode(data, source) if isinstance(data, bytes) else data
    if fmt not in ("csv", "json"):
        raise DocumentError(source, 1, f"unknown format {fmt!r}: use .csv or .json")
    if fmt == "csv":
        rows = _csv_rows(io.StringIO(text, newline=""), source)
    else:
        rows = documents.json_records(io.BytesIO(text.encode("utf-8")), source)
    return list(read_structured(rows, catalog, source))


def read_structured(
    rows: Iterable[tuple[int, str, Any]], catalog: Catalog, source: str
) -> Iterator[Quote]:
    """Parse CSV or JSON records (``(line, label, record)``, as :func:`_csv_rows` and
    :func:`bot.documents.json_records` give them) with fields text, speaker, role,
    organisation, cases, source, date and the source fields, one at a time. Missing
    organisation and cases are resolved from the catalog."""
    speakers = _Speakers()
    position = 0
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
        publication = UNKNOWN
        if any(row.get(f) not in (None, "") for f in SOURCE_FIELDS):
            try:
                publication = publication_from_fields({f: _field(row, f) for f in SOURCE_FIELDS})
            except ProvenanceError as exc:
                raise DocumentError(source, line, f"{label}{exc}") from None
        position += 1
        yield Quote(
            text=body,
            speaker=name,
            role=role,
            organisation=org or catalog.find_organisation(name, role),
            cases=cases,
            source=_field(row, "source") or source,
            position=position,
            line=line,
            date=_field(row, "date") or None,
            publication=publication,
        )
    if position == 0:
        raise DocumentError(source, 1, "the document is empty: no quotes found")


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


def _csv_rows(lines: Iterable[str], source: str) -> Iterator[tuple[int, str, Any]]:
    """(first line, label, row) for each CSV record of ``lines`` (line ends kept), read as
    they come; refuses missing columns and fields."""
    reader = csv.DictReader(lines)
    try:
        if reader.fieldnames is None:
            raise DocumentError(source, 1, "the document is empty: no quotes found")
        header = [(h or "").strip().lower() for h in reader.fieldnames]
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
            yield line, "", row
    except csv.Error as exc:
        raise DocumentError(source, reader.line_num, f"CSV error: {exc}") from None


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
    """Every quote of a document at once (small documents: the seed, tests); see
    :func:`read_file`."""
    return list(
        read_file(path, catalog, source, known_speakers=known_speakers, publication=publication)
    )


def read_file(
    path: Path,
    catalog: Catalog,
    source: str | None = None,
    *,
    known_speakers: Iterable[str] = (),
    publication: Publication = UNKNOWN,
    progress: documents.Progress | None = None,
) -> Iterator[Quote]:
    """Parse a document by its extension (.csv, .json, else the statements format) while
    reading it: quotes are yielded as they are read, so memory stays flat however large the
    file. A problem raises :class:`DocumentError` naming the file and line when it is
    reached; the importer's one transaction then writes nothing.

    Quotes are recorded under ``source`` (default: the file name). ``known_speakers``
    (speakers already stored, names the curator gave) win when an attribution line is split;
    ``publication`` is a statements document's one source (CSV and JSON rows carry their
    own). ``progress`` counts the bytes read.
    """
    name = source or path.name
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".json") and publication != UNKNOWN:
            raise DocumentError(
                name,
                1,
                "CSV and JSON give the source per row (url, published, publisher, "
                "title, kind columns), not on the command line",
            )
        with path.open("rb") as stream:
            if suffix == ".json":
                rows = documents.json_records(stream, name, progress)
                yield from read_structured(rows, catalog, name)
                return
            lines = documents.text_lines(stream, name, progress)
            if suffix == ".csv":
                text = (line for _, line in lines)
                yield from read_structured(_csv_rows(text, name), catalog, name)
                return
            yield from read_statements(
                lines, catalog, name, known_speakers=known_speakers, publication=publication
            )
    except DocumentError as exc:
        raise DocumentError(str(path), exc.line, exc.reason, exc.more) from None
