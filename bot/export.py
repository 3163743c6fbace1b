"""Export a dossier: the quotes a filter selects, each with its full citation and source link,
as one Markdown, CSV or CSL-JSON document (``/export``, the Export button, ``quotebot export``).

Selection goes through the lookup service (:class:`bot.search.service.Lookup`), so an export
holds what the same ``/search`` filter, ``/who`` or ``/case`` finds, only not cut at one
page; the document lists it in a stable order, by quote number. The bot caps a document at
:data:`BOT_CAP` quotes (the first by number, and the document says so); the command line has
no cap.

What was exported and when is said where each format has room for it: the heading of the
Markdown document; for CSV (a header row, then one row per quote) and CSL-JSON (an array that
reference managers import) the file name and the message that carries the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from anyascii import anyascii

from bot import citations
from bot.provenance import Publication
from bot.search.results import LookupResult
from bot.search.service import Lookup
from bot.store import StoredQuote
from bot.text import fold

BOT_CAP = 1000  # quotes in one document sent by the bot
NO_CAP = 1_000_000_000  # "every quote", for the command line
MAX_UPLOAD = 50 * 1024 * 1024  # bytes a bot may upload (sendDocument)


class Format(StrEnum):
    MARKDOWN = "markdown"
    CSV = "csv"
    CSL = "csl"


FORMATS: tuple[str, ...] = tuple(f.value for f in Format)
_FORMAT_NAMES = {
    "md": Format.MARKDOWN,
    "markdown": Format.MARKDOWN,
    "csv": Format.CSV,
    "csl": Format.CSL,
    "csl-json": Format.CSL,
    "json": Format.CSL,
}
EXTENSIONS = {Format.MARKDOWN: "md", Format.CSV: "csv", Format.CSL: "json"}
LABELS = {Format.MARKDOWN: "Markdown", Format.CSV: "CSV", Format.CSL: "CSL-JSON"}


def parse_format(text: str) -> Format | None:
    return _FORMAT_NAMES.get(text.strip().lower())


def split_format(argument: str) -> tuple[str, Format]:
    """``"case:ablyazov csv"`` -> (``"case:ablyazov"``, CSV); no format word: Markdown."""
    words = argument.split()
    if words and (chosen := parse_format(words[-1])) is not None:
        return " ".join(words[:-1]), chosen
    return " ".join(words), Format.MARKDOWN


class Kind(StrEnum):
    """How the quotes are selected: a ``/search`` filter, or what a result list showed."""

    SEARCH = "search"  # /export FILTER: case:… who:… org:… or free text
    WHO = "who"  # the /who list's query
    CASE = "case"  # the /case list's query
    SPEAKER_ID = "speaker"  # a "More by" list
    CASE_ID = "case-id"  # a case button's list


@dataclass(frozen=True)
class Selection:
    """What one export holds."""

    what: str  # what was asked, as the user would type it: "case:ablyazov", "/who hall"
    title: str | None  # what it matched, e.g. "Mukhtar Ablyazov"
    quotes: list[StoredQuote]  # by quote number
    truncated: bool  # more quotes matched than the cap let in


async def select(
    lookup: Lookup, kind: Kind, query: str, cap: int = NO_CAP
) -> tuple[Selection | None, LookupResult]:
    """The quotes ``kind``/``query`` selects, at most ``cap`` (the first by number); None
    (with the lookup's suggestions) when nothing matches."""
    limit = cap + 1 if cap < NO_CAP else NO_CAP
    result: LookupResult | None
    if kind is Kind.SEARCH:
        result, what = await lookup.search(query, limit=limit), query
    elif kind is Kind.WHO:
        result, what = await lookup.who(query, limit=limit), f"/who {query}"
    elif kind is Kind.CASE:
        result, what = await lookup.case(query, limit=limit), f"/case {query}"
    elif kind is Kind.SPEAKER_ID:
        result, what = await lookup.by_speaker_id(int(query), limit=limit), ""
    else:
        result, what = await lookup.by_case_id(int(query), limit=limit), ""
    if result is None or not result.hits:
        return None, result or LookupResult([])
    quotes = sorted((h.quote for h in result.hits), key=lambda q: q.id)
    what = what or (result.title or "")
    selection = Selection(what, result.title, quotes[:cap], len(quotes) > cap)
    return selection, result


# -- documents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    file_name: str
    data: bytes
    format: Format


def file_name(selection: Selection, fmt: Format, when: dt.datetime) -> str:
    """``quotebot-case-ablyazov-20261202-1240.md``: what and when, safe on every system."""
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(fold(selection.what)).lower())
    slug = slug[:60].strip("-") or "export"
    return f"quotebot-{slug}-{when:%Y%m%d-%H%M}.{EXTENSIONS[fmt]}"


