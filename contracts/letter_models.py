"""Models of the letters to vendors after an evaluation: one LetterBatch per exercise (its reference, who issued it
and when) and one Letter per vendor and decision (award, shortlist or regret, in the vendor's language, with its
signed PDF); a replacement award after a decline adds the letters whose outcome changed, each naming the letter it
replaces. The rows are the truth: issuing again, or a redelivered render task, never adds or loses a letter."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User, Vendor
from app.db import now_utc
from app.documents.models import Document
from app.extensions import db
from contracts.models import Decision
from eoi.models import Exercise


class LetterKind(str, enum.Enum):
    award = "award"
    shortlist = "shortlist"
    regret = "regret"

    @property
    def title(self) -> str:
        return str({LetterKind.award: _l("Award letter"), LetterKind.shortlist: _l("Shortlist letter"),
                    LetterKind.regret: _l("Regret letter")}[self])

    @property
    def successful(self) -> bool:
        return self != LetterKind.regret

    @property
    def is_award(self) -> bool:
        return self == LetterKind.award

    @property
    def is_shortlist(self) -> bool:
        return self == LetterKind.shortlist


class LetterBatch(db.Model):
    """The letters of one exercise, issued once (the public award notice shows from its issue)."""
    __tablename__ = "letter_batches"
    __public_content__ = True  # the award notice on the public exercise page (app.public_cache)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id"), unique=True)
    reference: so.Mapped[str] = so.mapped_column(sa.String(60), unique=True)
    issued_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    issued_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    exercise: so.Mapped[Exercise] = so.relationship()
    issued_by: so.Mapped[Optional[User]] = so.relationship()
    letters: so.Mapped[list["Letter"]] = so.relationship(back_populates="batch", order_by="Letter.number")

    def __repr__(self) -> str:
        return f"<LetterBatch {self.id} {self.reference}>"


#: Letters issued without a decision (the harness, the benchmark) stay one per exercise and vendor.
UNDECIDED = sa.text("decision_id IS NULL")


class Letter(db.Model):
    """One vendor's letter: its kind, its language (the vendor's users' saved language), the debrief it carries
    (a regret letter: that vendor's own scores only, as JSON), the SHA-256 of that content (printed in the footer)
    and its Document (rendered, signed and hashed by the document task). It belongs to the decision whose approval
    issued it (one letter per decision and vendor); `replaces` is the vendor's earlier letter whose outcome a later
    decision changed (the next-ranked tenderer's award letter replaces its regret letter)."""
    __tablename__ = "letters"
    __public_content__ = True
    __table_args__ = (
        sa.UniqueConstraint("decision_id", "vendor_id", name="uq_letters_decision_vendor"),
        sa.Index("uq_letters_exercise_vendor_undecided", "exercise_id", "vendor_id", unique=True,
                 sqlite_where=UNDECIDED, postgresql_where=UNDECIDED),
        sa.UniqueConstraint("batch_id", "number", name="uq_letters_batch_number"),
        sa.CheckConstraint("kind IN ('award', 'shortlist', 'regret')", name="known_kind"),
        sa.CheckConstraint("language IN ('en', 'zh_Hant')", name="known_language"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    batch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("letter_batches.id"), index=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id"))
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    decision_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("decisions.id"), index=True)
    replaces_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("letters.id"))
    number: so.Mapped[int]
    kind: so.Mapped[LetterKind] = so.mapped_column(sa.Enum(LetterKind, native_enum=False, length=20))
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    debrief: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    content_sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    document_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("documents.id"), unique=True)
    issued_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    batch: so.Mapped[LetterBatch] = so.relationship(back_populates="letters")
    exercise: so.Mapped[Exercise] = so.relationship()
    vendor: so.Mapped[Vendor] = so.relationship()
    decision: so.Mapped[Optional[Decision]] = so.relationship()
    replaces: so.Mapped[Optional["Letter"]] = so.relationship(remote_side=[id])
    document: so.Mapped[Optional[Document]] = so.relationship()

    @property
    def reference(self) -> str:
        """Printed on the letter and checked on the verification page, e.g. OSP-EOI-2006/L/0003."""
        return f"{self.batch.reference}/{self.number:04d}"

    def __repr__(self) -> str:
        return f"<Letter {self.id} {self.kind.value} vendor {self.vendor_id}>"
