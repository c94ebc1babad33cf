"""Read-side helpers of accounts, named for what they return: documents, users, BR number claims, pending
registrations and invitations."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.auth.models import ColleagueInvitation, Role, User, Vendor
from app.auth.states import InvitationState
from app.documents.models import Document
from app.extensions import db

ACCOUNT_DOCUMENTS_SHOWN = 50


def vendor_documents(vendor_id: int, limit: int = ACCOUNT_DOCUMENTS_SHOWN) -> list[Document]:
    """The company's own generated documents (receipts, confirmations), newest first (invariant 8)."""
    return list(db.session.scalars(sa.select(Document).where(Document.vendor_id == vendor_id)
                                   .order_by(Document.created_at.desc()).limit(limit)))


def users_by_role() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.role, User.email)))


def br_number_taken(br_number: str) -> bool:
    """Whether a verified company holds this BR number (a pending registration holds nothing)."""
    return db.session.scalar(sa.select(Vendor.id).where(Vendor.br_number == br_number,
                                                        Vendor.verified_at.is_not(None))) is not None


def user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))


def expired_registrations(cutoff: datetime) -> list[Vendor]:
    """Pending registrations (no user of the company ever verified an address) made before cutoff."""
    verified_user = sa.select(User.id).where(User.vendor_id == Vendor.id, User.email_verified_at.is_not(None))
    return list(db.session.scalars(sa.select(Vendor).where(
        Vendor.verified_at.is_(None), Vendor.created_at <= cutoff, ~verified_user.exists()).order_by(Vendor.id)))


def pending_invitations(vendor: Vendor) -> list[ColleagueInvitation]:
    return list(db.session.scalars(sa.select(ColleagueInvitation).where(
        ColleagueInvitation.vendor_id == vendor.id, ColleagueInvitation.state == InvitationState.pending)
        .order_by(ColleagueInvitation.created_at)))


def invitations_by(user: User) -> list[ColleagueInvitation]:
    """The pending invitations this user sent."""
    return list(db.session.scalars(sa.select(ColleagueInvitation).where(
        ColleagueInvitation.invited_by_id == user.id, ColleagueInvitation.state == InvitationState.pending)))


def other_admins(*exclude: User | None) -> list[User]:
    ids = [u.id for u in exclude if getattr(u, "id", None) is not None]
    return list(db.session.scalars(sa.select(User).where(User.role == Role.admin, User.is_enabled, User.id.not_in(ids))
                                   .order_by(User.id)))
