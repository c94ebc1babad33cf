"""The one accessor for sealed submission content (invariant 1). Templates, PDFs and tasks read through it.

A later step encrypts this content at rest so only the two opening officers together can unlock it;
keeping every read behind these functions is what makes that step local.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from eoi.models import Answer, PriceLine, Submission, SubmissionFile
from eoi.permissions import can_read_price, can_read_technical_content


class SealedContent(DomainError):
    default_message = _l("This submission is sealed until the tender box is opened.")
    status_code = 403


@dataclass
class TechnicalContent:
    answers: dict[int, str]           # section id -> text
    files: list[SubmissionFile]


@dataclass
class PriceContent:
    lines: dict[int, Decimal] = field(default_factory=dict)  # price item id -> unit price

    def total(self, items) -> Decimal:
        return sum((self.lines.get(i.id, Decimal(0)) * i.quantity for i in items), Decimal(0))


def _technical(submission: Submission) -> TechnicalContent:
    from app.extensions import db
    import sqlalchemy as sa
    answers = {a.section_id: a.text for a in db.session.scalars(sa.select(Answer).where(Answer.submission_id == submission.id))}
    files = list(db.session.scalars(sa.select(SubmissionFile).where(SubmissionFile.submission_id == submission.id)
                                    .order_by(SubmissionFile.id)))
    return TechnicalContent(answers, files)


def _prices(submission: Submission) -> PriceContent:
    from app.extensions import db
    import sqlalchemy as sa
    rows = db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submission.id))
    return PriceContent({line.price_item_id: line.unit_price for line in rows})


def technical_content_for(user, submission: Submission) -> TechnicalContent:
    """Answers and files, or SealedContent if user may not read them now."""
    if not can_read_technical_content(user, submission):
        raise SealedContent()
    return _technical(submission)


def price_content_for(user, submission: Submission) -> PriceContent:
    if not can_read_price(user, submission):
        raise SealedContent(_l("The price envelope stays sealed until the technical evaluation is final."))
    return _prices(submission)


def content_for_system(submission: Submission, *, purpose: str) -> TechnicalContent:
    """The system's own read (the vendor's receipt, the manifest hash); purpose is logged by the caller."""
    return _technical(submission)


def prices_for_system(submission: Submission, *, purpose: str) -> PriceContent:
    return _prices(submission)


def version_manifest_for(user, version) -> dict:
    """What one submitted version contained (answers, files with hashes, prices), under the same seal."""
    import json
    if not can_read_technical_content(user, version.submission):
        raise SealedContent()
    manifest = json.loads(version.manifest)
    if not can_read_price(user, version.submission):
        manifest["prices"] = {}
    return manifest
