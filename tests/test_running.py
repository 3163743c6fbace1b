"""Running the bot: start-up checks, the no-token console, and what reaches the logs."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from botchat import BOT_NAME
from telegram import Update
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from bot.__main__ import main
from bot.app import build_application, start_resources, stop_resources
from bot.config import Settings
from bot.fake_telegram.api import FakeBotAPI
from bot.logs import setup_logging

TOKEN = "987654321:AAH" + "k3yS3cr3t" * 3 + "xyzwv"  # 35 characters after the colon
SECRET_PART = TOKEN.split(":")[1]


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, sys.excepthook
    stream = io.StringIO()
    yield stream
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    sys.excepthook = hook


async def run_updates(tmp_path: Path, texts: list[str], fake: FakeBotAPI) -> None:
    app = build_application(
        Settings(token=TOKEN, db_path=tmp_path / "q.db"),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=AIORateLimiter(),
    )
    await app.initialize()
    await start_resources(app)
    try:
        for text in texts:
            update = fake.user_message(text, chat_id=4040)
            await app.process_update(Update.de_json(update, app.bot))
    finally:
        await stop_resources(app)
        await app.shutdown()


async def test_token_never_logged_at_debug_even_when_requests_fail(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    setup_logging("DEBUG", TOKEN, stream=captured_logs)
    fake = FakeBotAPI(username=BOT_NAME)
    fake.inject("sendMessage", "server_error", times=2)  # the reply and the apology both fail
    await run_updates(tmp_path, ["/quote 1", "/who hall"], fake)
    assert TOKEN in fake.token_seen  # the token was really used in request URLs
    logged = captured_logs.getvalue()
    assert "update failed" in logged and "/bot<token>/" in logged
    assert SECRET_PART not in logged and TOKEN not in logged
    assert all(line.startswith("ts=") for line in logged.splitlines())


async def test_user_texts_are_not_logged_at_info(
    tmp_path: Path, captured_logs: io.StringIO
) -> None:
    setup_logging("INFO", TOKEN, stream=captured_logs)
    fake = FakeBotAPI(username=BOT_NAME)
    fake.inject("sendMessage", "server_error", times=1)
    await run_updates(tmp_path, ["/search confidential informant torture"], fake)
    logged = captured_logs.getvalue()
    assert "update failed" in logged
    assert "confidential informant" not in logged
    assert SECRET_PART not in logged


def test_run_refuses_a_database_in_a_missing_directory(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    assert main(["run", "--db", str(isolated_env / "missing" / "q.db")]) == 2
    err = capsys.readouterr().err
    assert "QUOTEBOT_DB" in err and "does not exist" in err and SECRET_PART not in err


def test_run_refuses_a_malformed_token_without_echoing_it(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "12345:tooShortSecretValue")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "tooShortSecretValue" not in err


def test_run_without_token_explains_and_opens_the_console(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/who julia\n2\n/quote 3\n"))
    assert main(["run", "--db", str(isolated_env / "q.db")]) == 0
    out, err = capsys.readouterr()
    assert "@BotFather" in err and "quotebot chat" in err
    assert "Julia Hall" in out and "(pressed ▶)" in out and "2/2" in out
    assert "Kazakhstan persecutes opponents" in out


def test_console_is_scriptable_in_private_and_group_chats(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    script = "/help\n@ torture\n1\n/group\n/who@QuoteBot hrw\n/who@OtherBot hrw\n/frobnicate\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert main(["chat", "--db", str(isolated_env / "q.db")]) == 0
    out, err = capsys.readouterr()
    assert "/search" in out, err
    assert "you sent via @QuoteBot" in out
    after_group = out.split("now in a group chat")[1]
    assert "Human Rights Watch" in after_group
    assert after_group.count("bot:") == 1  # @OtherBot and unknown commands are ignored


def test_console_shows_a_file_the_bot_sends(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/export case:pavlov csv\n"))
    assert main(["chat", "--db", str(isolated_env / "q.db")]) == 0
    out, err = capsys.readouterr()
    assert re.search(
        r"bot sent a file: quotebot-case-pavlov-\d{8}-\d{4}\.csv \([\d,]+ bytes\)", out
    )
    assert "  | id,text,speaker," in out and "quote* for case:pavlov" in out, err
