"""Contract journeys in Chromium: the officer previews, issues (signed PDF) and starts a contract; the contractor
files a KPI report on a phone-sized screen and sees its service credit; axe-core finds nothing serious."""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.documents.signing import check_signature
from app.extensions import db
from contracts.models import Contract
from tests.browser.conftest import read, sign_in
from tests.factories import create_contract, create_staff, create_vendor_user

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


def _axe_clean(page) -> None:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run()")
    violations = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not violations, f"axe on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}" for v in violations)


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, f"{page.url} scrolls sideways: {widths}"


def test_officer_previews_issues_and_starts_then_the_contractor_files_a_report(app, new_page):
    officer = create_staff(Role.officer, email="officer@contracts.example")
    vendor_user = create_vendor_user(email="contractor@vendor.example")
    contract = create_contract(vendor_user, officer=officer, state="draft")
    contract_id, reference, year = contract.id, contract.reference, contract.starts_on.year
    db.session.rollback()

    page = new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})  # bypass_csp: axe is injected inline
    sign_in(page, "officer@contracts.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contracts").click()
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    _axe_clean(page)

    preview_href = page.get_by_role("link", name="Preview (English)").get_attribute("href")
    preview = page.request.get(preview_href)
    assert preview.ok and preview.headers["content-type"] == "application/pdf" and preview.body().startswith(b"%PDF")
    assert b"/ByteRange" not in preview.body()  # a preview is not signed

    page.get_by_label("Language of the contract").select_option("en")
    page.get_by_role("button", name="Issue version 1").click()
    expect(page.get_by_role("status").first).to_contain_text("Version 1 was issued")
    link = page.get_by_role("link", name=f"Download {reference}/v1")
    deadline = time.monotonic() + 60
    while not link.count():
        assert time.monotonic() < deadline, "the issued contract never became ready"
        time.sleep(1)
        page.reload()
    with page.expect_download() as info:
        link.click()
    pdf = Path(info.value.path()).read_bytes()
    assert check_signature(pdf).is_signed_original
    page.get_by_role("button", name="Record the signature of both parties").click()
    page.get_by_role("button", name="Start the service (activate)").click()
    expect(page.locator(".badge").first).to_have_text("Active")
    assert read(lambda: db.session.get(Contract, contract_id).state.value) == "active"

    phone = new_page(bypass_csp=True, viewport={"width": 390, "height": 800})
    sign_in(phone, "contractor@vendor.example")
    phone.goto("/contracts/mine")
    phone.get_by_role("link", name=reference).click()
    phone.get_by_role("link", name="File a KPI report").click()
    phone.get_by_label("Period (month)").select_option(f"{year}-03-01")
    phone.get_by_label("Availability (%)").fill("98,6")  # a malformed figure first
    phone.get_by_label("Average response time (s)").fill("1.5")
    phone.get_by_role("button", name="File the report").click()
    expect(phone.locator(".error-summary")).to_be_visible()
    _axe_clean(phone)
    phone.get_by_label("Availability (%)").fill("98.6")
    phone.get_by_role("button", name="File the report").click()
    expect(phone.locator("#credit-total")).to_have_text("Service credit for the period: HK$40,000.00")
    expect(phone.get_by_role("cell", name="Missed")).to_be_visible()
    _axe_clean(phone)
    _no_sideways_scroll(phone)

    phone.get_by_role("link", name=reference).click()
    expect(phone.get_by_role("img", name="Chart of Availability")).to_be_visible()
    _axe_clean(phone)
    _no_sideways_scroll(phone)
