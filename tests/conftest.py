"""Shared fixtures: the seed catalog, a seeded store in tmp_path, an isolated environment."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.catalog import Catalog
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import QuoteStore

TEST_DATA = Path(__file__).resolve().parent / "data"


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
