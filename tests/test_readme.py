"""The README, /help and the command menu list the same commands; the README, .env.example
and bot/config.py the same settings; the README every `quotebot` subcommand and option."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot import config, render
from bot.__main__ import build_parser
from bot.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


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


# -- settings: config.py, the README's table and .env.example name the same ones ------------


def settings_read_by_config() -> set[str]:
    """Every environment name bot/config.py reads: the upper-case string given first to a
    ``get``/``getenv``-like call or used as a subscript, found in the code itself."""
    tree = ast.parse(Path(config.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        key: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if called.endswith(("get", "getenv", "pop")):
                key = node.args[0]
        elif isinstance(node, ast.Subscript):
            key = node.slice
        value = key.value if isinstance(key, ast.Constant) else None
        if isinstance(value, str) and re.fullmatch(r"[A-Z][A-Z0-9]*_[A-Z0-9_]+", value):
            names.add(value)
    return names


def readme_section(title: str) -> str:
    return README.read_text(encoding="utf-8").split(f"\n## {title}\n")[1].split("\n## ")[0]


def readme_settings() -> dict[str, str]:
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \| ([^|]+) \|", readme_section("Settings"), re.M)
    return {name: default.strip() for name, default in rows}


def env_example() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return dict(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=(.*)$", text, re.MULTILINE))


def test_readme_env_example_and_config_name_the_same_settings() -> None:
    read = settings_read_by_config()
    assert {"TELEGRAM_BOT_TOKEN", "QUOTEBOT_DB", "WEBHOOK_SECRET"} <= read, "found by the code"
    assert set(readme_settings()) == read, "README.md's Settings table vs bot/config.py"
    assert set(env_example()) == read, ".env.example vs bot/config.py"


def test_env_example_as_shipped_gives_the_documented_defaults() -> None:
    """Copying .env.example to .env changes nothing until a value is filled in, and each
    value it shows is the README's default."""
    example = env_example()
    assert load_settings(example, dotenv=None) == load_settings({}, dotenv=None)
    for name, default in readme_settings().items():
        if example.get(name):
            assert default == f"`{example[name]}`", name


# -- the command line: every subcommand and option in the README --------------------------


def test_readme_documents_every_subcommand_and_its_options() -> None:
    section = readme_section("The command line")
    rows = [line for line in section.splitlines() if line.startswith("| `quotebot ")]
    documented: dict[str, str] = {}
    for row in rows:
        for names in re.findall(r"`quotebot ([a-z][\w-]*(?:\\?\|[a-z][\w-]*)*)", row):
            for name in re.split(r"\\?\|", names):
                documented[name] = documented.get(name, "") + row
    parser = build_parser()
    assert set(documented) == set(parser.commands), "README.md's command-line table"
    for name, sub in parser.commands.items():
        options = set(re.findall(r"--[a-z][a-z-]*", sub.format_usage())) - {"--db", "--help"}
        missing = {o for o in options if o not in documented[name]}
        assert not missing, f"quotebot {name}: document {sorted(missing)} in README.md"
    assert "--db PATH" in section
