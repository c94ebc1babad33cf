"""The record of a tender's price opening (issue 10, item 6): a PDF like the technical opening's record
(eoi/documents.py), queued by confirm_price_opening and registered in scoring.init_app."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.audit.checkpoints import write_checkpoint
from app.documents.models import Document
from app.documents.service import DocumentSpec
from app.extensions import db
from eoi.models import Exercise, Submission
from eoi.queries import completed_opening, opening_officers_of, opening_verification
from eoi.sealed import SealedContent
from eoi.states import OpeningEnvelope
from scoring.queries import panel_of, price_total_of, proposals_of
from scoring.report import bilingual

PRICE_RECORD_KIND = "price_opening_record"

#: the record's headings, each printed in the record's language with the other language beneath
HEADINGS = {
    "record": _l("Record of the opening of the price envelopes"),
    "opened": _l("Technically compliant tenders: prices opened"),
    "kept_sealed": _l("Not technically compliant: price envelopes not opened"),
    "audit": _l("Audit trail"),
}


@dataclass
class OpenedPrice:
    """One compliant tender on the record: the opening's checks of its price envelope (None: not decrypted at this
    opening) and its total price (None when its prices cannot be read: unreadable says why, in the record's
    language when rendered). A tender that fails is listed all the same."""
    submission: Submission
    checked: dict | None
    total: Decimal | None
    unreadable: SealedContent | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checked and self.checked.get("ok")) and self.unreadable is None

    @property
    def problems(self) -> list[str]:
        return list(self.checked.get("problems") or ()) if self.checked else []


def opened_prices(exercise: Exercise, compliant: list[Submission]) -> list[OpenedPrice]:
    """Each compliant tender with what the price opening found: a tender whose envelope fails its checks is listed
    with the reason, never skipped."""
    items = list(exercise.price_items)
    checks = {row["submission_id"]: row for row in opening_verification(exercise, OpeningEnvelope.price)}
    rows = []
    for submission in compliant:
        try:
            rows.append(OpenedPrice(submission, checks.get(submission.id), price_total_of(submission, items)))
        except SealedContent as exc:  # DamagedContent too: an altered price line
            rows.append(OpenedPrice(submission, checks.get(submission.id), None, exc))
    return rows


def build_price_opening_record(doc: Document) -> DocumentSpec:
    """The exercise, the two officers who opened the price envelopes and when (HKT), every technically compliant
    tender with its checks and total price (HKD), every other standing tender listed as not opened, and a signed
    checkpoint of the audit chain's head, as on the technical opening's record (invariants 4 and 10)."""
    exercise = db.session.get(Exercise, doc.subject_id)
    panel = panel_of(exercise)
    opening = completed_opening(exercise, OpeningEnvelope.price)
    standing = proposals_of(panel)
    compliant_ids = set(panel.compliant)
    return DocumentSpec("pdf/price_opening_record.html", {
        "exercise": exercise, "panel": panel, "document": doc, "opening": opening,
        "first_officer": opening.started_by, "second_officer": opening.confirmed_by,
        "opening_officers": opening_officers_of(exercise),
        "opened": opened_prices(exercise, [s for s in standing if s.id in compliant_ids]),
        "kept_sealed": [s for s in standing if s.id not in compliant_ids],
        "audit": write_checkpoint(), "heading": lambda key: bilingual(key, doc.language, HEADINGS),
    })


def price_opening_record_name(doc: Document) -> tuple[str, ...]:
    """e.g. OSP-T-BT-01_price-opening-record_en.pdf."""
    exercise = db.session.get(Exercise, doc.subject_id)
    return (exercise.reference if exercise else str(doc.subject_id), "price-opening-record")
