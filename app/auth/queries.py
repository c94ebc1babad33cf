"""Read-side helpers of accounts, named for what they return."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.documents.models import Document
from app.extensions import db

ACCOUNT_DOCUMENTS_SHOWN = 50


def vendor_documents(vendor_id: int, limit: int = ACCOUNT_DOCUMENTS_SHOWN) -> list[Document]:
    """The company's own generated documents (receipts, confirmations), newest first (invariant 8)."""
    return list(db.session.scalars(sa.select(Document).where(Document.vendor_id == vendor_id)
                                   .order_by(Document.created_at.desc()).limit(limit)))


def users_by_role() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.role, User.email)))
