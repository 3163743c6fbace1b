"""Issue 14's faults, each reproduced in process: the bot goes on, answers, and says why.

Updates go the whole way here (fake getUpdates → bot.transport → PTB's Updater → handlers)
through :mod:`pollbot`, unless a test is about a single handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from pathlib import Path

import httpx
import pytest
from botchat import BOT_NAME, PRIVATE, button_data, running_bot
from pollbot import polling_bot
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from bot import render
from bot.app import build_application
from bot.config import Settings
from bot.fake_telegram.api import FakeBotAPI
from bot.runner import serve
from bot.webhook import SECRET_HEADER, WebhookConfig

CHAT = 6060


async def test_an_unparseable_update_is_acknowledged_and_the_next_one_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with polling_bot(tmp_path / "q.db") as bot:
        bad = bot.fake.unparseable_update()
        bot.fake.user_message("/quote 3", chat_id=CHAT)
        await bot.fake.wait_for_sent(1, chat_id=CHAT)
        polls = len(bot.fake.calls_to("getUpdates"))
        await asyncio.sleep(0.3)
        assert len(bot.fake.calls_to("getUpdates")) - polls <= 2  # no busy loop
        assert bot.fake.updates == []  # both acknowledged
        assert bad["update_id"] in bot.processed
    skipped = [r for r in caplog.records if "unparseable update" in r.getMessage()]
    assert len(skipped) == 1 and "secret words" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "CRITICAL"]


async def test_a_lone_surrogate_in_a_command_is_answered(tmp_path: Path) -> None:
    async with polling_bot(tmp_path / "q.db") as bot:
        for text in ("/search torture \ud800", "/who \udfff hall", "/quote \ud83d"):
            bot.fake.user_message(text, chat_id=CHAT)
        sent = await bot.fake.wait_for_sent(3, chat_id=CHAT)
        assert bot.errors == []
        assert all(render.ERROR not in m.text for m in sent)
        assert "Julia Hall" in sent[1].text


@pytest.mark.parametrize("data", ["w:1", "c:1", "q:w:hall", "q:s:torture", "p:abc:1", "zz"])
async def test_every_press_on_an_inline_message_is_answered(tmp_path: Path, data: str) -> None:
    async with polling_bot(tmp_path / "q.db") as bot:
        update = bot.fake.inline_callback_query(user_id=CHAT, data=data)
        await bot.wait_processed(1)
        assert bot.fake.unanswered_queries() == []
        answer = bot.fake.calls_to("answerCallbackQuery")[-1]
        assert answer["callback_query_id"] == update["callback_query"]["id"]
        assert bot.errors == []


async def test_deep_links_count_against_the_allowance(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        lookups = 0
        for i in range(60):  # one user, well within a second
            payload = f"q_{i % 9 + 1}" if i % 2 else "case_ablyazov"
            sent = await bot.send(f"/start {payload}", user_id=CHAT, chat_id=CHAT)
            lookups += sum("#" in m.text and "/start" not in m.text for m in sent)
        burst = bot.app.bot_data.flood.private.burst
        assert lookups <= burst


@pytest.mark.parametrize("method", ["editMessageText", "answerCallbackQuery"])
@pytest.mark.parametrize("fault", ["server_error", "timeout", "dropped_connection"])
async def test_an_edit_or_an_answer_is_retried(tmp_path: Path, method: str, fault: str) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        (shown,) = await bot.send("/case ablyazov")
        bot.fake.inject(method, fault, times=1)
        await bot.press(shown, button_data(shown, "▶"))
        assert bot.fake.unanswered_queries() == []
        edits = [m for m in bot.fake.sent if m.method == "editMessageText"]
        assert len(edits) == 1 and "2/" in edits[0].text


async def test_an_edit_that_arrived_before_its_timeout_is_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        (shown,) = await bot.send("/case ablyazov")
        bot.fake.inject("answerCallbackQuery", "timeout_after_send", times=1)
        bot.fake.inject("editMessageText", "timeout_after_send", times=1)
        await bot.press(shown, button_data(shown, "▶"))
        # The repeats were refused ("query is too old", "not modified"): the first arrived.
        assert {e[0] for e in bot.fake.errors} == {"answerCallbackQuery", "editMessageText"}
        edits = [m for m in bot.fake.sent if m.method == "editMessageText"]
        assert len(edits) == 1 and "2/" in edits[0].text
        assert all(render.ERROR not in m.text for m in bot.fake.sent)
    assert "update failed" not in caplog.text


@pytest.mark.parametrize("fault", ["network_error", "connect_timeout"])
async def test_a_reply_that_never_left_is_sent_again(tmp_path: Path, fault: str) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        bot.fake.inject("sendMessage", fault, times=1)
        sent = await bot.send("/quote 2")
        assert len(sent) == 1 and "#2" in sent[0].text


@pytest.mark.parametrize("fault", ["timeout_after_send", "dropped_connection", "malformed_json"])
async def test_a_reply_that_may_have_arrived_is_not_sent_twice(tmp_path: Path, fault: str) -> None:
    async with running_bot(tmp_path / "q.db") as bot:
        bot.fake.inject("sendMessage", fault, times=1)
        await bot.send("/quote 2")
        quotes = [m for m in bot.fake.messages_to(PRIVATE) if "#2" in m.text]
        assert len(quotes) <= 1


async def test_a_deeply_nested_webhook_body_gets_400_and_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeBotAPI(username=BOT_NAME)
    app = build_application(
        Settings(db_path=tmp_path / "q.db"),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=AIORateLimiter(),
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = WebhookConfig(
        url="https://bot.example.org/hook", listen="127.0.0.1", port=port, secret="s3cret-Tok"
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, config, stop))
    nested = [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001,
    ]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    await client.get("/healthz")
                    break
                await asyncio.sleep(0.05)
            caplog.clear()
            for body in nested:
                answer = await client.post(
                    "/hook", content=body, headers={SECRET_HEADER: "s3cret-Tok"}
                )
                assert answer.status_code == 400
    finally:
        stop.set()
        await asyncio.wait_for(serving, 10)
    rejected = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(rejected) == len(nested), [r.getMessage() for r in rejected]
    assert "Traceback" not in caplog.text and "RecursionError" in caplog.text
