"""Read-side helpers of the scoring area, named for what they return."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from eoi.models import Exercise
from scoring.models import Criterion


def criteria_of(exercise: Exercise) -> list[Criterion]:
    """The exercise's evaluation criteria in their order."""
    return list(db.session.scalars(sa.select(Criterion).where(Criterion.exercise_id == exercise.id)
                                   .order_by(Criterion.position)))
