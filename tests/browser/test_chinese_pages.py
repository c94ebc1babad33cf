"""Chinese pages read in Chinese (issue 8 item 12): no sentence of the English catalogue on any zh-Hant page a vendor
meets on its way from the sign-in page to a receipt and back out, at phone width; and the language chosen before
signing in is kept at sign-in (and saved) and at sign-out (item 4)."""
from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
from babel.messages.pofile import read_po
from babel.support import Translations
from playwright.sync_api import expect

from app.auth.models import User
from app.extensions import db
from app.notifications import Notification
from eoi.models import Exercise, SubmissionVersion
from tests.browser.conftest import read
from tests.factories import PASSWORD, SMALL_PDF, create_published_exercise, create_vendor_user

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
import os  # noqa: E402
SHOTS = os.environ.get("TENDERBOX_SHOTS")  # set to a folder (Path) to keep a screenshot of every page, for looking at them


def zh(message: str) -> str:
    """The Chinese the page shows for an English catalogue message (the compiled catalogue)."""
    return Translations.load(str(TRANSLATIONS), ["zh_Hant"]).gettext(message)


def english_sentences() -> list[re.Pattern]:
    """Catalogue messages of two words or more that have a different Chinese translation, as whole-word patterns.
    Messages with placeholders are matched on their longest fixed part."""
    with (TRANSLATIONS / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f)
    patterns = set()
    for m in catalog:
        if not m.id or not isinstance(m.id, str) or not m.string or m.string == m.id:
            continue
        fixed = max(re.split(r"%\(\w+\)s|%%", m.id), key=len).strip(" .,:;—()")
        if len(fixed.split()) >= 2 and re.search(r"[a-z]{3}", fixed):
            patterns.add(fixed)
    return [re.compile(r"(?<![\w-])" + re.escape(p) + r"(?![\w-])") for p in sorted(patterns)]


def assert_reads_in_chinese(page, sentences, where: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    text = page.locator("body").inner_text()
    found = sorted({p.pattern for p in sentences if p.search(text)})
    assert not found, f"{where}: English on a zh-Hant page: {found[:8]}"
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"{re.sub(r'[^a-z0-9]+', '-', where)}.png"), full_page=True)


def test_a_vendor_journey_in_chinese_shows_no_english_catalogue_sentence(app, new_page):
    sentences = english_sentences()
    assert len(sentences) > 300  # the check has teeth
    email = "chan@lionrock.example"
    create_vendor_user(email=email, locale="en", name_en="Lion Rock Systems Limited")
    # A message keeps the language it was sent in: the English verification email of the factory is not this test's.
    db.session.execute(sa.delete(Notification).where(Notification.to_email == email))
    db.session.commit()
    create_published_exercise(reference="OSP-EOI-ZH", title_zh="公民入口網站營運", sections=2)
    exercise_id = read(lambda: db.session.scalar(sa.select(Exercise.id).where(Exercise.reference == "OSP-EOI-ZH")))

    page = new_page(viewport={"width": 390, "height": 844})
    page.goto("/login")
    page.get_by_role("link", name="繁體中文").click()  # chosen before signing in: the plain link
    assert_reads_in_chinese(page, sentences, "sign-in page")

    page.get_by_role("main").get_by_role("button", name=zh("Sign in")).click()  # nothing typed: the error summary
    assert_reads_in_chinese(page, sentences, "sign-in errors")
    page.get_by_label(zh("Email address"), exact=True).fill(email)
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=zh("Sign in")).click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
    assert_reads_in_chinese(page, sentences, "home after sign-in")  # the choice survived signing in
    assert read(lambda: db.session.scalar(sa.select(User.locale).where(User.email == email))) == "zh_Hant"

    page.goto("/exercises")
    assert_reads_in_chinese(page, sentences, "exercise list")
    page.goto(f"/exercises/{exercise_id}")
    assert_reads_in_chinese(page, sentences, "exercise page")
    page.get_by_role("button", name=zh("Start your proposal")).click()
    assert_reads_in_chinese(page, sentences, "proposal page")

    answers = page.locator("textarea")
    answers.nth(0).fill("我們以兩個認證數據中心營運。")
    answers.nth(1).fill("人手按補編安排。")
    page.get_by_role("button", name=zh("Save draft")).first.click()
    assert_reads_in_chinese(page, sentences, "draft saved")
    page.locator("input[type=file]").first.set_input_files(  # the first section's file (one form for the page)
        {"name": "method.pdf", "mimeType": "application/pdf", "buffer": SMALL_PDF})
    page.get_by_role("button", name=zh("Upload")).first.click()
    assert_reads_in_chinese(page, sentences, "file uploaded")
    page.get_by_role("button", name=zh("Submit proposal")).click()
    assert_reads_in_chinese(page, sentences, "receipt")
    assert read(lambda: db.session.scalar(sa.select(sa.func.count(SubmissionVersion.id)))) == 1

    page.goto("/notifications")  # the acknowledgement, in Chinese
    expect(page.get_by_role("heading", name=re.compile("已收到建議書"))).to_be_visible()
    assert_reads_in_chinese(page, sentences, "notifications")
    page.goto("/account")
    assert_reads_in_chinese(page, sentences, "account")

    page.get_by_role("button", name=zh("Sign out")).click()
    assert_reads_in_chinese(page, sentences, "signed out")  # the language survived signing out


