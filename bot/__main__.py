"""Command line: ``quotebot <command>`` or ``python -m bot <command>``.

Each command opens the store (seeding it from ``data/`` when empty), does one thing, and
exits 0, or prints a one-line error and exits non-zero. No tracebacks for expected failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from bot.config import Settings, SettingsError, load_settings
from bot.corpus import Catalog, DocumentError
from bot.store import CATALOG_FILE, DATA_DIR, QuoteStore, StoreError

Command = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, int]]
COMMANDS: dict[str, Command] = {}


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


def emit_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


async def open_store(
    args: argparse.Namespace, settings: Settings, *, seed: bool = True
) -> QuoteStore:
    store = await QuoteStore.open(Path(args.db) if args.db else settings.db_path)
    if seed:
        await store.ensure_seeded(DATA_DIR)
    return store


@command("seed")
async def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings, seed=False) as store:
        report = await store.seed(Path(args.data))
    print(f"{report.source}: {report.added} added, {report.unchanged} already present")
    return 0


@command("import")
async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    catalog = Catalog.load(DATA_DIR / CATALOG_FILE)
    async with await open_store(args, settings) as store:
        report = await store.import_file(Path(args.file), catalog, args.source)
    print(f"{report.source}: {report.added} added, {report.unchanged} already present")
    return 0


@command("quotes")
async def cmd_quotes(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        quotes = await store.quotes()
    if args.json:
        emit_json([q.as_dict() for q in quotes])
        return 0
    for q in quotes:
        cases = f" [{', '.join(q.cases)}]" if q.cases else ""
        print(f"#{q.id} “{q.text}”\n    — {q.speaker}, {q.role}{cases}\n")
    return 0


@command("speakers")
async def cmd_speakers(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        speakers = await store.speakers()
    if args.json:
        emit_json(
            [
                {"name": s.name, "role": s.role, "organisation": s.organisation, "quotes": s.quotes}
                for s in speakers
            ]
        )
        return 0
    for s in speakers:
        print(f"{s.name} ({s.organisation or 'no organisation'}): {s.quotes} quote(s)")
    return 0


@command("cases")
async def cmd_cases(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        cases = await store.cases()
    if args.json:
        emit_json([{"slug": c.slug, "name": c.name, "quotes": c.quotes} for c in cases])
        return 0
    for c in cases:
        print(f"{c.name} ({c.slug}): {c.quotes} quote(s)")
    return 0


@command("stats")
async def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        stats = await store.stats()
    if args.json:
        emit_json(stats)
        return 0
    for name, value in stats.items():
        print(f"{name}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="quotebot", description="A Telegram bot that serves attributed quotes."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, *, lists: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", help="SQLite database file (default: QUOTEBOT_DB or quotebot.db)")
        if lists:
            p.add_argument("--json", action="store_true", help="print JSON")
        return p

    p = add("seed", "load data/statements.txt and data/catalog.toml into the database")
    p.add_argument(
        "--data", default=str(DATA_DIR), help="folder with statements.txt and catalog.toml"
    )
    p = add("import", "import a statements document, or a .csv or .json collection")
    p.add_argument("file", help="file to import")
    p.add_argument("--source", help="source name to record (default: the file name)")
    add("quotes", "list every quote, in source order", lists=True)
    add("speakers", "list speakers with their organisation and number of quotes", lists=True)
    add("cases", "list cases with their number of quotes", lists=True)
    add("stats", "counts of quotes, speakers, organisations, cases", lists=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
        return asyncio.run(COMMANDS[args.command](args, settings))
    except (SettingsError, StoreError, DocumentError, OSError) as exc:
        print(f"quotebot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
