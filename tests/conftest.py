"""Shared fixtures: the seed catalog, a seeded store in tmp_path, an isolated environment;
and the check that no test leaves a thread running (an unclosed store's thread)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore

TEST_DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def no_thread_left_behind() -> Iterator[None]:
    """Fail a test that leaves a non-daemon thread running, such as the thread of a store it
    never closed: in the bot, such a thread keeps the process from exiting. (Autouse, so it
    is torn down after the test's event loop is closed.)"""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0  # room for threads that are already finishing
    while left := [
        t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon
    ]:
        if time.monotonic() > deadline:
            pytest.fail(f"the test left threads running: {sorted(t.name for t in left)}")
        left[0].join(0.05)


@pytest.fixture
def test_data() -> Path:
    """The folder of fixture documents (second.txt, second.csv, second.json, mcdonald.*)."""
    return TEST_DATA


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.load(data_file(CATALOG_FILE))


@pytest.fixture
async def seeded_store(tmp_path: Path) -> AsyncIterator[QuoteStore]:
    store = await QuoteStore.open(tmp_path / "quotes.db")
    await store.seed()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty tmp_path (no .env) with no bot settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("QUOTEBOT_", "TELEGRAM_", "WEBHOOK_")) or name == "LOG_LEVEL":
            monkeypatch.delenv(name)
    return tmp_path
