"""A vendor's submission: answers, attachments, sealed price lines, and a version per submit."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from flask_babel import lazy_gettext as _l

from app.auth.models import Vendor
from app.db import now_utc
from app.extensions import db
from app.storage import StoredFile
from eoi.models.exercise import Exercise, PriceItem, Section
from eoi.states import SUBMISSION_TRANSITIONS, SubmissionState


class Submission(db.Model):
    """One per vendor per exercise. Its content is sealed: read it only through eoi.sealed (invariant 1)."""
    __tablename__ = "submissions"
    __table_args__ = (
        sa.UniqueConstraint("exercise_id", "vendor_id"),
        sa.CheckConstraint("(state = 'submitted') = (submitted_at IS NOT NULL)", name="submitted_has_time"),
    )
    TRANSITIONS = SUBMISSION_TRANSITIONS

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    state: so.Mapped[SubmissionState] = so.mapped_column(
        sa.Enum(SubmissionState, native_enum=False, length=20), default=SubmissionState.draft)
    # Bumped by every save: the optimistic lock that warns when a colleague saved in between.
    draft_version: so.Mapped[int] = so.mapped_column(default=0)
    last_saved_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    last_saved_at: so.Mapped[Optional[datetime]]
    submitted_at: so.Mapped[Optional[datetime]]
    current_version_id: so.Mapped[Optional[int]] = so.mapped_column(
        sa.ForeignKey("submission_versions.id", use_alter=True, name="fk_submissions_current_version_id"))
    needs_reconfirmation: so.Mapped[bool] = so.mapped_column(default=False)
    # The proposal's data keys (issue 9, docs/sealing.md), read only by eoi.sealed: wrapped by the server's key
    # while the vendor drafts (destroyed at closing), wrapped to the exercise's opening keys, and wrapped by the
    # server's key again once opened (technical first, price at the price opening).
    draft_keys: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    sealed_keys: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    opened_keys: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    exercise: so.Mapped[Exercise] = so.relationship()
    vendor: so.Mapped[Vendor] = so.relationship()
    versions: so.Mapped[list["SubmissionVersion"]] = so.relationship(
        back_populates="submission", order_by="SubmissionVersion.number", foreign_keys="SubmissionVersion.submission_id")
    current_version: so.Mapped[Optional["SubmissionVersion"]] = so.relationship(foreign_keys=[current_version_id],
                                                                                post_update=True)

    @property
    def is_submitted(self) -> bool:
        return self.state == SubmissionState.submitted

    @property
    def stands(self) -> bool:
        """Counts at opening: submitted, and re-confirmed after any addendum that changed requirements."""
        return self.state == SubmissionState.submitted and not self.needs_reconfirmation

    @property
    def status_title(self) -> str:
        """What to call the proposal's status: a submitted proposal that an addendum put in doubt is not just
        "Submitted" (issue 8 item 6)."""
        if self.is_submitted and self.needs_reconfirmation:
            return str(_l("Submitted before an addendum: not re-confirmed"))
        return self.state.title

    @classmethod
    def standing(cls):
        """SQL form of stands, for queries."""
        return sa.and_(cls.state == SubmissionState.submitted, cls.needs_reconfirmation.is_(False))

    def __repr__(self) -> str:
        return f"<Submission {self.id} exercise={self.exercise_id} vendor={self.vendor_id} {self.state.value}>"


class Answer(db.Model):
    __tablename__ = "answers"
    __table_args__ = (sa.UniqueConstraint("submission_id", "section_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    section_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("sections.id", ondelete="CASCADE"))
    text: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    section: so.Mapped[Section] = so.relationship()

    def __repr__(self) -> str:
        return f"<Answer {self.submission_id}/{self.section_id}>"


class SubmissionFile(db.Model):
    __tablename__ = "submission_files"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    section_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("sections.id", ondelete="SET NULL"))
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("stored_files.id"))

    # Every page and manifest that lists a submission's files shows the stored file: load it in the same query.
    file: so.Mapped[StoredFile] = so.relationship(lazy="joined", innerjoin=True)
    section: so.Mapped[Optional[Section]] = so.relationship()

    def __repr__(self) -> str:
        return f"<SubmissionFile {self.id}>"


class PriceLine(db.Model):
    """A vendor's price for one schedule line: the sealed price envelope (invariant 4)."""
    __tablename__ = "price_lines"
    __table_args__ = (
        sa.UniqueConstraint("submission_id", "price_item_id"),
        sa.CheckConstraint("unit_price >= 0", name="not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    price_item_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("price_items.id", ondelete="CASCADE"))
    # Before issue 9 the amount itself; now NULL, the amount being sealed_amount (encrypted by eoi.sealed).
    unit_price: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(14, 2))
    sealed_amount: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    price_item: so.Mapped[PriceItem] = so.relationship()

    def __repr__(self) -> str:
        return f"<PriceLine {self.submission_id}/{self.price_item_id}>"


class SubmissionVersion(db.Model):
    """What was submitted at one submit, frozen: manifest (answers, files with hashes, prices) and its hash."""
    __tablename__ = "submission_versions"
    __table_args__ = (sa.UniqueConstraint("submission_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int]
    receipt_number: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    submitted_at: so.Mapped[datetime]
    submitted_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    from_draft_version: so.Mapped[int]
    manifest: so.Mapped[str] = so.mapped_column(sa.Text)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    withdrawn_at: so.Mapped[Optional[datetime]]
    receipt_document_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("documents.id"))

    submission: so.Mapped[Submission] = so.relationship(back_populates="versions", foreign_keys=[submission_id])

    def __repr__(self) -> str:
        return f"<SubmissionVersion {self.receipt_number}>"
