"""Command line: ``quotebot <command>`` or ``python -m bot <command>``.

Each command opens the store (seeding it from ``data/`` when empty), does one thing, and
exits 0, or prints a one-line error and exits non-zero. No tracebacks for expected failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.catalog import Catalog
from bot.config import Settings, SettingsError, check_webhook_url, load_settings
from bot.connection import database_directory_problem
from bot.corpus import Quote, publication_from_fields, read_file
from bot.corrections import (
    CORRECTABLE,
    SOURCE_FIELDS,
    CorrectionError,
    close_report,
    correct_quote,
    open_reports,
    quote_history,
    withdraw_quote,
)
from bot.curation import change_lines, report_lines, review_lines
from bot.documents import Progress
from bot.logs import setup_logging
from bot.progress import ImportProgress
from bot.provenance import UNKNOWN, ProvenanceError, Publication
from bot.schema import StoreError
from bot.search.sql import refresh_index
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore, stored_speaker_names
from bot.text import DocumentError

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
    args: argparse.Namespace, settings: Settings, *, seed: bool = True, check: bool = False
) -> QuoteStore:
    """The store (seeded when empty); ``check``: refuse a damaged file (quick_check)."""
    store = await QuoteStore.open(settings.db_path, check=check)
    if seed:
        try:
            await store.ensure_seeded()
        except BaseException:
            await store.close()  # an open connection's thread would keep the process alive
            raise
    return store


@command("seed")
async def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings, seed=False) as store:
        report = await store.seed(Path(args.data) if args.data else None)
    print(f"{report.source}: {report.added} added, {report.unchanged} already present")
    return 0


@dataclass(frozen=True)
class _ImportPlan:
    path: Path
    catalog: Catalog
    quotes: Iterator[Quote]  # read from the file while the import writes them
    progress: Progress
    settings: Settings
    creates_database: bool


def _plan_import(args: argparse.Namespace, settings: Settings) -> _ImportPlan:
    """Everything the import checks before it opens the database (sync: files only)."""
    catalog = Catalog.load(data_file(CATALOG_FILE))
    path = Path(args.file)
    publication = document_publication(args, path)
    if not path.is_file():
        raise DocumentError(str(path), 1, "no such file")
    # The speakers already stored win when an attribution line is split.
    known = [*stored_speaker_names(settings.db_path), *(args.speaker or [])]
    if args.dry_run and not settings.db_path.is_file():
        # Nothing to write into: show what an import into a fresh (seeded) database does.
        settings = replace(settings, db_path=Path(":memory:"))
    progress = Progress(total=path.stat().st_size)
    quotes = read_file(
        path, catalog, args.source, known_speakers=known, publication=publication, progress=progress
    )
    creates = str(settings.db_path) != ":memory:" and not settings.db_path.exists()
    return _ImportPlan(path, catalog, quotes, progress, settings, creates)


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@command("import")
async def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    plan = _plan_import(args, settings)
    # The document is read while it is written, in one transaction: a bad record anywhere
    # rolls everything back, and memory stays flat however large the file.
    try:
        async with await open_store(args, plan.settings) as store:
            with ImportProgress(plan.progress, args.quiet) as bar:
                report = await store.add_quotes(
                    bar.counted(plan.quotes),
                    plan.catalog,
                    args.source or plan.path.name,
                    dry_run=args.dry_run,
                )
            if report.added and not args.dry_run:
                # Built now rather than by the bot's next start (seconds at 1M quotes).
                await store.run(refresh_index)
    except DocumentError:
        if plan.creates_database:  # the database this command created goes with it
            _remove_database(plan.settings.db_path)
        raise
    for line in review_lines(report):
        print(line)
    return 0


@command("quotes")
async def cmd_quotes(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        quotes = await store.quotes()
    if args.json:
        emit_json([q.as_dict() for q in quotes])
        return 0
    from bot.render import source_text

    for q in quotes:
        cases = f" [{', '.join(q.cases)}]" if q.cases else ""
        source = source_text(q.publication)
        state = ""
        if q.withdrawn:
            state = f"    WITHDRAWN on {q.withdrawn.at[:10]}: {q.withdrawn.reason}\n"
        elif q.corrected_at:
            state = f"    corrected {q.corrected_at[:10]} (quotebot history {q.id})\n"
        print(f"#{q.id} “{q.text}”\n    — {q.speaker}, {q.role}{cases}\n    {source}\n{state}")
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
    async with await open_store(args, settings, check=True) as store:
        stats = await store.stats()
    if args.json:
        emit_json(stats)
        return 0
    for name, value in stats.items():
        print(f"{name}: {value}")
    return 0


@command("correct")
async def cmd_correct(args: argparse.Namespace, settings: Settings) -> int:
    given = {f: getattr(args, f) for f in (*CORRECTABLE, *SOURCE_FIELDS)}
    given = {f: v for f, v in given.items() if v is not None}
    async with await open_store(args, settings) as store:
        changes = await store.run(correct_quote, args.id, given, args.reason)
    print(f"#{args.id} corrected ({len(changes)} change{'s' if len(changes) != 1 else ''}):")
    for line in change_lines(changes):
        print(line)
    return 0


@command("withdraw")
async def cmd_withdraw(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        change = await store.run(withdraw_quote, args.id, args.reason)
    print(f"#{args.id} withdrawn on {change.at[:10]}: {change.reason}")
    print("It keeps its number; /quote and old links say it was withdrawn, and why.")
    return 0


@command("history")
async def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        if await store.get_quote_record(args.id) is None:
            raise CorrectionError(f"there is no quote #{args.id}")
        changes = await store.run(quote_history, args.id)
    if args.json:
        emit_json([vars(c) for c in changes])
        return 0
    if not changes:
        print(f"#{args.id} has not been changed since it was added.")
        return 0
    print(f"#{args.id}: {len(changes)} change{'s' if len(changes) != 1 else ''}")
    for line in change_lines(changes):
        print(line)
    return 0


@command("reports")
async def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    async with await open_store(args, settings) as store:
        if args.action == "close":
            if args.report_id is None or not args.reason:
                raise CorrectionError("use: quotebot reports close ID --reason '…'")
            closed = await store.run(close_report, args.report_id, args.reason)
            print(f"Report #{closed.id} closed: {closed.close_reason}")
            return 0
        reports = await store.run(open_reports)
    if args.json:
        emit_json([vars(r) for r in reports])
        return 0
    for line in report_lines(reports):
        print(line)
    return 0


async def check_database(args: argparse.Namespace, settings: Settings) -> None:
    store = await open_store(args, settings, check=True)
    await store.close()


NO_TOKEN = """No TELEGRAM_BOT_TOKEN is set, so this is the offline chat console.
To run the real bot: talk to @BotFather on Telegram, send /newbot, and put the token it
gives you in .env as TELEGRAM_BOT_TOKEN=... (see .env.example). `quotebot chat` always
opens this console.
"""


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Long polling or webhook mode until SIGINT/SIGTERM (see :mod:`bot.runner`)."""
    from bot import runner
    from bot.app import build_application

    if settings.token is None:
        print(NO_TOKEN, file=sys.stderr)
        return asyncio.run(cmd_chat(args, settings))
    # The store opens inside the running application: say what is wrong before it starts.
    if problem := database_directory_problem(settings.db_path):
        raise SettingsError(f"QUOTEBOT_DB: {problem} (example: QUOTEBOT_DB=/data/quotebot.db)")
    # A damaged or too new database is refused now, in one line, before waiting for Telegram.
    asyncio.run(check_database(args, settings))
    webhook_url = settings.webhook_url  # checked when the settings were read
    if args.webhook:
        webhook_url = check_webhook_url(args.webhook, "--webhook")
    webhook = None
    if webhook_url:
        from bot.webhook import WebhookConfig, new_secret

        webhook = WebhookConfig(
            url=webhook_url,
            listen=args.listen or settings.webhook_listen,
            port=args.port or settings.webhook_port,
            secret=settings.webhook_secret or new_secret(),
        )
    # Before the Bot is built: PTB logs its URLs (token) and setWebhook's secret at DEBUG.
    setup_logging(settings.log_level, settings.token, secrets=[webhook.secret] if webhook else [])
    return runner.run(build_application(settings), webhook)


