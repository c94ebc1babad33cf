"""The vendor's registration confirmation PDF."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.auth.models import Vendor
from app.documents.models import Document
from app.documents.service import DocumentSpec, document_builder
from app.extensions import db


@document_builder("registration_confirmation", _l("Registration confirmation"))
def build_registration_confirmation(doc: Document) -> DocumentSpec:
    vendor = db.session.get(Vendor, doc.subject_id)
    return DocumentSpec("pdf/registration_confirmation.html", {"vendor": vendor, "document": doc})
