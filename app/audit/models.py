"""AuditEvent: one row of the append-only, hash-chained audit log (invariants 9 and 10)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.db import now_utc
from app.extensions import db

GENESIS = "0" * 64


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
    # Events about sealed content (a submission before its exercise is opened): the sealed scope
    # ("exercise:12") and the party it belongs to ("vendor:7"), so the audit page can show counts only.
    seal_scope: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40), index=True)
    seal_party: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    prev_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)

    def canonical(self) -> str:
        return canonical(self)

    def compute_hash(self) -> str:
        return canonical_hash(self)

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.action}>"


def canonical(e) -> str:
    """The event's content as hashed: an AuditEvent or a row with the same columns (verification reads rows)."""
    content = {
        "id": e.id,
        "occurred_at": e.occurred_at.isoformat(),
        "actor_id": e.actor_id,
        "actor_label": e.actor_label,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "details": e.details,
        "ip_address": e.ip_address,
    }
    # Added later: present only when set, so the hashes of earlier events are unchanged.
    if e.seal_scope is not None or e.seal_party is not None:
        content.update(seal_scope=e.seal_scope, seal_party=e.seal_party)
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_hash(e) -> str:
    """SHA-256 of the previous event's hash followed by this event's canonical content."""
    return hashlib.sha256((e.prev_hash + canonical(e)).encode()).hexdigest()