def build(selection: Selection, fmt: Format, when: dt.datetime, *, cap: int = BOT_CAP) -> Document:
    """The document of ``selection`` in ``fmt``; ``when`` is the export time (UTC)."""
    if fmt is Format.CSV:
        data = to_csv(selection.quotes)
    elif fmt is Format.CSL:
        data = citations.csl_json(selection.quotes) + "\n"
    else:
        data = to_markdown(selection, when, cap=cap)
    return Document(file_name(selection, fmt, when), data.encode("utf-8"), fmt)


def stamp(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


# -- CSV ----------------------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "text",
    "speaker",
    "role",
    "organisation",
    "cases",
    "source_status",
    "publisher",
    "kind",
    "title",
    "published",
    "url",
    "compilation_title",
    "compilation_publisher",
    "compilation_url",
    "citation",
)


def csv_row(quote: StoredQuote) -> list[str]:
    pub: Publication = quote.publication
    comp = pub.compilation
    return [
        str(quote.id),
        quote.text,
        quote.speaker,
        quote.role,
        quote.organisation or "",
        "; ".join(quote.cases),
        pub.status.value,
        pub.publisher,
        pub.kind,
        pub.title,
        pub.published.iso() if pub.published else "",
        pub.url,
        comp.title if comp else "",
        comp.publisher if comp else "",
        comp.url if comp else "",
        citations.plain(quote),
    ]


def to_csv(quotes: Sequence[StoredQuote]) -> str:
    """A header row, then one row per quote (RFC 4180 quoting, CRLF line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(q) for q in quotes)
    return out.getvalue()


# -- Markdown -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!])")
# At a line's start, "-", "+", "=" and "1." / "1)" would begin a list or a heading underline.
_MD_LINE_START = re.compile(r"^(\s*)(?:([-+=])|(\d+)([.)]))", re.MULTILINE)


def md_escape(text: str) -> str:
    """``text`` as literal Markdown (CommonMark): what renders is exactly ``text``."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, sign, digits, dot = match.groups()
    # A backslash escapes punctuation only: "\-", and "1\." (never "\1.").
    return f"{indent}\\{sign}" if sign else f"{indent}{digits}\\{dot}"


def md_link(url: str) -> str:
    """An autolink; the characters an autolink cannot hold are percent-encoded."""
    safe = url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")
    return f"<{safe}>"


def _md_quote(quote: StoredQuote) -> list[str]:
    pub = quote.publication
    lines = [f"## #{quote.id} — {md_escape(quote.speaker)}", ""]
    lines += [f"> {md_escape(line)}" if line.strip() else ">" for line in quote.text.splitlines()]
    lines.append("")
    lines.append(f"- **Speaker:** {md_escape(citations.speaker_line(quote))}")
    if quote.cases:
        lines.append(f"- **Cases:** {md_escape(', '.join(quote.cases))}")
    lines.append(f"- **Source:** {md_escape(citations.source_sentence(pub))}")
    link = pub.url if citations.cites_original(pub) else (pub.compilation or pub).url
    if link:
        lines.append(f"- **Link:** {md_link(link)}")
    lines.append(f"- **Source status:** {pub.status.value}")
    lines.append(f"- **Citation:** {md_escape(citations.plain(quote))}")
    lines.append("")
    return lines


def to_markdown(selection: Selection, when: dt.datetime, *, cap: int = BOT_CAP) -> str:
    count = len(selection.quotes)
    title = f" ({selection.title})" if selection.title and selection.title != selection.what else ""
    lines = [
        f"# Quotes: {md_escape(selection.what)}",
        "",
        f"Exported by quotebot on {stamp(when)}: {count} quote{'s' if count != 1 else ''} "
        f"for {md_escape(selection.what)}{md_escape(title)}, by quote number. Each statement "
        "is verbatim; its source says where it was first published, as far as checked "
        "(verified, likely, or unknown: quoted in a compilation).",
        "",
    ]
    if selection.truncated:
        asked = "FILTER" if selection.what.startswith("/") else _code(selection.what)
        lines += [
            f"**Only the first {cap:,} quotes are included; more match.** The command line "
            f"exports them all: `quotebot export {asked} -o FILE`.",
            "",
        ]
    for quote in selection.quotes:
        lines += _md_quote(quote)
    return "\n".join(lines)


def _code(text: str) -> str:
    """``text`` for inside a one-backtick code span (which shows backslashes literally)."""
    return text.replace("`", "'")
