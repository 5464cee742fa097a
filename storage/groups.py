"""Telegram groups the bot was added to. Polls and announcements go only to active ones."""

from __future__ import annotations

from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage import audit, clock
from storage.database import AsyncSession
from storage.models import ChatGroup

TITLE_MAX_LENGTH: Final = 255


def group_target(telegram_chat_id: int) -> str:
    """The audit target for a group: "group:<chat id>"."""
    return f"group:{telegram_chat_id}"


async def register_group(
    telegram_chat_id: int, title: str, *, added_by: str, session: AsyncSession
) -> ChatGroup:
    """Register the group (or re-activate a removed one) and keep its title current.

    Audited as "group.registered" when the group becomes active; a title change alone is not.
    """
    title = _clean_title(title)
    if not added_by:
        raise ValueError("a group needs the actor who added the bot")
    group = await get_group(telegram_chat_id, session=session)
    now = clock.now()
    if group is None:
        group = ChatGroup(
            telegram_chat_id=telegram_chat_id,
            title=title,
            added_by=added_by,
            added_at=now,
            active=True,
        )
        try:
            async with session.begin_nested():
                session.add(group)
                await session.flush()
        except IntegrityError:
            # A concurrent update registered it first: carry on with that row.
            group = await get_group(telegram_chat_id, session=session)
            if group is None:
                raise
        else:
            await _audit_registered(group, session)
            return group
    reactivated = not group.active
    if reactivated:
        group.active = True
        group.removed_at = None
        group.added_by = added_by
        group.added_at = now
    if reactivated or group.title != title:
        group.title = title
        session.add(group)
        await session.flush()
    if reactivated:
        await _audit_registered(group, session)
    return group


async def unregister_group(
    telegram_chat_id: int, *, actor: str, session: AsyncSession
) -> ChatGroup | None:
    """Mark the group inactive (the bot left or was removed); None if it was never registered.

    Audited as "group.unregistered" when it was active.
    """
    group = await get_group(telegram_chat_id, session=session)
    if group is None or not group.active:
        return group
    group.active = False
    group.removed_at = clock.now()
    session.add(group)
    await session.flush()
    await audit.record(
        "group.unregistered",
        actor=actor,
        target=group_target(telegram_chat_id),
        session=session,
    )
    return group


async def active_groups(*, session: AsyncSession) -> list[ChatGroup]:
    """Every active group, in the order they were first registered."""
    statement = select(ChatGroup).where(col(ChatGroup.active).is_(True)).order_by(col(ChatGroup.id))
    return list((await session.exec(statement)).all())


async def get_group(telegram_chat_id: int, *, session: AsyncSession) -> ChatGroup | None:
    """The group with this Telegram chat id, active or not, or None."""
    statement = select(ChatGroup).where(ChatGroup.telegram_chat_id == telegram_chat_id)
    return (await session.exec(statement)).first()


async def _audit_registered(group: ChatGroup, session: AsyncSession) -> None:
    await audit.record(
        "group.registered",
        actor=group.added_by,
        target=group_target(group.telegram_chat_id),
        detail={"title": group.title},
        session=session,
    )


def _clean_title(title: str) -> str:
    return " ".join(title.split())[:TITLE_MAX_LENGTH]
