"""The one door for sealed submission content (invariant 1), both ways.

Answers, attachment names and contents, prices and the manifests of submitted versions are read AND written
only here; nothing else touches the Answer, SubmissionFile and PriceLine rows or SubmissionVersion.manifest
(tests/invariants/test_sealed_box.py scans the code and templates for it). Callers get plain values (dicts, SealedFile),
never the rows. The next step encrypts exactly what passes through these functions, so that change stays here.

Reads for a user check the seal (can_read_*) and raise SealedContent; the *_for_system reads are the
system's own (completeness check, manifest, receipt) and name their purpose. Writes do not check who may
write: the operations that call them have done that (role, state, closing time) and hold the row lock.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from app.storage import SavedUpload, StoredFile, save_upload, stored_path
from eoi.models import Answer, PriceLine, Submission, SubmissionFile, SubmissionVersion
from eoi.permissions import can_read_price, can_read_technical_content


class SealedContent(DomainError):
    default_message = _l("This submission is sealed until the tender box is opened.")
    status_code = 403


@dataclass(frozen=True)
class SealedFile:
    """One attachment of a submission, as shown to whoever may read it (its bytes: open_file_for)."""
    id: int                    # the attachment's id within the submission (SubmissionFile.id)
    section_id: int | None
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    file_id: int               # the stored file's id (listed in the version manifest)


@dataclass
class TechnicalContent:
    answers: dict[int, str]           # section id -> text
    files: list[SealedFile]


@dataclass
class PriceContent:
    lines: dict[int, Decimal] = field(default_factory=dict)  # price item id -> unit price

    def total(self, items) -> Decimal:
        return sum((self.lines.get(i.id, Decimal(0)) * i.quantity for i in items), Decimal(0))


# --- reading ------------------------------------------------------------------------------------

def _attachments(submission: Submission) -> list[tuple[SubmissionFile, StoredFile]]:
    return list(db.session.execute(
        sa.select(SubmissionFile, StoredFile).join(StoredFile, SubmissionFile.file_id == StoredFile.id)
        .where(SubmissionFile.submission_id == submission.id).order_by(SubmissionFile.id)).tuples())


def _sealed_file(item: SubmissionFile, stored: StoredFile) -> SealedFile:
    return SealedFile(item.id, item.section_id, stored.original_name, stored.content_type, stored.size, stored.sha256,
                      stored.uploaded_at, stored.id)


def _technical(submission: Submission) -> TechnicalContent:
    answers = {a.section_id: a.text for a in db.session.scalars(sa.select(Answer).where(Answer.submission_id == submission.id))}
    return TechnicalContent(answers, [_sealed_file(item, stored) for item, stored in _attachments(submission)])


def _prices(submission: Submission) -> PriceContent:
    rows = db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submission.id))
    return PriceContent({line.price_item_id: line.unit_price for line in rows})


def _require_technical(user, submission: Submission) -> None:
    if not can_read_technical_content(user, submission):
        raise SealedContent()


def technical_content_for(user, submission: Submission) -> TechnicalContent:
    """Answers and files, or SealedContent if user may not read them now."""
    _require_technical(user, submission)
    return _technical(submission)


def price_content_for(user, submission: Submission) -> PriceContent:
    """The price envelope, or SealedContent until the user may read it (invariant 4)."""
    if not can_read_price(user, submission):
        raise SealedContent(_l("The price envelope stays sealed until the technical evaluation is final."))
    return _prices(submission)


def _attachment(submission: Submission, file_id: int) -> tuple[SubmissionFile, StoredFile] | None:
    return next(((item, stored) for item, stored in _attachments(submission) if item.id == file_id), None)


def file_for(user, submission: Submission, file_id: int) -> SealedFile | None:
    """One attachment's description (None if the submission has no such attachment); SealedContent if sealed."""
    _require_technical(user, submission)
    found = _attachment(submission, file_id)
    return _sealed_file(*found) if found else None


def open_file_for(user, submission: Submission, file_id: int) -> tuple[SealedFile, BinaryIO] | None:
    """An attachment and its bytes, opened for reading (None if absent or missing on disk); SealedContent if sealed."""
    _require_technical(user, submission)
    found = _attachment(submission, file_id)
    if found is None:
        return None
    path = stored_path(found[1].storage_key)
    if not path.is_file():
        return None
    return _sealed_file(*found), open(path, "rb")


def content_for_system(submission: Submission, *, purpose: str) -> TechnicalContent:
    """The system's own read (completeness check, the manifest); purpose says why."""
    return _technical(submission)


def prices_for_system(submission: Submission, *, purpose: str) -> PriceContent:
    return _prices(submission)


