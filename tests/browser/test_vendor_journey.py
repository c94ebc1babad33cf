"""A vendor's first visit in a real browser: register, verify by email, sign in, switch language, get the PDF."""
from __future__ import annotations

import hashlib
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import User
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from app.notifications import Notification
from tests.browser.conftest import read, sign_in
from tests.factories import PASSWORD

EMAIL = "ming@harbour.example"
REGISTRATION = {  # label -> value: filling by label proves every field is labelled
    "Company name (English)": "Harbour Digital Services Limited",
    "Company name (Chinese)": "海港數碼服務有限公司",
    "Business Registration number": "12345678",
    "Registered address": "18 Harbour Road, Wan Chai",
    "Contact person": "Wong Siu Ming",
    "Contact phone": "2123 4567",
    "Your name": "Wong Siu Ming",
    "Your email address": EMAIL,
    "Password": PASSWORD,
    "Repeat password": PASSWORD,
}
ZH_MO = Path(__file__).resolve().parents[2] / "app" / "translations" / "zh_Hant" / "LC_MESSAGES" / "messages.mo"


def test_vendor_registers_verifies_signs_in_switches_language_and_downloads_pdf(live_server, page):
    page.goto("/register")
    for label, value in REGISTRATION.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Check your email")

    link = read(lambda: db.session.scalar(sa.select(Notification.link).where(Notification.to_email == EMAIL)), timeout=30)
    assert link and link.startswith(f"{live_server}/verify/"), link
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("Your email address is verified")

    sign_in(page, EMAIL)
    page.get_by_role("button", name="繁體中文").click()  # signed in: a POSTed switch that saves the choice
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    page.goto("/account")  # the choice is remembered on the next page, and saved for the user
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.get_by_role("button", name="English")).to_be_visible()
    assert read(lambda: db.session.scalar(sa.select(User.locale).where(User.email == EMAIL))) == "zh_Hant"
    if ZH_MO.exists():
        expect(page.get_by_role("link", name="我的帳戶")).to_be_visible()

    # The confirmation PDF is rendered by a task: at once in the request, or soon by a real worker.
    download_link = page.locator("a[href^='/documents/']")
    for _ in range(60):
        if download_link.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as info:
        download_link.first.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    recorded = read(lambda: db.session.scalar(sa.select(Document.sha256).where(Document.status == DocumentStatus.ready)))
    assert hashlib.sha256(data).hexdigest() == recorded
    expect(page.locator(".hash")).to_contain_text(recorded[:12])


def test_keyboard_reaches_skip_link_first_and_focus_is_visible(page):
    page.goto("/login")
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to main content")
    expect(focused).to_have_attribute("href", "#main")
    assert focused.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    assert focused.evaluate("el => el.getBoundingClientRect().left") >= 0  # moved on screen when focused
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
