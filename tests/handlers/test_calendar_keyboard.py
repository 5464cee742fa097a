"""Date and time pickers: Buddhist Era headers, allowed days only, data that decodes or not."""

from __future__ import annotations

from datetime import date, time

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator.validation import check_reply_markup
from handlers import callback_data as cb
from handlers.calendar_keyboard import (
    BLANK,
    YearMonth,
    decode_day,
    decode_month,
    decode_month_within,
    decode_time,
    month_keyboard,
    month_title,
    time_keyboard,
)

TODAY = date(2026, 11, 20)
FLOW = "sched"


def _buttons(markup: InlineKeyboardMarkup) -> list[InlineKeyboardButton]:
    return [button for row in markup.inline_keyboard for button in row]


def _decoded(button: InlineKeyboardButton) -> cb.CallbackData:
    assert isinstance(button.callback_data, str)
    decoded = cb.decode(button.callback_data)
    assert decoded is not None, button.callback_data
    return decoded


def _day_buttons(markup: InlineKeyboardMarkup) -> dict[str, cb.CallbackData]:
    """Every button of the day grid (rows 2 to the last but one), by label."""
    rows = markup.inline_keyboard[2:-1]
    return {button.text: _decoded(button) for row in rows for button in row if button.text != BLANK}


def test_the_thai_header_shows_the_buddhist_era_and_thai_names() -> None:
    markup = month_keyboard(FLOW, 2026, 11, language="th", today=TODAY)
    assert markup.inline_keyboard[0][0].text == "พฤศจิกายน 2569"
    weekdays = [button.text for button in markup.inline_keyboard[1]]
    assert weekdays == ["จ.", "อ.", "พ.", "พฤ.", "ศ.", "ส.", "อา."]  # Monday first
    previous, following = markup.inline_keyboard[-1]
    assert (previous.text, following.text) == ("‹ ต.ค.", "ธ.ค. ›")


def test_the_english_header_shows_the_common_era() -> None:
    markup = month_keyboard(FLOW, 2026, 11, language="en", today=TODAY)
    assert markup.inline_keyboard[0][0].text == "November 2026"
    assert markup.inline_keyboard[1][0].text == "Mo"
    assert month_title(2027, 1, "th") == "มกราคม 2570"
    assert month_title(2027, 1, "xx") == "January 2027"  # no Babel locale: English names


def test_days_fall_under_their_weekday() -> None:
    markup = month_keyboard(FLOW, 2026, 11, language="en", today=date(2000, 1, 1))
    first_week = [button.text for button in markup.inline_keyboard[2]]
    # 1 November 2026 is a Sunday: six blanks, then the 1st.
    assert first_week == [BLANK] * 6 + ["1"]
    assert all(len(row) == 7 for row in markup.inline_keyboard[1:-1])


def test_every_button_fits_telegram_and_decodes() -> None:
    flows = [FLOW, "f" * 40]
    for flow in flows:
        for year, month in [(2026, 1), (2026, 2), (2028, 2), (2026, 11), (2026, 12)]:
            markup = month_keyboard(
                flow, year, month, language="th", today=TODAY, first_allowed=TODAY
            )
            check_reply_markup(markup.to_dict())  # Telegram's own checks, as the emulator has them
            for button in _buttons(markup):
                assert isinstance(button.callback_data, str)
                assert len(button.callback_data.encode()) <= cb.MAX_BYTES
                data = _decoded(button)
                assert data.flow == flow
                if data.action == "day":
                    assert decode_day(data.args) is not None
                elif data.action == "month":
                    assert decode_month(data.args) is not None
                else:
                    assert (data.action, data.args) == ("noop", ())
        for button in _buttons(time_keyboard(flow)):
            data = _decoded(button)
            assert data.action == "time" and decode_time(data.args) is not None


def test_days_before_the_first_allowed_are_labels_and_today_is_marked() -> None:
    markup = month_keyboard(FLOW, 2026, 11, language="th", today=TODAY, first_allowed=TODAY)
    days = _day_buttons(markup)
    assert days["(19)"].action == "noop"
    assert days["(1)"].action == "noop"
    assert days["•20"] == cb.CallbackData(FLOW, "day", ("20261120",))
    assert days["30"] == cb.CallbackData(FLOW, "day", ("20261130",))
    previous, following = markup.inline_keyboard[-1]
    assert previous.text == BLANK, "October has no day left to pick"
    assert _decoded(previous).action == "noop"
    assert _decoded(following) == cb.CallbackData(FLOW, "month", ("202612",))


