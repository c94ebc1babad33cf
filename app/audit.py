"""Append-only, hash-chained audit log (invariant 9): record() appends, verify_chain() checks."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import has_request_context, request

from app.db import now_utc
from app.extensions import db

GENESIS = "0" * 64
_ADVISORY_LOCK_KEY = 7_320_001  # serialises appends on PostgreSQL


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    occurred_at: so.Mapped[datetime] = so.mapped_column(default=now_utc, index=True)
    actor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_label: so.Mapped[str] = so.mapped_column(sa.String(254))
    action: so.Mapped[str] = so.mapped_column(sa.String(80), index=True)
    object_type: so.Mapped[Optional[str]] = so.mapped_column(sa.String(60))
    object_id: so.Mapped[Optional[str]] = so.mapped_column(sa.String(60))
    details: so.Mapped[str] = so.mapped_column(sa.Text, default="{}")
    ip_address: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    def canonical(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "occurred_at": self.occurred_at.isoformat(),
                "actor_id": self.actor_id,
                "actor_label": self.actor_label,
                "action": self.action,
                "object_type": self.object_type,
                "object_id": self.object_id,
                "details": self.details,
                "ip_address": self.ip_address,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical()).encode()).hexdigest()

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


def _lock_chain() -> None:
    # SQLite write transactions already start with BEGIN IMMEDIATE (see app/__init__.py).
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))


def record(actor, action: str, obj: Any = None, **details: Any) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (flushes, never commits)."""
    _lock_chain()
    last = db.session.execute(
        sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        occurred_at=now_utc().replace(microsecond=0),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or (actor if isinstance(actor, str) else "system"),
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        details=json.dumps(details, sort_keys=True, default=str, ensure_ascii=False),
        ip_address=request.remote_addr if has_request_context() else None,
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event.compute_hash()
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class ChainReport:
    checked: int
    broken_at: Optional[int] = None
    reason: str = ""
    head: str = GENESIS

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain() -> ChainReport:
    """Recompute every link in order; report the first event whose hash or back-link is wrong."""
    prev, count = GENESIS, 0
    rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.id)).scalars()
    for expected_id, event in enumerate(rows, start=1):
        count += 1
        if event.id != expected_id:
            return ChainReport(count, expected_id, f"event {expected_id} is missing", prev)
        if event.prev_hash != prev:
            return ChainReport(count, event.id, "link to the previous event does not match", prev)
        if event.compute_hash() != event.hash:
            return ChainReport(count, event.id, "content does not match its hash", prev)
        prev = event.hash
    return ChainReport(count, head=prev)


def chain_head() -> str:
    last = db.session.execute(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    return last or GENESIS
