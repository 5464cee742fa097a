"""The /schedule wizard's tables hold together (kinds, steps, prompts, actions), and the labels
of the /schedule and /events buttons fit a small screen."""

from __future__ import annotations

import pytest

from bot.i18n.catalog import LANGUAGES, catalogs
from handlers import callback_data as cb
from handlers import schedule

BUTTON_KEYS = [
    key
    for key in catalogs().messages["en"]
    if key.startswith(("schedule.button_", "libev.button_", "schedule.kind_"))
]


@pytest.mark.parametrize("kind", schedule.KINDS, ids=lambda kind: kind.key)
def test_every_step_of_a_kind_can_be_shown_and_it_ends_with_the_confirmation(
    kind: schedule.Kind,
) -> None:
    assert kind.steps[-1] == schedule.CONFIRM
    assert len(set(kind.steps)) == len(kind.steps)
    assert all(step in schedule._PROMPTS for step in kind.steps)
    assert kind.label_key in catalogs().messages["th"]
    cb.encode(schedule.FLOW, "kind", kind.key)  # fits in button data


def test_every_button_action_belongs_to_known_steps() -> None:
    known = set(schedule._PROMPTS)
    for action, (steps, _) in schedule._ACTIONS.items():
        assert steps <= known, action
    assert set(schedule._TYPED) <= known


@pytest.mark.parametrize("language", LANGUAGES)
def test_button_labels_fit_a_small_screen(language: str) -> None:
    assert BUTTON_KEYS, "the flows have buttons"
    too_long = [k for k in BUTTON_KEYS if len(catalogs().text(language, k)) > 32]
    assert too_long == []
