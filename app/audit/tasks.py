"""Periodic checkpoint of the audit chain's head (Celery beat: `checkpoint-audit`)."""
from __future__ import annotations

from celery import shared_task

from app.audit.checkpoints import write_checkpoint
from app.extensions import db


@shared_task(name="app.checkpoint_audit")
def checkpoint_audit() -> int:
    """Verify the chain since the last checkpoint and sign its committed head; returns the head's id (0: none)."""
    result = write_checkpoint()
    db.session.rollback()  # read only: end the transaction the verification opened
    return result.checkpoint.seq if result.checkpoint else 0
