"""Fault injection at scale (issue 14's closing table): lost, duplicated, hung.

Three runs, each printing one line:

* ``signals``: ``quotebot run`` as a process against the fake Bot API over HTTP, stopped by a
  random sequence of 1-4 SIGINT/SIGTERM within milliseconds, at a random moment (during
  start-up or while serving). Hung: not ended within 15 s. Database checked after each.
* ``wire``: the real Application polling the fake, with random faults on getUpdates and on
  the replies (timeouts, 5xx, 429, malformed JSON, dropped connections, refused
  connections, lost answers) and unparseable updates mixed in; each command is a distinct
  ``/quote N`` from its own chat. Lost: a command with no answer at all; duplicated: the
  quote sent twice to one chat.
* ``fuzz``: the hypothesis test of generated updates with ``--examples`` batches.

    .venv/bin/python bench/bench_faults.py --signals 30 --commands 2000 --examples 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pollbot import polling_bot  # noqa: E402

from bot.fake_telegram.api import FakeBotAPI  # noqa: E402
from bot.fake_telegram.server import FakeServer  # noqa: E402

TOKEN = "987654321:AAH" + "b3nchF4ults" * 2 + "abcdefghij"


def signals_run(runs: int, seed: int) -> str:
    rng = random.Random(seed)
    hung = damaged = bad_rc = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp, FakeServer(FakeBotAPI()) as server:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("QUOTEBOT_", "TELEGRAM_"))
            }
            env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=server.url)
            env.update(QUOTEBOT_DB=f"{tmp}/q.db", LOG_LEVEL="WARNING")
            child = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if rng.random() < 0.7:  # while serving
                server.wait_until(lambda fake: fake.calls_to("getUpdates"), within=30)
            else:  # during start-up
                time.sleep(rng.uniform(0.05, 1.5))
            for _ in range(rng.randint(1, 4)):
                child.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM]))
                time.sleep(rng.uniform(0, 0.02))
            try:
                rc = child.wait(15)
            except subprocess.TimeoutExpired:
                hung += 1
                child.kill()
                child.wait()
                continue
            bad_rc += rc not in (0, 130, -2, -15)  # a signal before Python set up: default
            db = Path(f"{tmp}/q.db")
            if db.exists():
                with sqlite3.connect(db) as conn:
                    damaged += conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    return (
        f"signals: {runs} runs; hung {hung}, damaged databases {damaged}, odd exit codes {bad_rc}"
    )


POLL_FAULTS = ["timeout", "server_error", "retry_after", "malformed_json", "dropped_connection"]
POLL_FAULTS += ["network_error", "timeout_after_send"]
REPLY_FAULTS = ["network_error", "connect_timeout", "timeout_after_send", "malformed_json"]
REPLY_FAULTS += ["dropped_connection", "timeout", "server_error"]


async def wire_run(commands: int, seed: int) -> str:
    rng = random.Random(seed)
    faults = 0
    with tempfile.TemporaryDirectory() as tmp:
        async with polling_bot(Path(tmp) / "q.db") as bot:
            fake, sent_updates, chats = bot.fake, 0, []
            for n in range(commands):
                if rng.random() < 0.05:
                    fake.inject("getUpdates", rng.choice(POLL_FAULTS), retry_after=1)
                    faults += 1
                chat = 100_000 + n
                if rng.random() < 0.1:
                    fake.inject("sendMessage", rng.choice(REPLY_FAULTS), chat_id=chat)
                    faults += 1
                if rng.random() < 0.02:
                    fake.unparseable_update()
                    sent_updates += 1
                    faults += 1
                fake.user_message(f"/quote {n % 9 + 1}", chat_id=chat)
                chats.append((chat, n % 9 + 1))
                sent_updates += 1
                if n % 50 == 49:
                    await bot.wait_processed(sent_updates, within=120)
            await bot.wait_processed(sent_updates, within=120)
            await asyncio.sleep(0.5)
            lost = duplicated = apologies = 0
            for chat, number in chats:
                texts = [m.text for m in fake.messages_to(chat)]
                quotes = sum(f"#{number}" in t for t in texts)
                lost += not texts
                duplicated += quotes > 1
                apologies += quotes == 0 and bool(texts)
            errors = len(bot.errors)
    return (
        f"wire: {commands} commands, {faults} faults injected; lost {lost}, duplicated "
        f"{duplicated}, answered with the apology only {apologies}, failed sends apologised for "
        f"{errors}"
    )


FUZZ_TEST = "tests/test_fuzz_updates.py"


def fuzz_run(examples: int) -> str:
    env = {**os.environ, "QUOTEBOT_FUZZ_EXAMPLES": str(examples)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", FUZZ_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("fuzz:")), "fuzz: no count")
    return f"{line}; pytest rc {done.returncode}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", type=int, default=20, help="process runs to signal")
    parser.add_argument("--commands", type=int, default=1000, help="commands through faults")
    parser.add_argument("--examples", type=int, default=500, help="hypothesis batches")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    if args.signals:
        print(signals_run(args.signals, args.seed), flush=True)
    if args.commands:
        print(asyncio.run(wire_run(args.commands, args.seed)), flush=True)
    if args.examples:
        print(fuzz_run(args.examples), flush=True)


if __name__ == "__main__":
    main()