@command("chat")
async def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from bot.console import run_console

    setup_logging("WARNING", settings.token)
    return await run_console(settings)


@command("broadcast")
async def cmd_broadcast(args: argparse.Namespace, settings: Settings) -> int:
    """One quote-of-the-day pass now (same records as the bot: nothing twice on a day)."""
    from bot.daily.cli import run_broadcast_cli

    return await run_broadcast_cli(settings, dry_run=args.dry_run)


async def lookup_command(kind: str, args: argparse.Namespace, settings: Settings) -> int:
    """who/case/search: fuzzy lookup; an empty who/case query prints the listing."""
    from bot.search.service import Lookup

    query = " ".join(args.query).strip()
    if not query and kind in ("who", "case"):
        return await COMMANDS["speakers" if kind == "who" else "cases"](args, settings)
    async with await open_store(args, settings) as store:
        lookup = Lookup(store)
        await lookup.load()
        result = await getattr(lookup, kind)(query, limit=max(0, args.limit))
    if args.json:
        results = [
            {**h.quote.as_dict(), "score": h.score, "matched": [list(m) for m in h.matched]}
            for h in result.hits
        ]
        suggestions = [vars(s) for s in result.suggestions]
        emit_json({"results": results, "suggestions": suggestions} if args.suggest else results)
        return 0
    if not result.hits:
        print(f"Nothing found for “{query}”.")
        for s in result.suggestions:
            print(f"  Did you mean: {s.label}  (quotebot {s.command} {s.query})")
        return 0
    from bot.render import source_text

    print(f"{result.title or query}: {len(result.hits)} result(s)\n")
    for h in result.hits:
        q, text, end = h.quote, [], 0
        for start, stop in h.matched:
            text += [q.text[end:start], "[", q.text[start:stop], "]"]
            end = stop
        cases = f" [{', '.join(q.cases)}]" if q.cases else ""
        print(f"#{q.id} ({h.score:g}) “{''.join([*text, q.text[end:]])}”")
        print(f"    — {q.speaker}, {q.role}{cases}\n    {source_text(q.publication)}\n")
    return 0


