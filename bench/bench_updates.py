"""Updates per second through the whole Application, against the fake Bot API.

Pushes a mix of updates (commands with typos, ◀ ▶ and speaker/case button presses, inline
queries) through the real quotebot Application over a synthetic corpus, and, in the same run,
through a baseline Application whose handlers reply with a constant. All use the same fake
Bot API transport and no rate limiter (pacing is Telegram's concern, not throughput's).
Each update is processed with ``process_update`` one after another, so per-update time is
the whole cost: handler, lookup, rendering, and the Bot API round trip.

A third Application, the replay floor, makes for each update exactly the Bot API calls the
real bot made for it (same methods and parameters, recorded from the fake) through the same
PTB pipeline, with no lookup, rendering or handler logic. It is what the required replies
cost on their own: ``replay_vs_baseline`` bounds what any implementation of these replies
can reach against the baseline, ``bot_vs_replay`` is what the bot's own work costs on top.

    .venv/bin/python bench/bench_updates.py --scale 1000000 --updates 3000

The corpus database is bench_search's (``bench/out/bench-<scale>.db``); it is built with the
same generator when missing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import resource
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_search import build, typo  # noqa: E402
from telegram import (  # noqa: E402
    InlineQueryResultArticle,
    InputFile,
    InputTextMessageContent,
    Message,
    TelegramObject,
    Update,
)
from telegram.error import TelegramError  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import build_application, start_resources, stop_resources  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.fake_telegram.api import FakeBotAPI  # noqa: E402
from bot.fake_telegram.state import SentMessage  # noqa: E402
from bot.store import QuoteStore  # noqa: E402

OUT = ROOT / "bench" / "out"
# What PTB's own methods deserialize these calls' results into; the replay does the same.
RETURN_TYPES: dict[str, type[TelegramObject]] = dict.fromkeys(
    ("sendMessage", "editMessageText", "editMessageReplyMarkup"), Message
)
# Ids a replayed call must take from the update being processed, not from the recording.
QUERY_IDS = {"callback_query_id": "callback_query", "inline_query_id": "inline_query"}


@dataclass
class Trace:
    """Per update of a drive: the Bot API calls it caused and the update it was."""

    calls: list[list[tuple[str, dict[str, Any]]]] = field(default_factory=list)
    updates: list[tuple[Any, ...]] = field(default_factory=list)  # (kind, chat, message, data)
    index: int = -1  # the update being processed


def time_fake_server(fake: FakeBotAPI) -> list[float]:
    """Sum the time the fake spends answering requests (Telegram's side, not the bot's)."""
    spent = [0.0]
    answer = fake.handle

    async def handle(path: str, query: str, ctype: str, body: bytes) -> tuple[int, Any]:
        t0 = time.perf_counter()
        try:
            return await answer(path, query, ctype, body)
        finally:
            spent[0] += time.perf_counter() - t0

    fake.handle = handle  # type: ignore[method-assign]
    return spent


async def workload(db: Path, count: int, seed: int) -> list[tuple[str, str]]:
    """(kind, text) pairs: commands with typos, 'press' markers and inline queries."""
    rng = random.Random(seed)
    store = await QuoteStore.open(db)
    speakers = await store.speakers()
    cases = await store.cases()
    quotes = await store.get_quotes([rng.randrange(1, 1000) for _ in range(200)])
    await store.close()
    words = [w for q in quotes for w in q.text.split() if len(w) >= 6 and w.isalpha()]
    plan: list[tuple[str, str]] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.2:
            name = rng.choice(speakers).name.split()[-1]
            plan.append(("command", f"/who {typo(name, rng, 1) if len(name) > 4 else name}"))
        elif roll < 0.3:
            plan.append(("command", f"/case {typo(rng.choice(cases).name.split()[-1], rng, 1)}"))
        elif roll < 0.5:
            picked = [typo(w, rng, rng.choice((0, 1, 2))) for w in rng.sample(words, 2)]
            plan.append(("command", "/search " + " ".join(picked)))
        elif roll < 0.75:
            plan.append(("press", ""))
        else:
            plan.append(("inline", typo(rng.choice(words), rng, 1)))
    return plan


async def drive(
    app: Any,
    fake: FakeBotAPI,
    plan: list[tuple[str, str]],
    seed: int,
    pressable: list[tuple[SentMessage, str]] | None = None,
    trace: Trace | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed)
    pressable = list(pressable or [])
    times: dict[str, list[float]] = {"command": [], "press": [], "inline": []}
    first_call, first_error = len(fake.calls), len(fake.errors)
    server = time_fake_server(fake)
    started = time.perf_counter()
    for n, (kind, text) in enumerate(plan):
        chat = 10_000 + n % 500
        if kind == "press" and pressable:
            message, data = pressable[rng.randrange(len(pressable))]
            update = fake.callback_query(
                chat_id=message.chat_id, message_id=message.message_id, data=data
            )
        elif kind == "inline":
            update = fake.inline_query(text[:256], user_id=chat)
        else:
            kind = "command"
            update = fake.user_message(text or "/who hall", chat_id=chat)
        before, mark = len(fake.sent), len(fake.calls)
        if trace is not None:
            trace.index = n
            target = update.get("callback_query") or {}
            message_id = target.get("message", {}).get("message_id")
            trace.updates.append((kind, chat, message_id, target.get("data", text)))
        t0 = time.perf_counter()
        await app.process_update(Update.de_json(update, app.bot))
        times[kind].append(time.perf_counter() - t0)
        if trace is not None:
            trace.calls.append(fake.calls[mark:])
        for sent in fake.sent[before:]:
            for row in (sent.reply_markup or {}).get("inline_keyboard", []):
                pressable += [(sent, b["callback_data"]) for b in row if "callback_data" in b]
        pressable = pressable[-2000:]
        fake.updates.clear()  # processed directly; nobody polls the queue
    elapsed = time.perf_counter() - started
    every = [t for ts in times.values() for t in ts]
    calls = Counter(method for method, _ in fake.calls[first_call:])
    errors = Counter(f"{m}: {d}" for m, _, d in fake.errors[first_error:])

    def ms(values: list[float], q: float) -> float:
        return (
            round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 2)
            if len(values) > 2
            else 0.0
        )

    return {
        "updates": len(every),
        "updates_per_s": round(len(every) / elapsed, 1),
        "p50_ms": ms(every, 50),
        "p99_ms": ms(every, 99),
        "by_kind": {
            k: {"n": len(v), "p50_ms": ms(v, 50), "p99_ms": ms(v, 99)} for k, v in times.items()
        },
        "api_calls_per_update": round(calls.total() / max(len(every), 1), 3),
        # Inside the totals above: the fake's own work (HTML parsing, payload checks).
        "fake_api_ms_per_update": round(server[0] * 1000 / max(len(every), 1), 3),
        "api_calls": dict(calls.most_common()),
        "api_errors": dict(errors.most_common()),
    }


async def run_bot(db: Path, plan: list[tuple[str, str]], seed: int, trace: Trace) -> dict[str, Any]:
    fake = FakeBotAPI()
    app = build_application(
        Settings(db_path=db),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0),
    )
    await app.initialize()
    t0 = time.perf_counter()
    await start_resources(app)
    ready = time.perf_counter() - t0
    # Not replayed: the replay floor covers what updates cost, not startup.
    outside = Counter(method for method, _ in fake.calls)
    try:
        result = await drive(app, fake, plan, seed, trace=trace)
        answers = app.bot_data.lookup.answers
        # Lookups answered from memory (repeated queries, the next inline page).
        result["remembered_answers"] = {"hits": answers.hits, "misses": answers.misses}
    finally:
        await stop_resources(app)
        await app.shutdown()
    result["start_s"] = round(ready, 2)
    result["calls_outside_updates"] = dict(outside)
    return result


def plain_application(fake: FakeBotAPI, letter: str) -> Any:
    """A bare PTB Application on ``fake`` with the bot's limiter settings, for the baseline
    and the replay (``letter`` makes each one's fake token its own)."""
    request = HTTPXRequest(httpx_kwargs={"transport": fake.transport()})
    return (
        ApplicationBuilder()
        .token("123456:" + letter * 35)
        .request(request)
        .get_updates_request(request)
        .rate_limiter(AIORateLimiter(overall_max_rate=0, group_max_rate=0))
        .build()
    )


async def run_baseline(plan: list[tuple[str, str]], seed: int) -> dict[str, Any]:
    fake = FakeBotAPI()
    app = plain_application(fake, "b")

    async def constant_reply(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_message:
            await update.effective_message.reply_text("ok")

    async def constant_press(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query:
            await update.callback_query.answer("ok")

    async def constant_inline(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        if update.inline_query:
            article = InlineQueryResultArticle("1", "ok", InputTextMessageContent("ok"))
            await update.inline_query.answer([article])

    app.add_handler(MessageHandler(filters.ALL, constant_reply))
    app.add_handler(CallbackQueryHandler(constant_press))
    app.add_handler(InlineQueryHandler(constant_inline))
    await app.initialize()
    # The baseline's replies carry no buttons: its presses go to one earlier message.
    await app.process_update(Update.de_json(fake.user_message("/start", chat_id=1), app.bot))
    try:
        return await drive(app, fake, plan, seed, pressable=[(fake.sent[0], "x")])
    finally:
        await app.shutdown()


async def run_replay(plan: list[tuple[str, str]], seed: int, recorded: Trace) -> dict[str, Any]:
    """The replay floor: each update makes the calls the bot made for it, and nothing else."""
    fake = FakeBotAPI()
    app = plain_application(fake, "r")
    trace = Trace()
    failures: Counter[str] = Counter()

    async def replay(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        for method, params in recorded.calls[trace.index]:
            kwargs = dict(params)
            for key, kind in QUERY_IDS.items():
                if key in kwargs:
                    kwargs[key] = getattr(update, kind).id
            for key, value in kwargs.items():
                if isinstance(value, dict) and isinstance(value.get("data"), bytes):
                    # An upload (sendDocument), recorded as the fake received it: send it again.
                    kwargs[key] = InputFile(value["data"], filename=value["filename"])
            try:
                await context.bot.do_api_request(
                    method, api_kwargs=kwargs, return_type=RETURN_TYPES.get(method)
                )
            except TelegramError as err:
                failures[f"{method}: {err.message}"] += 1

    app.add_handler(MessageHandler(filters.ALL, replay))
    app.add_handler(CallbackQueryHandler(replay))
    app.add_handler(InlineQueryHandler(replay))
    await app.initialize()
    try:
        with warnings.catch_warnings():
            # do_api_request warns that bot.send_message etc. exist; that is the point here.
            warnings.filterwarnings("ignore", message="Please use 'Bot[.]")
            result = await drive(app, fake, plan, seed, trace=trace)
    finally:
        await app.shutdown()
    result["replay_errors"] = dict(failures.most_common())
    result["replay_check"] = {
        "same_updates": trace.updates == recorded.updates,
        "updates_with_different_calls": sum(
            _without_query_ids(mine) != _without_query_ids(theirs)
            for mine, theirs in zip(trace.calls, recorded.calls, strict=True)
        ),
    }
    return result


def _without_query_ids(calls: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    """The calls with the ids the replay takes from its own updates left out."""
    return [(m, {k: v for k, v in p.items() if k not in QUERY_IDS}) for m, p in calls]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    db = OUT / f"bench-{args.scale}.db"
    if not db.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"building {db} …", flush=True)
        await build(args.scale, db, reuse=False, generator="gen")
    plan = await workload(db, args.updates, args.seed)
    baseline = await run_baseline(plan, args.seed)
    trace = Trace()
    bot = await run_bot(db, plan, args.seed, trace)
    gc.collect()  # the bot's indexes are gone; do not let the replay pay for collecting them
    replay = await run_replay(plan, args.seed, trace)

    def ratio(a: dict[str, Any], b: dict[str, Any]) -> float:
        return round(float(a["updates_per_s"]) / float(b["updates_per_s"]), 3)

    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "scale": args.scale,
        "bot": bot,
        "baseline": baseline,
        "replay": replay,
        "bot_vs_baseline": ratio(bot, baseline),
        "replay_vs_baseline": ratio(replay, baseline),
        "bot_vs_replay": ratio(bot, replay),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000, help="quotes in the corpus")
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    report = asyncio.run(main_async(parser.parse_args()))
    print(json.dumps(report, indent=1))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (OUT / f"updates-{stamp}.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
