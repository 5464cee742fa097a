"""Enum values are what the database stores; the age rules follow PDPA."""

from __future__ import annotations

import pytest

from storage.enums import LANGUAGES, AgeBand, Purpose, Role


def test_stored_values_are_stable() -> None:
    assert [r.value for r in Role] == ["citizen", "facilitator", "officer", "admin"]
    assert [p.value for p in Purpose] == [
        "needs_survey",
        "reminders",
        "human_library",
        "coffee_council",
    ]
    assert [a.value for a in AgeBand] == ["0-9", "10-14", "15-19", "20-34", "35-49", "50-59", "60+"]
    assert LANGUAGES == ("th", "en")


def test_members_compare_equal_to_their_strings() -> None:
    assert AgeBand("10-14") is AgeBand.age_10_14
    assert Role.officer == "officer"


@pytest.mark.parametrize(
    ("band", "needs_guardian", "under_10"),
    [
        (AgeBand.age_0_9, False, True),
        (AgeBand.age_10_14, True, False),
        (AgeBand.age_15_19, True, False),
        (AgeBand.age_20_34, False, False),
        (AgeBand.age_35_49, False, False),
        (AgeBand.age_50_59, False, False),
        (AgeBand.age_60_plus, False, False),
    ],
)
def test_minors_under_20_need_a_guardian_and_under_10_store_nothing(
    band: AgeBand, needs_guardian: bool, under_10: bool
) -> None:
    assert band.needs_guardian is needs_guardian
    assert band.is_under_10 is under_10
