"""``quotebot who|case|search QUERY [--limit N] [--json] [--suggest] [--db PATH]``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main

QUOTE_KEYS = {"id", "text", "speaker", "role", "organisation", "cases", "source", "position"}


@pytest.fixture
def run(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    db = isolated_env / "cli.db"

    def call(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--db", str(db)])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def as_json(run: Any, *argv: str) -> Any:
    code, out, err = run(*argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_who_prints_the_speakers_quotes(run: Any) -> None:
    code, out, err = run("who", "dalhusien")
    assert (code, err) == (0, "")
    assert out.startswith("John Dalhuisen: 2 result(s)")
    assert out.count("— John Dalhuisen, Director of Amnesty") == 2


def test_words_need_no_quoting(run: Any) -> None:
    assert run("who", "julia", "hall")[1].startswith("Julia Hall: 2 result(s)")
    assert run("case", "alexander", "pavlov")[1].startswith("Aleksandr Pavlov: 1 result(s)")


def test_search_marks_the_matched_words(run: Any) -> None:
    code, out, _ = run("search", "fair", "trial", "case:ablyazov", "--limit", "1")
    assert code == 0
    assert out.startswith("Mukhtar Ablyazov: 1 result(s)")
    assert "get a [fair] [trial] in Russia" in out


@pytest.mark.parametrize(
    ("argv", "first_speaker"),
    [
        (("who", "hrw"), "Hugh Williamson"),
        (("who", "Юлия", "Холл"), "Julia Hall"),
        (("case", "Аблязов"), "Julia Hall"),
        (("search", "tortur"), "Julia Hall"),
        (("search", "persecuts oponents"), "Open Dialog Foundation"),
    ],
)
def test_json_is_quote_objects_with_score_and_spans(
    run: Any, argv: tuple[str, ...], first_speaker: str
) -> None:
    found = as_json(run, *argv)
    assert found and found[0]["speaker"] == first_speaker
    for item in found:
        assert set(item) >= QUOTE_KEYS and 0 <= item["score"] <= 100
        for start, end in item["matched"]:
            assert 0 <= start < end <= len(item["text"])
    if argv[0] == "search":
        assert all(item["matched"] for item in found)


def test_spans_point_at_the_words(run: Any) -> None:
    (first, *_) = as_json(run, "search", "deportaton", "procedure")
    assert [first["text"][a:b] for a, b in first["matched"]] == ["deportation", "procedure"]


def test_limit(run: Any) -> None:
    assert len(as_json(run, "who", "amnesty", "--limit", "3")) == 3
    assert len(as_json(run, "case", "ablyazov", "--limit", "1")) == 1
    assert as_json(run, "search", "torture", "--limit", "0") == []


def test_nothing_found_is_an_empty_array_and_exit_zero(run: Any) -> None:
    for command in ("who", "case", "search"):
        assert as_json(run, command, "qqqzzzxx") == []
    code, out, err = run("search", "qqqzzzxx")
    assert (code, err) == (0, "") and out.startswith("Nothing found for “qqqzzzxx”")


def test_suggestions_only_with_suggest(run: Any) -> None:
    assert as_json(run, "who", "ablyazov") == []
    answer = as_json(run, "who", "ablyazov", "--suggest")
    assert answer["results"] == []
    assert {"kind": "case", "label": "Mukhtar Ablyazov", "command": "case",
            "query": "Mukhtar Ablyazov"} in answer["suggestions"]  # fmt: skip
    found = as_json(run, "who", "hall", "--suggest")
    assert found["suggestions"] == [] and len(found["results"]) == 2
    code, out, _ = run("case", "hall")
    assert code == 0 and "Did you mean: Julia Hall  (quotebot who Julia Hall)" in out


def test_empty_who_and_case_print_the_listings(run: Any) -> None:
    code, out, _ = run("who")
    assert code == 0 and "Julia Hall (Amnesty International): 2 quote(s)" in out
    speakers = as_json(run, "who")
    assert {"name": "UN Watch", "role": speakers[-1]["role"], "organisation": "UN Watch",
            "quotes": 1} in speakers  # fmt: skip
    cases = as_json(run, "case", "")
    assert {c["name"]: c["quotes"] for c in cases}["Aleksandr Pavlov"] == 1
    assert as_json(run, "search", "") == []


@pytest.mark.parametrize(
    "query", ['"', "NEAR(", "text:xyz", "AND", "C++", "100%", "e-mail", "x" * 10_000, "🙂"]
)
def test_hostile_queries_exit_zero(run: Any, query: str) -> None:
    for command in ("who", "case", "search"):
        assert isinstance(as_json(run, command, query), list)
