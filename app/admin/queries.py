"""Read-side helpers of the administrator pages: the audit log with its filters, and recent changes to staff
accounts (shown on the administrators' home page)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import AuditEvent
from app.auth.models import STAFF_ROLES, User
from app.db import now_utc
from app.extensions import db
from app.i18n import HK


def _parse_day(value: str | None):
    try:
        return datetime.strptime(value, "%Y-%m-%d").date() if value else None
    except ValueError:
        return None


def audit_query(args):
    """Audit events matching the page's filters (every value a bound parameter), unordered."""
    query = sa.select(AuditEvent)
    if action := (args.get("action") or "").strip():
        query = query.where(AuditEvent.action.startswith(action[:80], autoescape=True))
    if actor := (args.get("actor") or "").strip():
        query = query.where(AuditEvent.actor_label.contains(actor[:254], autoescape=True))
    if object_type := (args.get("object_type") or "").strip():
        query = query.where(AuditEvent.object_type == object_type[:60])
    if day_from := _parse_day(args.get("from")):
        query = query.where(AuditEvent.occurred_at >= datetime.combine(day_from, time.min, HK))
    if day_to := _parse_day(args.get("to")):
        query = query.where(AuditEvent.occurred_at < datetime.combine(day_to + timedelta(days=1), time.min, HK))
    return query


def audit_events_page(args, *, page: int, per_page: int) -> list[AuditEvent]:
    """One page of matching events, newest first, plus one more row when there is a next page."""
    query = audit_query(args).order_by(AuditEvent.id.desc())
    return list(db.session.scalars(query.limit(per_page + 1).offset((page - 1) * per_page)))


def audited_object_types() -> list[str]:
    return sorted(db.session.scalars(sa.select(AuditEvent.object_type).distinct()
                                     .where(AuditEvent.object_type.is_not(None))))


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
