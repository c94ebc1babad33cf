"""The public verification of issued contracts, letters and annual performance reports: a PDF file (by its SHA-256
against the record, and its PAdES signature with pyHanko's validator) or a reference printed on it."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.documents.models import Document, DocumentStatus
from app.documents.signing import SignatureCheck, check_signature
from app.extensions import db
from contracts.letter_models import Letter, LetterBatch
from contracts.models import Contract, ContractVersion, PerformanceReport

_REFERENCE = re.compile(r"^\s*(?P<contract>[A-Za-z0-9/\-]{3,40}?)(?:/v(?P<number>\d{1,4}))?\s*$")
#: An annual performance report's reference: its contract's and the contract year, e.g. PPP/BT/2008/01/PR1.
_REPORT_REFERENCE = re.compile(r"^\s*(?P<contract>[A-Za-z0-9/\-]{3,40}?)/PR(?P<year>\d{1,3})\s*$")


@dataclass
class Verification:
    """`verdict`: original (this is the signed file we issued), altered (it claims a signature but is not the file
    we issued, or its signature fails), unknown (no record and no signature), found / not_found for a reference.
    The record it matched is one of `version` (a contract), `letter` or `report` (an annual performance report)."""
    verdict: str
    version: ContractVersion | None = None
    sha256: str | None = None
    signature: SignatureCheck | None = None
    letter: Letter | None = None
    report: PerformanceReport | None = None

    @property
    def reference(self) -> str:
        record = self.letter or self.report or self.version
        return record.reference if record is not None else ""

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


def _issued(query, model=ContractVersion):
    """Only records whose document was issued: rendered, signed and stored with its SHA-256."""
    return query.join(Document, Document.id == model.document_id).where(Document.status == DocumentStatus.ready)


def _issued_letter(query):
    return _issued(query, Letter)


def _record_of(digest: str) -> dict:
    """The issued contract version, letter or performance report whose stored file has this SHA-256 (at most one)."""
    for key, model in (("version", ContractVersion), ("letter", Letter), ("report", PerformanceReport)):
        found = db.session.scalar(_issued(sa.select(model), model).where(Document.sha256 == digest))
        if found is not None:
            return {key: found}
    return {}


def verify_pdf(data: bytes) -> Verification:
    """Whether an uploaded PDF is the signed original of a document we issued: its SHA-256 is on record and its
    signature, by our certificate, validates and covers the whole file; one changed byte fails both."""
    digest = hashlib.sha256(data).hexdigest()
    found = _record_of(digest)
    signature = check_signature(data)
    if found and signature.is_signed_original:
        return Verification("original", sha256=digest, signature=signature, **found)
    return Verification("altered" if signature.signed or found else "unknown", sha256=digest, signature=signature,
                        **found)


def _letter_by_reference(text: str) -> Letter | None:
    """A letter's reference is its batch's and a four-digit number: OSP/EOI/2006/01/L/0003."""
    batch_reference, _, number = (text or "").strip().rpartition("/")
    if not batch_reference or not number.isdigit() or len(number) > 6:
        return None
    return db.session.scalar(_issued_letter(sa.select(Letter)).join(LetterBatch, LetterBatch.id == Letter.batch_id)
                             .where(LetterBatch.reference == batch_reference, Letter.number == int(number)))


def _report_by_reference(text: str) -> PerformanceReport | None:
    """The latest issued annual performance report of that contract year (a year's report may be prepared again as
    more KPI reports come in; each file is checked by upload)."""
    match = _REPORT_REFERENCE.match(text or "")
    if not match:
        return None
    return db.session.scalar(
        _issued(sa.select(PerformanceReport), PerformanceReport)
        .join(Contract, Contract.id == PerformanceReport.contract_id)
        .where(Contract.reference == match["contract"], PerformanceReport.year == int(match["year"]))
        .order_by(PerformanceReport.requested_at.desc(), PerformanceReport.id.desc()).limit(1))


def verify_reference(text: str) -> Verification:
    if (letter := _letter_by_reference(text)) is not None:
        return Verification("found", None, letter.document.sha256, letter=letter)
    if (report := _report_by_reference(text)) is not None:
        return Verification("found", None, report.document.sha256, report=report)
    match = _REFERENCE.match(text or "")
    if not match:
        return Verification("not_found")
    query = _issued(sa.select(ContractVersion)).join(Contract, Contract.id == ContractVersion.contract_id).where(
        Contract.reference == match["contract"])
    if match["number"]:
        query = query.where(ContractVersion.number == int(match["number"]))
    version = db.session.scalar(query.order_by(ContractVersion.number.desc()).limit(1))
    return Verification("found", version, version.document.sha256) if version else Verification("not_found")
