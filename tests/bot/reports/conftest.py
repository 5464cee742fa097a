"""Namers for the renderers' tests: Thai and English, with the shipped districts."""

from __future__ import annotations

import pytest

from bot.districts import load_districts
from bot.i18n.catalog import catalogs
from bot.reports.labels import Namer
from bot.settings import DEFAULT_DISTRICTS_FILE
from storage.summary import Summary
from tests.bot.reports.sample import sample_summary

DISTRICTS = load_districts(DEFAULT_DISTRICTS_FILE)


@pytest.fixture
def th() -> Namer:
    """Names in Thai."""
    return Namer("th", catalogs(), DISTRICTS)


@pytest.fixture
def en() -> Namer:
    """Names in English."""
    return Namer("en", catalogs(), DISTRICTS)


@pytest.fixture(scope="session")
def summary() -> Summary:
    """Eleven months of invented numbers with hidden cells."""
    return sample_summary(11)
