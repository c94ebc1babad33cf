"""EOI exercises in Chromium: a vendor's whole journey, a late attempt refused by the server clock,
and two officers opening the tender box.

Data is built through the real operations in the test thread, then the browser drives the live server.
After building, the test reads the ids it needs and rolls back (conftest.read): on SQLite an open
transaction would hold the write lock and block the server.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.db import now_utc, simulated_time
from app.extensions import db
from app.i18n import hk_datetime, hk_datetime_precise
from eoi import operations as ops
from eoi.models import (
    Clarification,
    Exercise,
    LateAttempt,
    Opening,
    Submission,
    SubmissionVersion,
)
from eoi.states import ExerciseState, SubmissionState
from tests.browser.conftest import read, sign_in
from tests.factories import (
    OPENING_PASSPHRASE, PASSWORD, SMALL_PDF, create_published_exercise, create_staff, create_submission, create_vendor_user,
    issue_test_addendum)

DOCUMENT_WAIT_S = 60  # a real Celery worker renders PDFs asynchronously


def _user(email: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == email))


def _wait_for_link(page, name: str, timeout: float = DOCUMENT_WAIT_S):
    """The link to a generated PDF; reload until it appears (bounded), as a user told "reload in a moment" would."""
    link = page.get_by_role("link", name=name)
    deadline = time.monotonic() + timeout
    while not link.count():
        if time.monotonic() > deadline:
            pytest.fail(f"no link {name!r} on {page.url} after {timeout} s")
        time.sleep(1)
        page.reload()
    return link.first


def _download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    download = info.value
    path = download.path()
    with open(path, "rb") as handle:
        return handle.read()


def _pdf_text(data: bytes, tmp_path) -> str | None:
    """The PDF's text by pdftotext, or None when the tool is missing (allowed only outside CI)."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing (install poppler-utils): CI must check the PDF's text")
        return None
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True,
                          timeout=30).stdout


def _hk(app, moment, fmt: str = "minutes") -> str:
    """A time as the English pages show it (hk_datetime; "seconds" where a second matters, as in a late refusal)."""
    with app.test_request_context():
        return hk_datetime(moment, fmt)


# --- 1. the vendor's journey ----------------------------------------------------------------------------

