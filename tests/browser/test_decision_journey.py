"""Decision journey in Chromium: the officer records the award from the panel's recommendation, the approver finds it
on its home and approves it, the unsuccessful company challenges it in Chinese on a phone-sized screen; axe-core finds
nothing serious and no page scrolls sideways."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.extensions import db
from contracts.models import Decision
from contracts.states import DecisionState
from eoi.states import ExerciseKind
from tests.browser.conftest import read, sign_in
from tests.browser.test_contract_journeys import _axe_clean, _no_sideways_scroll
from tests.contracts.test_decisions import _evaluated


def test_officer_records_approver_approves_vendor_challenges(app, new_page):
    world = _evaluated(ExerciseKind.tender)
    exercise_id, reference = world["exercise"].id, world["exercise"].reference
    officer_email, approver_email = world["officer"].email, world["approver"].email
    first = world["submissions"][0]
    loser_email = db.session.scalar(sa.select(User.email).where(User.vendor_id == first.vendor_id))
    db.session.rollback()

    page = new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
    sign_in(page, officer_email)
    page.goto(f"/contracts/decisions/new/{exercise_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record the decision")
    _axe_clean(page)
    page.get_by_label("Justification").fill("Highest technical score; it passes every mark.")
    page.get_by_role("button", name="Send for approval").click()
    expect(page.get_by_role("status").first).to_contain_text("sent for approval")

    approver = new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
    sign_in(approver, approver_email)
    approver.goto("/")
    queue = approver.get_by_role("region", name="Decisions awaiting your approval")
    queue.get_by_role("link", name=f"{reference} — Award").click()
    _axe_clean(approver)
    approver.get_by_role("button", name="Approve the decision").click()
    expect(approver.get_by_role("status").first).to_contain_text("The decision was approved")
    assert read(lambda: db.session.scalar(sa.select(Decision.state))) == DecisionState.approved

    phone = new_page(bypass_csp=True, viewport={"width": 390, "height": 844})
    sign_in(phone, loser_email)
    phone.goto("/language/zh_Hant")
    phone.goto("/contracts/decisions/mine")
    phone.get_by_role("link", name=reference).click()
    expect(phone.get_by_role("heading", name="質疑批出決定")).to_be_visible()
    _axe_clean(phone)
    _no_sideways_scroll(phone)
    phone.get_by_role("button", name="提出質疑").click()  # empty: refused at the field, in Chinese
    expect(phone.locator(".error").first).to_contain_text("此欄必須填寫")
    phone.get_by_label("你的質疑").fill("我們的方案符合所有服務水平。")
    phone.get_by_role("button", name="提出質疑").click()
    expect(phone.get_by_role("status").first).to_contain_text("你的質疑已提出")
    assert read(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(
        sa.table("decision_challenges")))) == 1
