"""Webhook mode: a small tornado server in front of the Application.

PTB's built-in webhook server serves only the webhook path; a deployment behind a reverse
proxy also wants ``/healthz``. So, as in PTB's custom-webhook examples, the Application runs
without an Updater and this server puts verified updates on its queue. Every POST without
the secret token registered with ``setWebhook`` is rejected with 403; a malformed body gets
400 and nothing else happens.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web
from telegram import Update

from bot.context import QuoteBotApp
from bot.transport import clean_update

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # an update is a few KB; refuse anything absurd early


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    listen: str
    port: int
    secret: str

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class _UpdateHandler(tornado.web.RequestHandler):
    def initialize(self, app: QuoteBotApp, secret: str) -> None:
        self.bot_app, self.secret = app, secret

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook request without the right secret token rejected")
            self.send_error(403)
            return
        try:
            data: Any = json.loads(self.request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(clean_update(data), self.bot_app.bot)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            log.warning("malformed webhook body rejected: %s", type(exc).__name__)
            self.send_error(400)
            return
        await self.bot_app.update_queue.put(update)
        self.set_status(200)
        self.finish()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish({"ok": False, "status": status_code})


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, app: QuoteBotApp) -> None:
        self.bot_app = app

    async def get(self) -> None:
        # From memory: a probe every few seconds must not scan a million rows.
        quotes = self.bot_app.bot_data.lookup.quote_count
        self.finish({"ok": self.bot_app.running, "quotes": quotes})


def make_server(app: QuoteBotApp, config: WebhookConfig) -> tornado.httpserver.HTTPServer:
    web = tornado.web.Application(
        [
            (config.path, _UpdateHandler, {"app": app, "secret": config.secret}),
            ("/healthz", _HealthHandler, {"app": app}),
        ],
        # No access log: each rejected request is logged once, by the handler, with why.
        log_function=lambda handler: None,
    )
    return tornado.httpserver.HTTPServer(web, max_body_size=MAX_BODY)


async def serve_updates(app: QuoteBotApp, config: WebhookConfig, stop: asyncio.Event) -> None:
    """With the Application initialized and its resources open: register the webhook,
    listen, start the Application, and serve until ``stop`` is set; the caller stops it."""
    server = make_server(app, config)
    try:
        await app.bot.set_webhook(
            config.url, secret_token=config.secret, allowed_updates=Update.ALL_TYPES
        )
        server.listen(config.port, address=config.listen)
        await app.start()
        log.info("webhook serving on %s:%s%s", config.listen, config.port, config.path)
        await stop.wait()
    finally:
        server.stop()
