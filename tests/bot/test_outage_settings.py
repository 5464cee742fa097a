"""The outage settings: SPOOL_DIR, DB_RETRY_SECONDS, SPOOL_REPLAY_SECONDS."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigurationError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SPOOL_DIR", "DB_RETRY_SECONDS", "SPOOL_REPLAY_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_retry_briefly_and_spool_next_to_the_default_database() -> None:
    settings = load_settings()
    assert settings.db_retry_seconds == 5.0
    assert settings.spool_dir == Path("learncity-spool")
    assert settings.spool_replay_seconds == 5.0


def test_values_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPOOL_DIR", "/var/lib/learncity/spool")
    monkeypatch.setenv("DB_RETRY_SECONDS", "0")
    settings = load_settings()
    assert settings.spool_dir == Path("/var/lib/learncity/spool")
    assert settings.db_retry_seconds == 0.0


def test_a_negative_retry_time_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_RETRY_SECONDS", "-1")
    with pytest.raises(ConfigurationError, match="DB_RETRY_SECONDS"):
        load_settings()
