"""Who may download a generated document."""
from __future__ import annotations

from app.auth.models import Role
from app.documents.models import Document

STAFF_READERS = frozenset({Role.officer, Role.admin, Role.approver})


def can_download_document(user, doc: Document) -> bool:
    """Vendor documents go to that vendor's users only (invariant 8); staff documents to officers, administrators
    and approvers, or to whom the area that builds the kind says (app.hooks add_document_builder readers)."""
    if doc.vendor_id is not None:
        return user.vendor_id == doc.vendor_id
    from app.hooks import hooks
    readers = hooks().document_readers.get(doc.kind)
    if readers is not None:
        return readers(user, doc)
    return user.role in STAFF_READERS
