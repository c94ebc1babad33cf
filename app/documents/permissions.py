"""Who may download a generated document."""
from __future__ import annotations

from app.auth.models import Role
from app.documents.models import Document

STAFF_READERS = frozenset({Role.officer, Role.admin, Role.approver})


def can_download_document(user, doc: Document) -> bool:
    """Vendor documents go to that vendor's users only (invariant 8); staff documents to officers, administrators
    and approvers."""
    if doc.vendor_id is not None:
        return user.vendor_id == doc.vendor_id
    return user.role in STAFF_READERS