def _sign_in_chinese(page, email: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="繁體中文").click()
    page.get_by_label(zh("Email address"), exact=True).fill(email)
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=zh("Sign in")).click()
    page.wait_for_url(lambda url: not url.endswith("/login"))


def test_staff_pages_in_chinese_show_no_english_catalogue_sentence(app, new_page):
    """Officer and administrator pages at desktop width, including strings from code: states, kinds, audit action
    codes and object types as labels, late actions, the error summary."""
    from app.auth.models import Role
    from tests.factories import create_staff, issue_test_addendum
    sentences = english_sentences()
    officer = create_staff(Role.officer, email="officer.zh@tenderbox.example")
    admin = create_staff(Role.admin, email="admin.zh@tenderbox.example")
    exercise = create_published_exercise(reference="OSP-EOI-STAFF", officer=officer, price_items=1)
    issue_test_addendum(exercise)
    officer_email, admin_email = officer.email, admin.email
    exercise_id = read(lambda: db.session.scalar(sa.select(Exercise.id).where(Exercise.reference == "OSP-EOI-STAFF")))

    page = new_page(viewport={"width": 1280, "height": 900})
    _sign_in_chinese(page, officer_email)
    for where, url in [("officer exercises", "/manage/exercises"),
                       ("officer exercise", f"/manage/exercises/{exercise_id}"),
                       ("officer clarifications", f"/manage/exercises/{exercise_id}/clarifications"),
                       ("officer opening", f"/manage/exercises/{exercise_id}/opening"),
                       ("officer new exercise", "/manage/exercises/new"),
                       ("officer criteria", f"/scoring/exercises/{exercise_id}/criteria")]:
        page.goto(url)
        assert_reads_in_chinese(page, sentences, where)
    page.goto("/manage/exercises/new")
    page.get_by_role("main").locator("button[type=submit]").last.click()  # nothing typed: the error summary
    assert_reads_in_chinese(page, sentences, "officer form errors")

    admin_page = new_page(viewport={"width": 1280, "height": 900})
    _sign_in_chinese(admin_page, admin_email)
    for where, url in [("admin users", "/admin/users"), ("admin audit", "/admin/audit")]:
        admin_page.goto(url)
        assert_reads_in_chinese(admin_page, sentences, where)
    expect(admin_page.locator("table.audit")).to_contain_text("已公布")  # "Exercise published" as a label
