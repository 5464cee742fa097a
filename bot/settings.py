"""Typed configuration from the environment and an optional `.env` file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_BASE_URL = "https://api.telegram.org"
DEFAULT_DISTRICTS_FILE = Path(__file__).parent / "data" / "districts_yala.yaml"

Language = Literal["th", "en"]
# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class ConfigurationError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Every setting of the bot. Names match the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = TELEGRAM_API_BASE_URL
    database_url: str = "sqlite+aiosqlite:///learncity.db"
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    timezone: str = "Asia/Bangkok"
    default_language: Language = "th"
    districts_file: Path = DEFAULT_DISTRICTS_FILE
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    invite_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    # The dispatcher's pace. Telegram allows about 30 messages/s in all; 25 leaves room for
    # interactive replies, which share the same budget.
    dispatch_rate_per_second: float = Field(default=25.0, gt=0)
    dispatch_private_per_second: float = Field(default=1.0, gt=0)
    dispatch_group_per_minute: int = Field(default=20, ge=1)
    dispatch_concurrency: int = Field(default=8, ge=1, le=256)
    dispatch_max_attempts: int = Field(default=5, ge=1)
    dispatch_timeout_seconds: float = Field(default=10.0, gt=0)
    quiet_hours: str = "21:00-07:00"
    # Pace of interactive replies (PTB's AIORateLimiter): Telegram's ≈30 messages/s overall
    # and 20/min per group. A benchmark against the emulator raises them.
    interactive_rate_per_second: float = Field(default=30.0, gt=0)
    interactive_group_per_minute: float = Field(default=20.0, gt=0)
    # Updates handled at once (across people; each person's stay in order).
    concurrent_updates: int = Field(default=64, ge=1, le=1024)
    # Once started, move everything alive into the garbage collector's permanent generation,
    # so its full collections stop walking the libraries, catalogs and data loaded at start
    # (a third of the bot's CPU under a burst of votes went there: bench/README.md). The test
    # harness turns it off: many bots start in one process there.
    gc_freeze_at_start: bool = True
    reminder_sweep_seconds: float = Field(default=300.0, gt=0)
    # --- Odd and hostile input (handlers/input_guard.py) ---
    # Each person's commands, texts and taps: a burst of this many, refilled at this pace.
    input_burst: int = Field(default=8, ge=1)
    input_per_second: float = Field(default=1.0, gt=0)
    # At most one "please slow down" (and one "edits are not read") per person this often.
    input_notice_seconds: float = Field(default=60.0, gt=0)
    # Free text longer than this is refused with the limit stated (staff flows set their own).
    input_max_text: int = Field(default=1000, ge=1, le=4096)

    # --- privacy: retention (issue 10) ---
    # Free texts (needs in people's own words, council suggestions, library feedback) are
    # anonymised this many days after they were written; a year covers a full planning cycle.
    retention_days: int = Field(default=365, ge=1, le=3650)
    # When the daily retention job runs, in the city's time zone (HH:MM).
    retention_time: str = Field(default="03:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")

    # --- Database outages (bot/outage.py, bot/spool.py) ---
    # How long an update that met an unavailable database is retried before it is spooled.
    db_retry_seconds: float = Field(default=5.0, ge=0, le=120)
    # Updates kept while the database is down (personal data: created 0700, files 0600).
    spool_dir: Path = Path("learncity-spool")
    # How often the spool is checked and, if the database answers, replayed.
    spool_replay_seconds: float = Field(default=5.0, gt=0)

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(p.lstrip("-").isdigit() for p in parts):
                raise ValueError("expected comma-separated Telegram user ids, e.g. 123,456")
            return frozenset(int(p) for p in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_language", mode="before")
    @classmethod
    def _lower_language(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Bangkok)") from exc
        return value

    @field_validator("telegram_api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        from schedules.planning import parse_quiet_hours

        parse_quiet_hours(value)  # raises ValueError with a clear message
        return value

    @field_validator("districts_file")
    @classmethod
    def _existing_file(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The zone in which times are shown to people."""
        return ZoneInfo(self.timezone)

    @property
    def bot_api_url(self) -> str:
        """Base URL for Bot API methods, as python-telegram-bot's `base_url` expects it."""
        return f"{self.telegram_api_base_url}/bot"

    # --- Webhook mode and graceful shutdown (`learncity run --webhook`, bot/webhook_server.py).
    # WEBHOOK_URL is what Telegram calls (HTTPS on 443, 80, 88 or 8443, usually a TLS reverse
    # proxy); the bot serves its path on WEBHOOK_LISTEN:WEBHOOK_PORT, plus GET /healthz.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    shutdown_timeout_seconds: float = Field(default=10.0, gt=0, le=600)

    @field_validator("webhook_url", mode="before")
    @classmethod
    def _webhook_url(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.startswith(("http://", "https://")):
                raise ValueError("must start with https:// (http:// only for a local Bot API)")
        return value

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _webhook_secret(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            if not WEBHOOK_SECRET_PATTERN.fullmatch(value):
                raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


def load_settings(**overrides: object) -> Settings:
    """Read settings; a problem becomes one `ConfigurationError` line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"Configuration error: {name}: {message}") from None
