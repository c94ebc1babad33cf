"""Periodic work of the eoi area: closing exercises at their closing time."""
from __future__ import annotations

from celery import shared_task

from app.extensions import db


@shared_task(name="eoi.close_due_exercises")
def close_due_exercises() -> int:
    from eoi.operations import close_due_exercises as close_due
    closed = close_due()
    db.session.commit()
    return closed
