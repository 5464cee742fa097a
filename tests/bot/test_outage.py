"""Retry, spool and replay across a database outage, with a stand-in application."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError
from telegram import Update

from bot import outage
from bot.i18n.catalog import catalogs
from bot.outage import OutageGuard
from bot.services import SERVICES_KEY, Services
from bot.settings import load_settings
from bot.spool import Spool
from bot.update_processor import PerSenderUpdateProcessor

TEXTS = catalogs().messages
CONSENTING, STRANGER = 42, 99


class FakeBot:
    """Records what the guard says to people."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.answered: list[str | None] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append((chat_id, text))

    async def answer_callback_query(self, callback_query_id: str, text: str | None = None,
                                    **_: Any) -> bool:  # fmt: skip
        self.answered.append(text)
        return True


class FakeDatabase:
    def __init__(self) -> None:
        self.down = False

    async def ping(self) -> bool:
        return not self.down


class FakeApp:
    """Handles updates as PTB would, with our error handler's answer to a database error."""

    def __init__(self, db: FakeDatabase) -> None:
        self.bot = FakeBot()
        self.db = db
        self.bot_data: dict[str, Any] = {
            SERVICES_KEY: Services(
                settings=load_settings(),
                db=db,
                catalogs=catalogs(),
                districts=(),  # type: ignore[arg-type]
            )
        }
        self.handled: list[int] = []
        self.fail_next: dict[int, int] = {}  # update_id → how many more runs fail

    async def process_update(self, update: Update) -> None:
        failing = self.fail_next.get(update.update_id, 0)
        if self.db.down or failing:
            self.fail_next[update.update_id] = max(failing - 1, 0)
            error = ConnectionDoesNotExistError("connection was closed in the middle of operation")
            assert outage.absorb(error, update)
            return
        self.handled.append(update.update_id)


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outage, "FIRST_DELAY_SECONDS", 0.01)
    monkeypatch.setattr(outage, "MAX_DELAY_SECONDS", 0.02)


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def app(db: FakeDatabase) -> FakeApp:
    return FakeApp(db)


@pytest.fixture
def guard(app: FakeApp, tmp_path: Path) -> Iterator[OutageGuard]:
    guard = OutageGuard(Spool(tmp_path / "spool"), retry_seconds=0.2)
    guard.bind(app)
    guard.remember_consent(CONSENTING, "en")
    yield guard


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "A", "language_code": "en"}


def _message(update_id: int, user_id: int, app: FakeApp) -> Update:
    data = {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user_id, "type": "private"},
        "from": _user(user_id), "text": f"text {update_id}"}}  # fmt: skip
    return Update.de_json(data, app.bot)  # type: ignore[arg-type]


def _vote(update_id: int, user_id: int, app: FakeApp) -> Update:
    data = {"update_id": update_id,
            "poll_answer": {"poll_id": "p1", "user": _user(user_id), "option_ids": [0],
                            "option_persistent_ids": ["o0"]}}  # fmt: skip
    return Update.de_json(data, app.bot)  # type: ignore[arg-type]


def _tap(update_id: int, user_id: int, app: FakeApp) -> Update:
    query = {"id": f"q{update_id}", "from": _user(user_id), "chat_instance": "c", "data": "v1:x"}
    data = {"update_id": update_id, "callback_query": query}
    return Update.de_json(data, app.bot)  # type: ignore[arg-type]


async def _handle(guard: OutageGuard, app: FakeApp, update: Update) -> None:
    await guard.handle(update, app.process_update(update))


async def _replay(guard: OutageGuard) -> int:
    return await guard.replay(PerSenderUpdateProcessor(4, guard).in_turn)


async def test_an_update_is_handled_again_once_the_database_is_back_within_the_retry_time(
    guard: OutageGuard, app: FakeApp
) -> None:
    app.fail_next[1] = 2
    await _handle(guard, app, _vote(1, CONSENTING, app))
    assert app.handled == [1]
    assert guard.spool.pending() == [] and app.bot.sent == []


