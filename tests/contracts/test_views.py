"""The contract pages' wiring: creation, bad input refused at the field, KPI reports, charts, issued PDFs, and the
public verification page (a one-byte change fails)."""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal as D

import sqlalchemy as sa

from app.auth.models import Role, User
from app.documents.models import DocumentStatus
from app.documents.service import read_verified
from app.extensions import db
from contracts import operations as cops
from contracts.models import Contract, KpiReport
from tests.factories import create_contract, create_opened_exercise_for, create_staff, create_vendor_user, wait_for


def _vendor_user(contract) -> User:
    return db.session.scalar(sa.select(User).where(User.vendor_id == contract.vendor_id))


def _officer(contract) -> User:
    return db.session.get(User, contract.created_by_id)


def test_officer_creates_a_contract_from_a_submission(app, login):
    officer, vendor_user = create_staff(Role.officer), create_vendor_user()
    exercise = create_opened_exercise_for((vendor_user,), officer=officer)
    client = login(officer)
    page = client.get("/contracts/new")
    assert page.status_code == 200 and exercise.reference in page.get_data(as_text=True)
    submission_id = db.session.scalar(sa.select(sa.text("id")).select_from(sa.text("submissions")))
    data = {"submission": submission_id, "cluster": exercise.clusters[0].id, "title_en": "Operation",
            "title_zh": "營運", "starts_on": "2008-01-01", "ends_on": "2007-12-31", "extensions_allowed": 1,
            "extension_months": 12, "cost_avoidance": "1000000"}
    refused = client.post("/contracts/new", data=data)
    assert refused.status_code == 400 and "The term must end after it starts." in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Contract.id))) == 0
    created = client.post("/contracts/new", data={**data, "ends_on": "2010-12-31"})
    assert created.status_code == 302
    contract = db.session.scalar(sa.select(Contract))
    assert contract.vendor_id == vendor_user.vendor_id and contract.cost_avoidance == D("1000000.00")


