"""The vendor's registration confirmation PDF (registered by the app factory)."""
from __future__ import annotations


from app.auth.models import Vendor
from app.documents.models import Document
from app.documents.service import DocumentSpec
from app.extensions import db


def build_registration_confirmation(doc: Document) -> DocumentSpec:
    vendor = db.session.get(Vendor, doc.subject_id)
    return DocumentSpec("pdf/registration_confirmation.html", {"vendor": vendor, "document": doc})


def registration_confirmation_name(doc: Document) -> tuple[str, ...]:
    """e.g. Harbour-Digital-Services-Limited_registration-confirmation_en.pdf."""
    vendor = db.session.get(Vendor, doc.subject_id)
    return (vendor.name_en if vendor else "", "registration-confirmation")
