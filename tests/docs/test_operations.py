"""docs/operations.md: the operator's guide names every setting and the shipped unit."""

from __future__ import annotations

import re
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")


def documented_settings() -> set[str]:
    """Variable names in the first column of the settings table."""
    section = GUIDE.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in re.findall(r"^\| (.+?) \|", section, flags=re.MULTILINE):
        names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", row))
    return names


def test_every_setting_is_in_the_guide_s_table() -> None:
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - documented_settings() == set()


def test_the_guide_points_at_files_that_exist() -> None:
    for link in re.findall(r"\]\((\.\./[^)#]+)\)", GUIDE):
        assert (ROOT / "docs" / link).resolve().is_file(), link
    assert "deploy/learncity.service" in GUIDE
