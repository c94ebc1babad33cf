"""The annual performance report: each KPI's target against the figures of a contract year, met/missed, service
credits, trend flags, charts with data tables and the reports' review status, as a signed PDF in English or
Chinese that the officer requests and whoever sees the contract downloads (another company gets 404)."""
from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from app.auth.models import Role, User
from app.documents.models import DocumentStatus
from app.documents.service import read_verified
from app.documents.signing import check_signature
from app.extensions import db
from contracts import operations as cops
from contracts.models import PerformanceReport
from contracts.operations import ContractRefused
from contracts.performance import annual_performance
from contracts.rules import contract_year, contract_years
from tests.factories import create_contract, create_staff, create_vendor_user, wait_for


def _vendor_user(contract) -> User:
    return db.session.scalar(sa.select(User).where(User.vendor_id == contract.vendor_id))


def _officer(contract) -> User:
    return db.session.get(User, contract.created_by_id)


def _year_of_reports(contract):
    """Year 1: January met; February, March and April missed (three in a row); March's quarterly response time
    missed too. Year 2's January (missed) must stay out of year 1's report."""
    officer, user = _officer(contract), _vendor_user(contract)
    availability, response_time = contract.kpis
    y = contract.starts_on.year
    reports = []
    for month, avail, resp in ((1, "99.6", None), (2, "98.6", None), (3, "99.0", "2.6"), (4, "98.0", None)):
        figures = {availability.id: D(avail)} | ({response_time.id: D(resp)} if resp else {})
        reports.append(cops.file_kpi_report(contract, actor=user, period_start=date(y, month, 1), figures=figures))
    cops.file_kpi_report(contract, actor=user, period_start=date(y + 1, 1, 1), figures={availability.id: D("97")})
    cops.accept_kpi_report(reports[0], actor=officer)
    cops.query_kpi_report(reports[1], actor=officer, note="Check the outage log of 12 February.")
    db.session.commit()
    return reports