def test_navigation_goes_back_to_a_month_that_still_has_allowed_days() -> None:
    markup = month_keyboard(
        FLOW, 2026, 12, language="en", today=TODAY, first_allowed=date(2026, 11, 30)
    )
    previous, _ = markup.inline_keyboard[-1]
    assert previous.text == "‹ Nov"
    assert _decoded(previous) == cb.CallbackData(FLOW, "month", ("202611",))


def test_navigation_stops_where_no_day_could_be_picked() -> None:
    markup = month_keyboard(
        FLOW, 2026, 11, language="en", today=TODAY,
        first_allowed=date(2026, 11, 1), last_allowed=date(2026, 11, 30),
    )  # fmt: skip
    previous, following = markup.inline_keyboard[-1]
    assert previous.text == following.text == BLANK
    assert _decoded(previous).action == _decoded(following).action == "noop"
    later = month_keyboard(FLOW, 2026, 12, language="en", today=TODAY, last_allowed=TODAY)
    assert all(data.action == "noop" for data in _day_buttons(later).values())


def test_days_after_the_last_allowed_are_labels() -> None:
    markup = month_keyboard(
        FLOW, 2026, 12, language="en", today=TODAY, last_allowed=date(2026, 12, 5)
    )
    days = _day_buttons(markup)
    assert days["5"].action == "day" and days["(6)"].action == "noop"


def test_a_month_that_does_not_exist_is_refused() -> None:
    with pytest.raises(ValueError):
        month_keyboard(FLOW, 2026, 13, language="th", today=TODAY)


def test_time_buttons() -> None:
    markup = time_keyboard(FLOW)
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["08:00", "09:00", "10:00", "13:00"],
        ["14:00", "16:00", "18:00"],
    ]
    assert _decoded(markup.inline_keyboard[1][2]) == cb.CallbackData(FLOW, "time", ("1800",))
    assert decode_time(("0930",)) == time(9, 30)
    with pytest.raises(ValueError):
        time_keyboard(FLOW, times=("24:00",))
    with pytest.raises(ValueError):
        time_keyboard(FLOW, times=())


def test_decoding_the_real_data() -> None:
    assert decode_day(("20261205",)) == date(2026, 12, 5)
    assert decode_month(("202612",)) == YearMonth(2026, 12)
    assert decode_day(("20261205",), first_allowed=date(2026, 12, 6)) is None
    assert decode_day(("20261205",), last_allowed=date(2026, 12, 4)) is None


@pytest.mark.parametrize(
    "args",
    [(), ("20261205", "1"), ("2026125",), ("20260231",), ("20261305",), ("2026-1-5",),
     ("๒๐๒๖๑๒๐๕",), ("00001205",), ("x" * 8,)],
)  # fmt: skip
def test_forged_days_decode_to_none(args: tuple[str, ...]) -> None:
    assert decode_day(args) is None


@pytest.mark.parametrize(
    "args", [(), ("202613",), ("202600",), ("000012",), ("2026012",), ("202612", "x"), ("๒๐๒๖๑๒",)]
)
def test_forged_months_decode_to_none(args: tuple[str, ...]) -> None:
    assert decode_month(args) is None


@pytest.mark.parametrize(
    "args", [(), ("2400",), ("0960",), ("930",), ("09300",), ("0930", "x"), ("๐๙๓๐",), ("-930",)]
)
def test_forged_times_decode_to_none(args: tuple[str, ...]) -> None:
    assert decode_time(args) is None


def test_a_month_outside_the_allowed_days_decodes_to_none() -> None:
    last = date(2027, 1, 10)
    assert decode_month_within(("202611",), TODAY, last) == YearMonth(2026, 11)
    assert decode_month_within(("202701",), TODAY, last) == YearMonth(2027, 1)
    assert decode_month_within(("202610",), TODAY, last) is None
    assert decode_month_within(("202702",), TODAY, last) is None
