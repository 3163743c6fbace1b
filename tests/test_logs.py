"""bot.logs: one logfmt line per event, and the token never reaches the output."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator

import httpx
import pytest
import telegram
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from bot.config import TOKEN_PATTERN
from bot.logs import TokenRedactor, redact, resolve_level, setup_logging

TOKEN = "1234567:" + "AAHfakefakefakefakefakefakefakefak1"
SECRET = TOKEN.partition(":")[2]
OTHER_TOKEN = "7654321:" + "ZZZotherotherotherotherotherother99"

LINE = re.compile(r'([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?: |$)')


def parse(line: str) -> dict[str, str]:
    """Parse one logfmt line; every character must belong to a key=value pair."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(line):
        match = LINE.match(line, pos)
        assert match, f"not logfmt at {pos}: {line!r}"
        key, raw = match.groups()
        fields[key] = json.loads(raw) if raw.startswith('"') else raw
        pos = match.end()
    return fields


class Counter(logging.Handler):
    """Counts the records that reach the root logger, to compare with lines written."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    names = ("httpx", "httpcore", "apscheduler", "telegram")
    levels = {name: logging.getLogger(name).level for name in names}
    hook = sys.excepthook
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    sys.excepthook = hook


def lines_of(stream: io.StringIO) -> list[dict[str, str]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [parse(line) for line in text.splitlines()]


def assert_clean(text: str) -> None:
    assert TOKEN not in text
    assert SECRET not in text
    assert "1234567:" not in text
    assert "1234567%3A" not in text


def test_fake_token_is_token_shaped() -> None:
    assert len(SECRET) == 35
    assert TOKEN_PATTERN.match(TOKEN)
    assert TOKEN_PATTERN.match(OTHER_TOKEN)


def test_redact_known_token_in_every_form() -> None:
    assert redact(f"token {TOKEN}.", TOKEN) == "token <token>."
    assert redact(f"/bot{TOKEN.replace(':', '%3A')}/getMe", TOKEN) == "/bot<token>/getMe"
    assert redact(f"secret={SECRET}", TOKEN) == "secret=<token>"


def test_redact_token_shapes_without_being_told_the_token() -> None:
    url = f"https://api.telegram.org/bot{OTHER_TOKEN}/getUpdates"
    assert redact(url, None) == "https://api.telegram.org/bot<token>/getUpdates"
    assert redact(url, TOKEN) == "https://api.telegram.org/bot<token>/getUpdates"
    # A truncated token in a URL is still masked; a bare one anywhere is masked.
    assert redact("http://x/bot42:AAshort/getMe", None) == "http://x/bot<token>/getMe"
    assert redact(f"got {OTHER_TOKEN}!", None) == "got <token>!"
    # Ordinary text that merely has digits and colons is left alone.
    for text in ("meeting at 12:30", "chat 123456789 said 1:0", "about:blank", "robot arm"):
        assert redact(text, TOKEN) == text


def test_token_in_message_args_extra_exception_and_stack_at_debug() -> None:
    stream = io.StringIO()
    setup_logging("DEBUG", TOKEN, stream)
    log = logging.getLogger("bot.handlers")
    log.debug(f"calling https://api.telegram.org/bot{TOKEN}/getMe")
    log.info("token is %s, url %r", TOKEN, {"url": f"/bot{TOKEN}/x"})
    log.warning("with extra", extra={"url": f"/bot{TOKEN}/sendMessage", "chat_id": 42})
    try:
        raise RuntimeError(f"request to /bot{TOKEN}/getMe failed\nsecond line {SECRET}")
    except RuntimeError:
        log.exception("request failed for %s", TOKEN)
    try:
        try:
            raise ValueError(TOKEN)
        except ValueError as exc:
            raise KeyError(f"wrapped {TOKEN}") from exc
    except KeyError:
        log.error("chained", exc_info=True)
    log.info("where am I, %s", TOKEN, stack_info=True)

    text = stream.getvalue()
    assert_clean(text)
    events = lines_of(stream)
    assert len(events) == 6
    assert [e["level"] for e in events] == ["DEBUG", "INFO", "WARNING", "ERROR", "ERROR", "INFO"]
    assert all(e["logger"] == "bot.handlers" for e in events)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["ts"]) for e in events)
    assert events[0]["event"] == "calling https://api.telegram.org/bot<token>/getMe"
    assert events[1]["event"] == "token is <token>, url {'url': '/bot<token>/x'}"
    assert events[2]["url"] == "/bot<token>/sendMessage"
    assert events[2]["chat_id"] == "42"
    failed = events[3]
    assert failed["event"] == "request failed for <token>"
    assert failed["exc"].startswith("Traceback (most recent call last):\n")
    assert "RuntimeError: request to /bot<token>/getMe failed\nsecond line <token>" in failed["exc"]
    assert "ValueError: <token>" in events[4]["exc"]
    assert "KeyError: 'wrapped <token>'" in events[4]["exc"]
    assert "direct cause" in events[4]["exc"]
    assert "test_logs.py" in events[5]["stack"]


def test_redactor_rewrites_the_record_for_every_later_formatter() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "a %s b", (TOKEN,), None)
    try:
        raise OSError(TOKEN)
    except OSError:
        record.exc_info = sys.exc_info()
    assert TokenRedactor(TOKEN).filter(record) is True
    assert record.msg == "a <token> b"
    assert record.args is None
    assert record.exc_info is None
    assert record.exc_text is not None
    assert "OSError: <token>" in record.exc_text
    # A plain formatter downstream now renders the redacted text only.
    assert_clean(logging.Formatter().format(record))


def test_broken_format_arguments_neither_raise_nor_leak() -> None:
    stream = io.StringIO()
    setup_logging("INFO", TOKEN, stream)
    (handler,) = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is stream]
    # Handed to our handler directly: pytest's own capture handler would raise on it first.
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "two %s %s", (TOKEN,), None)
    handler.handle(record)  # one argument short
    (event,) = lines_of(stream)
    assert "<token>" in event["event"]
    assert_clean(stream.getvalue())


def test_odd_characters_stay_on_one_line() -> None:
    stream = io.StringIO()
    setup_logging("INFO", TOKEN, stream)
    tricky = 'a "quoted" = value\r\nline\u2028two\x85three\tend \\ done'
    logging.getLogger("bot").info(tricky, extra={"note": tricky, "weird key": 1})
    logging.getLogger("bot").info("")
    first, second = lines_of(stream)
    assert first["event"] == tricky
    assert first["note"] == tricky
    assert first["weird_key"] == "1"
    assert second["event"] == ""


def test_levels_and_noisy_libraries() -> None:
    stream = io.StringIO()
    setup_logging("info", TOKEN, stream)
    logging.getLogger("bot").debug("hidden")
    logging.getLogger("httpx").info(f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/x")
    logging.getLogger("httpcore.http11").info("hidden")
    logging.getLogger("apscheduler.scheduler").info("Added job")
    logging.getLogger("apscheduler.scheduler").warning("job missed")
    logging.getLogger("httpx").warning("httpx trouble")
    events = lines_of(stream)
    assert [e["event"] for e in events] == ["job missed", "httpx trouble"]

    stream = io.StringIO()
    setup_logging(logging.DEBUG, TOKEN, stream)
    logging.getLogger("bot").debug("shown")
    logging.getLogger("httpx").info(f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/x")
    logging.getLogger("apscheduler.scheduler").info("still hidden at DEBUG")
    events = lines_of(stream)
    assert [e["event"] for e in events] == [
        "shown",
        "HTTP Request: POST https://api.telegram.org/bot<token>/x",
    ]


def test_setup_twice_replaces_its_own_handler_only() -> None:
    other = Counter()
    logging.getLogger().addHandler(other)
    first, second = io.StringIO(), io.StringIO()
    setup_logging("INFO", TOKEN, first)
    setup_logging("INFO", TOKEN, second)
    logging.getLogger("bot").info("once")
    assert first.getvalue() == ""
    assert len(lines_of(second)) == 1
    assert other.count == 1


def test_resolve_level() -> None:
    assert resolve_level("warning") == logging.WARNING
    assert resolve_level(" DEBUG ") == logging.DEBUG
    assert resolve_level("15") == 15
    assert resolve_level(logging.ERROR) == logging.ERROR
    with pytest.raises(ValueError, match="LOUD"):
        resolve_level("LOUD")


def test_uncaught_exceptions_are_logged_redacted_on_one_line() -> None:
    stream = io.StringIO()
    setup_logging("INFO", TOKEN, stream)
    try:
        raise ConnectionError(f"cannot reach /bot{TOKEN}/getMe")
    except ConnectionError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    (event,) = lines_of(stream)
    assert event["level"] == "CRITICAL"
    assert "ConnectionError: cannot reach /bot<token>/getMe" in event["exc"]
    assert_clean(stream.getvalue())


@pytest.mark.parametrize("passed_token", [TOKEN, None], ids=["token-given", "token-not-given"])
@pytest.mark.parametrize("failure", ["http-500", "connect-error"])
async def test_real_bot_failing_request_at_debug_never_logs_the_token(
    failure: str, passed_token: str | None
) -> None:
    """A real PTB Bot over httpx, every logger at DEBUG, a failing request: no token out."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if failure == "connect-error":
            raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)
        return httpx.Response(500, json={"ok": False, "description": f"boom {TOKEN}"})

    stream = io.StringIO()
    counter = Counter()
    logging.getLogger().addHandler(counter)
    setup_logging("DEBUG", passed_token, stream)
    bot = telegram.Bot(
        TOKEN,
        request=HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(handler)}),
    )
    log = logging.getLogger("bot.app")
    try:
        async with bot:
            await bot.send_message(chat_id=1, text="hello")
    except TelegramError as exc:
        log.exception("Bot API call failed: %s", exc)
    else:  # pragma: no cover - the transport always fails
        pytest.fail("the request should have failed")
    finally:
        await bot.shutdown()

    assert seen, "the mock transport was not used"
    assert TOKEN in str(seen[0].url)  # the token really was in play
    text = stream.getvalue()
    assert_clean(text)
    events = lines_of(stream)
    assert len(events) == counter.count, "one line per event"
    by_logger = {e["logger"] for e in events}
    assert {"telegram.Bot", "bot.app"} <= by_logger
    assert any(
        e["event"].startswith("Set Bot API URL: https://api.telegram.org/bot<token>")
        for e in events
    )
    if failure == "http-500":
        assert "httpx" in by_logger
        assert any("/bot<token>/getMe" in e["event"] for e in events if e["logger"] == "httpx")
    (failed,) = [e for e in events if e["logger"] == "bot.app"]
    assert failed["level"] == "ERROR"
    assert failed["exc"].startswith("Traceback (most recent call last):\n")


