"""Account tasks: the password-reset mail (outside the request, so it costs the same for any address) and the
periodic expiry of registrations nobody verified."""
from __future__ import annotations

from celery import shared_task

from app.auth import operations as ops
from app.extensions import db


@shared_task(name="auth.send_password_reset", outboxed=True, needs_outbox_row=True)  # one mail per request
def send_password_reset(email: str) -> None:
    ops.send_password_reset(email)
    db.session.commit()


@shared_task(name="auth.expire_registrations")
def expire_registrations() -> int:
    released = ops.expire_registrations()
    db.session.commit()
    return released
