"""Webhook and shutdown settings: defaults, Telegram's secret-token rule, the URL's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runner import webhook_path, webhook_settings
from bot.settings import ConfigurationError, load_settings

NAMES = (
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "SHUTDOWN_TIMEOUT_SECONDS",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_listen_on_loopback_and_stop_within_ten_seconds() -> None:
    settings = load_settings()
    assert (settings.webhook_url, settings.webhook_secret) == (None, None)
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8080)
    assert settings.shutdown_timeout_seconds == 10


@pytest.mark.parametrize("secret", ["a", "A-z_09", "x" * 256])
def test_secrets_telegram_accepts(secret: str) -> None:
    settings = load_settings(webhook_secret=secret)
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == secret


@pytest.mark.parametrize("secret", ["x" * 257, "with space", "ümlaut", "semi;colon"])
def test_secrets_telegram_refuses_are_one_clear_line(secret: str) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings(webhook_secret=secret)
    assert str(error.value) == (
        "Configuration error: WEBHOOK_SECRET: must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
    )
    assert secret not in str(error.value)


def test_the_secret_is_never_shown_in_a_repr() -> None:
    assert "hunter2_" not in repr(load_settings(webhook_secret="hunter2_"))


def test_a_url_without_a_scheme_and_a_bad_timeout_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="WEBHOOK_URL: must start with https://"):
        load_settings(webhook_url="bot.example.org/hook")
    with pytest.raises(ConfigurationError, match="SHUTDOWN_TIMEOUT_SECONDS"):
        load_settings(shutdown_timeout_seconds=0)


def test_webhook_mode_needs_both_the_url_and_the_secret() -> None:
    with pytest.raises(ConfigurationError, match="WEBHOOK_URL: is not set"):
        webhook_settings(load_settings(webhook_secret="s"))
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET: is not set"):
        webhook_settings(load_settings(webhook_url="https://bot.example.org/hook"))
    with pytest.raises(ConfigurationError, match="its path cannot be /healthz"):
        webhook_settings(load_settings(webhook_url="https://x.org/healthz", webhook_secret="s"))
    assert webhook_settings(load_settings(webhook_url="https://x.org/h", webhook_secret="s")) == (
        "https://x.org/h",
        "s",
    )


def test_the_server_listens_on_the_urls_path() -> None:
    assert webhook_path("https://bot.example.org:8443/telegram/hook?x=1") == "/telegram/hook"
    assert webhook_path("https://bot.example.org") == "/"
