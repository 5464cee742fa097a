"""Registered groups: polls and announcements go only to groups the bot is still in."""

from __future__ import annotations

import asyncio

from storage import audit
from storage.clock import ManualClock
from storage.database import Database
from storage.groups import active_groups, get_group, register_group, unregister_group

GROUP = -1001234567890  # supergroup ids are large negatives: BIGINT
OTHER = -1009876543210
FACILITATOR = audit.actor_for(7)


async def group_log(db: Database) -> list[tuple[str, str, str | None, object]]:
    async with db.session() as session:
        return [
            (e.action, e.actor, e.target, e.detail)
            for e in await audit.all_entries(session=session)
        ]


async def test_registering_a_group_stores_it_as_active_and_audits_it(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        group = await register_group(GROUP, "ชมรมผู้สูงอายุ", added_by=FACILITATOR, session=session)
    assert group.id is not None
    assert (group.telegram_chat_id, group.title, group.added_by) == (
        GROUP,
        "ชมรมผู้สูงอายุ",
        FACILITATOR,
    )
    assert (group.added_at, group.active, group.removed_at) == (clock(), True, None)
    async with db.session() as session:
        stored = await get_group(GROUP, session=session)
    assert stored is not None
    assert stored.telegram_chat_id == GROUP
    assert await group_log(db) == [
        ("group.registered", FACILITATOR, f"group:{GROUP}", {"title": "ชมรมผู้สูงอายุ"})
    ]


async def test_an_unknown_group_is_not_found(db: Database) -> None:
    async with db.session() as session:
        assert await get_group(GROUP, session=session) is None
        assert await unregister_group(GROUP, actor=FACILITATOR, session=session) is None
        assert await active_groups(session=session) == []
    assert await group_log(db) == []


async def test_registering_again_updates_the_title_without_a_second_entry(db: Database) -> None:
    async with db.session() as session:
        first = await register_group(GROUP, "Old name", added_by=FACILITATOR, session=session)
    async with db.session() as session:
        again = await register_group(GROUP, "  New   name ", added_by="tg:8", session=session)
    assert again.id == first.id
    assert again.title == "New name"
    assert again.added_by == FACILITATOR
    assert [entry[0] for entry in await group_log(db)] == ["group.registered"]


async def test_unregistering_keeps_the_row_but_drops_it_from_active_groups(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        await register_group(GROUP, "A", added_by=FACILITATOR, session=session)
        await register_group(OTHER, "B", added_by=FACILITATOR, session=session)
    clock.advance(days=1)
    async with db.session() as session:
        removed = await unregister_group(GROUP, actor="tg:9", session=session)
    assert removed is not None
    assert (removed.active, removed.removed_at) == (False, clock())
    async with db.session() as session:
        assert [g.telegram_chat_id for g in await active_groups(session=session)] == [OTHER]
        assert (await get_group(GROUP, session=session)) is not None
        # Already gone: nothing changes, nothing more is logged.
        again = await unregister_group(GROUP, actor="tg:9", session=session)
    assert again is not None
    assert again.removed_at == clock()
    assert [entry[:3] for entry in await group_log(db)][2:] == [
        ("group.unregistered", "tg:9", f"group:{GROUP}")
    ]


async def test_a_removed_group_is_reactivated_when_the_bot_is_added_back(
    db: Database, clock: ManualClock
) -> None:
    async with db.session() as session:
        first = await register_group(GROUP, "A", added_by=FACILITATOR, session=session)
        await unregister_group(GROUP, actor=FACILITATOR, session=session)
    clock.advance(days=3)
    async with db.session() as session:
        back = await register_group(GROUP, "A again", added_by="tg:8", session=session)
    assert back.id == first.id
    assert (back.active, back.removed_at, back.title) == (True, None, "A again")
    assert (back.added_by, back.added_at) == ("tg:8", clock())
    async with db.session() as session:
        assert [g.id for g in await active_groups(session=session)] == [first.id]
    assert [entry[0] for entry in await group_log(db)] == [
        "group.registered",
        "group.unregistered",
        "group.registered",
    ]


async def test_active_groups_come_in_registration_order(db: Database) -> None:
    async with db.session() as session:
        for n, chat_id in enumerate([-3, -1, -2]):
            await register_group(chat_id, f"g{n}", added_by=FACILITATOR, session=session)
        assert [g.telegram_chat_id for g in await active_groups(session=session)] == [-3, -1, -2]


async def test_two_simultaneous_registrations_make_one_group(db: Database) -> None:
    async def add(title: str) -> int | None:
        async with db.session() as session:
            group = await register_group(GROUP, title, added_by=FACILITATOR, session=session)
            await asyncio.sleep(0.05)
            return group.id

    ids = await asyncio.gather(add("one"), add("two"))
    assert ids[0] == ids[1]
    async with db.session() as session:
        assert len(await active_groups(session=session)) == 1


async def test_a_long_title_is_cut_to_fit(db: Database) -> None:
    async with db.session() as session:
        group = await register_group(GROUP, "ก" * 300, added_by=FACILITATOR, session=session)
    assert group.title == "ก" * 255