async def test_a_consenting_person_s_updates_are_spooled_and_they_are_told_once(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    await _handle(guard, app, _vote(1, CONSENTING, app))
    await _handle(guard, app, _message(2, CONSENTING, app))
    assert app.handled == []
    assert guard.spool.pending() == [1, 2]
    assert app.bot.sent == [(CONSENTING, TEXTS["en"]["outage.delayed"])]


async def test_people_not_known_to_have_consented_are_not_spooled_but_asked_to_try_later(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    guard.remember_consent(43, "th")
    guard.remember_consent(43, None)  # seen since without a record (consent withdrawn)
    await _handle(guard, app, _message(1, STRANGER, app))
    await _handle(guard, app, _vote(2, 43, app))
    assert guard.spool.pending() == []
    assert app.bot.sent == [
        (STRANGER, TEXTS["en"]["outage.try_later"]),
        (43, TEXTS["en"]["outage.try_later"]),  # Telegram's language: no record to ask
    ]


async def test_a_button_tap_is_answered_at_once_and_never_spooled(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    await _handle(guard, app, _tap(1, CONSENTING, app))
    assert guard.spool.pending() == []
    assert app.bot.answered == [TEXTS["en"]["outage.try_later"]]


async def test_replay_waits_for_the_database_then_runs_in_update_id_order_and_deletes(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    for update_id in (5, 7):
        await _handle(guard, app, _vote(update_id, CONSENTING, app))
    await _handle(guard, app, _message(6, 44, app))  # not known: refused, not kept
    assert await _replay(guard) == 0
    assert guard.spool.pending() == [5, 7]
    db.down = False
    # Back up, but this person's new update must not overtake the ones waiting.
    await _handle(guard, app, _message(9, CONSENTING, app))
    assert app.handled == [] and guard.spool.pending() == [5, 7, 9]
    assert await _replay(guard) == 3
    assert app.handled == [5, 7, 9]
    assert guard.spool.pending() == []
    assert not list((guard.spool.directory).iterdir())
    db.down = True  # the next outage tells them again
    await _handle(guard, app, _vote(10, CONSENTING, app))
    delayed = [text for _, text in app.bot.sent if text == TEXTS["en"]["outage.delayed"]]
    assert len(delayed) == 2


async def test_an_update_that_fails_again_holds_back_its_sender_only_until_the_next_run(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    guard.remember_consent(47, "th")
    db.down = True
    for update_id, sender in ((1, CONSENTING), (2, CONSENTING), (3, 47), (4, CONSENTING)):
        await _handle(guard, app, _vote(update_id, sender, app))
    db.down = False
    app.fail_next[2] = 1
    assert await _replay(guard) == 2
    assert app.handled == [1, 3], "4 must not overtake 2; 47's update need not wait"
    assert guard.spool.pending() == [2, 4]
    assert await _replay(guard) == 2
    assert app.handled == [1, 3, 2, 4]


async def test_replay_stops_when_the_database_is_gone_again(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    for update_id in (1, 2, 3):  # three people
        guard.remember_consent(CONSENTING + update_id, "en")
        await _handle(guard, app, _vote(update_id, CONSENTING + update_id, app))
    db.down = False
    original = app.process_update

    async def down_after_the_first(update: Update) -> None:
        await original(update)
        db.down = True

    app.process_update = down_after_the_first  # type: ignore[method-assign]
    assert await _replay(guard) == 1
    assert guard.spool.pending() == [2, 3]


async def test_forget_person_drops_their_spooled_updates_and_their_consent_mark(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    guard.remember_consent(45, "th")
    db.down = True
    await _handle(guard, app, _vote(1, CONSENTING, app))
    await _handle(guard, app, _vote(2, 45, app))
    assert guard.forget_person(CONSENTING) == 1
    assert guard.spool.pending() == [2]
    await _handle(guard, app, _vote(3, CONSENTING, app))
    assert guard.spool.pending() == [2], "after /forget they are no longer known to consent"


async def test_a_logic_error_is_not_taken_for_an_outage() -> None:
    assert not outage.absorb(ValueError("bad input"), None)
    assert not outage.absorb(None, None)


async def test_once_an_update_gave_up_the_next_ones_go_to_the_spool_without_waiting(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    guard.remember_consent(46, "th")
    db.down = True
    await _handle(guard, app, _vote(1, CONSENTING, app))
    app.fail_next[2] = 1  # would succeed on a retry, but the outage is known: no retry
    db.down = False
    await _handle(guard, app, _vote(2, 46, app))
    assert guard.spool.pending() == [1, 2]
    assert await _replay(guard) == 2  # the replay found the database back
    app.fail_next[3] = 1
    await _handle(guard, app, _vote(3, 46, app))
    assert app.handled == [1, 2, 3], "retried again once the database was seen back"


async def test_forget_from_a_handler_context_removes_the_spooled_updates(
    guard: OutageGuard, app: FakeApp, db: FakeDatabase
) -> None:
    db.down = True
    await _handle(guard, app, _vote(1, CONSENTING, app))
    app.bot_data[outage.OUTAGE_KEY] = guard
    context = SimpleNamespace(application=app)
    assert outage.forget_person(context, CONSENTING) == 1  # type: ignore[arg-type]
    assert guard.spool.pending() == []
