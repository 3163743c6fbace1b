"""Settings from the environment and an optional ``.env`` file.

This is the only module that reads the environment. Every value is checked here, and a
bad value raises :class:`SettingsError` naming the setting and showing a valid example.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_API_URL = "https://api.telegram.org"
TOKEN_PATTERN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{35}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting has a value the bot cannot use."""


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    api_url: str = DEFAULT_API_URL
    db_path: Path = Path("quotebot.db")
    admins: frozenset[int] = field(default_factory=frozenset)
    timezone: str = "UTC"
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8080
    webhook_secret: str | None = None
    daily_ambiguous: str = "resend"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def base_url(self) -> str:
        """Where PTB sends Bot API calls (it appends the token and the method)."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """Where PTB downloads files from (it appends the token and the file path)."""
        return f"{self.api_url}/file/bot"


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a minimal ``.env``: KEY=VALUE lines, ``#`` comments, optional quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: the .env file is not UTF-8 text") from None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        values[key] = _dotenv_value(value.strip())
    return values


def _dotenv_value(value: str) -> str:
    """A quoted value up to its closing quote; an unquoted one up to a `` #`` comment."""
    if value[:1] in ("'", '"'):
        end = value.find(value[0], 1)
        if end > 0:
            return value[1:end]
    return re.split(r"\s#", value, maxsplit=1)[0].strip()


def _check_token(token: str) -> str:
    if not TOKEN_PATTERN.match(token):
        # Never echo the value: it may be a real token with a typo.
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token "
            "(expected <digits>:<35 characters>, e.g. 123456789:AAE...; get one from @BotFather)"
        )
    return token


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise SettingsError(
            f"QUOTEBOT_TIMEZONE: unknown time zone {name!r} (example: Europe/Paris or UTC)"
        ) from None
    return name


def _check_admins(raw: str) -> frozenset[int]:
    ids: set[int] = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not re.fullmatch(r"[0-9]+", part) or int(part) == 0:
            raise SettingsError(
                f"QUOTEBOT_ADMINS: {part!r} is not a Telegram user id "
                "(example: QUOTEBOT_ADMINS=12345678,87654321)"
            )
        ids.add(int(part))
    return frozenset(ids)


def _check_api_url(url: str) -> str:
    url = url.rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", url):
        raise SettingsError(
            f"TELEGRAM_API_URL: {url!r} is not an http(s) URL "
            "(example: https://api.telegram.org or http://127.0.0.1:8081)"
        )
    return url


def check_webhook_url(url: str, setting: str = "WEBHOOK_URL") -> str:
    """Telegram delivers webhooks to https URLs only."""
    if not url.startswith("https://"):
        raise SettingsError(
            f"{setting}: {url!r} must be an https URL (example: https://bot.example.org/telegram)"
        )
    return url


DAILY_AMBIGUOUS = ("resend", "skip")


def _check_daily_ambiguous(raw: str) -> str:
    """What a quote of the day whose send timed out (it may have arrived) becomes: sent again
    later that day (a chat may get it twice) or not (a chat may miss the day)."""
    value = raw.lower()
    if value not in DAILY_AMBIGUOUS:
        raise SettingsError(
            f"QUOTEBOT_DAILY_AMBIGUOUS: {raw!r} is not resend or skip "
            "(example: QUOTEBOT_DAILY_AMBIGUOUS=skip)"
        )
    return value


def _check_port(raw: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise SettingsError(f"WEBHOOK_PORT: {raw!r} is not a port number (example: 8080)")
    return port


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build settings from ``environ`` (default: the process environment) over ``.env``."""
    values: dict[str, str] = dict(read_dotenv(dotenv)) if dotenv is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return values.get(name, default).strip()

    token = get("TELEGRAM_BOT_TOKEN") or None
    level = get("LOG_LEVEL", "INFO").upper() or "INFO"
    if level not in LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL: {level!r} is not one of {', '.join(LOG_LEVELS)}")
    webhook_url = get("WEBHOOK_URL") or None
    if webhook_url is not None:
        check_webhook_url(webhook_url)
    secret = get("WEBHOOK_SECRET") or None
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise SettingsError(
            "WEBHOOK_SECRET: use 1-256 characters of A-Z, a-z, 0-9, _ and - "
            "(example: WEBHOOK_SECRET=change-me-to-something-long)"
        )
    return Settings(
        token=_check_token(token) if token else None,
        api_url=_check_api_url(get("TELEGRAM_API_URL", DEFAULT_API_URL) or DEFAULT_API_URL),
        db_path=Path(get("QUOTEBOT_DB", "quotebot.db") or "quotebot.db"),
        admins=_check_admins(get("QUOTEBOT_ADMINS")),
        timezone=_check_timezone(get("QUOTEBOT_TIMEZONE", "UTC") or "UTC"),
        log_level=level,
        webhook_url=webhook_url,
        webhook_listen=get("WEBHOOK_LISTEN", "0.0.0.0") or "0.0.0.0",
        webhook_port=_check_port(get("WEBHOOK_PORT", "8080") or "8080"),
        webhook_secret=secret,
        daily_ambiguous=_check_daily_ambiguous(
            get("QUOTEBOT_DAILY_AMBIGUOUS", "resend") or "resend"
        ),
    )