@command("who")
async def cmd_who(args: argparse.Namespace, settings: Settings) -> int:
    return await lookup_command("who", args, settings)


@command("case")
async def cmd_case(args: argparse.Namespace, settings: Settings) -> int:
    return await lookup_command("case", args, settings)


@command("search")
async def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    return await lookup_command("search", args, settings)


@command("cite")
async def cmd_cite(args: argparse.Namespace, settings: Settings) -> int:
    """One quote's citation in a style, as the bot's /cite gives it (as plain text)."""
    from bot import citations

    style = citations.parse_style(args.style)
    if style is None:
        print(
            f"quotebot: unknown style {args.style!r}; styles: {', '.join(citations.STYLES)}",
            file=sys.stderr,
        )
        return 2
    async with await open_store(args, settings) as store:
        quote = await store.get_quote_record(args.id)
    if quote is None:
        print(f"quotebot: there is no quote #{args.id}", file=sys.stderr)
        return 1
    if quote.withdrawn:  # never cite a withdrawn statement
        when, why = quote.withdrawn.at[:10], quote.withdrawn.reason
        print(f"quotebot: quote #{args.id} was withdrawn on {when}: {why}", file=sys.stderr)
        return 1
    print(citations.entry(quote, style))
    return 0


@command("export")
async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Every quote a filter selects, with citations, as Markdown, CSV or CSL-JSON; no cap."""
    import datetime as dt

    from bot import export
    from bot.search.service import Lookup

    fmt = export.parse_format(args.format)
    if fmt is None:
        print(
            f"quotebot: unknown format {args.format!r}; formats: {', '.join(export.FORMATS)}",
            file=sys.stderr,
        )
        return 2
    what = " ".join(args.filter).strip()
    async with await open_store(args, settings) as store:
        lookup = Lookup(store)
        await lookup.load()
        selection, result = await export.select(lookup, export.Kind.SEARCH, what)
    if selection is None:
        print(f"Nothing found for “{what}”; nothing written.", file=sys.stderr)
        for s in result.suggestions:
            print(f"  Did you mean: {s.label}  (quotebot {s.command} {s.query})", file=sys.stderr)
        return 1
    document = export.build(selection, fmt, dt.datetime.now(dt.UTC))
    if args.output in (None, "-"):
        sys.stdout.write(document.data.decode("utf-8"))
    else:
        await asyncio.to_thread(Path(args.output).write_bytes, document.data)
        print(f"{args.output}: {len(selection.quotes)} quote(s), {export.LABELS[fmt]}")
    return 0


SOURCE_OPTIONS = {
    "url": "where the statements were published (http or https)",
    "published": "publication date, YYYY, YYYY-MM or YYYY-MM-DD",
    "publisher": "who published them, e.g. Amnesty International",
    "title": "the publication's title",
    "kind": "press release, statement, dispatch …",
    "status": "verified (words read at the URL), likely (default with a URL) or unknown",
}


def document_publication(args: argparse.Namespace, path: Path) -> Publication:
    """The one source a statements text document's quotes share, from the command line."""
    given = {name: getattr(args, name) or "" for name in SOURCE_OPTIONS}
    if not any(given.values()):
        return UNKNOWN
    if path.suffix.lower() in (".csv", ".json"):
        raise SettingsError(
            f"{path}: a {path.suffix} document gives its source per row (columns "
            "url, published, publisher, title, kind); the --url … options are for statements text"
        )
    try:
        return publication_from_fields(given)
    except ProvenanceError as exc:
        raise SettingsError(f"{path}: {exc}") from None


