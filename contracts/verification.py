"""The public verification of issued contracts and letters: a PDF file (by its SHA-256 against the record, and its PAdES
signature with pyHanko's validator) or a reference printed on it."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.documents.models import Document, DocumentStatus
from app.documents.signing import SignatureCheck, check_signature
from app.extensions import db
from contracts.letter_models import Letter, LetterBatch
from contracts.models import Contract, ContractVersion

_REFERENCE = re.compile(r"^\s*(?P<contract>[A-Za-z0-9/\-]{3,40}?)(?:/v(?P<number>\d{1,4}))?\s*$")


@dataclass
class Verification:
    """`verdict`: original (this is the signed file we issued), altered (it claims a signature but is not the file
    we issued, or its signature fails), unknown (no record and no signature), found / not_found for a reference."""
    verdict: str
    version: ContractVersion | None = None
    sha256: str | None = None
    signature: SignatureCheck | None = None
    letter: Letter | None = None

    @property
    def is_original(self) -> bool:
        return self.verdict == "original"

    @property
    def is_found(self) -> bool:
        return self.verdict == "found"

    @property
    def is_altered(self) -> bool:
        return self.verdict == "altered"

    @property
    def is_unknown(self) -> bool:
        return self.verdict == "unknown"

    @property
    def is_good(self) -> bool:
        return self.is_original or self.is_found


def _issued(query):
    return query.join(Document, Document.id == ContractVersion.document_id).where(
        Document.status == DocumentStatus.ready)


def _issued_letter(query):
    return query.join(Document, Document.id == Letter.document_id).where(Document.status == DocumentStatus.ready)


def verify_pdf(data: bytes) -> Verification:
    digest = hashlib.sha256(data).hexdigest()
    version = db.session.scalar(_issued(sa.select(ContractVersion)).where(Document.sha256 == digest))
    letter = None if version else db.session.scalar(_issued_letter(sa.select(Letter)).where(Document.sha256 == digest))
    signature = check_signature(data)
    known = version is not None or letter is not None
    if known and signature.is_signed_original:
        return Verification("original", version, digest, signature, letter)
    return Verification("altered" if signature.signed or known else "unknown", version, digest, signature, letter)


def _letter_by_reference(text: str) -> Letter | None:
    """A letter's reference is its batch's and a four-digit number: OSP/EOI/2006/01/L/0003."""
    batch_reference, _, number = (text or "").strip().rpartition("/")
    if not batch_reference or not number.isdigit() or len(number) > 6:
        return None
    return db.session.scalar(_issued_letter(sa.select(Letter)).join(LetterBatch, LetterBatch.id == Letter.batch_id)
                             .where(LetterBatch.reference == batch_reference, Letter.number == int(number)))


def verify_reference(text: str) -> Verification:
    if (letter := _letter_by_reference(text)) is not None:
        return Verification("found", None, letter.document.sha256, letter=letter)
    match = _REFERENCE.match(text or "")
    if not match:
        return Verification("not_found")
    query = _issued(sa.select(ContractVersion)).join(Contract, Contract.id == ContractVersion.contract_id).where(
        Contract.reference == match["contract"])
    if match["number"]:
        query = query.where(ContractVersion.number == int(match["number"]))
    version = db.session.scalar(query.order_by(ContractVersion.number.desc()).limit(1))
    return Verification("found", version, version.document.sha256) if version else Verification("not_found")
