"""Evaluation criteria of an exercise (weights, scales, pass marks); panels and score sheets come later."""
from __future__ import annotations

import enum
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.extensions import db
from eoi.models import Exercise


class Envelope(str, enum.Enum):
    technical = "technical"
    price = "price"

    @property
    def title(self) -> str:
        return str({Envelope.technical: _l("Technical"), Envelope.price: _l("Price")}[self])


class Criterion(db.Model):
    __tablename__ = "criteria"
    __public_content__ = True  # shown on the public exercise page (app.public_cache)
    __table_args__ = (
        sa.UniqueConstraint("exercise_id", "position"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_in_range"),
        sa.CheckConstraint("max_score > 0", name="positive_scale"),
        sa.CheckConstraint("pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= max_score)", name="pass_mark_on_scale"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    name_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2))
    max_score: so.Mapped[int] = so.mapped_column(default=10)
    pass_mark: so.Mapped[Optional[int]]
    envelope: so.Mapped[Envelope] = so.mapped_column(sa.Enum(Envelope, native_enum=False, length=20),
                                                     default=Envelope.technical)

    exercise: so.Mapped[Exercise] = so.relationship()

    def name(self, locale) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en

    def __repr__(self) -> str:
        return f"<Criterion {self.exercise_id}.{self.position} {self.weight}%>"
