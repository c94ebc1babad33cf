"""Accounts: users with one role each, and vendor companies."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin

from app.auth.states import INVITATION_TRANSITIONS, InvitationState
from app.db import now_utc
from app.extensions import db


class Role(str, enum.Enum):
    admin = "admin"
    officer = "officer"
    approver = "approver"
    panel = "panel"
    vendor = "vendor"

    @property
    def title(self) -> str:
        return str(ROLE_TITLES[self])


ROLE_TITLES = {
    Role.admin: _l("Administrator"),
    Role.officer: _l("Procurement officer"),
    Role.approver: _l("Approver"),
    Role.panel: _l("Panel member"),
    Role.vendor: _l("Vendor user"),
}
STAFF_ROLES = frozenset({Role.admin, Role.officer, Role.approver, Role.panel})


class Vendor(db.Model):
    """A company. Until one of its users verifies an email address it is a pending registration: it claims
    nothing (another company may register the same BR number) and expires (REGISTRATION_EXPIRY)."""
    __tablename__ = "vendors"
    __table_args__ = (
        # A BR number belongs to at most one verified company; pending registrations do not hold it.
        sa.Index("uq_vendors_br_number_verified", "br_number", unique=True,
                 sqlite_where=sa.text("verified_at IS NOT NULL"), postgresql_where=sa.text("verified_at IS NOT NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(200))
    br_number: so.Mapped[str] = so.mapped_column(sa.String(20))
    address: so.Mapped[str] = so.mapped_column(sa.Text)
    contact_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    contact_phone: so.Mapped[str] = so.mapped_column(sa.String(40))
    contact_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    verified_at: so.Mapped[Optional[datetime]]  # when the BR number was claimed (first email verified)

    users: so.Mapped[list["User"]] = so.relationship(back_populates="vendor")

    def display_name(self, locale: str = "en") -> str:
        return self.name_zh if locale.startswith("zh") and self.name_zh else self.name_en

    def __repr__(self) -> str:
        return f"<Vendor {self.id} {self.br_number}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("(role = 'vendor') = (vendor_id IS NOT NULL)", name="vendor_role_has_vendor"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[Role] = so.mapped_column(sa.Enum(Role, native_enum=False, length=20))
    vendor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    locale: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))
    email_verified_at: so.Mapped[Optional[datetime]]
    # Bumped on sign-out, password change and disablement; a copied old cookie then stops working.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    password_changed_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    is_enabled: so.Mapped[bool] = so.mapped_column(default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    last_login_at: so.Mapped[Optional[datetime]]

    vendor: so.Mapped[Optional[Vendor]] = so.relationship(back_populates="users")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.is_enabled and (self.role != Role.vendor or self.email_verified_at is not None)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


class ColleagueInvitation(db.Model):
    """A company user's invitation to a colleague; it can be revoked by the company's users and dies with the
    inviter's account (a disabled user's invitations are revoked, and acceptance checks the inviter)."""
    __tablename__ = "colleague_invitations"
    __table_args__ = (
        sa.CheckConstraint("(state = 'pending') = (closed_at IS NULL)", name="closed_unless_pending"),
    )
    TRANSITIONS = INVITATION_TRANSITIONS

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254))
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    invited_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    state: so.Mapped[InvitationState] = so.mapped_column(
        sa.Enum(InvitationState, native_enum=False, length=20), default=InvitationState.pending)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    closed_at: so.Mapped[Optional[datetime]]

    vendor: so.Mapped[Vendor] = so.relationship()
    invited_by: so.Mapped[User] = so.relationship()

    def __repr__(self) -> str:
        return f"<ColleagueInvitation {self.id} {self.email} {self.state.value}>"
