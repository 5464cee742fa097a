"""Groups: registered when a facilitator adds the bot, unregistered when it is removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.i18n.catalog import catalogs
from storage import citizens, groups, roles
from storage.citizens import NewCitizen
from storage.enums import AgeBand, Purpose, Role


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(database_url=sqlite_url(tmp_path / "groups.db"))
    async with bot:
        assert bot.db is not None
        async with bot.db.session() as session:
            for user_id, role in ((6001, Role.facilitator), (6002, Role.citizen)):
                await citizens.register_citizen(
                    NewCitizen(user_id, "th", AgeBand.age_35_49, False, None),
                    dict.fromkeys(Purpose, True),
                    session=session,
                )
                if role is Role.facilitator:
                    await roles.grant_role(user_id, role, actor="system", session=session)
        yield bot


async def _group(live: LiveBot, chat_id: int) -> groups.ChatGroup | None:
    assert live.db is not None
    async with live.db.session() as session:
        return await groups.get_group(chat_id, session=session)


async def test_a_facilitator_adding_the_bot_registers_the_group(live: LiveBot) -> None:
    facilitator = live.user(6001, "Fa", language_code="th")
    chat = live.emulator.add_group(-8001, "ชมรมผู้สูงอายุเบตง")
    await live.set_membership(facilitator, chat.id, "member")
    group = await _group(live, chat.id)
    assert group is not None and group.active and group.title == "ชมรมผู้สูงอายุเบตง"
    assert group.added_by == "tg:6001"
    assert live.emulator.last_sent(chat.id).text == catalogs().text("th", "group.registered")

    await live.set_membership(facilitator, chat.id, "kicked")
    removed = await _group(live, chat.id)
    assert removed is not None and not removed.active


async def test_a_citizen_adding_the_bot_does_not_register_the_group(live: LiveBot) -> None:
    citizen = live.user(6002, "Ci", language_code="th")
    chat = live.emulator.add_group(-8002, "Friends")
    await live.set_membership(citizen, chat.id, "member")
    assert await _group(live, chat.id) is None
    assert live.emulator.last_sent(chat.id).text == catalogs().text("th", "group.not_registered")
