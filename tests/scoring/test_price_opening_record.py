"""The price opening record (issue 10, item 6): after the chair's sign-off, two named officers open the compliant
tenders' price envelopes and a PDF records it, like the technical opening's record: the two officers and when, each
compliant tender with the checks of its envelope and its total price, a tender whose price envelope fails its checks
named (never skipped), the tenders not opened because not technically compliant, and the audit chain's head. Only
staff who read staff documents can fetch it: never a vendor or a panel member."""
from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.documents.models import Document
from app.extensions import db
from eoi.models import Exercise, PriceLine
from scoring.documents import PRICE_RECORD_KIND
from scoring.operations import sign_off_technical
from tests.factories import create_staff, create_vendor_user, wait_for
from tests.scoring.test_results import _open_prices, tender  # noqa: F401  (fixture)

needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")


def _records(exercise_id: int) -> list[Document]:
    return list(db.session.scalars(sa.select(Document).where(
        Document.kind == PRICE_RECORD_KIND, Document.subject_type == "Exercise", Document.subject_id == exercise_id)))


def _ready_record(exercise_id: int) -> Document:
    [doc] = _records(exercise_id)
    wait_for(lambda: db.session.get(Document, doc.id).is_ready or db.session.get(Document, doc.id).has_failed, 240)
    db.session.refresh(doc)
    assert doc.is_ready, doc.failure_reason
    return doc


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "record.pdf"
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout
    return " ".join(text.split())


def _signed_off_and_opened(tender):
    panel, chair, members, submissions, officer, second = tender
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    assert _records(panel.exercise_id) == []  # nothing before the price opening
    _open_prices(panel, officer, second)
    return panel, chair, members, submissions, officer, second


@needs_pdftotext
def test_the_price_opening_produces_its_record_with_the_prices_and_the_officers(tender, login, tmp_path):
    panel, chair, members, submissions, officer, second = _signed_off_and_opened(tender)
    doc = _ready_record(panel.exercise_id)
    client = login(officer)
    response = client.get(f"/documents/{doc.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "price-opening-record" in response.headers["Content-Disposition"]
    text = _pdf_text(response.data, tmp_path)
    assert "Record of the opening of the price envelopes" in text and "價格" in text  # bilingual heading
    opened_at = db.session.get(Exercise, panel.exercise_id).price_opened_at
    hk_time = (opened_at.replace(tzinfo=timezone.utc) + timedelta(hours=8)).strftime("%H:%M")
    assert officer.name in text and second.name in text and hk_time in text and "Hong Kong time" in text
    # each line priced at 100, 80 (120 failed technically): 1 set-up + 5 years = 6 × the unit price
    assert "HK$600.00" in text and "HK$480.00" in text
    assert "HK$720.00" not in text  # the non-compliant tender's price stays sealed
    for s in submissions:
        assert s.vendor.name_en in text
    assert text.count("Decrypted; every price line matches the receipt") == 2
    assert "Not technically compliant: price envelope kept sealed" in text
    assert "Signed checkpoint of the audit log" in text and "Head hash" in text


def test_the_record_is_linked_for_officers_and_fetched_by_no_vendor_or_panel_member(tender, login):
    panel, chair, members, submissions, officer, second = _signed_off_and_opened(tender)
    doc = _ready_record(panel.exercise_id)
    link = f"/documents/{doc.id}"
    assert link in login(officer).get(f"/scoring/panels/{panel.id}/prices").get_data(as_text=True)
    assert link in login(second).get(f"/scoring/panels/{panel.id}/results").get_data(as_text=True)
    assert link not in login(chair).get(f"/scoring/panels/{panel.id}/results").get_data(as_text=True)
    clerk = next(m.user for m in panel.members if m.role.value == "secretary")
    bidder = submissions[0].vendor.users[0]  # a vendor whose price is on the record
    outsiders = [chair, members[0], clerk, create_staff(Role.panel), create_vendor_user(), bidder,
                 create_staff(Role.admin)]
    for user in outsiders:
        assert login(user).get(link).status_code == 404, user
    assert login(officer).get(link).status_code == 200  # positive control
    assert login(create_staff(Role.approver)).get(link).status_code == 200


@needs_pdftotext
def test_a_tender_whose_price_envelope_fails_is_named_on_the_record_never_skipped(tender, login, tmp_path):
    panel, chair, members, submissions, officer, second = tender
    sign_off_technical(panel, actor=chair)
    line = db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submissions[1].id)).first()
    middle = len(line.sealed_amount) // 2
    flipped = "A" if line.sealed_amount[middle] != "A" else "B"
    line.sealed_amount = line.sealed_amount[:middle] + flipped + line.sealed_amount[middle + 1:]
    db.session.commit()
    _open_prices(panel, officer, second)
    doc = _ready_record(panel.exercise_id)
    text = _pdf_text(login(officer).get(f"/documents/{doc.id}").data, tmp_path)
    assert submissions[1].vendor.name_en in text and "Damaged:" in text
    assert "HK$600.00" in text and "HK$480.00" not in text
    assert text.count("Decrypted; every price line matches the receipt") == 1


def test_the_record_is_bilingual_in_traditional_chinese(tender):
    """The builder's context renders in Chinese too (headings with the English beneath)."""
    from flask import render_template
    from flask_babel import force_locale

    from scoring.documents import build_price_opening_record
    panel, chair, members, submissions, officer, second = _signed_off_and_opened(tender)
    [doc] = _records(panel.exercise_id)
    doc.language = "zh_Hant"
    spec = build_price_opening_record(doc)
    with force_locale("zh_Hant"):
        html = render_template(spec.template, lang="zh-Hant", **spec.context)
    assert "Record of the opening of the price envelopes" in html  # the English beneath
    assert "價格信封開啟記錄" in html and "HK$600.00" in html
    db.session.rollback()