def test_a_malformed_amount_is_refused_at_the_field(app, login):
    contract = create_contract(state="draft")
    response = login(_officer(contract)).post(f"/contracts/{contract.id}/fees", data={
        "kind": "fixed", "description_en": "Fee", "description_zh": "費用", "rate": "1", "committed": "12,5OO"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="committed-error"' in body and "Enter an amount in HK$" in body


def test_a_variation_past_the_funding_is_refused_at_the_field(app, login):
    contract = create_contract(state="active", committed=D("160000000"))
    client = login(_officer(contract))
    response = client.post(f"/contracts/{contract.id}/vary", data={
        "reason": "Add the payment gateway", "extra_committed": "9000000", "description_en": "Gateway",
        "description_zh": "閘道"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and 'id="extra_committed-error"' in body and "approved funding" in body
    db.session.expire_all()
    assert db.session.get(Contract, contract.id).version == 1


def test_contractor_files_a_report_and_sees_its_service_credit(app, login):
    contract = create_contract(state="active")
    user = _vendor_user(contract)
    client = login(user)
    availability, response_time = contract.kpis
    page = client.get(f"/contracts/{contract.id}/reports/new")
    assert page.status_code == 200 and "Availability (%)" in page.get_data(as_text=True)
    period = f"{contract.starts_on.year}-03-01"
    # the months offered read as months ("March 2026"), not "2026-03"
    assert f'<option value="{period}">March {contract.starts_on.year}</option>' in page.get_data(as_text=True)
    bad = client.post(f"/contracts/{contract.id}/reports/new", data={
        "period": period, f"kpi_{availability.id}": "99,5%", f"kpi_{response_time.id}": "1.5"})
    assert bad.status_code == 400 and f'id="kpi_{availability.id}-error"' in bad.get_data(as_text=True)
    filed = client.post(f"/contracts/{contract.id}/reports/new", data={
        "period": period, f"kpi_{availability.id}": "98.6", f"kpi_{response_time.id}": "1.5"}, follow_redirects=True)
    body = filed.get_data(as_text=True)
    assert filed.status_code == 200 and "HK$40,000.00" in body and "Missed" in body
    assert f"Your report for March {contract.starts_on.year} was filed." in body
    # the target reads as one phrase, its number and unit on one line (not "At least the target: 99.5 %")
    assert "At least 99.5\u00a0%" in body and "At most 2\u00a0s" in body and "98.6&nbsp;%" in body
    # the same period again: no longer offered, and refused at the field if sent anyway
    again = client.post(f"/contracts/{contract.id}/reports/new", data={
        "period": period, f"kpi_{availability.id}": "99.9", f"kpi_{response_time.id}": "1.5"})
    assert again.status_code == 400 and 'id="period-error"' in again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(KpiReport.id))) == 1


def test_the_kpi_chart_is_an_svg_with_a_data_table_beside_it(app, login):
    contract = create_contract(state="active")
    user = _vendor_user(contract)
    availability, _rt = contract.kpis
    for month, value in ((1, "99.9"), (2, "98.0")):
        cops.file_kpi_report(contract, actor=user, period_start=date(contract.starts_on.year, month, 1),
                             figures={availability.id: D(value)})
    db.session.commit()
    client = login(user)
    chart = client.get(f"/contracts/{contract.id}/kpis/{availability.id}/chart.svg")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml" and b"<svg" in chart.data
    assert b"<script" not in chart.data and "default-src 'none'" in chart.headers["Content-Security-Policy"]
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "chart.svg" in page and f"February {contract.starts_on.year}" in page and "HK$60,000.00" in page
    # on a phone the chart scrolls inside its own box (site.css .chart-scroll) at a readable size
    assert re.search(r'<div class="chart-scroll"[^>]*>\s*<img class="chart" src="[^"]+chart\.svg"', page, re.S)


def test_preview_then_issue_gives_a_signed_pdf_that_verifies_and_a_changed_byte_fails(app, login):
    contract = create_contract(state="draft")
    officer = _officer(contract)
    client = login(officer)
    preview = client.get(f"/contracts/{contract.id}/preview?language=zh_Hant")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF") and b"/ByteRange" not in preview.data
    assert client.post(f"/contracts/{contract.id}/issue", data={"language": "en"}).status_code == 302
    version = contract.current_version
    assert wait_for(lambda: version.document is not None and version.document.status == DocumentStatus.ready)
    doc = version.document
    pdf = read_verified(doc)
    assert b"/ByteRange" in pdf  # signed
    public = app.test_client()
    ok = public.post("/contracts/verify", data={"file": (io.BytesIO(pdf), "contract.pdf")},
                     content_type="multipart/form-data")
    assert "This is the signed original of" in ok.get_data(as_text=True)
    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x01
    bad = public.post("/contracts/verify", data={"file": (io.BytesIO(bytes(changed)), "contract.pdf")},
                      content_type="multipart/form-data")
    assert "This file is not a signed original we issued" in bad.get_data(as_text=True)
    by_reference = public.get(f"/contracts/verify?reference={version.reference}").get_data(as_text=True)
    assert "is on record" in by_reference and doc.sha256 in by_reference and version.content_sha256 in by_reference
    assert "No issued contract" in public.get("/contracts/verify?reference=PPP/XX/1999/99").get_data(as_text=True)


def test_the_register_filters_and_totals_against_the_programme(app, login):
    contract = create_contract(state="active")
    approver = create_staff(Role.approver)
    client = login(approver)
    page = client.get("/contracts/").get_data(as_text=True)
    assert contract.reference in page and "HK$170,800,000.00" in page and "HK$72,000,000.00" in page
    assert "HK$50,700,000.00" in page  # 48M + 1.8M + 0.9M committed
    filtered = client.get("/contracts/?state=terminated").get_data(as_text=True)
    assert contract.reference not in filtered and "No contract matches." in filtered
    by_vendor = client.get(f"/contracts/?vendor={contract.vendor.name_en[:8]}").get_data(as_text=True)
    assert contract.reference in by_vendor
    assert client.get("/contracts/?state=nonsense").status_code == 200  # an invalid filter is dropped
    assert "New contract" not in page  # approvers read the register; officers create


def test_verify_page_is_for_any_document_and_asks_for_the_file_first_then_or_a_reference(app):
    page = app.test_client().get("/contracts/verify").get_data(as_text=True)
    assert "<h1>Verify a document</h1>" in page  # letters and performance reports are checked here too
    file_label, reference_label = page.index("The PDF file you received"), page.index("Or the reference printed")
    assert file_label < reference_label


def test_a_variations_sum_is_shown_as_such_not_as_a_rate_of_zero(app, login):
    contract = create_contract(state="active")
    client = login(_officer(contract))
    response = client.post(f"/contracts/{contract.id}/vary", data={
        "reason": "Add the payment gateway", "extra_committed": "3200000", "description_en": "Gateway",
        "description_zh": "閘道"})
    assert response.status_code == 302
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    row = re.search(r"<tr><th scope=\"row\">Gateway</th>(.*?)</tr>", page).group(1)
    assert "Sum added in version 2" in row and "<td>—</td>" in row and "HK$3,200,000.00" in row
    own = re.search(r"<tr><th scope=\"row\">Annual service fee</th>(.*?)</tr>", page).group(1)
    assert "Sum added" not in own and "<td>—</td>" not in own  # the contract's own fees keep their kind and rate