def open_file_for_system(submission: Submission, file_id: int, *, purpose: str) -> BinaryIO | None:
    """An attachment's bytes for the system's own checks (e.g. a benchmark re-hashing what it sent); None if
    the submission has no such attachment or its file is missing."""
    found = _attachment(submission, file_id)
    path = stored_path(found[1].storage_key) if found else None
    return open(path, "rb") if path is not None and path.is_file() else None


def _manifest_of(version: SubmissionVersion) -> dict:
    return json.loads(version.manifest)


def version_manifest_for(user, version: SubmissionVersion) -> dict:
    """What one submitted version contained (answers, files with hashes, prices), under the same seal."""
    _require_technical(user, version.submission)
    manifest = _manifest_of(version)
    if not can_read_price(user, version.submission):
        manifest["prices"] = {}
    return manifest


def manifest_for_system(version: SubmissionVersion, *, purpose: str) -> dict:
    """The system's own read of a version's manifest (the vendor's receipt lists its files)."""
    return _manifest_of(version)


def manifest_matches_hash(version: SubmissionVersion) -> bool:
    """The frozen manifest still hashes to the SHA-256 recorded with the version (and printed on the receipt)."""
    return hashlib.sha256(version.manifest.encode()).hexdigest() == version.sha256


# --- writing ------------------------------------------------------------------------------------

def write_answers(submission: Submission, answers: dict[int, str]) -> None:
    """Store the answers (section id -> text) given; other sections keep theirs."""
    existing = {a.section_id: a for a in db.session.scalars(sa.select(Answer).where(Answer.submission_id == submission.id))}
    for section_id, text in answers.items():
        if section_id in existing:
            existing[section_id].text = text
        else:
            db.session.add(Answer(submission_id=submission.id, section_id=section_id, text=text))


def write_prices(submission: Submission, prices: dict[int, Decimal]) -> None:
    """Store unit prices (price item id -> amount) in the price envelope; other lines keep theirs."""
    existing = {p.price_item_id: p for p in db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submission.id))}
    for item_id, amount in prices.items():
        if item_id in existing:
            existing[item_id].unit_price = amount
        else:
            db.session.add(PriceLine(submission_id=submission.id, price_item_id=item_id, unit_price=amount))


def receive_file(stream: BinaryIO, filename: str | None, *, max_bytes: int) -> SavedUpload:
    """Take an attachment's bytes in (streamed, hashed, checked; kept only if the transaction commits)."""
    return save_upload(stream, filename, max_bytes=max_bytes)


def attach_file(submission: Submission, upload: SavedUpload, *, section_id: int | None, uploaded_by_id: int) -> SealedFile:
    """Add a received file to the submission (under a section, or general when section_id is None)."""
    stored = StoredFile(storage_key=upload.storage_key, original_name=upload.original_name, content_type=upload.content_type,
                        size=upload.size, sha256=upload.sha256, uploaded_by_id=uploaded_by_id)
    item = SubmissionFile(submission_id=submission.id, file=stored, section_id=section_id)
    db.session.add(item)
    db.session.flush()
    return _sealed_file(item, stored)


def detach_file(submission: Submission, file_id: int) -> bool:
    """Remove an attachment from the submission; the stored file stays (an earlier version may list it).
    Returns False if the submission has no such attachment."""
    item = db.session.scalar(sa.select(SubmissionFile).where(SubmissionFile.submission_id == submission.id,
                                                             SubmissionFile.id == file_id))
    if item is None:
        return False
    db.session.delete(item)
    return True


def _manifest(submission: Submission, content: TechnicalContent, prices: PriceContent) -> dict:
    return {
        "exercise": submission.exercise.reference,
        "vendor_id": submission.vendor_id,
        "answers": {str(k): v for k, v in sorted(content.answers.items())},
        "files": [{"id": f.file_id, "name": f.name, "size": f.size, "sha256": f.sha256, "section_id": f.section_id}
                  for f in content.files],
        "prices": {str(k): str(v) for k, v in sorted(prices.lines.items())},
    }


def freeze_manifest(version: SubmissionVersion, submission: Submission, *, content: TechnicalContent | None = None,
                    prices: PriceContent | None = None) -> None:
    """Freeze what is being submitted (answers, files with their hashes, prices) into version, with its SHA-256.
    A caller that has just read the content and prices for the system (submit) passes them, so they are read once."""
    with db.session.no_autoflush:  # version is not complete (no manifest) until this returns
        content = content if content is not None else _technical(submission)
        prices = prices if prices is not None else _prices(submission)
        manifest = json.dumps(_manifest(submission, content, prices), sort_keys=True, ensure_ascii=False,
                              separators=(",", ":"))
    version.manifest, version.sha256 = manifest, hashlib.sha256(manifest.encode()).hexdigest()
