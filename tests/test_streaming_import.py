"""Imports read their document as they write it (issue 13): the incremental readers agree
with reading the whole text, errors still name the line, nothing is half-written, the
progress line appears only on a terminal, and the search index is built by the import."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.__main__ import main
from bot.documents import Progress, json_records, text_lines
from bot.progress import ImportProgress
from bot.text import DocumentError

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
RECORD = st.fixed_dictionaries(
    {"text": TEXT, "speaker": TEXT},
    optional={"cases": st.lists(TEXT, max_size=3), "n": st.integers() | st.floats(allow_nan=False)},
)


def lines_of(value: str) -> list[int]:
    """Where each element of a JSON array written one element per line starts."""
    return [n for n, line in enumerate(value.split("\n"), start=1) if line.startswith("  ")]


@settings(max_examples=60, deadline=None)
@given(st.lists(RECORD, max_size=8), st.integers(min_value=1, max_value=40), st.booleans())
def test_json_records_read_in_any_chunks_equal_json_loads(
    records: list[dict[str, object]], chunk: int, wrapped: bool
) -> None:
    array = "[\n" + ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in records) + "\n]"
    document = f'{{"name": "x",\n "quotes": {array},\n "n": [1, 2]}}' if wrapped else array
    read = list(json_records(io.BytesIO(document.encode()), "doc.json", chunk_size=chunk))
    assert [r for _, _, r in read] == json.loads(document)["quotes" if wrapped else slice(None)]
    expected_lines = lines_of(array)
    if wrapped:
        expected_lines = [n + 1 for n in expected_lines]
    assert [line for line, _, _ in read] == expected_lines


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT.filter(lambda s: "\r" not in s and "\n" not in s)), st.integers(1, 30))
def test_text_lines_read_in_any_chunks_keep_every_line_and_its_number(
    lines: list[str], chunk: int
) -> None:
    data = "\r\n".join(lines).encode()
    read = list(text_lines(io.BytesIO(data), "doc.txt", chunk_size=chunk))
    expected = data.decode().split("\r\n") if data else []
    if expected and expected[-1] == "":
        expected.pop()  # a document's last line end ends a line; it does not start one
    assert [line.removesuffix("\n").removesuffix("\r") for _, line in read] == expected
    assert [n for n, _ in read] == list(range(1, len(read) + 1))


@pytest.mark.parametrize(
    ("document", "line", "reason"),
    [
        ('[\n{"text": "a", "speaker": "b"},\n{"text": "c",\n}\n]', 4, "invalid JSON"),
        ('[\n{"text": "a", "speaker": "b"}\n{"text": "c"}]', 3, "expected ',' or ']'"),
        ('[\n{"text": "a", "speaker": "b"}]\n[]', 3, "extra data"),
        ('{"quotes": 3}', 1, "expected a JSON array"),
        ("[]", 1, "empty"),
        ("", 1, "empty"),
        ("42", 1, "expected a JSON array"),
    ],
)
def test_json_problems_name_their_line_in_small_chunks(
    document: str, line: int, reason: str
) -> None:
    with pytest.raises(DocumentError) as caught:
        for _ in json_records(io.BytesIO(document.encode()), "doc.json", chunk_size=3):
            pass
        raise DocumentError("doc.json", 1, "the document is empty")  # as read_structured does
    assert (caught.value.line, reason in caught.value.reason) == (line, True)


def big_json(path: Path, records: int, bad_at: int | None = None) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("[\n")
        for i in range(records):
            text = f"Statement number {i} about a fair trial and extradition. " * 8
            record: dict[str, object] = {"text": text, "speaker": f"Speaker {i % 37}"}
            if i == bad_at:
                record["published"] = "2013-13"  # no such month
            out.write(("" if i == 0 else ",\n") + json.dumps(record))
        out.write("\n]\n")
    return path


def snapshot(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_bad_record_after_megabytes_were_written_leaves_the_database_as_it_was(
    isolated_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "s.db"
    assert main(["seed", "--db", str(db)]) == 0
    before = snapshot(db)
    # ~3 MB: several of the reader's 1 MB chunks are read and written before the bad record.
    document = big_json(tmp_path / "big.json", 6_000, bad_at=5_990)
    capsys.readouterr()
    assert main(["import", str(document), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{document}, line 5992: record 5991" in err and "2013-13" in err
    assert snapshot(db) == before


def test_a_failed_import_into_a_new_database_leaves_no_database(
    isolated_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "new.db"
    document = big_json(tmp_path / "big.json", 300, bad_at=299)
    assert main(["import", str(document), "--db", str(db)]) == 2
    assert not list(isolated_env.glob("new.db*"))


def test_the_import_builds_the_search_index_so_the_next_start_need_not(
    isolated_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "i.db"
    document = big_json(tmp_path / "some.json", 200)
    assert main(["import", str(document), "--db", str(db), "--quiet"]) == 0
    assert "200 added" in capsys.readouterr().out
    conn = sqlite3.connect(db)
    try:
        state = dict(conn.execute("SELECT name, value FROM search_state").fetchall())
        assert int(state["max_id"]) == conn.execute("SELECT max(id) FROM quotes").fetchone()[0]
        assert int(state["count"]) == 209  # the nine seed statements and the 200
    finally:
        conn.close()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_on_a_terminal_only_and_not_when_quiet() -> None:
    quotes = list(range(5_000))  # anything iterable: the bar only counts
    for stream, quiet, shown in ((Terminal(), False, True), (io.StringIO(), False, False)):
        progress = Progress(total=1_000_000, done=500_000)
        with ImportProgress(progress, quiet, stream) as bar:
            assert list(bar.counted(quotes)) == quotes  # type: ignore[arg-type]
        assert ("5,000 rows" in stream.getvalue()) is shown, stream.getvalue()
    quiet_terminal = Terminal()
    with ImportProgress(Progress(total=10), True, quiet_terminal) as bar:
        list(bar.counted(quotes))  # type: ignore[arg-type]
    assert quiet_terminal.getvalue() == ""


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(max_codepoint=127), min_size=201, max_size=400))
def test_the_ascii_shortcut_of_key_gives_the_folded_key(text: str) -> None:
    # Imports key every quote's text for its fingerprint: the shortcut must never change a
    # fingerprint, or re-importing a document would add its quotes again.
    from bot.text import _NOT_ALNUM, fold, key

    assert key(text) == _NOT_ALNUM.sub("", fold(text))
