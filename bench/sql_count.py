"""Counts a database's round trips: SQL statements and transactions (commits and rollbacks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from storage.database import Database


class SqlCounter:
    """Listens on a `Database`'s engine; read `statements` and `transactions` before and after."""

    def __init__(self, db: Database) -> None:
        self.statements = 0
        self.transactions = 0
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._on_statement)
        event.listen(engine, "commit", self._on_transaction)
        event.listen(engine, "rollback", self._on_transaction)

    def _on_statement(self, *args: Any, **kwargs: Any) -> None:
        self.statements += 1

    def _on_transaction(self, *args: Any, **kwargs: Any) -> None:
        self.transactions += 1

    def snapshot(self) -> tuple[int, int]:
        """(statements, transactions) so far."""
        return self.statements, self.transactions