def test_vendor_finds_asks_acknowledges_submits_withdraws_and_resubmits(app, new_page, tmp_path):
    vendor_email = "bidder@journey.example"
    create_vendor_user(email=vendor_email, name_en="Journey Systems Limited")
    create_published_exercise(reference="OSP-EOI-JOURNEY", title_en="Operation of the citizen portal journey cluster",
                              sections=2, word_limit=50)
    create_published_exercise(reference="OSP-EOI-OTHER", title_en="Unrelated exercise")  # the search must leave it out
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.reference == "OSP-EOI-JOURNEY"))
    issue_test_addendum(exercise)  # an officer issues addendum no. 1 before the vendor arrives
    exercise_id = read(lambda: db.session.scalar(sa.select(Exercise.id).where(Exercise.reference == "OSP-EOI-JOURNEY")))

    page = new_page()
    sign_in(page, vendor_email)

    # Find it with the search box.
    page.goto("/exercises")
    search = page.get_by_role("search", name="Find exercises")
    search.get_by_label("Search", exact=True).fill("journey")
    search.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 exercise found")).to_be_visible()
    expect(page.get_by_role("link", name="Unrelated exercise")).to_have_count(0)
    page.get_by_role("link", name="Operation of the citizen portal journey cluster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operation of the citizen portal journey cluster")
    assert page.url.endswith(f"/exercises/{exercise_id}")

    # Ask a clarification question.
    question = "May the operator subcontract the call centre?"
    page.get_by_label("Your question").fill(question)
    page.get_by_role("button", name="Send question").click()
    expect(page.get_by_role("status").filter(has_text="Your question was sent")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=question)).to_contain_text("awaiting an answer")
    assert read(lambda: db.session.scalar(sa.select(Clarification.question).where(
        Clarification.exercise_id == exercise_id))) == question

    # Acknowledge the addendum.
    expect(page.get_by_role("alert")).to_contain_text("has not acknowledged 1 addendum")
    page.get_by_role("button", name="Acknowledge addendum no. 1").click()
    expect(page.get_by_role("status").filter(has_text="Addendum no. 1 acknowledged.")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge addendum no. 1")).to_have_count(0)

    # Open the proposal and type the answers: the word counters follow as the vendor types.
    page.get_by_role("button", name="Start your proposal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your proposal")
    first = page.get_by_label("Your answer to section 1")
    second = page.get_by_label("Your answer to section 2")
    expect(first).to_have_accessible_description(re.compile(r"\b0 of 50 words"))
    first.press_sequentially("We run it")
    expect(first).to_have_accessible_description(re.compile(r"\b3 of 50 words"))
    first.press_sequentially(" from a certified data centre.")
    expect(first).to_have_accessible_description(re.compile(r"\b8 of 50 words"))
    second.fill("word " * 51)
    expect(second).to_have_accessible_description(re.compile(r"\b51 of 50 words: over the limit"))
    second.fill("Staffing follows addendum no. 1.")
    expect(second).to_have_accessible_description(re.compile(r"\b5 of 50 words"))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Your draft was saved.")).to_be_visible()
    expect(page.get_by_label("Your answer to section 1")).to_have_value("We run it from a certified data centre.")

    # Upload an attachment to section 1 and see its receipt line.
    upload = page.get_by_label("Add a file: 1. Section 1 approach")
    upload.set_input_files({"name": "method-statement.pdf", "mimeType": "application/pdf", "buffer": SMALL_PDF})
    page.get_by_role("button", name=re.compile(r"^Upload\W+1\. Section 1 approach")).click()
    sha = hashlib.sha256(SMALL_PDF).hexdigest()
    expect(page.get_by_role("status").filter(has_text="Received method-statement.pdf")).to_contain_text(sha)
    row = page.get_by_role("table", name="Files received for: 1. Section 1 approach").get_by_role(
        "row", name=re.compile("method-statement.pdf"))
    expect(row).to_contain_text(sha)

    # Submit: the receipt page with the receipt number.
    expect(page.get_by_text("Your proposal is complete.")).to_be_visible()
    page.get_by_role("button", name="Submit proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for your proposal")
    first_receipt = read(lambda: db.session.scalar(
        sa.select(SubmissionVersion.receipt_number).join(Submission, SubmissionVersion.submission_id == Submission.id)
        .where(Submission.exercise_id == exercise_id, SubmissionVersion.number == 1)))
    assert re.fullmatch(r"OSP-EOI-JOURNEY-R\d{4}-01", first_receipt or ""), first_receipt
    expect(page.get_by_role("definition").filter(has_text=first_receipt)).to_be_visible()
    expect(page.get_by_role("table", name="Files received with this version")).to_contain_text(sha)

    # Download the receipt PDF (reload until a real worker has rendered it).
    receipt_pdf = _download(page, _wait_for_link(page, "Download the receipt (PDF)"))
    assert receipt_pdf.startswith(b"%PDF"), receipt_pdf[:20]

    # Withdraw, with a confirmation step.
    page.get_by_role("button", name="Withdraw proposal").click()
    expect(page.get_by_role("alert")).to_contain_text("Tick the box to confirm the withdrawal.")
    assert read(lambda: db.session.scalar(sa.select(Submission.state).where(
        Submission.exercise_id == exercise_id))) == SubmissionState.submitted
    page.get_by_label(re.compile("Yes, withdraw our proposal")).check()
    page.get_by_role("button", name="Withdraw proposal").click()
    expect(page.get_by_role("status").filter(has_text="Your proposal was withdrawn.")).to_be_visible()

    # Edit and submit again.
    page.get_by_label("Your answer to section 1").fill("We run it from two certified data centres.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").filter(has_text="Your draft was saved.")).to_be_visible()
    page.get_by_role("button", name="Submit proposal").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for your proposal")
    second_receipt = first_receipt[:-2] + "02"
    expect(page.get_by_role("definition").filter(has_text=second_receipt)).to_be_visible()

    # The version history: two versions, the latest current.
    history = page.get_by_role("table", name="Submitted versions")
    expect(history.get_by_role("row")).to_have_count(3)  # header + two versions
    expect(history.get_by_role("row", name=re.compile(second_receipt))).to_contain_text("Current")
    expect(history.get_by_role("row", name=re.compile(first_receipt))).to_contain_text("Withdrawn on")
    versions = read(lambda: db.session.execute(
        sa.select(SubmissionVersion.number, SubmissionVersion.withdrawn_at.is_(None), Submission.current_version_id
                  == SubmissionVersion.id)
        .join(Submission, SubmissionVersion.submission_id == Submission.id)
        .where(Submission.exercise_id == exercise_id).order_by(SubmissionVersion.number)).all())
    assert [tuple(v) for v in versions] == [(1, False, False), (2, True, True)]


