"""Webhook mode end to end on 127.0.0.1: secret checked, bad bodies refused, /healthz."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import httpx
from botchat import BOT_NAME
from telegram.ext import AIORateLimiter
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.config import Settings
from bot.fake_telegram.api import FakeBotAPI
from bot.runner import serve
from bot.webhook import SECRET_HEADER, WebhookConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_serves_updates_with_the_secret_only(tmp_path: Path) -> None:
    fake = FakeBotAPI(username=BOT_NAME)
    app = build_application(
        Settings(db_path=tmp_path / "q.db"),
        HTTPXRequest(httpx_kwargs={"transport": fake.transport()}),
        rate_limiter=AIORateLimiter(),
    )
    port = free_port()
    config = WebhookConfig(
        url="https://bot.example.org/tg/hook", listen="127.0.0.1", port=port, secret="s3cret-Token"
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, stop))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for _ in range(100):
                try:
                    health = await client.get("/healthz")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            assert health.status_code == 200 and health.json()["quotes"] == 9

            registered = fake.calls_to("setWebhook")[-1]
            assert registered["url"] == config.url
            assert registered["secret_token"] == config.secret

            update = fake.user_message("/quote 2", chat_id=31337)
            body = json.dumps(update)
            denied = await client.post("/tg/hook", content=body)
            assert denied.status_code == 403
            wrong = await client.post("/tg/hook", content=body, headers={SECRET_HEADER: "nope"})
            assert wrong.status_code == 403
            for bad in (b"{not json", b"[]", b'{"update_id": "x"}', b"\xff\xfe"):
                response = await client.post(
                    "/tg/hook", content=bad, headers={SECRET_HEADER: config.secret}
                )
                assert response.status_code == 400
            assert fake.messages_to(31337) == []

            ok = await client.post("/tg/hook", content=body, headers={SECRET_HEADER: config.secret})
            assert ok.status_code == 200
            sent = await fake.wait_for_sent(1, chat_id=31337, within=5)
            assert "Pavlov" in sent[0].text
            assert (await client.get("/healthz")).status_code == 200
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)
    assert not app.running
