"""Storage: SQLModel tables, the async engine, migrations and the functions that own invariants.

Imports nothing from `bot`, `handlers` or `schedules`, and knows nothing of Telegram beyond an
integer user id. Importing this package has no side effects.
"""
