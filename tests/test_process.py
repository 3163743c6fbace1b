"""``quotebot run`` as a real process against the fake Bot API over real HTTP.

Each test starts the bot as a child process (``python -m bot run``) pointed at a
:class:`bot.fake_telegram.server.FakeServer`, and checks what a supervisor would see: how it
stops on real signals, what it does when Telegram is down at start, and whether one bad
update stops it.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.fake_telegram.api import FakeBotAPI
from bot.fake_telegram.server import FakeServer

TOKEN = "987654321:AAH" + "pr0c3ssT3st" * 2 + "abcdefghij"
CHAT = 5150


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer(FakeBotAPI(username="QuoteBot"), hold_seconds=2) as running:
        yield running


def start_bot(server: FakeServer, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("QUOTEBOT_", "TELEGRAM_", "WEBHOOK_"))
    }
    environ.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=server.url,
        QUOTEBOT_DB=str(tmp_path / "q.db"),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        **env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", *args],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(child: subprocess.Popen[str], within: float = 10.0) -> tuple[int | None, str]:
    """Wait for the child to end; a hung child is killed and reported with rc None."""
    try:
        _, err = child.communicate(timeout=within)
        return child.returncode, err
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        return None, err


def polling(fake: FakeBotAPI) -> bool:
    return len(fake.calls_to("getUpdates")) >= 1


def answered(text: str) -> object:
    def check(fake: FakeBotAPI) -> bool:
        return any(text in sent.text for sent in fake.messages_to(CHAT))

    return check


def database_ok(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.parametrize(
    "signals",
    [
        (signal.SIGINT, signal.SIGINT),
        (signal.SIGTERM, signal.SIGINT),
        (signal.SIGINT, signal.SIGTERM, signal.SIGINT),
    ],
    ids=["INT-INT", "TERM-INT", "INT-TERM-INT"],
)
def test_signals_in_quick_succession_end_the_process(
    server: FakeServer, tmp_path: Path, signals: tuple[signal.Signals, ...]
) -> None:
    child = start_bot(server, tmp_path)
    server.wait_until(polling)
    server.call(lambda fake: fake.user_message("/quote 1", chat_id=CHAT))
    server.wait_until(answered("#1"))
    for number in signals:  # within a few milliseconds, as a double Ctrl-C or `kill -- -PGID`
        child.send_signal(number)
        time.sleep(0.003)
    rc, err = stop(child)
    assert rc is not None, f"the bot hung after {signals}: {err[-2000:]}"
    assert rc in (0, 130), err[-2000:]
    assert database_ok(tmp_path / "q.db")
    assert TOKEN.split(":")[1] not in err


def test_a_signal_during_start_up_ends_the_process(server: FakeServer, tmp_path: Path) -> None:
    server.call(lambda fake: fake.inject("getMe", "server_error", times=1000))
    child = start_bot(server, tmp_path)
    server.wait_until(lambda fake: fake.calls_to("getMe"))
    child.send_signal(signal.SIGINT)
    time.sleep(0.003)
    child.send_signal(signal.SIGINT)
    rc, err = stop(child)
    assert rc is not None, f"the bot hung: {err[-2000:]}"
    assert rc in (0, 130), err[-2000:]


def test_bot_api_down_at_start_is_retried_until_it_answers(
    server: FakeServer, tmp_path: Path
) -> None:
    server.call(lambda fake: fake.inject("getMe", "network_error", times=2))
    server.call(lambda fake: fake.inject("getMe", "server_error", times=1))
    child = start_bot(server, tmp_path)
    try:
        server.wait_until(polling, within=30)
        server.call(lambda fake: fake.user_message("/quote 1", chat_id=CHAT))
        server.wait_until(answered("#1"))
    finally:
        child.send_signal(signal.SIGTERM)
        rc, err = stop(child)
    assert rc == 0, err[-2000:]
    attempts = [line for line in err.splitlines() if "Bot API not reachable" in line]
    assert len(attempts) == 3, err[-3000:]  # one line per failed attempt, no traceback
    assert "Traceback" not in err and "CRITICAL" not in err


def test_a_wrong_token_at_start_is_not_retried(server: FakeServer, tmp_path: Path) -> None:
    server.call(lambda fake: setattr(fake, "valid_token", "1:other"))
    child = start_bot(server, tmp_path)
    rc, err = stop(child)
    assert rc == 2, err[-2000:]
    assert "TELEGRAM_BOT_TOKEN" in err and "Traceback" not in err
    assert TOKEN.split(":")[1] not in err


def test_an_unparseable_update_is_skipped_and_the_next_command_answered(
    server: FakeServer, tmp_path: Path
) -> None:
    child = start_bot(server, tmp_path)
    try:
        server.wait_until(polling)
        server.call(lambda fake: fake.unparseable_update())
        server.call(lambda fake: fake.user_message("/quote 2", chat_id=CHAT))
        server.wait_until(answered("#2"))
        polls_before = server.call(lambda fake: len(fake.calls_to("getUpdates")))
        time.sleep(1.0)
        polls_after = server.call(lambda fake: len(fake.calls_to("getUpdates")))
        pending = server.call(lambda fake: list(fake.updates))
    finally:
        child.send_signal(signal.SIGINT)
        rc, err = stop(child)
    assert rc in (0, 130), err[-2000:]
    assert pending == []  # acknowledged, not fetched again and again
    assert polls_after - polls_before <= 3
    skipped = [line for line in err.splitlines() if "unparseable update" in line]
    assert len(skipped) == 1, err[-3000:]
    assert "secret words" not in err and "CRITICAL" not in err
