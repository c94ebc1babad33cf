"""Read-side helpers of the administrator pages: the audit log with its filters."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.audit import AuditEvent
from app.extensions import db
from app.forms import parse_day
from app.i18n import HK


def _parse_day(value: str | None):
    return parse_day(value)  # None when malformed or out of range (9999-12-31 + 1 day overflowed)


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
