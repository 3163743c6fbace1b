"""Citations of a quote in the styles people paste: plain, APA, Chicago, CSL-JSON and BibTeX.

What is cited is the *publication* a statement appeared in (:class:`bot.provenance.Publication`),
the way reference managers cite a press release: the publishing organisation as author, the
title, the kind as genre, the date, the URL; the speaker and the statement go in the note.
APA and Chicago are rendered by ``citeproc-py`` from that CSL-JSON item with the official CSL
style files shipped in ``bot/styles`` (see its README): never formatted by hand here.

Honesty rules, the same in every style:

* ``verified``: the publication is cited as the original.
* ``likely``: cited, and the citation says "likely source, not verified word for word".
* ``unknown`` with a compilation: the compilation is cited as where the statement is *quoted*
  ("original publication not found; quoted in …"; APA/Chicago: "Speaker, as cited in …"),
  never as the original.
* ``unknown`` with nothing known: the statement and its speaker, "original publication not
  found". Nothing is ever invented: a title, date or URL nobody found stays out.

Dates stay as precise as known: ``2013-08`` is "August 2013" (CSL ``date-parts [[2013, 8]]``,
BibTeX ``date = {2013-08}``), never the 1st of August.
"""

from __future__ import annotations

import html
import io
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from bot.provenance import PartialDate, Publication, Status
from bot.store import StoredQuote
from bot.text import fold


class Style(StrEnum):
    PLAIN = "plain"
    APA = "apa"
    CHICAGO = "chicago"
    CSL = "csl"
    BIBTEX = "bibtex"


STYLES: tuple[str, ...] = tuple(s.value for s in Style)
# Other spellings people type for the same styles.
_STYLE_ALIASES = {
    "text": Style.PLAIN,
    "chicago-author-date": Style.CHICAGO,
    "csl-json": Style.CSL,
    "csljson": Style.CSL,
    "json": Style.CSL,
    "bib": Style.BIBTEX,
    "biblatex": Style.BIBTEX,
}
# The CSL style file of each processed style (bot/styles) and the name shown with its output.
PROCESSED: dict[Style, tuple[str, str]] = {
    Style.APA: ("apa.csl", "APA 7th edition"),
    Style.CHICAGO: ("chicago-author-date.csl", "Chicago 18th edition (author-date)"),
}
LABELS: dict[Style, str] = {
    Style.PLAIN: "Plain citation",
    **{style: name for style, (_, name) in PROCESSED.items()},
    Style.CSL: "CSL-JSON",
    Style.BIBTEX: "BibTeX",
}
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
NOT_FOUND = "Original publication not found"
LIKELY = "likely source, not verified word for word"


def parse_style(text: str) -> Style | None:
    """The style ``text`` names (case-insensitive, a few aliases), or None."""
    wanted = text.strip().lower()
    if wanted in STYLES:
        return Style(wanted)
    return _STYLE_ALIASES.get(wanted)


# -- the parts every style uses --------------------------------------------------------------


def organisation_shown(quote: StoredQuote) -> str | None:
    """The organisation to name after the role: None when the speaker is the organisation
    or the role already names it ("Director … in Human Rights Watch")."""
    org = quote.organisation
    if not org:
        return None
    named = re.compile(rf"(?<!\w){re.escape(fold(org))}(?!\w)")
    if named.search(fold(quote.speaker)) or named.search(fold(quote.role)):
        return None
    return org


def speaker_line(quote: StoredQuote) -> str:
    """ "Speaker, Role (Organisation)", the organisation only where not already named."""
    line = quote.speaker
    if quote.role:
        line += f", {quote.role}"
    if org := organisation_shown(quote):
        line += f" ({org})"
    return line


def human_date(date: PartialDate) -> str:
    """ "9 January 2014", "August 2013" or "2013": as precise as known, no more."""
    parts = [str(date.year)]
    if date.month is not None:
        parts.insert(0, MONTHS[date.month - 1])
        if date.day is not None:
            parts.insert(0, str(date.day))
    return " ".join(parts)


def cites_original(publication: Publication) -> bool:
    """True when the publication itself is cited (verified or likely, with something known)."""
    return publication.status is not Status.UNKNOWN and publication.original_known


def _publication_words(publication: Publication) -> str:
    """ "Publisher, kind, “Title”, date": only the parts known."""
    parts = [publication.publisher, publication.kind]
    if publication.title:
        parts.append(f"“{publication.title}”")
    if publication.published:
        parts.append(human_date(publication.published))
    return ", ".join(p for p in parts if p)


