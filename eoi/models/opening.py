"""The opening of the tender box (invariant 3): the officers named at publication, and each two-officer opening."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.auth.models import User
from app.db import now_utc
from app.extensions import db
from eoi.models.exercise import Exercise
from eoi.states import OPENING_TRANSITIONS, OpeningEnvelope, OpeningState


class OpeningOfficer(db.Model):
    """An officer named, when the exercise was published, as one who may take part in opening its box.
    Only these can start or confirm an opening (the foreign keys of `openings` point here); an account created
    or made an officer after publication is never on the list."""
    __tablename__ = "opening_officers"

    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    named_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    named_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    user: so.Mapped[User] = so.relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<OpeningOfficer exercise={self.exercise_id} user={self.user_id}>"


class Opening(db.Model):
    """One opening of an exercise's box: started by a named officer, completed by a different named officer who
    re-authenticates, or cancelled (an incident re-opened the box, or its starter can no longer take part)."""
    __tablename__ = "openings"
    __table_args__ = (
        sa.CheckConstraint("state IN ('started', 'completed', 'cancelled')", name="known_state"),
        sa.CheckConstraint("envelope IN ('technical', 'price')", name="known_envelope"),
        sa.CheckConstraint("(state = 'completed') = (confirmed_by_id IS NOT NULL AND completed_at IS NOT NULL)",
                           name="completed_by_a_second_officer"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> started_by_id", name="two_different_officers"),
        sa.CheckConstraint("(state = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_time"),
        sa.ForeignKeyConstraint(["exercise_id", "started_by_id"],
                                ["opening_officers.exercise_id", "opening_officers.user_id"],
                                name="fk_openings_started_by_named_officer"),
        sa.ForeignKeyConstraint(["exercise_id", "confirmed_by_id"],
                                ["opening_officers.exercise_id", "opening_officers.user_id"],
                                name="fk_openings_confirmed_by_named_officer"),
        # At most one opening in progress or done per envelope; cancelled ones stay on record.
        sa.Index("uq_openings_one_live_per_envelope", "exercise_id", "envelope", unique=True,
                 sqlite_where=sa.text("state <> 'cancelled'"), postgresql_where=sa.text("state <> 'cancelled'")),
    )
    TRANSITIONS = OPENING_TRANSITIONS

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    envelope: so.Mapped[OpeningEnvelope] = so.mapped_column(
        sa.Enum(OpeningEnvelope, native_enum=False, length=20), default=OpeningEnvelope.technical)
    state: so.Mapped[OpeningState] = so.mapped_column(
        sa.Enum(OpeningState, native_enum=False, length=20), default=OpeningState.started)
    started_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    started_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    confirmed_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    completed_at: so.Mapped[Optional[datetime]]
    cancelled_at: so.Mapped[Optional[datetime]]
    cancel_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # Issue 9: the first officer's unlocked key share, re-sealed to each other named officer's opening key (JSON
    # {user_id: sealed}); cleared when the opening completes or is cancelled. Never a share in plain.
    pending_shares: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # What the opening decrypted and checked (JSON list, one entry per standing proposal), printed on the record.
    verification: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    exercise: so.Mapped[Exercise] = so.relationship()
    started_by: so.Mapped[User] = so.relationship(foreign_keys=[started_by_id])
    confirmed_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[confirmed_by_id])

    def __repr__(self) -> str:
        return f"<Opening {self.id} exercise={self.exercise_id} {self.envelope.value} {self.state.value}>"


class OpeningKey(db.Model):
    """An officer's opening key (issue 9): an X25519 public key, and its private key encrypted under a key derived
    (Argon2id) from the officer's own opening passphrase, which the server never stores. Shares of each exercise's
    opening key are sealed to the public key; only the passphrase unlocks them."""
    __tablename__ = "opening_keys"

    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    public_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    locked_private_key: so.Mapped[str] = so.mapped_column(sa.Text)  # JSON: salt, Argon2id parameters, ciphertext
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    changed_at: so.Mapped[Optional[datetime]]

    def __repr__(self) -> str:
        return f"<OpeningKey user={self.user_id}>"


class OpeningKeyShare(db.Model):
    """One named officer's share of an exercise's opening private key for one envelope, sealed to that officer's
    opening key. Any two shares of a generation rebuild the key (2-of-n); one alone reveals nothing."""
    __tablename__ = "opening_key_shares"
    __table_args__ = (
        sa.ForeignKeyConstraint(["exercise_id", "user_id"], ["opening_officers.exercise_id", "opening_officers.user_id"],
                                name="fk_opening_key_shares_named_officer", ondelete="CASCADE"),
        sa.CheckConstraint("envelope IN ('technical', 'price')", name="known_envelope"),
    )

    exercise_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(primary_key=True)
    envelope: so.Mapped[str] = so.mapped_column(sa.String(20), primary_key=True)
    share_index: so.Mapped[int]
    sealed_share: so.Mapped[str] = so.mapped_column(sa.Text)
    generation: so.Mapped[int] = so.mapped_column(default=1)

    def __repr__(self) -> str:
        return f"<OpeningKeyShare exercise={self.exercise_id} user={self.user_id} {self.envelope}>"
