"""Exceptions raised by storage when a rule would be broken.

Messages are for logs, not for people: handlers map each class to catalog text. They carry no
Telegram id in their message; the id is kept as an attribute where one applies.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every rule storage refuses to break."""


class _AboutCitizen(StorageError):
    message = "storage rule broken"

    def __init__(self, telegram_user_id: int | None = None) -> None:
        super().__init__(self.message)
        self.telegram_user_id = telegram_user_id


class TooYoung(_AboutCitizen):
    """Under 10: PDPA — nothing may be stored at all."""

    message = "under 10: nothing is stored"


class GuardianAgreementRequired(_AboutCitizen):
    """Aged 10–19 without a guardian's agreement (PDPA s.20)."""

    message = "a guardian's agreement is required for a minor"


class ConsentRequired(_AboutCitizen):
    """No purpose was granted (or not `purpose`, when one is named): nothing may be stored."""

    message = "at least one purpose must be consented to"

    def __init__(self, telegram_user_id: int | None = None, purpose: str | None = None) -> None:
        super().__init__(telegram_user_id)
        self.purpose = purpose
        if purpose is not None:
            self.args = (f"consent to {purpose} is required",)


class AlreadyRegistered(_AboutCitizen):
    """This Telegram user already has a record."""

    message = "already registered"


class NotRegistered(_AboutCitizen):
    """This Telegram user has no record."""

    message = "not registered"


class UnsupportedLanguage(StorageError, ValueError):
    """A language code storage does not accept there (mostly: other than "th" and "en")."""


class RoleNotGrantable(StorageError, ValueError):
    """Only facilitator and officer are granted; admins come from configuration."""

    def __init__(self, role: str) -> None:
        super().__init__(f"role {role!r} cannot be granted (only facilitator or officer)")
        self.role = role


class InviteInvalid(StorageError):
    """An invite code that cannot be redeemed; `reason` names why, for the audit log."""

    reason = "invalid"
    message = "invite cannot be redeemed"

    def __init__(self, invite_id: int | None = None) -> None:
        # Never the code itself: it is a bearer secret (or garbage someone typed).
        super().__init__(self.message)
        self.invite_id = invite_id


class InviteUnknown(InviteInvalid):
    """No invite has this code (mistyped, forged or never issued)."""

    reason = "unknown"
    message = "no such invite"


class InviteExpired(InviteInvalid):
    """The invite's time ran out before it was used."""

    reason = "expired"
    message = "invite expired"


class InviteUsed(InviteInvalid):
    """Someone already redeemed this invite; each one works once."""

    reason = "used"
    message = "invite already used"


