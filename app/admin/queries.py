"""Read-side helpers for administrators: recent changes to staff accounts (shown on their home page)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import AuditEvent
from app.auth.models import STAFF_ROLES, User
from app.db import now_utc
from app.extensions import db

STAFF_ACCOUNT_ACTIONS = {
    "user.created": _l("Account created"),
    "user.enabled": _l("Account enabled"),
    "user.disabled": _l("Account disabled"),
}


@dataclass(frozen=True)
class StaffAccountChange:
    at: datetime
    title: str
    account: User
    by: str


def recent_staff_account_changes(*, days: int = 30, limit: int = 20) -> list[StaffAccountChange]:
    """Creations, enablings and disablings of staff accounts in the last `days`, newest first (from the audit log)."""
    rows = db.session.execute(
        sa.select(AuditEvent, User)
        .join(User, sa.cast(User.id, sa.String) == AuditEvent.object_id)
        .where(AuditEvent.object_type == "User", AuditEvent.action.in_(STAFF_ACCOUNT_ACTIONS),
               AuditEvent.occurred_at >= now_utc() - timedelta(days=days), User.role.in_(STAFF_ROLES))
        .order_by(AuditEvent.id.desc()).limit(limit))
    return [StaffAccountChange(at=event.occurred_at, title=str(STAFF_ACCOUNT_ACTIONS[event.action]), account=user,
                               by=event.actor_label) for event, user in rows]
