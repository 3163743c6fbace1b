"""Reading document files incrementally, with the line of everything read (pure; no SQL).

An import of a million records must not hold the file, its decoded text or its parsed
records in memory at once, so documents are read as streams: :func:`text_lines` (the
statements format and CSV) and :func:`json_records` (a JSON array, or the array under a
top-level ``"quotes"`` key). Each yields as it reads; a problem anywhere raises
:class:`bot.text.DocumentError` with the line, at the moment it is reached, and the
importer's single transaction turns that into "nothing written".

:class:`Progress` counts the bytes read so far, for a progress bar.

Why not ``ijson`` for JSON: it reports no positions, and every refused record must name
its line. ``json.JSONDecoder.raw_decode`` on a sliding buffer gives both the speed of the C
scanner and the offsets to count lines from.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from bot.text import DocumentError

CHUNK = 1 << 20  # bytes read at a time
MAX_RECORD = 32 << 20  # a JSON record larger than this is refused rather than buffered


@dataclass
class Progress:
    """Bytes of a document read so far, out of ``total`` (0 when unknown)."""

    total: int = 0
    done: int = 0


def _read(stream: IO[bytes], progress: Progress | None, size: int) -> bytes:
    data = stream.read(size)
    if progress is not None:
        progress.done += len(data)
    return data


def text_lines(
    stream: IO[bytes], source: str, progress: Progress | None = None, chunk_size: int = CHUNK
) -> Iterator[tuple[int, str]]:
    """``(number, line)`` for each line of a UTF-8 text (line ends kept, BOM dropped),
    refusing binary data and invalid UTF-8 with the line where they start.

    Read a chunk at a time, and each chunk is checked for NUL bytes before any of it is
    decoded, so a binary file is called binary rather than "not UTF-8"."""
    number = 0
    rest = b""
    first = True
    while True:
        chunk = _read(stream, progress, chunk_size)
        if b"\x00" in chunk:
            at = number + 1 + (rest + chunk[: chunk.index(b"\x00")]).count(b"\n")
            raise DocumentError(source, at, "this looks like a binary file, not text")
        data = rest + chunk
        raw_lines = data.splitlines(keepends=True)
        # The last piece may be a line cut by the chunk's end: keep it for the next chunk.
        rest = raw_lines.pop() if chunk and raw_lines and not raw_lines[-1].endswith(b"\n") else b""
        for raw in raw_lines:
            number += 1
            try:
                line = raw.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError:
                raise DocumentError(source, number, "the file is not valid UTF-8 text") from None
            first = False
            yield number, line
        if not chunk:
            return


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _JsonStream:
    """A sliding window over a decoded JSON text: ``buf[pos:]`` is still unread, and
    ``line`` is the line of ``buf[pos]``."""

    def __init__(
        self, stream: IO[bytes], source: str, progress: Progress | None, chunk_size: int
    ) -> None:
        self.stream = stream
        self.chunk_size = chunk_size
        self.source = source
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.line = 1
        self.eof = False
        self.bytes_lines = 1  # lines of the bytes decoded so far, for a decoding error

    def more(self) -> bool:
        """Read another chunk into the window; False at the end of the file."""
        if self.eof:
            return False
        data = _read(self.stream, self.progress, self.chunk_size)
        if b"\x00" in data:
            line = self.bytes_lines + data[: data.index(b"\x00")].count(b"\n")
            raise DocumentError(self.source, line, "this looks like a binary file, not text")
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            line = self.bytes_lines + data[: max(exc.start, 0)].count(b"\n")
            raise DocumentError(self.source, line, "the file is not valid UTF-8 text") from None
        self.bytes_lines += data.count(b"\n")
        if not data:
            self.eof = True
        # Drop what was read already, keeping the window small.
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return bool(data) or bool(text)

    def advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def skip_space(self) -> None:
        while True:
            match = _SPACE.match(self.buf, self.pos)
            end = match.end() if match else self.pos
            self.advance(end)
            if self.pos < len(self.buf) or not self.more():
                return

    def peek(self) -> str:
        self.skip_space()
        return self.buf[self.pos : self.pos + 1]

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = self.buf[self.pos : self.pos + 20] or "the end of the file"
            raise DocumentError(
                self.source, self.line, f"invalid JSON: expected {what}, found {found!r}"
            )
        self.advance(self.pos + 1)

    def value(self) -> Any:
        """Decode the next JSON value, reading more until it is whole."""
        self.skip_space()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # (counted before more() moves the window)
                line = self.line + self.buf.count("\n", self.pos, exc.pos)
                # Possibly a value cut at the window's end: read on, unless the file ended
                # or the value is already larger than any record should be.
                if len(self.buf) - self.pos <= MAX_RECORD and self.more():
                    continue
                raise DocumentError(self.source, line, f"invalid JSON: {exc.msg}") from None
            # A number at the window's end may continue in the next chunk.
            at_end = end == len(self.buf) and not self.eof
            if at_end and isinstance(value, int | float) and self.more():
                continue
            self.advance(end)
            return value


def json_records(
    stream: IO[bytes], source: str, progress: Progress | None = None, chunk_size: int = CHUNK
) -> Iterator[tuple[int, str, Any]]:
    """``(first line, label, record)`` for each element of a JSON array, or of the array
    under a top-level ``"quotes"`` key, read incrementally."""
    js = _JsonStream(stream, source, progress, chunk_size)
    first = js.peek()
    if first == "{":
        js.advance(js.pos + 1)
        while True:
            if js.peek() == "}":
                raise DocumentError(source, 1, "expected a JSON array of quote objects")
            name = js.value()
            js.expect(":", "':'")
            if name == "quotes" and js.peek() == "[":
                break
            js.value()  # another member: skipped whole
            if js.peek() == ",":
                js.advance(js.pos + 1)
    elif first != "[":
        if not first:
            raise DocumentError(source, 1, "the document is empty: no quotes found")
        js.value()  # a scalar: valid JSON perhaps, but not a collection
        raise DocumentError(source, 1, "expected a JSON array of quote objects")
    js.expect("[", "'['")
    n = 0
    if js.peek() == "]":
        js.advance(js.pos + 1)
    else:
        while True:
            js.skip_space()
            line = js.line
            record = js.value()
            n += 1
            yield line, f"record {n}: ", record
            if js.peek() == ",":
                js.advance(js.pos + 1)
                continue
            js.expect("]", "',' or ']'")
            break
    # What follows the array: the rest of a {"quotes": ...} object, then nothing.
    if first == "{":
        while js.peek() == ",":
            js.advance(js.pos + 1)
            js.value()
            js.expect(":", "':'")
            js.value()
        js.expect("}", "'}'")
    if js.peek():
        raise DocumentError(source, js.line, "invalid JSON: extra data after the end")
