"""Withdrawing consent per purpose stops what rests on it; giving it again is one call."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from storage import citizens, council, deliveries, library, reminders, withdrawal
from storage.clock import ManualClock
from storage.database import Database
from storage.deliveries import citizen_recipient, claim_due, enqueue
from storage.enums import DeliveryStatus, Purpose, ReservationStatus, RsvpAnswer
from storage.errors import ConsentRequired
from storage.models import AuditEntry, Delivery
from storage.surveys import add_free_text
from tests.storage import council_helpers as ch
from tests.storage import library_helpers as lh
from tests.storage.factories import registered

ME = 1001
OTHER = 1002


async def _queued(db: Database, purpose: str, *telegram_user_ids: int) -> None:
    async with db.session() as session:
        await enqueue(
            purpose,
            "reminder",
            {"th": "เตือน", "en": "reminder"},
            [citizen_recipient(i, "th") for i in telegram_user_ids],
            created_by="system",
            audience="test",
            session=session,
        )


async def _statuses(db: Database) -> dict[str, str]:
    async with db.session(readonly=True) as session:
        rows = (await session.exec(select(Delivery.key, Delivery.status))).all()
    return {key: str(status) for key, status in rows}


async def _actions(db: Database) -> list[str]:
    async with db.session(readonly=True) as session:
        rows = await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id)))
        return list(rows.all())


async def test_withdrawing_reminders_drops_the_persons_pending_reminders_and_announcements(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    await registered(db, OTHER)
    await _queued(db, "reminder:1:1767600000:60", ME, OTHER)
    await _queued(db, "broadcast:abc", ME)
    await _queued(db, "council-move:1:2:3:4", ME)  # a notice about a booking: not a reminder

    async with db.session() as session:
        done = await withdrawal.withdraw(ME, Purpose.reminders, session=session)

    assert done.changed and done.deliveries_dropped == 2
    statuses = await _statuses(db)
    assert statuses["reminder:1:1767600000:60|tg:1001"] == DeliveryStatus.dropped
    assert statuses["broadcast:abc|tg:1001"] == DeliveryStatus.dropped
    assert statuses["reminder:1:1767600000:60|tg:1002"] == DeliveryStatus.pending
    assert statuses["council-move:1:2:3:4|tg:1001"] == DeliveryStatus.pending
    actions = await _actions(db)
    assert actions[-2:] == ["consent.withdrawn", "consent.withdrawal_effects"]


async def test_a_reminder_queued_after_withdrawal_is_dropped_when_claimed_not_sent(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    await registered(db, OTHER)
    async with db.session() as session:
        await citizens.set_consent(ME, Purpose.reminders, False, session=session)
    # Queued by a sweep that read the consents just before the withdrawal.
    await _queued(db, "reminder:9:1767600000:15", ME, OTHER)

    async with db.session() as session:
        tasks = await claim_due(10, session=session)

    assert [task.chat_id for task in tasks] == [OTHER]
    assert (await _statuses(db))["reminder:9:1767600000:15|tg:1001"] == DeliveryStatus.dropped


async def test_strangers_and_messages_without_a_purpose_rule_are_claimed_as_before(
    db: Database, clock: ManualClock
) -> None:
    await _queued(db, "reminder:9:1767600000:15", 4242)  # not a citizen: the sender's business
    await _queued(db, "library.book_retired:1:2", 4243)
    async with db.session() as session:
        tasks = await claim_due(10, session=session)
    assert sorted(task.chat_id for task in tasks) == [4242, 4243]


async def test_withdrawing_the_survey_refuses_new_free_text_and_drops_invitations(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    async with db.session() as session:
        kept = await add_free_text(ME, "อยากเรียนทำขนม", "th", survey_id=None, session=session)
    await _queued(db, "survey-invite:3", ME)

    async with db.session() as session:
        done = await withdrawal.withdraw(ME, Purpose.needs_survey, session=session)
    assert done.deliveries_dropped == 1
    async with db.session() as session:
        try:
            await add_free_text(ME, "อยากเรียนภาษา", "th", survey_id=None, session=session)
        except ConsentRequired:
            pass
        else:
            raise AssertionError("free text was stored without consent")
        # What was already given stays (until /forget).
        assert await session.get(type(kept), kept.id) is not None


async def test_withdrawing_the_library_cancels_reservations_and_promotes_the_waitlist(
    db: Database, clock: ManualClock
) -> None:
    await lh.with_categories(db)
    book = await lh.listed_book(db)
    event = await lh.new_event(db, [book.id], slots_per_book=1)
    await lh.readers(db, ME, OTHER)
    mine = await lh.reserved(db, event, book, ME)
    waiting = await lh.reserved(db, event, book, OTHER)
    assert mine.reserved and waiting.waitlisted

    async with db.session() as session:
        assert await withdrawal.live_bookings(ME, Purpose.human_library, session=session) == 1
        done = await withdrawal.withdraw(ME, Purpose.human_library, session=session)

    assert [r.id for r in done.reservations_cancelled] == [mine.id]
    assert [p.telegram_user_id for p in done.promotions] == [OTHER]
    async with db.session() as session:
        mine_now = await library.get_reservation(mine.id, session=session)
        other_now = await library.get_reservation(waiting.id, session=session)
        assert await withdrawal.live_bookings(ME, Purpose.human_library, session=session) == 0
    assert mine_now is not None and mine_now.status is ReservationStatus.cancelled
    assert other_now is not None and other_now.status is ReservationStatus.reserved
    assert "library.reservation.promoted" in await _actions(db)


async def test_withdrawing_the_council_removes_answers_to_upcoming_meetings_only(
    db: Database, clock: ManualClock
) -> None:
    series = await ch.monthly_series(db)
    meeting = await ch.first_meeting(db, series)
    await ch.people(db, ME, OTHER)
    await ch.answered(db, meeting, ME, RsvpAnswer.yes)
    await ch.answered(db, meeting, OTHER, RsvpAnswer.maybe)
    async with db.session() as session:
        ref = council.meeting_ref(meeting.id)
        event = await reminders.get_event("council", ref, session=session)
    assert event is not None and event.id is not None
    await _queued(db, reminders.reminder_purpose(event.id, meeting.starts_at, 60), ME)

    async with db.session() as session:
        done = await withdrawal.withdraw(ME, Purpose.coffee_council, session=session)

    assert done.rsvps_removed == 1
    async with db.session() as session:
        counts = await council.rsvp_counts(meeting.id, session=session)
        attendees = await reminders.attendee_ids(event.id, session=session)
    assert counts[RsvpAnswer.yes] == 0 and counts[RsvpAnswer.maybe] == 1
    assert attendees == [OTHER]
    assert set((await _statuses(db)).values()) == {DeliveryStatus.dropped}
    assert "council.rsvp.withdrawn" in await _actions(db)


async def test_answers_to_meetings_already_begun_are_kept(db: Database, clock: ManualClock) -> None:
    series = await ch.monthly_series(db)
    meeting = await ch.first_meeting(db, series)
    await ch.people(db, ME)
    await ch.answered(db, meeting, ME, RsvpAnswer.yes)
    clock.set(meeting.starts_at + timedelta(minutes=10))
    async with db.session() as session:
        done = await withdrawal.withdraw(ME, Purpose.coffee_council, session=session)
        assert await council.my_rsvp(meeting.id, ME, session=session) is not None
    assert done.rsvps_removed == 0 and not done.stopped_anything


async def test_giving_again_is_one_call_and_withdrawing_twice_changes_nothing_more(
    db: Database, clock: ManualClock
) -> None:
    await registered(db, ME)
    async with db.session() as session:
        first = await withdrawal.withdraw(ME, Purpose.reminders, session=session)
        second = await withdrawal.withdraw(ME, Purpose.reminders, session=session)
        assert first.changed and not second.changed
        assert await withdrawal.give(ME, Purpose.reminders, session=session)
        assert not await withdrawal.give(ME, Purpose.reminders, session=session)
        assert await citizens.has_consent(ME, Purpose.reminders, session=session)
    actions = [a for a in await _actions(db) if a.startswith("consent.")]
    assert actions == ["consent.withdrawn", "consent.given"]
    assert deliveries.consent_prefixes(Purpose.reminders) == ("reminder:", "broadcast:")
