"""Letters in Chromium: the decision's approval issues an exercise's letters; the officer watches the progress bar fill (the page
reloads itself, no script needed); a vendor whose users chose Traditional Chinese downloads its regret letter with
its debrief in Chinese on a phone-sized screen; the public page shows the shortlist; axe-core finds nothing serious."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.conftest import sign_in
from tests.browser.test_contract_journeys import _axe_clean, _no_sideways_scroll
from tests.contracts.test_letters import _scored, approve_shortlist

SHOTS = os.environ.get("LETTERS_SCREENSHOTS")  # a directory: keep screenshots of the pages to look at


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_officer_issues_letters_and_a_vendor_downloads_its_regret_letter_in_chinese(app, new_page):
    exercise, subs, officer = _scored(chinese=2)
    exercise_id, reference = exercise.id, exercise.reference
    officer_email, vendor_email = officer.email, subs[2].vendor.users[0].email
    shortlisted = [s.vendor.name_zh for s in subs[:2]]
    approve_shortlist(exercise, officer)  # the approval issues the letters

    page = new_page(bypass_csp=True, viewport={"width": 1280, "height": 800})
    sign_in(page, officer_email)
    page.goto(f"/manage/exercises/{exercise_id}")
    page.get_by_role("link", name="Letters to the vendors: award, shortlist and regret").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.get_by_text("3 of 3 letters ready")).to_be_visible(timeout=240_000)  # by reloading itself
    _axe_clean(page)
    _shot(page, "officer-progress-1280")

    phone = new_page(bypass_csp=True, viewport={"width": 390, "height": 844})  # its saved language: Chinese
    sign_in(phone, vendor_email)
    phone.goto("/contracts/letters")
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的信件")
    _no_sideways_scroll(phone)
    _axe_clean(phone)
    _shot(phone, "vendor-letters-390-zh")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="下載 PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        text = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", handle.name, "-"], capture_output=True,
                                      text=True, check=True).stdout.split())
    assert "評分摘要" in text and "低於合格分數" in text and "成功分數" in text
    assert not any(name in text for name in shortlisted)

    public = new_page(viewport={"width": 390, "height": 844}, locale="zh-TW")
    public.goto(f"/exercises/{exercise_id}")
    notice = public.get_by_role("region", name="入圍公告")
    for name in shortlisted:
        expect(notice).to_contain_text(name)
    _no_sideways_scroll(public)
    _shot(public, "public-notice-390-zh")
