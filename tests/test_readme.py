"""The README, /help and the command menu list the same commands."""

from __future__ import annotations

import re
from pathlib import Path

from bot import render

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_commands() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- commands-table")[1].split("<!-- /commands-table -->")[0]
    rows = re.findall(r"^\| `/(\w+)[^`]*` \| (.+?) \| `([^`]+)` \|$", table, re.MULTILINE)
    return [(name, example) for name, _, example in rows]


def test_readme_lists_exactly_the_bot_commands_with_their_examples() -> None:
    assert readme_commands() == [(c.name, c.example) for c in render.COMMANDS]


def test_help_mentions_every_command_and_example() -> None:
    text = render.help_text()
    for spec in render.COMMANDS:
        assert f"/{spec.name}" in text and render.e(spec.example) in text


def test_readme_quick_start_has_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    quick = text.split("## Quick start")[1].split("##")[0]
    assert "make run" in quick and "make test" in quick
    assert "make test" in Path(README.parent / ".ci" / "run").read_text()