class UnknownMessage(StorageError, LookupError):
    """No outbox message has this id."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"no outbox message {message_id}")
        self.message_id = message_id


class UnknownEvent(StorageError, LookupError):
    """No scheduled event has this id."""

    def __init__(self, event_id: int) -> None:
        super().__init__(f"no scheduled event {event_id}")
        self.event_id = event_id


class PollSpecError(StorageError, ValueError):
    """A poll or survey that breaks a rule (Telegram's limits, translations, keys).

    `problems` lists every rule broken, each as "<field path>: <rule>", e.g.
    `questions[2].options[13]: at most 12 options`; the message joins them, one a line.
    """

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems) or ("invalid",)
        super().__init__("\n".join(self.problems))


class SurveyFileError(PollSpecError):
    """A survey file that cannot be imported; nothing of it is stored."""


class UnknownSurvey(StorageError, LookupError):
    """No survey has this id."""

    def __init__(self, survey_id: int) -> None:
        super().__init__(f"no survey {survey_id}")
        self.survey_id = survey_id


class UnknownQuickPoll(StorageError, LookupError):
    """No quick poll has this id."""

    def __init__(self, quick_poll_id: int) -> None:
        super().__init__(f"no quick poll {quick_poll_id}")
        self.quick_poll_id = quick_poll_id


class UnknownBook(StorageError, LookupError):
    """No human-library book has this id (or the book is not offered at that event)."""

    def __init__(self, book_id: int) -> None:
        super().__init__(f"no library book {book_id}")
        self.book_id = book_id


class BookRetired(StorageError, ValueError):
    """The book was retired: it can no longer be edited, linked or scheduled."""

    def __init__(self, book_id: int) -> None:
        super().__init__(f"library book {book_id} is retired")
        self.book_id = book_id


class UnknownLibraryEvent(StorageError, LookupError):
    """No library event has this id."""

    def __init__(self, event_id: int) -> None:
        super().__init__(f"no library event {event_id}")
        self.event_id = event_id


class UnknownReservation(StorageError, LookupError):
    """No library reservation has this id."""

    def __init__(self, reservation_id: int) -> None:
        super().__init__(f"no library reservation {reservation_id}")
        self.reservation_id = reservation_id


class NotYourReservation(UnknownReservation):
    """The reservation belongs to someone else (handled like an unknown one)."""

    def __init__(self, reservation_id: int, telegram_user_id: int) -> None:
        super().__init__(reservation_id)
        self.args = (f"library reservation {reservation_id} belongs to someone else",)
        self.telegram_user_id = telegram_user_id


# Why a reservation was refused; handlers map each to catalog text.
RESERVATION_REFUSALS: tuple[str, ...] = (
    "duplicate",  # already reserved or waitlisted for this book at this event
    "overlap",  # the slot overlaps another loan of the reader's
    "barred",  # safeguarding: the reader was stopped from this book
    "retired",  # the book was retired
    "withdrawn",  # the book is not (or not yet: no consent) offered at this event
    "cancelled",  # the event was cancelled
    "past",  # the slot (or every slot) has already begun
    "full",  # the named slot has no free seat
)


class ReservationRefused(StorageError):
    """A reservation storage will not make; `reason` is one of RESERVATION_REFUSALS."""

    def __init__(self, reason: str) -> None:
        if reason not in RESERVATION_REFUSALS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(f"reservation refused: {reason}")
        self.reason = reason


class BookLinkInvalid(StorageError):
    """A book-link code that cannot be used; `reason` names why, for the audit log."""

    reason = "invalid"
    message = "book link cannot be used"

    def __init__(self, book_id: int | None = None) -> None:
        # Never the code itself: it is a bearer secret.
        super().__init__(self.message)
        self.book_id = book_id


class BookLinkUnknown(BookLinkInvalid):
    """No book has this link code (mistyped, forged, replaced by a newer one, or retired)."""

    reason = "unknown"
    message = "no such book link"


class BookLinkExpired(BookLinkInvalid):
    """The link code's time ran out before it was used."""

    reason = "expired"
    message = "book link expired"


class BookLinkUsed(BookLinkInvalid):
    """The link code was already used; each one works once."""

    reason = "used"
    message = "book link already used"


class LibraryAccessDenied(StorageError, PermissionError):
    """This person may not do that to a library event or loan (e.g. stop someone's loan)."""

    def __init__(self, action: str, telegram_user_id: int) -> None:
        super().__init__(f"not allowed to {action}")
        self.action = action
        self.telegram_user_id = telegram_user_id


class NotEventFacilitator(LibraryAccessDenied):
    """Only the facilitators of that library event may see its roster."""


class UnknownSeries(StorageError, LookupError):
    """No recurring series has this id."""

    def __init__(self, series_id: int) -> None:
        super().__init__(f"no series {series_id}")
        self.series_id = series_id


class UnknownMeeting(StorageError, LookupError):
    """No council meeting has this id."""

    def __init__(self, meeting_id: int) -> None:
        super().__init__(f"no council meeting {meeting_id}")
        self.meeting_id = meeting_id


class UnknownActionItem(StorageError, LookupError):
    """No council action item has this id."""

    def __init__(self, item_id: int) -> None:
        super().__init__(f"no council action item {item_id}")
        self.item_id = item_id


# Why a council change was refused; handlers map each to catalog text.
COUNCIL_REFUSALS: tuple[str, ...] = (
    "cancelled",  # the series, meeting or occurrence is cancelled
    "past",  # the meeting or occurrence has begun (or ended)
    "not_an_occurrence",  # the series has no occurrence at that time
    "too_many",  # the person reached the limit of suggestions for the meeting
    "agenda_polled",  # the agenda poll went out: the agenda can no longer change
)


class CouncilRefused(StorageError):
    """A council change storage will not make; `reason` is one of COUNCIL_REFUSALS."""

    def __init__(self, reason: str) -> None:
        if reason not in COUNCIL_REFUSALS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(f"council change refused: {reason}")
        self.reason = reason
