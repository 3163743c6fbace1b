"""Every CLI command through ``bot.__main__.main``, and once through ``python -m bot``."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.seed_data import data_file

REPO = Path(__file__).resolve().parent.parent
QUOTE_KEYS = {"id", "text", "speaker", "role", "organisation", "cases", "source"}


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], db: Path) -> None:
        self.capsys = capsys
        self.db = db

    def __call__(self, *argv: str, db: Path | None = None) -> tuple[int, str, str]:
        code = main([*argv, "--db", str(db or self.db)])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *argv: str) -> Any:
        code, out, err = self(*argv, "--json")
        assert (code, err) == (0, "")
        return json.loads(out)


@pytest.fixture
def cli(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys, isolated_env / "cli.db")


def rows(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT id, fingerprint, text FROM quotes ORDER BY id").fetchall()
    finally:
        conn.close()


def test_seed_is_idempotent(cli: Cli) -> None:
    assert cli("seed") == (0, "statements.txt: 9 added, 0 already present\n", "")
    assert cli("seed") == (0, "statements.txt: 0 added, 9 already present\n", "")
    assert [r[0] for r in rows(cli.db)] == list(range(1, 10))


def test_seed_from_another_data_folder(cli: Cli, test_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "statements.txt").write_bytes((test_data / "mcdonald.txt").read_bytes())
    (data / "catalog.toml").write_bytes((test_data / "mcdonald.toml").read_bytes())
    code, out, _ = cli("seed", "--data", str(data))
    assert (code, out) == (0, "statements.txt: 3 added, 0 already present\n")
    assert [s["name"] for s in cli.json("speakers")] == [
        "Example Rights",
        "Ian MacLeod",
        "Mary McDonald",
    ]


def test_quotes_json_lists_every_quote_in_source_order(cli: Cli) -> None:
    quotes = cli.json("quotes")  # a fresh database: seeded by itself
    assert len(quotes) == 9
    assert all(q.keys() >= QUOTE_KEYS for q in quotes)
    assert [q["id"] for q in quotes] == list(range(1, 10))
    assert quotes[0]["speaker"] == "Julia Hall"
    assert quotes[0]["organisation"] == "Amnesty International"
    assert quotes[0]["cases"] == ["Mukhtar Ablyazov"]
    assert quotes[0]["source"] == "statements.txt"
    assert quotes[8]["speaker"] == "UN Watch"
    seed = (REPO / "data" / "statements.txt").read_text(encoding="utf-8").splitlines()
    assert [q["text"] for q in quotes] == seed[1::2]


def test_quotes_text_output(cli: Cli) -> None:
    code, out, err = cli("quotes")
    assert (code, err) == (0, "")
    assert out.count("\n#") + out.startswith("#") == 9
    assert "#7 “An Italian government inquiry" in out
    assert "— Hugh Williamson, Director of the Europe & Central Asia in Human Rights Watch" in out
    assert "[Mukhtar Ablyazov, Alma Shalabayeva]" in out


def test_speakers(cli: Cli) -> None:
    speakers = cli.json("speakers")
    assert {(s["name"], s["organisation"], s["quotes"]) for s in speakers} == {
        ("Julia Hall", "Amnesty International", 2),
        ("John Dalhuisen", "Amnesty International", 2),
        ("Jean-Marie Fardeau", "Human Rights Watch", 1),
        ("Hugh Williamson", "Human Rights Watch", 2),
        ("Open Dialog Foundation", "Open Dialog Foundation", 1),
        ("UN Watch", "UN Watch", 1),
    }
    code, out, _ = cli("speakers")
    assert code == 0
    assert "Julia Hall (Amnesty International): 2 quote(s)" in out.splitlines()


def test_cases(cli: Cli) -> None:
    assert cli.json("cases") == [
        {"slug": "pavlov", "name": "Aleksandr Pavlov", "quotes": 1},
        {"slug": "shalabayeva", "name": "Alma Shalabayeva", "quotes": 3},
        {"slug": "ablyazov", "name": "Mukhtar Ablyazov", "quotes": 5},
    ]
    code, out, _ = cli("cases")
    assert code == 0
    assert "Mukhtar Ablyazov (ablyazov): 5 quote(s)" in out.splitlines()


def test_stats(cli: Cli) -> None:
    stats = cli.json("stats")
    assert {k: stats[k] for k in ("quotes", "speakers", "organisations", "cases")} == {
        "quotes": 9,
        "speakers": 6,
        "organisations": 4,
        "cases": 3,
    }
    code, out, _ = cli("stats")
    assert code == 0
    assert "quotes: 9" in out.splitlines()


def test_database_from_quotebot_db_setting(
    isolated_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUOTEBOT_DB", str(isolated_env / "from-env.db"))
    assert main(["stats"]) == 0
    assert "quotes: 9" in capsys.readouterr().out
    assert (isolated_env / "from-env.db").is_file()
    assert not (isolated_env / "quotebot.db").exists()


@pytest.mark.parametrize("document", ["second.txt", "second.csv", "second.json"])
def test_import_keeps_earlier_ids(cli: Cli, test_data: Path, document: str) -> None:
    before = cli.json("quotes")
    code, out, err = cli("import", str(test_data / document))
    assert (code, err) == (0, "")
    assert out.startswith(f"{document}: ")
    after = cli.json("quotes")
    assert after[:9] == before
    assert [q["id"] for q in after[9:]] == list(range(10, len(after) + 1))
    # Importing the same file again adds nothing.
    code, out, _ = cli("import", str(test_data / document))
    assert code == 0
    assert f"{document}: 0 added, " in out
    assert cli.json("quotes") == after


def test_import_with_a_source_name(cli: Cli, test_data: Path) -> None:
    code, out, _ = cli("import", str(test_data / "second.txt"), "--source", "Briefing 2014")
    assert code == 0
    assert out.startswith("Briefing 2014: 2 added, 1 already present\n")
    assert {q["source"] for q in cli.json("quotes")[9:]} == {"Briefing 2014"}


BAD_DOCUMENTS = {
    "no-quote.txt": (b"-\nJane RoeDirector at HRW -\nA quote.\nJane RoeDirector -\n", 2),
    "no-attribution.txt": (b"A quote.\nJane RoeDirector at HRW -\nAn orphan quote.\n", 3),
    "empty.txt": (b"", 1),
    "binary.txt": (b"\x00\x01\x02\x03", 1),
    "latin1.txt": (b"A quote.\nJane RoeDirector -\nCaf\xe9.\nJane RoeDirector -\n", 3),
    "columns.csv": (b"text,role\nA quote.,Director\n", 1),
    "short-row.csv": (b"text,speaker,role\nA quote.,Jane Roe,Director\nA quote.\n", 3),
    "object.json": (b'{"text": "A quote.", "speaker": "Jane Roe"}\n', 1),
}


@pytest.mark.parametrize(("name", "data", "line"), [(n, *v) for n, v in BAD_DOCUMENTS.items()])
def test_a_bad_document_is_refused_and_the_database_left_as_it_was(
    cli: Cli, tmp_path: Path, name: str, data: bytes, line: int
) -> None:
    assert cli("seed")[0] == 0
    before = cli.db.read_bytes()
    document = tmp_path / name
    document.write_bytes(data)
    code, out, err = cli("import", str(document))
    assert code != 0
    assert out == ""
    assert f"{name}, line {line}:" in err
    assert "Traceback" not in err
    assert cli.db.read_bytes() == before
    assert not Path(f"{cli.db}-wal").exists() or Path(f"{cli.db}-wal").stat().st_size == 0


def test_a_bad_document_does_not_create_a_database(cli: Cli, tmp_path: Path) -> None:
    document = tmp_path / "empty.txt"
    document.write_bytes(b"")
    code, _, err = cli("import", str(document))
    assert code != 0
    assert "empty.txt, line 1" in err
    assert not cli.db.exists()


def test_a_missing_document_is_a_clear_error(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("import", str(tmp_path / "nowhere.csv"))
    assert code != 0
    assert "nowhere.csv" in err
    assert "Traceback" not in err


def test_a_database_in_a_missing_directory(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("stats", db=tmp_path / "missing" / "q.db")
    assert (code, out) == (2, "")
    assert err.startswith("quotebot: error: ")
    assert "does not exist" in err
    assert "Traceback" not in err


def test_a_file_that_is_not_a_database(cli: Cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"shopping list\n" * 500)
    code, _, err = cli("quotes", db=notes)
    assert code == 2
    assert "not a database" in err
    assert notes.read_bytes() == b"shopping list\n" * 500


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_a_database_without_permission(cli: Cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, _, err = cli("stats", db=locked / "q.db")
    finally:
        locked.chmod(0o700)
    assert code == 2
    assert "Traceback" not in err


def test_db_option_before_or_after_the_command(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before, after = isolated_env / "before.db", isolated_env / "after.db"
    assert main(["--db", str(before), "seed"]) == 0
    assert main(["seed", "--db", str(after)]) == 0
    assert main(["--db", str(before), "who", "hall"]) == 0
    out = capsys.readouterr().out
    assert "Julia Hall" in out
    assert before.is_file() and after.is_file()
    assert not (isolated_env / "quotebot.db").exists(), "the default database was used"
    # Given twice, the one after the command wins, as it is the more specific.
    other = isolated_env / "other.db"
    assert main(["--db", str(before), "stats", "--db", str(other)]) == 0
    assert other.is_file()


def test_no_command_prints_help(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in ("seed", "import", "quotes", "speakers", "cases", "stats"):
        assert name in out


def test_python_dash_m_bot_runs(isolated_env: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUOTEBOT_", "TELEGRAM_", "WEBHOOK_")) and k != "LOG_LEVEL"
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    db = isolated_env / "sub.db"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(db), "--json"],
        cwd=isolated_env,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["quotes"] == 9


def test_a_locked_database_gets_a_message_not_a_traceback(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "locked.db"
    assert main(["stats", "--db", str(db)]) == 0
    capsys.readouterr()
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert (
            main(["import", str(data_file("statements.txt")), "--source", "again", "--db", str(db)])
            == 2
        )
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert "database" in err and "locked" in err and "Traceback" not in err


def test_cite_prints_a_quote_in_each_style(cli: Cli) -> None:
    code, out, err = cli("cite", "4")
    assert (code, err) == (0, "")
    assert out.startswith("“The French authorities should protect Ablyazov")
    code, out, _ = cli("cite", "4", "--style", "apa")
    assert code == 0 and "In text: (Jean-Marie Fardeau" in out
    code, out, _ = cli("cite", "4", "--style", "csl")
    assert code == 0 and json.loads(out)[0]["id"] == "quotebot-4"
    code, out, _ = cli("cite", "4", "--style", "bibtex")
    assert code == 0 and out.startswith("@misc{quotebot4,")
    code, _, err = cli("cite", "4", "--style", "mla")
    assert code == 2 and "plain, apa, chicago, csl, bibtex" in err
    code, _, err = cli("cite", "99")
    assert code == 1 and "no quote #99" in err


def test_export_writes_every_match_to_a_file(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "hrw.csv"
    code, out, err = cli("export", "org:hrw", "--format", "csv", "-o", str(target))
    assert (code, err) == (0, "") and "3 quote(s), CSV" in out
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,text,speaker,") and [row[:2] for row in lines[1:]] == [
        "4,",
        "6,",
        "7,",
    ]
    code, out, _ = cli("export", "case:pavlov")
    assert code == 0 and out.startswith("# Quotes: case:pavlov") and "## #2 " in out
    code, _, err = cli("export", "case:nosuchcase")
    assert code == 1 and "nothing written" in err
    code, _, err = cli("export", "case:pavlov", "--format", "pdf")
    assert code == 2 and "markdown, csv, csl" in err
