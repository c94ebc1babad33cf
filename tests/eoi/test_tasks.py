"""The periodic closing task closes exercises at their closing time, and only then."""
from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from app.audit import AuditEvent
from app.extensions import db
from eoi.states import ExerciseState
from eoi.tasks import close_due_exercises
from tests.factories import create_published


def test_close_due_exercises_closes_only_those_past_closing(app):
    due = create_published()
    later = create_published(closes_at=due.closes_at + timedelta(days=2))
    with freeze_time(due.closes_at - timedelta(seconds=1)):
        assert close_due_exercises.run() == 0
    with freeze_time(due.closes_at):
        assert close_due_exercises.run() == 1
        assert close_due_exercises.run() == 0  # idempotent
    db.session.expire_all()
    assert due.state == ExerciseState.closed and due.closed_at is not None
    assert later.state == ExerciseState.published
    closed = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "exercise.closed")).all()
    assert [e.object_id for e in closed] == [str(due.id)]

