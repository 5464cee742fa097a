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
    """No purpose was granted, so nothing personal may be stored."""

    message = "at least one purpose must be consented to"


class AlreadyRegistered(_AboutCitizen):
    """This Telegram user already has a record."""

    message = "already registered"


class NotRegistered(_AboutCitizen):
    """This Telegram user has no record."""

    message = "not registered"


class UnsupportedLanguage(StorageError, ValueError):
    """A language code other than the supported ones ("th", "en")."""