def source_sentence(publication: Publication) -> str:
    """Where the statement was published, as one plain sentence with its URL (no quote)."""
    if cites_original(publication):
        sentence = _publication_words(publication) + "."
        if publication.url:
            sentence += f" {publication.url}"
        if publication.status is Status.LIKELY:
            sentence += f" ({LIKELY})"
        return sentence
    compilation = publication.compilation
    if compilation is not None:
        where = ", ".join(p for p in (f"“{compilation.title}”", compilation.publisher) if p)
        return f"{NOT_FOUND}; quoted in {where}. {compilation.url}".rstrip()
    known = _publication_words(publication)
    if known or publication.url:
        return f"Source (not verified): {known or publication.url}." + (
            f" {publication.url}" if known and publication.url else ""
        )
    return f"{NOT_FOUND}."


def plain(quote: StoredQuote) -> str:
    """“text” — Speaker, Role. Publisher, kind, “Title”, date. URL"""
    return f"“{quote.text}” — {speaker_line(quote)}. {source_sentence(quote.publication)}"


# -- CSL-JSON ----------------------------------------------------------------------------------


def csl_id(quote: StoredQuote) -> str:
    return f"quotebot-{quote.id}"


def _note(quote: StoredQuote) -> str:
    publication = quote.publication
    note = f"Statement by {speaker_line(quote)}: “{quote.text}”"
    if cites_original(publication) and publication.status is Status.LIKELY:
        note += f" Source: {LIKELY}."
        if publication.note:
            note += f" {publication.note}"
    elif not cites_original(publication):
        if publication.compilation is not None:
            note += f" {NOT_FOUND}; the statement is quoted in this compilation."
        else:
            note += f" {NOT_FOUND}."
    return note


def csl_item(quote: StoredQuote) -> dict[str, Any]:
    """The CSL-JSON item citing where ``quote`` was published (module docstring)."""
    publication = quote.publication
    item: dict[str, Any] = {"id": csl_id(quote)}
    if cites_original(publication):
        item["type"] = "webpage" if publication.url else "document"
        if publication.title:
            item["title"] = publication.title
        if publication.publisher:
            item["author"] = [{"literal": publication.publisher}]
        if publication.kind:
            item["genre"] = publication.kind[:1].upper() + publication.kind[1:]
        if publication.published:
            item["issued"] = {"date-parts": [publication.published.date_parts()]}
        if publication.url:
            item["URL"] = publication.url
    elif publication.compilation is not None:
        compilation = publication.compilation
        item["type"] = "webpage"
        item["title"] = compilation.title
        if compilation.publisher:
            item["publisher"] = compilation.publisher
        item["URL"] = compilation.url
    else:
        # Nothing but the statement: its speaker said it, where is not known.
        item["type"] = "speech"
        item["author"] = [{"literal": quote.speaker}]
    item["note"] = _note(quote)
    return item


def csl_json(quotes: Iterable[StoredQuote]) -> str:
    """A CSL-JSON array (what Zotero, Mendeley and pandoc import), one item per quote."""
    return json.dumps([csl_item(q) for q in quotes], ensure_ascii=False, indent=2)


# -- APA and Chicago through citeproc-py -----------------------------------------------------


@dataclass(frozen=True)
class Processed:
    """A citation rendered by the processor."""

    style_name: str  # e.g. "APA 7th edition"
    reference_html: str  # the reference-list entry; Telegram-safe HTML (<i>, <b> only)
    reference_text: str  # the same as plain text
    in_text: str  # the in-text citation, plain text, e.g. "(Amnesty International, 2014)"


@cache
def _style(file_name: str) -> CitationStylesStyle:
    data = resources.files("bot").joinpath("styles", file_name).read_bytes()
    return CitationStylesStyle(io.BytesIO(data), validate=False)


_OTHER_TAGS = re.compile(r"</?(?!(?:i|b)>)[a-z]+(?: [^>]*)?>")
# citeproc-py's HTML formatter escapes the style's own words but not the item's text: the
# item's &, < and > travel through it as private-use stand-ins and become entities after.
_SHIELD = str.maketrans({"&": "\ue000", "<": "\ue001", ">": "\ue002"})
_UNSHIELD = str.maketrans({"\ue000": "&amp;", "\ue001": "&lt;", "\ue002": "&gt;"})


def _shielded(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_SHIELD)
    if isinstance(value, list):
        return [_shielded(v) for v in value]
    if isinstance(value, dict):
        return {k: _shielded(v) for k, v in value.items()}
    return value


def _ignore_unknown(_: object) -> None:
    """citeproc-py's callback for a citation of an unregistered item: none here."""


