"""Settings: defaults, parsing, and one clear line naming a bad variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import DEFAULT_DISTRICTS_FILE, ConfigurationError, load_settings

ENV_NAMES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_URL",
    "ADMIN_IDS",
    "TIMEZONE",
    "DEFAULT_LANGUAGE",
    "DISTRICTS_FILE",
    "LOG_LEVEL",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == "https://api.telegram.org"
    assert settings.database_url == "sqlite+aiosqlite:///learncity.db"
    assert settings.admin_ids == frozenset()
    assert settings.timezone == "Asia/Bangkok"
    assert settings.default_language == "th"
    assert settings.districts_file == DEFAULT_DISTRICTS_FILE
    assert settings.bot_api_url == "https://api.telegram.org/bot"


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("ADMIN_IDS", "12, 34,56")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "EN")
    settings = load_settings()
    assert settings.admin_ids == {12, 34, 56}
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(settings)
    assert settings.bot_api_url == "http://127.0.0.1:8081/bot"
    assert settings.log_level == "DEBUG"
    assert settings.default_language == "en"


def test_dot_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ADMIN_IDS=7\nTIMEZONE=UTC\n")
    settings = load_settings()
    assert settings.admin_ids == {7} and settings.timezone == "UTC"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "alice,bob"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_BASE_URL", "api.telegram.org"),
        ("DISTRICTS_FILE", "/no/such/file.yaml"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"Configuration error: {name}: ")
    assert "\n" not in message
