"""The bot and another writer on one database (issue 14, item 4), and what opening refuses.

Another connection holds the write lock, as ``quotebot import`` does for the length of an
import: the bot's reads are answered at once, its writes wait and succeed, and the quotes the
import commits are found by the next lookup.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botchat import PRIVATE, running_bot

from bot import render
from bot.__main__ import main
from bot.catalog import Catalog
from bot.corpus import Quote
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore

HOLD = 2.0  # seconds the other writer keeps the lock


async def test_reads_never_wait_for_a_writer_and_writes_wait_for_the_lock(
    tmp_path: Path,
) -> None:
    db = tmp_path / "q.db"
    async with running_bot(db) as bot:
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # an import in progress in another process
        loop = asyncio.get_running_loop()
        loop.call_later(HOLD, holder.rollback)
        started = time.monotonic()
        answered: dict[str, float] = {}

        async def ask(text: str) -> None:
            await bot.send(text)
            answered[text] = time.monotonic() - started

        daily = asyncio.ensure_future(ask("/daily 09:00"))  # a write: meets the lock
        await asyncio.sleep(0.05)
        reads = ["/quote 1", "/who hall", "/search torture", "/case ablyazov"]
        await asyncio.gather(*(ask(text) for text in reads))
        await daily
        holder.close()
    texts = [m.text for m in bot.fake.messages_to(PRIVATE)]
    assert all(answered[text] < 1.0 for text in reads), answered
    assert answered["/daily 09:00"] >= HOLD - 0.1
    assert not any(render.ERROR in t or "locked" in t for t in texts), texts
    assert any("09:00" in t for t in texts)


async def test_quotes_an_import_commits_are_found_by_the_next_lookup(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    async with running_bot(db) as bot:
        assert "Nothing found" in (await bot.send("/search zanzibarite detainees"))[0].text
        other = await QuoteStore.open(db)  # another process's import, its own connection
        try:
            quote = Quote(
                "The zanzibarite detainees must be released.",
                "Ann Example",
                "Researcher",
                "Human Rights Watch",
                (),
                "late.json",
                1,
            )
            await other.add_quotes([quote], Catalog.load(data_file(CATALOG_FILE)), "late.json")
        finally:
            await other.close()
        (found,) = await bot.send("/search zanzibarite")
        assert "zanzibarite detainees" in found.text
        (typo,) = await bot.send("/search zanzibarrite")  # the typo index knows the word too
        assert "zanzibarite detainees" in typo.text


def test_a_newer_schema_is_refused_before_anything_changes(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "future.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE quotes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("PRAGMA user_version = 99")
    before = db.read_bytes()
    for command in (["stats"], ["quotes"], ["who", "hall"]):
        assert main([*command, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "newer" in err and "Traceback" not in err
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_damaged_database_is_refused_by_stats_and_run(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = isolated_env / "damaged.db"
    assert main(["stats", "--db", str(db)]) == 0
    capsys.readouterr()
    data = bytearray(db.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    for start in range(3 * page, len(data) - page, 5 * page):  # some interior pages
        data[start + 8 : start + page] = bytes([0xA5]) * (page - 8)
    db.write_bytes(bytes(data))
    assert main(["stats", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("damaged" in err or "malformed" in err), err
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUOTEBOT_", "TELEGRAM_"))}
    env.update(TELEGRAM_BOT_TOKEN="123456:" + "A" * 35, TELEGRAM_API_URL="http://127.0.0.1:9")
    run = subprocess.run(  # the Bot API is never reached: refused before it is asked
        [sys.executable, "-m", "bot", "run", "--db", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "damaged" in run.stderr, run.stderr
