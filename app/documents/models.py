"""Document: one generated PDF, with its status, SHA-256 and size (invariant 9)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.db import now_utc
from app.extensions import db


class DocumentStatus(str, enum.Enum):
    queued = "queued"
    rendering = "rendering"
    ready = "ready"
    failed = "failed"

    @property
    def title(self) -> str:
        return str(_STATUS_TITLES[self])


_STATUS_TITLES = {
    DocumentStatus.queued: _l("Queued"),
    DocumentStatus.rendering: _l("Being prepared"),
    DocumentStatus.ready: _l("Ready"),
    DocumentStatus.failed: _l("Failed"),
}


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint("(status = 'ready') = (sha256 IS NOT NULL)", name="ready_has_hash"),
        sa.CheckConstraint("language IN ('en', 'zh_Hant')", name="known_language"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(60), index=True)
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    status: so.Mapped[DocumentStatus] = so.mapped_column(
        sa.Enum(DocumentStatus, native_enum=False, length=20), default=DocumentStatus.queued
    )
    # Who may download: a vendor's documents belong to the company; staff documents have no vendor.
    vendor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    subject_type: so.Mapped[str] = so.mapped_column(sa.String(60))
    subject_id: so.Mapped[int]
    sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))
    size: so.Mapped[Optional[int]]
    storage_key: so.Mapped[Optional[str]] = so.mapped_column(sa.String(200))
    failure_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    updated_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    rendered_at: so.Mapped[Optional[datetime]]

    @property
    def is_ready(self) -> bool:
        """Rendered and hashed: it can be downloaded (templates ask this, never compare the status)."""
        return self.status == DocumentStatus.ready

    @property
    def has_failed(self) -> bool:
        return self.status == DocumentStatus.failed

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.kind} {self.status.value}>"
