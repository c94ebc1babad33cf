"""The contract PDF (registered in contracts.init_app): one issued, signed document per contract version, and the
unsigned preview an officer looks at before issuing."""
from __future__ import annotations

from flask import render_template
from flask_babel import force_locale

from app.documents.models import Document
from app.documents.render import render_pdf
from app.documents.service import DocumentSpec
from app.extensions import db
from app.notifications import external_url  # an address a reader of the printed page can type
from contracts.models import Contract, ContractVersion
from contracts.operations import TEMPLATE_VERSION, content_digest


def _context(contract: Contract, version: ContractVersion, *, preview: bool) -> dict:
    return {"contract": contract, "version": version, "versions": [v for v in contract.versions
                                                                    if v.number <= version.number],
            "template_version": version.template_version or TEMPLATE_VERSION, "preview": preview,
            "verify_url": external_url("contracts.verify"),
            "content_sha256": version.content_sha256 or content_digest(contract)}


def build_contract(doc: Document) -> DocumentSpec:
    version = db.session.get(ContractVersion, doc.subject_id)
    return DocumentSpec("pdf/contract.html", _context(version.contract, version, preview=False),
                        sign_reason=f"Contract {version.reference} issued")


def preview_contract(contract: Contract, language: str) -> bytes:
    """The current version rendered now, marked as a preview, not stored, not signed."""
    with force_locale(language):
        html = render_template("pdf/contract.html", lang="zh-Hant" if language == "zh_Hant" else "en",
                               **_context(contract, contract.current_version, preview=True))
    return render_pdf(html)


def build_letter(doc: Document) -> DocumentSpec:
    """A letter to a vendor (contracts/letters.py), signed like a contract."""
    from contracts.letter_models import Letter
    from contracts.letters import debrief
    letter = db.session.get(Letter, doc.subject_id)
    return DocumentSpec("pdf/letter.html", {
        "letter": letter, "exercise": letter.exercise, "vendor": letter.vendor, "debrief": debrief(letter),
        "verify_url": external_url("contracts.verify")},
        sign_reason=f"Letter {letter.reference} issued")


def letter_name(doc: Document) -> tuple[str, ...]:
    from contracts.letter_models import Letter
    letter = db.session.get(Letter, doc.subject_id)
    return (letter.exercise.reference, f"{letter.kind.value}-letter", f"{letter.number:04d}")
