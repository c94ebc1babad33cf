"""The public verification of issued contracts: a PDF file (by its SHA-256 against the record, and its PAdES
signature with pyHanko's validator) or a reference printed on it."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.documents.models import Document, DocumentStatus
from app.documents.signing import SignatureCheck, check_signature
from app.extensions import db
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


def verify_pdf(data: bytes) -> Verification:
    digest = hashlib.sha256(data).hexdigest()
    version = db.session.scalar(_issued(sa.select(ContractVersion)).where(Document.sha256 == digest))
    signature = check_signature(data)
    if version is not None and signature.is_signed_original:
        return Verification("original", version, digest, signature)
    return Verification("altered" if signature.signed or version is not None else "unknown", version, digest, signature)


def verify_reference(text: str) -> Verification:
    match = _REFERENCE.match(text or "")
    if not match:
        return Verification("not_found")
    query = _issued(sa.select(ContractVersion)).join(Contract, Contract.id == ContractVersion.contract_id).where(
        Contract.reference == match["contract"])
    if match["number"]:
        query = query.where(ContractVersion.number == int(match["number"]))
    version = db.session.scalar(query.order_by(ContractVersion.number.desc()).limit(1))
    return Verification("found", version, version.document.sha256) if version else Verification("not_found")
