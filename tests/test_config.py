"""Settings: defaults, .env, the environment over .env, and every invalid value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import DEFAULT_API_URL, Settings, SettingsError, load_settings

GOOD_TOKEN = "1234567:" + "AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ms"  # the documented shape, not real


def test_defaults_without_env_or_dotenv(isolated_env: Path) -> None:
    settings = load_settings()
    assert settings == Settings()
    assert settings.token is None
    assert settings.api_url == DEFAULT_API_URL == "https://api.telegram.org"
    assert settings.db_path == Path("quotebot.db")
    assert settings.admins == frozenset()
    assert settings.timezone == "UTC"
    assert settings.log_level == "INFO"
    assert settings.webhook_port == 8080


def test_dotenv_is_read(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text(
        "# quotebot settings\n"
        f"TELEGRAM_BOT_TOKEN={GOOD_TOKEN}\n"
        'TELEGRAM_API_URL="http://127.0.0.1:8081/"\n'
        "export QUOTEBOT_DB=/srv/quotes.db\n"
        "QUOTEBOT_ADMINS = 12345678, 87654321 ; 5\n"
        "QUOTEBOT_TIMEZONE='Europe/Paris'\n"
        "LOG_LEVEL=debug  # more output while testing\n"
        "\n"
        "not a setting line\n",
        encoding="utf-8",
    )
    settings = load_settings()
    assert settings.token == GOOD_TOKEN
    assert settings.api_url == "http://127.0.0.1:8081"
    assert settings.db_path == Path("/srv/quotes.db")
    assert settings.admins == {12345678, 87654321, 5}
    assert settings.timezone == "Europe/Paris"
    assert settings.tz.key == "Europe/Paris"
    assert settings.log_level == "DEBUG"


def test_environment_overrides_dotenv(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / ".env").write_text(
        "QUOTEBOT_TIMEZONE=Europe/Paris\nLOG_LEVEL=ERROR\nQUOTEBOT_DB=dotenv.db\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("QUOTEBOT_TIMEZONE", "Asia/Almaty")
    monkeypatch.setenv("LOG_LEVEL", "warning")
    settings = load_settings()
    assert (settings.timezone, settings.log_level) == ("Asia/Almaty", "WARNING")
    assert settings.db_path == Path("dotenv.db")  # not overridden: .env still applies


def test_an_explicit_environment_mapping(isolated_env: Path) -> None:
    settings = load_settings({"QUOTEBOT_ADMINS": "42"}, dotenv=None)
    assert settings.admins == {42}


BAD_TOKENS = [
    "987654321",
    "987654321:short",
    f"{GOOD_TOKEN}x",
    f"bot{GOOD_TOKEN}",
    GOOD_TOKEN.replace("-", "!"),
    GOOD_TOKEN.replace(":", " "),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_bad_token_is_refused_without_echoing_it(isolated_env: Path, token: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"TELEGRAM_BOT_TOKEN": token}, dotenv=None)
    message = str(caught.value)
    assert "TELEGRAM_BOT_TOKEN" in message
    assert token not in message
    assert token.split(":")[-1] not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("QUOTEBOT_TIMEZONE", "Mars/Olympus_Mons"),
        ("QUOTEBOT_TIMEZONE", "Europe"),  # a folder of the zone database, not a zone
        ("QUOTEBOT_TIMEZONE", "../../etc/passwd"),
        ("QUOTEBOT_ADMINS", "12345678,alice"),
        ("QUOTEBOT_ADMINS", "-100123"),
        ("QUOTEBOT_ADMINS", "12_345"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
        ("TELEGRAM_API_URL", "ftp://api.telegram.org"),
        ("TELEGRAM_API_URL", "https://"),
        ("TELEGRAM_API_URL", "https://api.telegram .org"),
        ("WEBHOOK_PORT", "http"),
        ("WEBHOOK_PORT", "0"),
        ("WEBHOOK_PORT", "65536"),
        ("WEBHOOK_PORT", "80a"),
    ],
)
def test_an_invalid_value_names_the_setting(isolated_env: Path, name: str, value: str) -> None:
    environ = {"TELEGRAM_BOT_TOKEN": GOOD_TOKEN, name: value}
    with pytest.raises(SettingsError) as caught:
        load_settings(environ, dotenv=None)
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert GOOD_TOKEN not in message
    assert "example" in message.lower() or "one of" in message


@pytest.mark.parametrize("port", ["1", "8443", "65535", " 88 "])
def test_valid_ports(isolated_env: Path, port: str) -> None:
    assert load_settings({"WEBHOOK_PORT": port}, dotenv=None).webhook_port == int(port)


def test_a_dotenv_that_is_not_utf8_is_a_settings_error(isolated_env: Path) -> None:
    (isolated_env / ".env").write_bytes(b"QUOTEBOT_TIMEZONE=Europe/Z\xfcrich\n")
    with pytest.raises(SettingsError, match=r"\.env"):
        load_settings()


def test_the_cli_reports_a_bad_setting_without_a_traceback(
    isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_token = "123456:this-is-not-a-valid-token"
    (isolated_env / ".env").write_text(f"TELEGRAM_BOT_TOKEN={bad_token}\n", encoding="utf-8")
    assert main(["stats", "--db", str(isolated_env / "q.db")]) == 2
    captured = capsys.readouterr()
    assert "TELEGRAM_BOT_TOKEN" in captured.err
    assert bad_token not in captured.err + captured.out
    assert "Traceback" not in captured.err
    assert not (isolated_env / "q.db").exists()
