"""Count the SQL statements a piece of code sends (SQLAlchemy's before_cursor_execute event), for the
statement-count tests: a ceiling on a count, not a time, so a per-row query or a redundant reload cannot creep
back in unnoticed."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db

#: Transaction control is not work: SQLite's "BEGIN IMMEDIATE" goes through the cursor, PostgreSQL's does not.
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Statements(list):
    """The statements seen, in order; str() lists them numbered (for a failing assertion's message)."""

    def __str__(self) -> str:
        return "\n".join(f"{i:3d}. {' '.join(s.split())[:200]}" for i, s in enumerate(self, start=1))

    def matching(self, text: str) -> list[str]:
        return [s for s in self if text.lower() in s.lower()]


@contextmanager
def count_statements():
    """with count_statements() as seen: ... -> seen is a Statements list of the SQL sent inside the block."""
    seen = Statements()

    def _before(_conn, _cursor, statement, _parameters, _context, executemany):
        if not statement.lstrip().upper().startswith(_NOT_COUNTED):
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", _before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _before)


def fresh_session() -> None:
    """Tests share one app context (and session) with their client's requests; in production every request starts
    with an empty session. Drop the session so a counted request loads what it uses, as it would in production."""
    db.session.remove()