# citeproc-py takes 25-50 ms a citation (pure Python), so the bot calls :func:`process` in a
# worker thread (bot/handlers.py); the lock keeps the cached style objects to one thread.
_PROCESSOR = threading.Lock()


def process(quote: StoredQuote, style: Style) -> Processed:
    """``quote``'s reference and in-text citation in ``style`` (APA or Chicago)."""
    with _PROCESSOR:
        return _process(quote, style)


def _process(quote: StoredQuote, style: Style) -> Processed:
    file_name, style_name = PROCESSED[style]
    item = csl_item(quote)
    source = CiteProcJSON([_shielded(item)])
    bibliography = CitationStylesBibliography(_style(file_name), source, formatter.html)
    prefix = ""
    if not cites_original(quote.publication) and quote.publication.compilation is not None:
        # A secondary source: APA's "as cited in", Chicago's "quoted in".
        verb = "as cited in" if style is Style.APA else "quoted in"
        prefix = f"{quote.speaker}, {verb} ".translate(_SHIELD)
    citation = Citation([CitationItem(item["id"], prefix=prefix)])
    bibliography.register(citation)
    in_text = str(bibliography.cite(citation, _ignore_unknown)).translate(_UNSHIELD)
    entry = str(bibliography.bibliography()[0]).translate(_UNSHIELD)
    # The HTML formatter escapes the text; keep its italics and bold, drop what Telegram lacks.
    reference_html = _OTHER_TAGS.sub("", entry)
    return Processed(
        style_name=style_name,
        reference_html=reference_html,
        reference_text=html.unescape(re.sub(r"</?[a-z]+>", "", reference_html)),
        in_text=html.unescape(re.sub(r"</?[a-z]+(?: [^>]*)?>", "", in_text)),
    )


# -- BibTeX --------------------------------------------------------------------------------

_BIBTEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
}
_BIBTEX_MONTHS = tuple(m[:3].lower() for m in MONTHS)  # BibTeX's month macros


def bibtex_escape(text: str) -> str:
    """``text`` as a BibTeX field value: LaTeX's special characters escaped, braces balanced."""
    return "".join(_BIBTEX_SPECIALS.get(c, c) for c in " ".join(text.split()))


def _bibtex_url(url: str) -> str:
    # url fields are read verbatim (hyperref/biblatex); only braces would unbalance the entry.
    return url.replace("{", "%7B").replace("}", "%7D")


def bibtex(quote: StoredQuote) -> str:
    """A ``@misc`` entry (BibTeX and biblatex), from the same facts as :func:`csl_item`."""
    item = csl_item(quote)
    fields: list[tuple[str, str]] = []
    authors = [a["literal"] for a in item.get("author", [])]
    if authors:
        # Double braces: a corporate name, not "Last, First".
        fields.append(("author", "{" + bibtex_escape(" and ".join(authors)) + "}"))
    if "title" in item:
        fields.append(("title", bibtex_escape(item["title"])))
    if "genre" in item:
        fields.append(("howpublished", bibtex_escape(item["genre"])))
    if "publisher" in item:
        fields.append(("organization", bibtex_escape(item["publisher"])))
    published = quote.publication.published if cites_original(quote.publication) else None
    if published is not None:
        fields.append(("year", str(published.year)))
        fields.append(("date", published.iso()))
    if "URL" in item:
        fields.append(("url", _bibtex_url(item["URL"])))
    fields.append(("note", bibtex_escape(item["note"])))
    lines = [f"@misc{{quotebot{quote.id},"]
    lines += [f"  {name} = {{{value}}}," for name, value in fields]
    if published is not None and published.month is not None:
        lines.append(f"  month = {_BIBTEX_MONTHS[published.month - 1]},")  # a macro, unbraced
    lines.append("}")
    return "\n".join(lines)


# -- any style as text ---------------------------------------------------------------------


def entry(quote: StoredQuote, style: Style) -> str:
    """``quote``'s citation in ``style`` as plain text (the reference, for APA and Chicago)."""
    if style is Style.CSL:
        return csl_json([quote])
    if style is Style.BIBTEX:
        return bibtex(quote)
    if style in PROCESSED:
        processed = process(quote, style)
        return f"{processed.reference_text}\nIn text: {processed.in_text}"
    return plain(quote)


FILE_EXTENSIONS = {Style.CSL: "json", Style.BIBTEX: "bib"}


def as_file(quote: StoredQuote, style: Style) -> tuple[str, str]:
    """(file name, content) of :func:`entry`, for a citation too long for one message."""
    extension = FILE_EXTENSIONS.get(style, "txt")
    return f"quote-{quote.id}-{style.value}.{extension}", entry(quote, style) + "\n"
