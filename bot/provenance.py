"""Where a statement was published: the source record every quote links to (pure, no I/O).

A :class:`Publication` says where a statement was first published, as far as anyone checked:
``status`` is ``verified`` (the words were read at ``url``, attributed to the speaker),
``likely`` (the publication was found and quotes the speaker on the same matter, but the exact
sentence was only seen in a translation or a partial copy) or ``unknown`` (no original found).
Where the statement was taken from a compilation rather than the original, ``compilation``
names that compilation; a citation of an ``unknown`` original must say "quoted in" it, never
present it as the original.

Dates stay as precise as the source gives them: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``
(:class:`PartialDate`); a month is never padded to its 1st. Nothing here is ever guessed: a
field nobody found is empty.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit


class Status(StrEnum):
    VERIFIED = "verified"
    LIKELY = "likely"
    UNKNOWN = "unknown"


class ProvenanceError(ValueError):
    """A bad date or URL; the message says what is wrong and shows a valid example."""


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


@dataclass(frozen=True, order=True)
class PartialDate:
    """A publication date as precise as known: a year, a month or a day."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        m = _DATE.fullmatch(text.strip())
        if not m:
            raise ProvenanceError(
                f"bad date {text!r}: use YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2014-01-09 or 2013-08"
            )
        year, month, day = (int(g) if g else None for g in m.groups())
        assert year is not None
        try:
            dt.date(year, month or 1, day or 1)
        except ValueError:
            raise ProvenanceError(f"bad date {text!r}: no such day") from None
        return cls(year, month, day)

    def iso(self) -> str:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``, as precise as known."""
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def date_parts(self) -> list[int]:
        """CSL-JSON ``date-parts`` of this date (only the known parts)."""
        return [p for p in (self.year, self.month, self.day) if p is not None]


def check_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host, else :class:`ProvenanceError`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ProvenanceError(
            f"bad URL {url!r}: use an http(s) address, e.g. https://www.example.org/statement"
        )
    return url.strip()


@dataclass(frozen=True)
class Compilation:
    """A page or document that collects statements published elsewhere."""

    title: str
    publisher: str
    url: str


@dataclass(frozen=True)
class Publication:
    """Where one statement was published (see the module docstring)."""

    status: Status = Status.UNKNOWN
    publisher: str = ""
    title: str = ""
    kind: str = ""  # "press release", "statement", "dispatch", ...
    url: str = ""
    published: PartialDate | None = None
    compilation: Compilation | None = None
    context: str = ""  # the circumstances, as the provenance record gives them
    note: str = ""  # a curator's remark (e.g. how the seed's text differs from the original)

    @property
    def recorded(self) -> bool:
        """True when anything at all is known (an original, a compilation, a remark)."""
        return self != UNKNOWN

    def as_dict(self) -> dict[str, Any]:
        """A plain mapping (JSON output): every field, the date as partial ISO or None."""
        compilation = self.compilation
        return {
            "status": self.status.value,
            "publisher": self.publisher,
            "title": self.title,
            "kind": self.kind,
            "url": self.url,
            "published": self.published.iso() if self.published else None,
            "compilation": (
                {
                    "title": compilation.title,
                    "publisher": compilation.publisher,
                    "url": compilation.url,
                }
                if compilation
                else None
            ),
            "context": self.context,
            "note": self.note,
        }

    @property
    def original_known(self) -> bool:
        """True when the original publication (not only a compilation) is known."""
        return self.status is not Status.UNKNOWN and bool(self.url or self.publisher)


UNKNOWN = Publication()
