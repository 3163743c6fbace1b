"""The progress line of a long import on a terminal: rows, rate, and time left.

A thin layer over ``tqdm``: the bar counts the document's bytes read (the only total known
before the end, since rows are counted as they are parsed) and shows the rows so far. It
is drawn only on a terminal, and not at all with ``--quiet``; nothing is written when
standard error is a file or a pipe.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any, TextIO

from tqdm import tqdm

from bot.corpus import Quote
from bot.documents import Progress

UPDATE_EVERY = 2_000  # rows between redraws; tqdm itself redraws at most 10 times a second


class ImportProgress:
    """``with ImportProgress(progress, quiet) as bar: add(bar.counted(quotes))``."""

    def __init__(self, progress: Progress, quiet: bool, stream: TextIO | None = None) -> None:
        self.progress = progress
        self.stream = stream or sys.stderr
        self.enabled = not quiet and self.stream.isatty()
        self.rows = 0
        self._bar: tqdm[Any] | None = None

    def __enter__(self) -> ImportProgress:
        if self.enabled:
            self._bar = tqdm(
                total=self.progress.total or None,
                unit="B",
                unit_scale=True,
                file=self.stream,
                desc="import",
                leave=False,
            )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.close()

    def counted(self, quotes: Iterable[Quote]) -> Iterator[Quote]:
        for quote in quotes:
            self.rows += 1
            if self._bar is not None and self.rows % UPDATE_EVERY == 0:
                self._redraw()
            yield quote
        if self._bar is not None:
            self._redraw(final=True)

    def _redraw(self, final: bool = False) -> None:
        assert self._bar is not None
        self._bar.set_postfix_str(f"{self.rows:,} rows", refresh=False)
        self._bar.update(self.progress.done - self._bar.n)  # redraws, at most 10 times a second
        if final:
            self._bar.refresh()  # the last figures, whatever the throttle
