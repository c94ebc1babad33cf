"""Periodic work of the eoi area: publishing exercises at their publication date, closing them at their closing time."""
from __future__ import annotations

from celery import shared_task

from app.extensions import db


@shared_task(name="eoi.close_due_exercises")
def close_due_exercises() -> int:
    from eoi.operations import close_due_exercises as close_due
    closed = close_due()
    db.session.commit()
    return closed


@shared_task(name="eoi.publish_due_exercises")
def publish_due_exercises() -> int:
    """Publication as set (issue 8 item 8): drafts whose publication was ordered for a date that has come."""
    from eoi.operations import publish_due_exercises as publish_due
    published = publish_due()
    db.session.commit()
    return published
