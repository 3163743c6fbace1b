"""Logging: one ``logfmt`` line per event; the bot token and webhook secret never written.

Call :func:`setup_logging` once at start-up, before the ``telegram.Bot`` is built (PTB logs
its base URL, which contains the token, at DEBUG when the bot is created). Every line looks
like::

    ts=2025-05-01T12:34:56.789Z level=INFO logger=bot.handlers event="quote sent" chat_id=42
    ts=2025-05-01T12:34:57.001Z level=DEBUG logger=httpx event="HTTP Request: POST …/bot<token>/…"
    ts=2025-05-01T12:34:58.250Z level=ERROR logger=bot event=boom exc="Traceback …\\n…"

Fields, in this order: ``ts`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``event``
(the formatted message), then any ``extra={...}`` fields in the order given, then ``exc``
(the traceback) and ``stack`` when present. A value is written bare when it is printable and
holds no space, ``=`` or ``"``; otherwise it is double-quoted with JSON escapes, so
newlines in messages and tracebacks become ``\\n`` and an event never spans two lines.

The token is removed by :class:`TokenRedactor`, a filter on the handler: it rewrites each
record's message (after ``%`` formatting, so tokens in ``args`` are caught), its traceback
text, stack text and string ``extra`` fields. Besides the configured token it masks anything
shaped like a token (``<digits>:<35 characters>``, and ``bot<digits>:<anything token-ish>``
as in Bot API URLs), so a token the process was not told about does not leak either.

Other secrets, the webhook secret token above all (whoever has it can forge updates as any
user, an admin included), are given to :func:`setup_logging` as ``secrets`` and replaced the
same way; a ``secret_token`` parameter or ``X-Telegram-Bot-Api-Secret-Token`` header value
is masked by its shape too (PTB logs every Bot API call's parameters at DEBUG, ``setWebhook``'s
included).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote

__all__ = ["LogfmtFormatter", "TokenRedactor", "redact", "resolve_level", "setup_logging"]

MASK = "<token>"
SECRET_MASK = "<secret>"

# ``bot<digits>:<secret>`` as PTB builds Bot API URLs (``…/bot123:AA…/getMe``), also with the
# colon percent-encoded. The secret part is matched greedily whatever its length.
_URL_TOKEN = re.compile(r"(?<=bot)\d+(?::|%3[Aa])[A-Za-z0-9_-]+")
# A bare token anywhere: <digits>:<35 characters of A-Z a-z 0-9 _ ->.
_BARE_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])\d{3,}(?::|%3[Aa])[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])")

# A secret token as a parameter (``'secret_token': 'abc'``, ``secret_token=abc``) or a header.
_SECRET_PARAM = re.compile(
    r"""((?:secret_token|x-telegram-bot-api-secret-token)['"]?\s*[:=]\s*['"]?)([^'"\s,&}]+)""",
    re.IGNORECASE,
)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_BARE_VALUE = re.compile(r'[^\s="\\]+')
_KEY_CHARS = re.compile(r"[^A-Za-z0-9_.-]")

# Loggers too chatty for INFO. httpx logs every request URL (token included) at INFO.
_QUIET_UNLESS_DEBUG = ("httpx", "httpcore")
# APScheduler logs every job run at INFO.
_ALWAYS_QUIET = ("apscheduler",)

_HANDLER_MARK = "_quotebot_handler"


def redact(text: str, token: str | None, secrets: Sequence[str] = ()) -> str:
    """Return ``text`` with ``token`` and anything shaped like a bot token replaced by ``<token>``,
    and each of ``secrets`` and any ``secret_token`` value by ``<secret>``.

    The configured token is replaced verbatim, percent-encoded, and by its secret part alone
    (the bit after the colon, the part that actually grants access).
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, SECRET_MASK)
            encoded = quote(secret, safe="")
            if encoded != secret:
                text = text.replace(encoded, SECRET_MASK)
    text = _SECRET_PARAM.sub(lambda m: m.group(1) + SECRET_MASK, text)
    if token:
        text = text.replace(token, MASK)
        encoded = quote(token, safe="")
        if encoded != token:
            text = text.replace(encoded, MASK)
        _, colon, secret = token.partition(":")
        if colon and len(secret) >= 8:
            text = text.replace(secret, MASK)
    text = _URL_TOKEN.sub(MASK, text)
    return _BARE_TOKEN.sub(MASK, text)