WEBHOOK_SECRET = "wh-S3cret_" + "q" * 22


@pytest.mark.parametrize("told", [True, False], ids=["secret-given", "secret-not-given"])
@pytest.mark.parametrize("level", ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
async def test_token_and_webhook_secret_never_written_at_any_level(level: str, told: bool) -> None:
    """setWebhook through a real PTB Bot (its parameters are logged at DEBUG), and the secret
    and token in messages, arguments, extras and tracebacks, at every level."""
    stream = io.StringIO()
    setup_logging(level, TOKEN, stream, secrets=[WEBHOOK_SECRET] if told else [])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True, "result": True})

    bot = telegram.Bot(
        TOKEN, request=HTTPXRequest(httpx_kwargs={"transport": httpx.MockTransport(handler)})
    )
    await bot.set_webhook("https://bot.example.org/hook", secret_token=WEBHOOK_SECRET)
    log = logging.getLogger("bot.webhook")
    for number in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        log.log(number, "setWebhook with %s", {"secret_token": WEBHOOK_SECRET, "t": TOKEN})
        if told:
            log.log(number, "secret %s", WEBHOOK_SECRET, extra={"header": WEBHOOK_SECRET})
            try:
                raise ValueError(f"bad secret {WEBHOOK_SECRET} for /bot{TOKEN}/x")
            except ValueError:
                log.log(number, "failed", exc_info=True)
    text = stream.getvalue()
    assert text.count("\n") >= 1
    if level == "DEBUG":
        assert "setWebhook" in text and "<secret>" in text
    assert WEBHOOK_SECRET not in text
    assert_clean(text)
