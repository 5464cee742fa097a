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
