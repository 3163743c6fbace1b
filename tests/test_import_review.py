"""`quotebot import` as a curator uses it (issue 11 §1 and §5): the review of what an import
created, --dry-run, --speaker for lines the split cannot decide, and the source of a
document (per CSV/JSON row, or --url … for a statements text), refused when malformed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.corpus import Catalog, parse_file
from bot.provenance import PartialDate, Publication, Status

AMBIGUOUS = "Anna KowalskaBrownDirector at Example Rights -"


def run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = isolated_env / "review.db"
    assert run(capsys, path, "seed")[0] == 0
    return path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


CSV = (
    "text,speaker,role,organisation,url,published,publisher,title,kind\n"
    '"They must be released.",Mary McAleese,Former President of Ireland,,'
    "https://example.org/a,2014-01,Example Rights,On the release,statement\n"
    '"Nobody may be sent back to torture.",Ian MacLeod,Spokesperson,Example Rights,,,,,\n'
    '"The trial was unfair.",Ian MacLeod,Spokesperson,Example Rights,,,,,\n'
)
REVIEW = """\
new.csv: 3 added, 0 already present

New speakers (2):
  name          | role                        | organisation   | quotes
  Mary McAleese | Former President of Ireland | —              | 1
  Ian MacLeod   | Spokesperson                | Example Rights | 2

New organisations (1):
  Example Rights