# --- 2. a late attempt ----------------------------------------------------------------------------------

def test_submit_one_second_after_closing_is_refused_and_recorded(app, new_page):
    vendor_email = "late@journey.example"
    vendor = create_vendor_user(email=vendor_email)
    exercise = create_published_exercise(sections=1)
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    ops.save_draft(submission, actor=vendor, answers={s.id: "A complete answer." for s in exercise.sections})
    db.session.commit()
    exercise_id, submission_id = read(lambda: (exercise.id, submission.id))

    page = new_page()
    sign_in(page, vendor_email)

    # Closing a few seconds ahead, set on the row just before the vendor loads the complete draft.
    row = db.session.get(Exercise, exercise_id)
    row.clarification_deadline = now_utc() - timedelta(minutes=1)
    row.closes_at = now_utc() + timedelta(seconds=4)
    db.session.commit()
    closes_at = read(lambda: db.session.get(Exercise, exercise_id).closes_at)

    page.goto(f"/exercises/{exercise_id}/submission")
    expect(page.get_by_text("Your proposal is complete.")).to_be_visible()
    submit = page.get_by_role("button", name="Submit proposal")
    expect(submit).to_be_enabled()
    assert now_utc() < closes_at, "the page loaded after closing: the machine is too slow for this test"

    time.sleep(max(0.0, (closes_at - now_utc()).total_seconds()) + 1)  # 1 s after closing, by the stored time
    submit.click()

    refusal = page.get_by_role("alert").filter(has_text="Refused")
    expect(refusal).to_be_visible()
    attempts = read(lambda: [(a.action, a.received_at, a.closes_at) for a in db.session.scalars(
        sa.select(LateAttempt).where(LateAttempt.exercise_id == exercise_id))])
    assert len(attempts) == 1, attempts
    action, received_at, recorded_closes_at = attempts[0]
    assert action == "submit"
    assert recorded_closes_at == closes_at and received_at >= closes_at + timedelta(seconds=1)
    with app.test_request_context():
        received_shown = hk_datetime_precise(received_at)  # to the millisecond (issue 7)
        closes_shown = hk_datetime(closes_at, "seconds")
    expect(refusal).to_contain_text(f"Refused: received at {received_shown} (server time), "
                                    f"after the closing time of {closes_shown}.")
    state, versions = read(lambda: (db.session.get(Submission, submission_id).state, db.session.scalar(
        sa.select(sa.func.count(SubmissionVersion.id)).where(SubmissionVersion.submission_id == submission_id))))
    assert (state, versions) == (SubmissionState.draft, 0)
    expect(page.get_by_role("button", name="Submit proposal")).to_have_count(0)  # the page now shows it closed


# --- 3. two officers open the box -------------------------------------------------------------------------