class TokenRedactor(logging.Filter):
    """Handler filter that removes the token from a record before any formatter sees it.

    It never drops a record. The record is rewritten in place: ``msg`` becomes the formatted,
    redacted message and ``args`` is cleared; the traceback is formatted once into a redacted
    ``exc_text`` and ``exc_info`` is cleared, so no later formatter can re-render the original
    exception (whose message may hold the token); ``stack_info`` and string ``extra`` values
    are redacted too.
    """

    def __init__(self, token: str | None = None, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.token, self.secrets = token, tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must neither hide the event nor raise here
            message = f"{record.msg!s} args={record.args!r}"
        record.msg = redact(message, self.token, self.secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.token, self.secrets)
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, name, redact(value, self.token, self.secrets))
        return True


def _value(value: object) -> str:
    text = value if isinstance(value, str) else str(value)
    if text and text.isprintable() and _BARE_VALUE.fullmatch(text):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    # JSON leaves these unescaped, but str.splitlines() and some log shippers break on them.
    return (
        quoted.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _key(name: str) -> str:
    return _KEY_CHARS.sub("_", name) or "_"


class LogfmtFormatter(logging.Formatter):
    """Format a record as one ``key=value`` line (see the module docstring).

    When a ``token`` is given the finished line is redacted once more, as a last line of
    defence for values the filter does not see (non-string ``extra`` values).
    """

    def __init__(self, token: str | None = None, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self.token, self.secrets = token, tuple(secrets)

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC)
        fields: list[tuple[str, object]] = [
            ("ts", ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"),
            ("level", record.levelname),
            ("logger", record.name),
            ("event", record.getMessage()),
        ]
        fields += [
            (_key(name), value)
            for name, value in vars(record).items()
            if name not in _RECORD_ATTRS and not name.startswith("_")
        ]
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            fields.append(("exc", record.exc_text))
        if record.stack_info:
            fields.append(("stack", record.stack_info))
        line = " ".join(f"{key}={_value(value)}" for key, value in fields)
        return redact(line, self.token, self.secrets)


def resolve_level(level: str | int) -> int:
    """``"info"``, ``"INFO"``, ``"20"`` or ``20`` → 20; anything else raises ``ValueError``."""
    if isinstance(level, int):
        return level
    name = level.strip().upper()
    if name.isdigit():
        return int(name)
    try:
        return logging.getLevelNamesMapping()[name]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}") from None


def setup_logging(
    level: str | int,
    token: str | None,
    stream: TextIO | None = None,
    *,
    secrets: Sequence[str] = (),
) -> None:
    """Send all logging to ``stream`` (default: stderr) as logfmt lines without ``token`` or
    any of ``secrets`` (the webhook secret).

    Replaces the handler a previous call installed (so calling it twice does not double
    lines) and leaves other handlers alone. Sets the root level from ``level``; quiets httpx
    and httpcore to WARNING unless ``level`` is DEBUG, and APScheduler to WARNING always.
    Also routes uncaught exceptions through the same handler, so a crash traceback printed
    to the console is redacted and one line too.
    """
    number = resolve_level(level)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(LogfmtFormatter(token, secrets))
    handler.addFilter(TokenRedactor(token, secrets))
    root.addHandler(handler)
    root.setLevel(number)
    for name in _QUIET_UNLESS_DEBUG:
        logging.getLogger(name).setLevel(
            logging.NOTSET if number <= logging.DEBUG else logging.WARNING
        )
    for name in _ALWAYS_QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught


def _log_uncaught(
    kind: type[BaseException], error: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        logging.getLogger("bot").info("interrupted")
        return
    exc_info: Any = (kind, error, tb)
    logging.getLogger("bot").critical("uncaught exception", exc_info=exc_info)
