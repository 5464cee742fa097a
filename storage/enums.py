"""Closed sets of values stored as plain strings (adding a member never needs a migration)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

Language = Literal["th", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("th", "en")


class Role(StrEnum):
    """What a person may do with the bot; `admin` is also named in configuration."""

    citizen = "citizen"
    facilitator = "facilitator"
    officer = "officer"
    admin = "admin"


class Purpose(StrEnum):
    """A purpose for which a citizen gives or withdraws consent (PDPA: consent per purpose)."""

    needs_survey = "needs_survey"
    reminders = "reminders"
    human_library = "human_library"
    coffee_council = "coffee_council"


class AgeBand(StrEnum):
    """Age bands asked at onboarding; the value is what is stored and shown."""

    age_0_9 = "0-9"
    age_10_14 = "10-14"
    age_15_19 = "15-19"
    age_20_34 = "20-34"
    age_35_49 = "35-49"
    age_50_59 = "50-59"
    age_60_plus = "60+"

    @property
    def is_under_10(self) -> bool:
        """Under 10: PDPA allows storing nothing at all."""
        return self is AgeBand.age_0_9

    @property
    def needs_guardian(self) -> bool:
        """10–19: a minor under PDPA s.20, so a guardian's agreement is needed."""
        return self in (AgeBand.age_10_14, AgeBand.age_15_19)


class DeliveryStatus(StrEnum):
    """Where one delivery of an outbox message stands; only `pending` and `sending` are open."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    blocked = "blocked"
    failed = "failed"
    dropped = "dropped"

    @property
    def is_final(self) -> bool:
        """True once nothing more will happen to the delivery."""
        return self not in (DeliveryStatus.pending, DeliveryStatus.sending)


class UnescoFeature(StrEnum):
    """The six features of a learning city in UNESCO's framework, which a need category serves."""

    inclusive_learning = "inclusive_learning"  # from basic to higher education
    families_communities = "families_communities"  # learning in families and communities
    workplace = "workplace"  # learning for and in the workplace
    learning_technologies = "learning_technologies"  # modern learning technologies
    quality = "quality"  # quality in learning
    culture_of_learning = "culture_of_learning"  # a vibrant culture of learning throughout life


class SurveyStatus(StrEnum):
    """A survey is imported as a draft, opened (at most one at a time), then closed."""

    draft = "draft"
    open = "open"
    closed = "closed"


class QuickPollStatus(StrEnum):
    """A quick poll takes answers while open."""

    open = "open"
    closed = "closed"


class PollKind(StrEnum):
    """What a native Telegram poll the bot sent stands for.

    `survey`: a survey question sent to one citizen's private chat; `group`: a survey question
    sent to a registered group; `quick`: a facilitator's quick poll (private chat or group).
    """

    survey = "survey"
    group = "group"
    quick = "quick"


class ReservationStatus(StrEnum):
    """Where a reader's reservation of a human-library book stands.

    `reserved` holds a seat in a slot; `waitlisted` waits for one (ordered by press order);
    `cancelled`: the reader gave it up; `released`: the library ended it (event cancelled, book
    withdrawn or retired, loan stopped before it began).
    """

    reserved = "reserved"
    waitlisted = "waitlisted"
    cancelled = "cancelled"
    released = "released"

    @property
    def is_active(self) -> bool:
        """True while the reservation holds or waits for a seat."""
        return self in (ReservationStatus.reserved, ReservationStatus.waitlisted)


class SeriesKind(StrEnum):
    """What a recurring series schedules (only the coffee council uses series so far)."""

    council = "council"
    library = "library"


class MeetingStatus(StrEnum):
    """A council meeting is scheduled until it is cancelled."""

    scheduled = "scheduled"
    cancelled = "cancelled"


class RsvpAnswer(StrEnum):
    """A citizen's answer to a council meeting; yes and maybe are expected (get reminders)."""

    yes = "yes"
    maybe = "maybe"
    no = "no"

    @property
    def attending(self) -> bool:
        """True for yes and maybe: the person is an attendee of the meeting's event."""
        return self is not RsvpAnswer.no


class AgendaSource(StrEnum):
    """Where an agenda item came from."""

    action_item = "action_item"
    need = "need"
    suggestion = "suggestion"
    manual = "manual"


class ActionStatus(StrEnum):
    """An action item agreed at a council meeting is open until done."""

    open = "open"
    done = "done"