def test_two_officers_open_the_box_and_the_record_lists_every_receipt(app, new_page, tmp_path):
    create_staff(Role.officer, email="first.officer@gov.example", name="First Officer")
    create_staff(Role.officer, email="second.officer@gov.example", name="Second Officer")
    # Published and submitted to yesterday, while open; its closing time passed a minute ago.
    with simulated_time(now_utc() - timedelta(days=1)):
        exercise = create_published_exercise(sections=1, reference="OSP-EOI-OPEN",
                                             closes_in=timedelta(days=1, minutes=-1))
        for n in (1, 2):
            create_submission(exercise, create_vendor_user(email=f"bidder{n}@opening.example"),
                              file_name=f"proposal-{n}.pdf", file_body=SMALL_PDF)
    exercise_id = read(lambda: exercise.id)
    receipts = read(lambda: db.session.scalars(
        sa.select(SubmissionVersion.receipt_number).join(Submission, SubmissionVersion.submission_id == Submission.id)
        .where(Submission.exercise_id == exercise_id)).all())
    assert len(receipts) == 2

    # Officer A starts the opening from the dashboard.
    first = new_page()
    sign_in(first, "first.officer@gov.example")
    first.goto("/manage/exercises")
    first.get_by_role("link", name="OSP-EOI-OPEN").click()
    first.get_by_role("link", name="Opening of the tender box").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Opening of the tender box")
    first.get_by_label("Your opening passphrase").fill(OPENING_PASSPHRASE)
    first.get_by_role("button", name="Start the opening").click()
    expect(first.get_by_role("status").filter(has_text="The opening is started.")).to_be_visible()
    expect(first.get_by_text("You started the opening. A different officer must sign in and confirm it.")).to_be_visible()
    expect(first.get_by_label("Your opening passphrase")).to_have_count(0)

    # Officer A cannot confirm its own opening, even by posting the form itself.
    token = first.locator("input[name=csrf_token]").first.get_attribute("value")
    response = first.request.post(f"/manage/exercises/{exercise_id}/opening/confirm",
                                  form={"csrf_token": token, "passphrase": OPENING_PASSPHRASE}, max_redirects=0)
    assert response.status == 302
    first.reload()
    expect(first.get_by_role("alert")).to_have_text("A second, different officer must confirm the opening.")
    assert read(lambda: db.session.get(Exercise, exercise_id).state) == ExerciseState.closed

    # Officer B, in its own browser context, confirms with its opening passphrase (a wrong one first).
    second = new_page()
    sign_in(second, "second.officer@gov.example")
    second.goto(f"/manage/exercises/{exercise_id}/opening")
    password = second.get_by_label("Your opening passphrase")
    password.fill("not my password")
    second.get_by_role("button", name="Confirm and open the box").click()
    expect(second.get_by_role("alert")).to_have_text("Your opening passphrase was not correct; the box stays sealed.")
    assert read(lambda: db.session.get(Exercise, exercise_id).state) == ExerciseState.closed
    second.get_by_label("Your opening passphrase").fill(OPENING_PASSPHRASE)
    second.get_by_role("button", name="Confirm and open the box").click()
    expect(second.get_by_role("status").filter(has_text="The tender box is opened.")).to_be_visible()
    opened = read(lambda: db.session.execute(sa.select(Exercise.state, Opening.started_by_id, Opening.confirmed_by_id)
                                             .join(Opening, Opening.exercise_id == Exercise.id)
                                             .where(Exercise.id == exercise_id)).one()._tuple())
    officers = read(lambda: [db.session.scalar(sa.select(User.id).where(User.email == email)) for email in
                             ("first.officer@gov.example", "second.officer@gov.example")])
    assert opened == (ExerciseState.opened, *officers)

    # The opening record PDF lists every receipt number.
    record_pdf = _download(second, _wait_for_link(second, "Download the opening record (PDF)"))
    assert record_pdf.startswith(b"%PDF"), record_pdf[:20]
    text = _pdf_text(record_pdf, tmp_path)
    if text is not None:
        flat = re.sub(r"\s+", "", text)  # a long receipt number may wrap in a table cell
        for receipt in receipts:
            assert receipt in flat, f"{receipt} is not in the opening record:\n{text}"


def test_an_upload_started_shortly_before_closing_says_it_must_complete_in_time(app, new_page, tmp_path):
    """Issue 7: while a file uploads minutes before closing, the vendor is told that the upload must complete before
    the closing time (the receipt time is when it completes). The test keeps the form from being sent, so the message
    can be read as it stands while a large file uploads; an upload started days before closing says nothing."""
    vendor_email = "rush@journey.example"
    vendor = create_vendor_user(email=vendor_email)
    soon = create_published_exercise(sections=1, closes_in=timedelta(minutes=5), reference="OSP-EOI-SOON")
    later = create_published_exercise(sections=1, closes_in=timedelta(days=3), reference="OSP-EOI-LATER")
    for exercise in (soon, later):
        ops.get_or_create_submission(exercise, actor=vendor)
    db.session.commit()
    ids = read(lambda: (soon.id, later.id))
    attachment = tmp_path / "proposal.pdf"
    attachment.write_bytes(SMALL_PDF)

    page = new_page()
    sign_in(page, vendor_email)

    for exercise_id, warned in zip(ids, (True, False)):
        page.goto(f"/exercises/{exercise_id}/submission")
        form = page.locator("form[data-upload-closes-at]").first
        form.evaluate("f => f.addEventListener('submit', e => e.preventDefault())")  # still "uploading"
        chooser = form.locator("input[type=file]").first  # the first section's file (one form for the page)
        chooser.set_input_files(str(attachment))
        form.get_by_role("button", name="Upload").first.click()
        status = form.locator(f'[data-upload-status="{chooser.get_attribute("id")}"]')
        if warned:
            expect(status).to_contain_text("The upload must complete before the closing time of")
        else:
            page.wait_for_timeout(500)
            assert status.text_content().strip() == ""
