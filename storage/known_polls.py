"""Which poll ids belong to one flow, known in memory so that other polls' votes cost no query.

Every vote on any poll reaches each flow's poll-answer handler in turn (council agenda, then
the library's rating polls, then surveys). Most votes are survey answers, so a flow that
looked its polls up in the database would pay a transaction per vote for nothing. A
`KnownPolls` is loaded from the database once at startup (the polls that can still take
votes, so answers after a restart are still attributed) and told of each poll the flow sends;
until it is loaded it answers "maybe" and the flow asks the database as before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.exc import SQLAlchemyError

from storage.database import AsyncSession, Database

logger = logging.getLogger(__name__)

__all__ = ["KnownPolls", "Loader"]

# Reads the poll ids that may still receive votes.
Loader = Callable[[AsyncSession], Awaitable[Iterable[str]]]


class KnownPolls:
    """The poll ids of one flow: loaded once from storage, then added to as polls are sent."""

    def __init__(self, loader: Loader) -> None:
        self._loader = loader
        self._ids: set[str] = set()
        self._loaded = False

    @property
    def loaded(self) -> bool:
        """True once `load` has run: from then on, a poll id not known is not the flow's."""
        return self._loaded

    async def load(self, db: Database) -> None:
        """Read the poll ids that may still get votes (keeping any added meanwhile)."""
        async with db.session(readonly=True) as session:
            found = set(await self._loader(session))
        self._ids |= found
        self._loaded = True

    async def try_load(self, db: Database) -> bool:
        """`load`, but a database that cannot answer now only leaves the set unloaded (every
        vote then asks the database, as before), so start-up goes on. True when loaded."""
        try:
            await self.load(db)
        except (SQLAlchemyError, OSError):
            logger.warning("poll ids not loaded; votes will be looked up one by one", exc_info=True)
            return False
        return True

    def add(self, poll_id: str) -> None:
        """A poll the flow has just sent (call before its record is committed)."""
        self._ids.add(poll_id)

    def discard(self, poll_id: str) -> None:
        """A poll that can take no more votes."""
        self._ids.discard(poll_id)

    def may_own(self, poll_id: str) -> bool:
        """False only when the poll is surely not the flow's: the database need not be asked."""
        return not self._loaded or poll_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)