"""


def test_import_prints_the_new_speakers_and_organisations(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, db, "import", str(write(tmp_path / "new.csv", CSV)))
    assert (code, err) == (0, "")
    assert out == REVIEW
    # Importing again creates nothing, and says so.
    code, out, _ = run(capsys, db, "import", str(tmp_path / "new.csv"))
    assert out == (
        "new.csv: 0 added, 3 already present\n\nNew speakers: none\nNew organisations: none\n"
    )


def test_dry_run_prints_the_same_review_and_leaves_the_database_byte_for_byte(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = db.read_bytes()
    code, out, err = run(capsys, db, "import", str(write(tmp_path / "new.csv", CSV)), "--dry-run")
    assert (code, err) == (0, "")
    assert out == REVIEW.replace("3 added", "3 would be added") + (
        "\nDry run: nothing was written. Run again without --dry-run to import.\n"
    )
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM quotes").fetchone() == (9,)
    assert conn.execute("SELECT count(*) FROM speakers WHERE name = 'Ian MacLeod'").fetchone() == (
        0,
    )
    conn.close()
    # And the real import then does exactly what the dry run said.
    assert run(capsys, db, "import", str(tmp_path / "new.csv"))[1] == REVIEW


def test_dry_run_without_a_database_creates_none(
    isolated_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = isolated_env / "none.db"
    code, out, _ = run(
        capsys, missing, "import", str(write(tmp_path / "new.csv", CSV)), "--dry-run"
    )
    assert code == 0 and "3 would be added" in out
    assert not missing.exists()


def test_an_ambiguous_line_is_refused_and_the_speaker_option_decides(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = db.read_bytes()
    document = write(tmp_path / "press.txt", f"A quote.\n{AMBIGUOUS}\n")
    code, out, err = run(capsys, db, "import", str(document))
    assert (code, out) == (2, "")
    assert f"{document}, line 2: cannot tell where the speaker's name ends" in err
    assert '"Anna Kowalska" | "BrownDirector at Example Rights"' in err
    assert '"Anna KowalskaBrown" | "Director at Example Rights"' in err
    assert db.read_bytes() == before
    code, out, err = run(capsys, db, "import", str(document), "--speaker", "Anna KowalskaBrown")
    assert (code, err) == (0, "")
    assert "  Anna KowalskaBrown | Director at Example Rights |" in out
    # Once stored, the speaker decides later documents by itself.
    later = write(tmp_path / "later.txt", f"Another quote.\n{AMBIGUOUS}\n")
    code, out, err = run(capsys, db, "import", str(later))
    assert (code, err) == (0, "")
    assert "1 added" in out and "New speakers: none" in out


BAD_ROWS = {
    "bad-date.csv": (
        "text,speaker,published\nA quote.,Jane Roe,2014-01-09\nAnother.,Jane Roe,9 Jan 2014\n",
        3,
        "bad date '9 Jan 2014'",
    ),
    "bad-url.csv": (
        "text,speaker,url\nA quote.,Jane Roe,https://example.org/a\nB.,Jane Roe,example.org/b\n",
        3,
        "bad URL 'example.org/b'",
    ),
    "bad-url.json": (
        '[\n {"text": "A quote.", "speaker": "Jane Roe",\n  "url": "javascript:alert(1)"}\n]',
        2,
        "record 1: bad URL",
    ),
    "bad-status.csv": (
        "text,speaker,url,status\nA.,Jane Roe,https://x.org,sure\n",
        2,
        "bad status",
    ),
}


@pytest.mark.parametrize(("name", "data", "line", "reason"), [(n, *v) for n, v in BAD_ROWS.items()])
def test_a_bad_source_field_is_refused_with_file_and_line(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    data: str,
    line: int,
    reason: str,
) -> None:
    before = db.read_bytes()
    code, out, err = run(capsys, db, "import", str(write(tmp_path / name, data)))
    assert (code, out) == (2, "")
    assert f"{name}, line {line}: {reason}" in err
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [("--url", "ftp://example.org/x", "bad URL"), ("--published", "2014-02-30", "bad date")],
)
def test_a_bad_source_option_is_refused_naming_the_file(
    db: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    reason: str,
) -> None:
    before = db.read_bytes()
    document = write(tmp_path / "press.txt", "A quote.\nJane RoeDirector -\n")
    code, out, err = run(capsys, db, "import", str(document), option, value)
    assert (code, out) == (2, "")
    assert f"{document}: {reason}" in err
    assert db.read_bytes() == before


def test_source_options_are_for_statements_text_only(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, db, "import", str(write(tmp_path / "new.csv", CSV)), "--url", "https://x.org"
    )
    assert code == 2 and "per row" in err


def test_rows_and_options_give_each_quote_its_publication(tmp_path: Path) -> None:
    first, second, _ = parse_file(write(tmp_path / "new.csv", CSV), Catalog())
    assert first.publication == Publication(
        status=Status.LIKELY,
        publisher="Example Rights",
        title="On the release",
        kind="statement",
        url="https://example.org/a",
        published=PartialDate(2014, 1),
    )
    assert second.publication == Publication()  # nothing given: unknown, nothing invented
    document = write(tmp_path / "press.txt", "One.\nJane RoeDirector -\nTwo.\nJohn DoeAdviser -\n")
    given = Publication(status=Status.VERIFIED, url="https://example.org/p", publisher="ER")
    assert {q.publication for q in parse_file(document, Catalog(), publication=given)} == {given}
    records = [
        {"text": "A.", "speaker": "Jane Roe", "url": "https://x.org/1", "status": "verified"}
    ]
    (quote,) = parse_file(write(tmp_path / "one.json", json.dumps(records)), Catalog())
    assert (quote.publication.status, quote.publication.url) == (Status.VERIFIED, "https://x.org/1")


def test_a_statements_document_stores_the_source_given_on_the_command_line(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = write(tmp_path / "press.txt", "One.\nJane RoeDirector -\nTwo.\nJohn DoeAdviser -\n")
    options = ["--url", "https://example.org/p", "--published", "2013-08"]
    options += ["--publisher", "Example Rights", "--title", "Two voices", "--kind", "dispatch"]
    assert run(capsys, db, "import", str(document), *options)[0] == 0
    out = run(capsys, db, "quotes", "--json")[1]
    stored = [q["publication"] for q in json.loads(out)[9:]]
    assert len(stored) == 2
    for publication in stored:
        assert publication["status"] == "likely"
        assert publication["url"] == "https://example.org/p"
        assert publication["published"] == "2013-08"  # a month stays a month
        assert (publication["publisher"], publication["title"], publication["kind"]) == (
            "Example Rights",
            "Two voices",
            "dispatch",
        )