class CommandLine(argparse.ArgumentParser):
    """The ``quotebot`` parser, with each subcommand's parser by name (tests/test_readme.py
    checks that the README documents every one of them and their options)."""

    commands: dict[str, argparse.ArgumentParser]


def build_parser() -> CommandLine:
    parser = CommandLine(
        prog="quotebot", description="A Telegram bot that serves attributed quotes."
    )
    parser.commands = {}
    db_help = "SQLite database file (default: QUOTEBOT_DB or quotebot.db)"
    # `quotebot --db PATH who hall` and `quotebot who hall --db PATH` both work: the
    # subcommand's --db leaves the value alone unless it is given there (SUPPRESS).
    parser.add_argument("--db", metavar="PATH", help=db_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str, *, lists: bool = False) -> argparse.ArgumentParser:
        p = parser.commands[name] = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=db_help)
        if lists:
            p.add_argument("--json", action="store_true", help="print JSON")
        return p

    p = add("run", "run the bot (long polling); with no token, the offline chat console")
    p.add_argument("--webhook", metavar="URL", help="webhook mode at this https URL (WEBHOOK_URL)")
    p.add_argument("--listen", help="webhook listen address (WEBHOOK_LISTEN, default 0.0.0.0)")
    p.add_argument("--port", type=int, help="webhook port (WEBHOOK_PORT, default 8080)")
    add("chat", "talk to the bot in this terminal through an offline fake Telegram")
    p = add("seed", "load data/statements.txt and data/catalog.toml into the database")
    p.add_argument(
        "--data",
        metavar="DIR",
        help="folder with statements.txt and catalog.toml (default: the shipped data)",
    )
    p = add("import", "import a statements document, or a .csv or .json collection")
    p.add_argument("file", help="file to import")
    p.add_argument("--source", help="source name to record (default: the file name)")
    p.add_argument(
        "--speaker",
        action="append",
        metavar="NAME",
        help="a speaker's full name, to split attribution lines the import cannot (repeatable)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print what the import would create; write nothing"
    )
    p.add_argument("--quiet", action="store_true", help="no progress line on a terminal")
    for name, what in SOURCE_OPTIONS.items():
        p.add_argument(f"--{name}", help=f"statements text only: {what} (CSV/JSON: per row)")
    p = add("correct", "correct a quote's text, speaker, role or source; recorded with the reason")
    p.add_argument("id", type=int, help="the quote's number")
    p.add_argument("--text", help="the exact text, as the source has it")
    p.add_argument("--speaker", help="the speaker's full name")
    p.add_argument("--role", help="the speaker's role, as the source gives it")
    for name, what in SOURCE_OPTIONS.items():
        p.add_argument(f"--{name}", help=f"{what}; an empty value clears it")
    p.add_argument("--reason", required=True, help="why (kept in the quote's history)")
    p = add("withdraw", "withdraw a quote: it keeps its number but leaves every list")
    p.add_argument("id", type=int, help="the quote's number")
    p.add_argument("--reason", required=True, help="why (shown to anyone who opens it)")
    p = add("history", "every correction and withdrawal of a quote", lists=True)
    p.add_argument("id", type=int, help="the quote's number")
    p = add(
        "reports", "users' open reports (/report); close one with: reports close ID", lists=True
    )
    p.add_argument("action", nargs="?", choices=["list", "close"], default="list")
    p.add_argument("report_id", nargs="?", type=int, metavar="ID", help="the report to close")
    p.add_argument("--reason", help="why the report is closed (required with close)")
    add("quotes", "list every quote, in source order", lists=True)
    add("speakers", "list speakers with their organisation and number of quotes", lists=True)
    add("cases", "list cases with their number of quotes", lists=True)
    add("stats", "counts of quotes, speakers, organisations, cases", lists=True)
    p = add("broadcast", "deliver the quotes of the day that are due now, printing each")
    p.add_argument(
        "--dry-run", action="store_true", help="only show what would be sent (no token needed)"
    )
    p = add("cite", "a quote's citation: plain, apa, chicago, csl (CSL-JSON) or bibtex")
    p.add_argument("id", type=int, help="the quote's number")
    p.add_argument("--style", default="plain", help="plain (default), apa, chicago, csl, bibtex")
    p = add("export", "every quote a filter selects, with citations, as one document")
    p.add_argument("filter", nargs="+", help="case:NAME, who:NAME, org:NAME or free text")
    p.add_argument("--format", default="markdown", help="markdown (default), csv or csl (CSL-JSON)")
    p.add_argument("-o", "--output", help="file to write (default: standard output)")
    for name, help_text in (
        ("who", "quotes of a speaker or organisation (typos, partial names, Cyrillic)"),
        ("case", "quotes tagged with a case (typos, aliases, Cyrillic)"),
        ("search", "free-text search with typos; filters who:NAME case:NAME org:NAME"),
    ):
        p = add(name, help_text, lists=True)
        p.add_argument("query", nargs="*", help="what to look up (empty who/case: the listing)")
        p.add_argument("--limit", type=int, default=10, help="most results to show (default 10)")
        p.add_argument(
            "--suggest", action="store_true", help='with --json: {"results", "suggestions"}'
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        settings = load_settings()
        if args.db:  # every command takes --db; it overrides QUOTEBOT_DB
            settings = replace(settings, db_path=Path(args.db))
        if args.command == "run":
            return cmd_run(args, settings)
        return asyncio.run(COMMANDS[args.command](args, settings))
    except (SettingsError, StoreError, DocumentError, CorrectionError, OSError) as exc:
        print(f"quotebot: error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:  # e.g. "database is locked" by another writer
        print(f"quotebot: database error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
