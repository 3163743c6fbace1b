"""Text as every document reader sees it: decoded bytes, and folded forms for matching.

:func:`decode` turns a document's bytes into text or a :class:`DocumentError` naming the
line; :func:`fold`, :func:`key` and :func:`slugify` normalise only for matching and identity,
never for display (quote texts stay verbatim).
"""

from __future__ import annotations

import functools
import re
import unicodedata

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"'})


class DocumentError(ValueError):
    """A document the parser refuses, with the file and line that show why (``more``: further
    (line, reason) pairs when the parser reports every problem of one kind at once)."""

    def __init__(
        self, source: str, line: int, reason: str, more: tuple[tuple[int, str], ...] = ()
    ) -> None:
        problems = [(line, reason), *more]
        super().__init__("\n".join(f"{source}, line {n}: {why}" for n, why in problems))
        self.source = source
        self.line = line
        self.reason = reason
        self.more = more


_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Normalise for matching: case, apostrophes, diacritics, ё, whitespace."""
    text = unicodedata.normalize("NFKC", text).translate(APOSTROPHES).casefold()
    if text.isascii():  # the common case, and the hot path of a large import
        return " ".join(text.split())
    text = text.replace("ё", "е")
    decomposed = unicodedata.normalize("NFD", text)
    # Drop combining marks, but keep the Cyrillic short i (й = и + breve) intact.
    if any(unicodedata.combining(c) for c in decomposed):
        decomposed = "".join(
            c
            for i, c in enumerate(decomposed)
            if not (unicodedata.combining(c) and not _keeps(decomposed, i))
        )
    return " ".join(unicodedata.normalize("NFC", decomposed).split())


def _keeps(text: str, i: int) -> bool:
    return text[i] == "\u0306" and i > 0 and text[i - 1] in "иИ"


def key(text: str) -> str:
    """An identity key: folded, letters and digits only (merges role/name punctuation)."""
    if len(text) <= _SHORT:
        return _short_key(text)
    if text.isascii():
        # The same key as below: for ASCII, NFKC changes nothing, casefold is lower, and
        # apostrophes and spaces go with every other non-alphanumeric character.
        return _NOT_ALNUM.sub("", text.lower())
    return _NOT_ALNUM.sub("", fold(text))


_SHORT = 200  # names, roles, organisations: short, and repeated on every row of an import


@functools.lru_cache(maxsize=1 << 16)
def _short_key(text: str) -> str:
    return _NOT_ALNUM.sub("", fold(text))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_") or "case"


def decode(data: bytes, source: str) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise DocumentError(source, line, "this looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DocumentError(source, line, "the file is not valid UTF-8 text") from None
