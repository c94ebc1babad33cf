"""Read-side helpers of the administrator pages: the audit log with its filters, activity on sealed
submissions as counts across vendors (finding 13), and recent changes to staff accounts (the home page), and what waits for an administrator (the home page's "My work")."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import AuditEvent
from app.audit.checkpoints import latest_checkpoint
from app.audit.sealing import sealed_scopes
from app.auth.models import STAFF_ROLES, User, Vendor
from app.db import now_utc
from app.audit.labels import ACTIONS
from app.extensions import db
from app.i18n import HK


def _where(query: sa.Select, filters: dict, *, with_actor: bool = True) -> sa.Select:
    if action := filters.get("action"):
        query = query.where(AuditEvent.action.startswith(action, autoescape=True))
    if with_actor and (actor := filters.get("actor")):
        query = query.where(AuditEvent.actor_label.contains(actor, autoescape=True))
    if object_type := filters.get("object_type"):
        query = query.where(AuditEvent.object_type == object_type)
    if day_from := filters.get("date_from"):
        query = query.where(AuditEvent.occurred_at >= datetime.combine(day_from, time.min, HK))
    if day_to := filters.get("date_to"):
        query = query.where(AuditEvent.occurred_at < datetime.combine(day_to + timedelta(days=1), time.min, HK))
    return query


def visible_events(filters: dict, *, limit: int, offset: int) -> list[AuditEvent]:
    """Events matching the filters, newest first, except those about content still sealed (see sealed_summary)."""
    query = _where(sa.select(AuditEvent), filters)
    if (sealed := sealed_scopes()) is not None:
        query = query.where(sa.or_(AuditEvent.seal_scope.is_(None),
                                   AuditEvent.seal_scope.not_in(sa.select(sealed.c.scope))))
    return list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit).offset(offset)))


@dataclass(frozen=True)
class SealedCount:
    label: str        # the sealed scope, e.g. the exercise's reference
    action: str
    events: int
    parties: int      # distinct vendors


def sealed_summary(filters: dict) -> list[SealedCount]:
    """Events about content still sealed, as counts per scope and action across vendors (finding 13).

    The "who" filter does not apply: counts for one chosen account would tell that vendor's activity.
    """
    if (sealed := sealed_scopes()) is None:
        return []
    query = _where(sa.select(sealed.c.label, AuditEvent.action, sa.func.count(),
                             sa.func.count(sa.distinct(AuditEvent.seal_party))), filters, with_actor=False)
    query = (query.join(sealed, AuditEvent.seal_scope == sealed.c.scope)
             .group_by(sealed.c.label, AuditEvent.action).order_by(sealed.c.label, AuditEvent.action))
    return [SealedCount(*row) for row in db.session.execute(query)]


def audited_object_types() -> list[str]:
    return sorted(db.session.scalars(sa.select(AuditEvent.object_type).distinct()
                                     .where(AuditEvent.object_type.is_not(None))))


STAFF_ACCOUNT_ACTIONS = {code: ACTIONS[code] for code in ("user.created", "user.enabled", "user.disabled")}


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


@dataclass(frozen=True)
class AdminWork:
    disabled: list[User]               # accounts that cannot sign in until an administrator enables them
    pending_registrations: int         # companies whose email nobody verified yet (removed after the expiry)
    staff_changes: list[StaffAccountChange]
    checkpoint: object                 # the latest signed checkpoint (the chain verified up to it), or None


def admin_work() -> AdminWork:
    """The administrator's home ("My work"): accounts awaiting action, recent staff changes and the last time the
    audit chain was verified and signed (the periodic checkpoint verifies the chain before it signs)."""
    disabled = list(db.session.scalars(sa.select(User).where(User.is_enabled.is_(False)).order_by(User.email)))
    pending = db.session.scalar(sa.select(sa.func.count(Vendor.id)).where(Vendor.verified_at.is_(None)))
    return AdminWork(disabled, pending, recent_staff_account_changes(), latest_checkpoint())
