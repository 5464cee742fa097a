"""Invite links and role changes end to end, each outcome in the audit log."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.emulator.harness import LiveBot, sqlite_url
from bot.emulator.model import EmuUser
from bot.i18n.catalog import catalogs
from storage import audit, citizens, clock
from storage.clock import ManualClock
from storage.enums import Role

ADMIN_ID = 9001
EN = catalogs().messages["en"]


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveBot]:
    bot = LiveBot(
        database_url=sqlite_url(tmp_path / "invites.db"),
        settings_overrides={"admin_ids": frozenset({ADMIN_ID})},
    )
    async with bot:
        yield bot
    assert bot.emulator.unanswered_callback_queries() == []
    assert [(c.method, c.description) for c in bot.emulator.calls if not c.ok] == []


async def _invite(live: LiveBot, role: str = "facilitator") -> str:
    admin = live.emulator.users.get(ADMIN_ID) or live.user(ADMIN_ID, "Admin", language_code="en")
    [message] = await live.send(admin, f"/invite {role}")
    match = re.search(r"start=(inv-[A-Za-z0-9_-]+)", message.text or "")
    assert match, message.text
    return match.group(1)


async def _sign_up(live: LiveBot, user: EmuUser, payload: str, *, consent: bool = True) -> None:
    await live.send(user, f"/start {payload}")
    await live.press(user, "English")
    await live.press(user, "35–49")
    await live.press(user, "Accept all and continue" if consent else "Decline all")
    if consent:
        await live.press(user, "Skip")


async def _role(live: LiveBot, user_id: int) -> Role | None:
    assert live.db is not None
    async with live.db.session() as session:
        citizen = await citizens.get_citizen(user_id, session=session)
    return Role(citizen.role) if citizen else None


async def _actions(live: LiveBot) -> list[tuple[str, str, object]]:
    assert live.db is not None
    async with live.db.session() as session:
        entries = await audit.all_entries(session=session)
    return [(e.action, e.actor, (e.detail or {}).get("reason")) for e in entries]


async def test_an_invite_grants_its_role_once(live: LiveBot) -> None:
    payload = await _invite(live)
    first = live.user(5001, "Nadia", language_code="en")
    await _sign_up(live, first, payload)
    accepted = EN["invite.accepted"].format(role="facilitator")
    assert live.emulator.last_sent(5001).text == accepted.replace("<b>", "").replace("</b>", "")
    assert await _role(live, 5001) is Role.facilitator
    assert "invite" not in live.emulator.menu_for(first)  # admin-only command
    # The same person again, and a second person: the link is spent.
    [used] = (await live.send(first, f"/start {payload}"))[-1:]
    assert used.text == EN["invite.used"]
    second = live.user(5002, "Omar", language_code="en")
    await _sign_up(live, second, payload)
    assert live.emulator.last_sent(5002).text == EN["invite.used"]
    assert await _role(live, 5002) is Role.citizen
    actions = await _actions(live)
    assert ("invite.created", f"tg:{ADMIN_ID}", None) in actions
    assert any(a[0] == "invite.redeemed" for a in actions)
    assert any(a[0] == "role.granted" for a in actions)
    assert [a for a in actions if a[0] == "invite.refused"] == [
        ("invite.refused", "tg:5001", "used"),
        ("invite.refused", "tg:5002", "used"),
    ]


async def test_an_expired_invite_is_refused(live: LiveBot) -> None:
    manual = ManualClock(clock.now())
    clock.set_clock(manual)
    try:
        payload = await _invite(live, "officer")
        manual.advance(timedelta(hours=73))
        user = live.user(5003, "Late", language_code="en")
        await _sign_up(live, user, payload)
    finally:
        clock.set_clock(None)
    assert live.emulator.last_sent(5003).text == EN["invite.expired"]
    assert await _role(live, 5003) is Role.citizen
    assert ("invite.refused", "tg:5003", "expired") in await _actions(live)


async def test_a_forged_invite_is_refused(live: LiveBot) -> None:
    user = live.user(5004, "Forger", language_code="en")
    await _sign_up(live, user, "inv-AAAAAAAAAAAAAAAA")
    assert live.emulator.last_sent(5004).text == EN["invite.invalid"]
    assert ("invite.refused", "tg:5004", "unknown") in await _actions(live)


async def test_declining_consent_leaves_the_invite_unused_and_logs_it_anonymously(
    live: LiveBot,
) -> None:
    payload = await _invite(live)
    shy = live.user(5005, "Shy", language_code="en")
    await _sign_up(live, shy, payload, consent=False)
    assert await _role(live, 5005) is None
    assert ("invite.refused", "anonymous", "declined_consent") in await _actions(live)
    assert all("5005" not in str(a) for a in await _actions(live))
    later = live.user(5006, "Later", language_code="en")
    await _sign_up(live, later, payload)
    assert await _role(live, 5006) is Role.facilitator


async def test_grant_and_revoke_by_reply_in_a_group_with_confirmation(
    live: LiveBot, caplog: pytest.LogCaptureFixture
) -> None:
    admin = live.user(ADMIN_ID, "Admin", language_code="en")
    member = live.user(5007, "Member", language_code="th")
    await _sign_up(live, member, "x")  # any payload: an unknown link just gets a notice
    group = live.emulator.add_group(-7001, "Staff")
    await live.set_membership(admin, group.id, "member")
    said = await live.emulator.user_sends(member, "/help@learncity_test_bot", chat_id=group.id)
    await live.settle()  # two people: their updates may be handled concurrently
    await live.emulator.user_sends(admin, "/grant facilitator", chat_id=group.id, reply_to=said)
    await live.settle()
    confirm = live.emulator.last_sent(group.id)
    assert confirm.button_texts == ["Confirm", "Cancel"]
    confirm_data = str(confirm.buttons[0]["callback_data"])
    # Another person pressing the admin's button: refused, nothing changes.
    with caplog.at_level(logging.ERROR):
        query = await live.press_data(member, confirm, confirm_data)
    assert query.answer is not None and query.answer["text"] == EN["guard.refused"]
    assert await _role(live, 5007) is Role.citizen
    await live.press(admin, "Confirm", chat_id=group.id)
    assert await _role(live, 5007) is Role.facilitator
    assert "now: facilitator" in (live.emulator.last_sent(5007).text or "")  # told, in English
    # The spent button, pressed again: expired, nothing changes.
    again = await live.press_data(admin, confirm, confirm_data)
    assert again.answer is not None and again.answer["text"] == EN["common.expired"]

    await live.send(admin, "/revoke 5007")
    await live.press(admin, "Confirm")
    assert await _role(live, 5007) is Role.citizen
    assert "ERROR" not in caplog.text


async def test_forged_admin_button_data_changes_nothing(live: LiveBot) -> None:
    admin = live.user(ADMIN_ID, "Admin", language_code="en")
    [anchor] = await live.send(admin, "/help")
    for data in ("v1:adm:ok:nosuchkey", "v1:adm:ok", "v0:adm:ok:abc", "v1:adm:zz:abc", "\x00\xff"):
        query = await live.press_data(admin, anchor, data)
        assert query.answer is not None and query.answer["text"] == EN["common.expired"], data


async def test_the_audit_command_lists_entries_and_sends_the_log_as_a_file(live: LiveBot) -> None:
    await _invite(live)
    admin = live.emulator.users[ADMIN_ID]
    replies = await live.send(admin, "/audit")
    assert "invite.created" in (replies[0].text or "")
    assert replies[1].kind == "document"
    name, data = live.emulator.files.content_of(replies[1])
    assert name.startswith("audit-") and name.endswith(".csv")
    text = data.decode("utf-8-sig")
    assert text.splitlines()[0] == "at_utc,actor,action,target,detail"
    assert "invite.created" in text
