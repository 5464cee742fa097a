"""deploy/learncity.service: the unit starts the bot as the guide says and gives it time to stop."""

from __future__ import annotations

import configparser
from pathlib import Path

from bot.settings import Settings

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "learncity.service"


def unit() -> configparser.ConfigParser:
    # systemd allows repeated keys (Environment=); configparser keeps the last, which is enough.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def seconds(value: str) -> float:
    return float(value.removesuffix("s"))


def test_the_service_runs_learncity_as_its_own_user_and_restarts_on_failure() -> None:
    service = unit()["Service"]
    assert service["ExecStart"].endswith("/bin/learncity run")
    assert service["User"] == "learncity"
    assert service["EnvironmentFile"] == "/etc/learncity/learncity.env"
    assert service["WorkingDirectory"] == "/var/lib/learncity"
    assert service["StateDirectory"] == "learncity"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"


def test_systemd_waits_longer_than_the_bot_s_own_shutdown_timeout() -> None:
    shutdown = float(getattr(Settings(), "shutdown_timeout_seconds", 10.0))
    stop = seconds(unit()["Service"]["TimeoutStopSec"])
    assert shutdown < stop <= shutdown + 30
