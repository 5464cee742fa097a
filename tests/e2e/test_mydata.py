"""/mydata and /forget end to end: the file arrives and parses; /forget asks first, then
erases (the waitlist moves up and the promoted reader is told), or changes nothing.

Storage time stands at Tue 1 Dec 2026, 10:00 in Yala; a library event on Sat 5 Dec has one
book with one 30-minute loan: Malee (Thai) holds it and Sam (English) waits for it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot
from bot.emulator.model import EmuUser
from storage import citizens, library
from storage.clock import ManualClock
from storage.enums import ReservationStatus
from tests.e2e.citizen_council_helpers import running
from tests.e2e.library_helpers import (
    EN,
    TH,
    Stage,
    frozen_clock,
    last_document,
    last_text,
    person,
    stage,
    texts,
)

MALEE, SAM = 5101, 5102


@pytest.fixture
async def clock() -> AsyncIterator[ManualClock]:
    async with frozen_clock() as manual:
        yield manual


@pytest.fixture
async def live(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LiveBot]:
    async with running(tmp_path) as bot:
        yield bot


@pytest.fixture
async def scene(live: LiveBot) -> Stage:
    """The event; Malee holds its only seat and Sam is on its waitlist."""
    assert live.db is not None
    found = await stage(live, slots=1)
    await person(live, MALEE, "Malee", "th")
    await person(live, SAM, "Sam", "en")
    for press_order, reader in enumerate((MALEE, SAM), 1):
        async with live.db.session() as session:
            await library.reserve(
                found.event.id, found.book.id, reader, reader_name=f"Reader {reader}",
                language="th" if reader == MALEE else "en", press_order=press_order,
                session=session,
            )  # fmt: skip
    return found


async def _is_registered(live: LiveBot, telegram_user_id: int) -> bool:
    assert live.db is not None
    async with live.db.session(readonly=True) as session:
        return await citizens.get_citizen(telegram_user_id, session=session) is not None


def _malee(live: LiveBot) -> EmuUser:
    return live.emulator.users[MALEE]


async def test_mydata_sends_the_persons_data_as_a_json_file(scene: Stage) -> None:
    live = scene.live
    await live.send(_malee(live), "/mydata")
    document = last_document(live, MALEE)
    name, data = live.emulator.files.content_of(document)
    assert name == "mydata-2026-12-01.json"
    export = json.loads(data.decode("utf-8"))
    assert [c["telegram_user_id"] for c in export["tables"]["citizens"]] == [MALEE]
    [loan] = export["tables"]["library_reservations"]
    assert (loan["reader_name"], loan["status"]) == (f"Reader {MALEE}", "reserved")
    assert str(SAM) not in data.decode("utf-8")
    assert "ธันวาคม 2569" in str(document.extra.get("caption"))


async def test_mydata_for_someone_unknown_says_nothing_is_held(live: LiveBot) -> None:
    stranger = live.user(5199, "Stranger", language_code="en")
    [answer] = await live.send(stranger, "/mydata")
    assert answer.text == EN["mydata.nothing"]
    [answer] = await live.send(stranger, "/forget")
    assert answer.text == EN["forget.nothing"]


async def test_forget_confirmed_erases_and_gives_the_seat_to_the_waitlist(
    scene: Stage, clock: ManualClock
) -> None:
    live = scene.live
    [question] = await live.send(_malee(live), "/forget")
    assert question.text == TH["forget.confirm"]
    assert question.button_texts == [TH["forget.button.yes"], TH["forget.button.no"]]
    yes = str(question.buttons[0]["callback_data"])
    await live.press(_malee(live), TH["forget.button.yes"])
    assert last_text(live, MALEE) == TH["forget.done"]  # in her language, read before erasure
    assert not await _is_registered(live, MALEE)
    assert any("A fisher's life" in text for text in texts(live, SAM))  # Sam is told
    assert live.db is not None
    async with live.db.session(readonly=True) as session:
        [loan] = await library.my_loans(SAM, now=clock(), session=session)
    assert loan.status is ReservationStatus.reserved
    # The same button again: nothing left to confirm.
    query = await live.press_data(_malee(live), question, yes)
    assert query.answer is not None and query.answer.get("text") == TH["common.expired"]


async def test_forget_kept_or_forged_changes_nothing(scene: Stage) -> None:
    live = scene.live
    [question] = await live.send(_malee(live), "/forget")
    no = str(question.buttons[1]["callback_data"])
    for forged in ("v1:forget:yes:AAAAAAAAAAAA", "v1:forget:yes", "v1:forget:drop:x"):
        query = await live.press_data(_malee(live), question, forged)
        assert query.answer is not None and query.answer.get("text") == TH["common.expired"]
    await live.press(_malee(live), TH["forget.button.no"])
    assert last_text(live, MALEE) == TH["forget.kept"]
    assert await _is_registered(live, MALEE)
    query = await live.press_data(_malee(live), question, no.replace(":no:", ":yes:"))
    assert query.answer is not None and query.answer.get("text") == TH["common.expired"]
    assert await _is_registered(live, MALEE)