def _pdf_text(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def test_contract_years_follow_the_start_date():
    assert contract_year(date(2008, 1, 1), 1) == (date(2008, 1, 1), date(2009, 1, 1))
    assert contract_year(date(2008, 2, 29), 2) == (date(2009, 2, 28), date(2010, 2, 28))
    assert contract_years(date(2008, 1, 1), date(2011, 12, 31), date(2009, 6, 1)) == [1, 2]
    assert contract_years(date(2008, 1, 1), date(2011, 12, 31), date(2030, 1, 1)) == [1, 2, 3, 4]


def test_the_year_s_figures_credits_flags_and_statuses(app):
    contract = create_contract(state="active")
    _year_of_reports(contract)
    year = annual_performance(contract, 1, today=date(contract.starts_on.year + 1, 6, 1))
    availability, response_time = year.kpis
    assert [r.value for _p, r in availability.history.points] == [D("99.6"), D("98.6"), D("99.0"), D("98.0")]
    assert (availability.met, availability.misses, availability.credits) == (1, 3, D("120000.00"))
    assert availability.flags.repeated_misses and not response_time.flags.flagged
    assert (response_time.misses, response_time.credits) == (1, D("20000.00"))
    assert year.total_credit == D("140000.00")
    assert (len(year.periods_due), len(year.missing_periods)) == (12, 8)
    assert [year.count(s) for s in ("accepted", "queried", "submitted")] == [1, 1, 2]


@pytest.mark.parametrize("language, expect", [
    ("en", ["Annual performance report", "Year 1", "Availability", "99.5", "98.6", "Missed", "HK$140,000.00",
            "HK$120,000.00", "Missed three periods in a row", "Accepted", "Queried by the officer",
            "4 of 12 monthly reports filed: 1 accepted, 1 queried, 2 awaiting review"]),
    ("zh_Hant", ["系統可用率", "平均回應時間", "HK$140,000.00", "已接受"]),
])
def test_the_report_pdf_says_it_all_signed_in_the_chosen_language(app, language, expect):
    contract = create_contract(state="active")
    _year_of_reports(contract)
    report = cops.request_performance_report(contract, actor=_officer(contract), year=1, language=language)
    db.session.commit()
    assert wait_for(lambda: db.session.get(PerformanceReport, report.id).ready), report.document.failure_reason
    data = read_verified(db.session.get(PerformanceReport, report.id).document)
    assert check_signature(data).is_signed_original
    text = _pdf_text(data)
    for phrase in expect:
        assert phrase in " ".join(text.split()), phrase
    assert "97" not in [w for line in text.splitlines() for w in line.split()]  # year 2's January stays out
    if language == "en":  # the charts are drawn in the PDF (pygal's SVG as an image): their legend is text in it
        assert "Reported" in text and "Availability (%)" in text


def test_refusals_a_draft_contract_and_a_year_not_begun(app):
    draft = create_contract(state="draft")
    with pytest.raises(ContractRefused, match="signed contract"):
        cops.request_performance_report(draft, actor=_officer(draft), year=1)
    active = create_contract(state="active")
    with pytest.raises(ContractRefused, match="has begun") as refused:
        cops.request_performance_report(active, actor=_officer(active), year=3)
    assert refused.value.field == "year"
    with pytest.raises(ContractRefused):
        cops.request_performance_report(active, actor=_vendor_user(active), year=1)


def test_who_requests_and_who_downloads(app, login):
    contract = create_contract(state="active")
    _year_of_reports(contract)
    officer, contractor = _officer(contract), _vendor_user(contract)
    other_vendor, approver = create_vendor_user(), create_staff(Role.approver)
    url = f"/contracts/{contract.id}/performance-reports"
    for user in (contractor, other_vendor, approver):
        assert login(user).post(url, data={"year": "1", "language": "en"}).status_code in (403, 404), user.role
    assert db.session.scalar(sa.select(sa.func.count(PerformanceReport.id))) == 0
    bad = login(officer).post(url, data={"year": "9", "language": "en"})
    assert bad.status_code == 400 and 'id="year-error"' in bad.get_data(as_text=True)
    page = login(officer).post(url, data={"year": "1", "language": "en"}, follow_redirects=True)
    assert page.status_code == 200 and "The performance report for year 1 is being prepared." in page.get_data(
        as_text=True)
    report = db.session.scalar(sa.select(PerformanceReport))
    assert wait_for(lambda: db.session.get(PerformanceReport, report.id).ready)
    pdf_url = f"/contracts/performance-reports/{report.id}.pdf"
    for user, status in ((officer, 200), (approver, 200), (contractor, 200), (other_vendor, 404)):
        response = login(user).get(pdf_url)
        assert response.status_code == status, (user.role, response.status_code)
        if status == 200:
            assert response.data.startswith(b"%PDF") and "performance_year1_en.pdf" in response.headers[
                "Content-Disposition"]
    assert app.test_client().get(pdf_url).status_code == 302  # to the sign-in page
    assert login(other_vendor).get(f"/contracts/performance-reports/{report.id + 99}.pdf").status_code == 404
    # the link is named by its year and language (a year's report may exist in both languages)
    assert 'Download the PDF<span class="visually-hidden"> Year 1, English</span>' in login(contractor).get(
        f"/contracts/{contract.id}").get_data(as_text=True)
    assert "Prepare the performance report" not in login(contractor).get(
        f"/contracts/{contract.id}").get_data(as_text=True)


def test_the_form_offers_the_year_of_the_latest_report(app):
    from contracts.queries import last_reported_year
    contract = create_contract(state="active")
    assert last_reported_year(contract) is None
    _year_of_reports(contract)  # year 2's January is the latest
    assert last_reported_year(contract) == 2


def test_the_issued_report_is_verified_on_the_public_page_by_file_and_by_reference(app):
    """The report PDF is stored with its SHA-256 and signed: its file is the signed original on the verification
    page, one changed byte fails, and its reference is found with the stored hash."""
    import io
    contract = create_contract(state="active")
    _year_of_reports(contract)
    report = cops.request_performance_report(contract, actor=_officer(contract), year=1)
    db.session.commit()
    assert wait_for(lambda: db.session.get(PerformanceReport, report.id).ready), report.document.failure_reason
    report = db.session.get(PerformanceReport, report.id)
    pdf = read_verified(report.document)
    assert "Verify at http://localhost/contracts/verify" in " ".join(_pdf_text(pdf).split())
    public = app.test_client()

    def check(data: bytes) -> str:
        return public.post("/contracts/verify", data={"file": (io.BytesIO(data), "report.pdf")},
                           content_type="multipart/form-data").get_data(as_text=True)

    page = check(pdf)
    assert f"This is the signed original of {report.reference}." in page and report.document.sha256 in page
    assert "Annual performance report" in page and contract.reference in page
    changed = bytearray(pdf)
    changed[len(pdf) // 3] ^= 0x01
    page = check(bytes(changed))
    assert "This file is not a signed original we issued" in page and "signed original of" not in page
    found = public.get(f"/contracts/verify?reference={report.reference}").get_data(as_text=True)
    assert f"{report.reference} is on record." in found and report.document.sha256 in found
    missing = public.get(f"/contracts/verify?reference={contract.reference}/PR7").get_data(as_text=True)
    assert "No issued contract, letter or report has this reference." in missing
