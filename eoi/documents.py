"""PDF documents of the eoi area: the vendor's submission receipt and the opening record (registered in eoi.init_app)."""
from __future__ import annotations

from app.audit.checkpoints import write_checkpoint
from app.documents.models import Document
from app.documents.service import DocumentSpec
from app.extensions import db
from eoi import queries, sealed
from eoi.models import Exercise, SubmissionVersion


def build_submission_receipt(doc: Document) -> DocumentSpec:
    """The receipt lists what arrived: each file by its number, section, size and SHA-256. Never by name: the PDF is
    stored in clear under STORAGE_DIR, and a file name is sealed content (issue 9, property 1; docs/sealing.md). The
    vendor's receipt page shows the names against the same numbers while the server can decrypt them."""
    version = db.session.get(SubmissionVersion, doc.subject_id)
    listing = sealed.receipt_listing(version)  # in clear: renders after closing too
    exercise = version.submission.exercise
    positions = {s.id: s.position for s in exercise.sections}
    files = [{"number": n, "section": positions.get(f.get("section_id")), "size": f["size"], "sha256": f["sha256"]}
             for n, f in enumerate(listing["files"], start=1)]
    return DocumentSpec("pdf/submission_receipt.html", {
        "version": version, "submission": version.submission, "exercise": exercise,
        "files": files, "answer_count": listing["answer_count"], "priced": listing["priced"],
    })


def build_opening_record(doc: Document) -> DocumentSpec:
    """Invariant 3: every standing submission with its receipt and SHA-256, and every one submitted before an
    addendum and not re-confirmed, listed as such; the named officers and the two who opened. Rendered after the
    opening commits, it signs a checkpoint of the audit chain's head and prints it (invariant 10)."""
    exercise = db.session.get(Exercise, doc.subject_id)
    late = queries.late_attempts(exercise)
    opening = queries.completed_opening(exercise)
    return DocumentSpec("pdf/opening_record.html", {
        "exercise": exercise, "submissions": queries.standing_submissions(exercise),
        "unconfirmed": queries.unconfirmed_submissions(exercise), "late_attempts": late, "document": doc,
        "opening": opening, "first_officer": opening.started_by, "second_officer": opening.confirmed_by,
        "opening_officers": queries.opening_officers_of(exercise), "audit": write_checkpoint(),
        "verification": {row["submission_id"]: row for row in queries.opening_verification(exercise)},
    })


def submission_receipt_name(doc: Document) -> tuple[str, ...]:
    """e.g. OSP-T-BT-01_receipt_R0014-01_zh.pdf: the exercise, "receipt", the receipt number after the reference."""
    version = db.session.get(SubmissionVersion, doc.subject_id)
    if version is None:
        return ("receipt", str(doc.subject_id))
    reference = version.submission.exercise.reference
    number = version.receipt_number.removeprefix(reference).lstrip("-")
    return (reference, "receipt", number)


def opening_record_name(doc: Document) -> tuple[str, ...]:
    """e.g. OSP-EOI-2006-01_opening-record_en.pdf."""
    exercise = db.session.get(Exercise, doc.subject_id)
    return (exercise.reference if exercise else str(doc.subject_id), "opening-record")
