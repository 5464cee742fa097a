"""Giving and withdrawing consent per purpose, and what a withdrawal stops.

Withdrawing is as easy as giving (PDPA s.19): one call either way. A withdrawal stops what
rests on the purpose at once, in the same transaction as the decision:

- needs_survey: pending survey invitations and quick polls to the person are dropped; later
  votes and free text are refused by `storage.surveys` (answers already given stay until
  /forget).
- reminders: pending reminders and announcements to the person are dropped (the dispatcher
  also re-checks consent when it claims a delivery, see `deliveries.CONSENT_BY_PREFIX`).
- human_library: their upcoming reservations are cancelled; each freed seat goes to the
  waitlist (the promotions are returned, to tell those readers).
- coffee_council: their answers to meetings not yet begun are removed (head counts follow).

Both decisions are audited by `citizens.set_consent`; a withdrawal's effects are audited as
"consent.withdrawal_effects".
"""

from __future__ import annotations

from dataclasses import dataclass

from storage import audit, citizens, clock, council, deliveries, library
from storage.database import AsyncSession
from storage.enums import Purpose
from storage.library import Promotion, Reservation


@dataclass(frozen=True)
class Withdrawal:
    """What one withdrawal changed and stopped."""

    purpose: Purpose
    changed: bool  # False when the consent was already withdrawn
    deliveries_dropped: int = 0
    reservations_cancelled: tuple[Reservation, ...] = ()
    promotions: tuple[Promotion, ...] = ()
    rsvps_removed: int = 0

    @property
    def stopped_anything(self) -> bool:
        """True when a message, a reservation or an answer was stopped."""
        return bool(self.deliveries_dropped or self.reservations_cancelled or self.rsvps_removed)


async def give(telegram_user_id: int, purpose: Purpose, *, session: AsyncSession) -> bool:
    """Give consent to `purpose` again; True if it was not given before. NotRegistered."""
    before = await citizens.has_consent(telegram_user_id, purpose, session=session)
    await citizens.set_consent(telegram_user_id, Purpose(purpose), True, session=session)
    return not before


async def live_bookings(telegram_user_id: int, purpose: Purpose, *, session: AsyncSession) -> int:
    """How many upcoming reservations or meeting answers withdrawing `purpose` would end."""
    now = clock.now()
    if purpose is Purpose.human_library:
        return len(await library.my_loans(telegram_user_id, now=now, session=session))
    if purpose is Purpose.coffee_council:
        items = await council.my_sessions(telegram_user_id, now=now, session=session)
        return sum(1 for item in items if item.kind == "council" and item.starts_at > now)
    return 0


async def withdraw(telegram_user_id: int, purpose: Purpose, *, session: AsyncSession) -> Withdrawal:
    """Withdraw consent to `purpose` and stop what rests on it (see the module doc).

    Safe to repeat: the effects run again and find nothing more to stop. NotRegistered.
    """
    purpose = Purpose(purpose)
    changed = await citizens.has_consent(telegram_user_id, purpose, session=session)
    await citizens.set_consent(telegram_user_id, purpose, False, session=session)
    recipient = audit.actor_for(telegram_user_id)
    dropped = await deliveries.drop_pending_to(
        recipient, deliveries.consent_prefixes(purpose), session=session
    )
    cancelled: list[Reservation] = []
    promotions: list[Promotion] = []
    rsvps_removed = 0
    now = clock.now()
    if purpose is Purpose.human_library:
        for loan in await library.my_loans(telegram_user_id, now=now, session=session):
            promotion = await library.cancel_reservation(loan.id, telegram_user_id, session=session)
            cancelled.append(loan)
            if promotion is not None:
                promotions.append(promotion)
    elif purpose is Purpose.coffee_council:
        rsvps_removed = await council.withdraw_rsvps(telegram_user_id, now=now, session=session)
    result = Withdrawal(
        purpose=purpose,
        changed=changed,
        deliveries_dropped=dropped,
        reservations_cancelled=tuple(cancelled),
        promotions=tuple(promotions),
        rsvps_removed=rsvps_removed,
    )
    if result.stopped_anything:
        await audit.record(
            "consent.withdrawal_effects",
            actor=recipient,
            target=recipient,
            detail={
                "purpose": purpose.value,
                "deliveries_dropped": dropped,
                "reservations_cancelled": len(cancelled),
                "readers_promoted": len(promotions),
                "rsvps_removed": rsvps_removed,
            },
            session=session,
        )
    return result
