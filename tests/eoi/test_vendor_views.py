"""Vendor pages through HTTP: questions, addenda, drafting, uploads, prices, submit, receipt, withdraw, late refusal."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_datetime
from freezegun import freeze_time

from app.documents.models import Document, DocumentStatus
from app.extensions import db
from app.notifications import Notification
from eoi.models import (Acknowledgement, Clarification, ClusterSubscription, InterestRegistration,
                        PriceLine, Submission, SubmissionFile, SubmissionVersion)
from eoi.states import ExerciseKind, SubmissionState
from tests.factories import (
    HTML_BYTES, PNG_BYTES, SMALL_PDF, clusters, create_colleague, create_published_exercise,
    create_vendor_user, issue_test_addendum, wait_for)

HK = ZoneInfo("Asia/Hong_Kong")


@pytest.fixture
def vendor():
    return create_vendor_user()


def _url(exercise, tail: str = "") -> str:
    return f"/exercises/{exercise.id}/submission{tail}"


def _start(client, exercise):
    """What the "Start your proposal" button does (a visit alone creates nothing)."""
    return client.post(_url(exercise, "/start"))


def _submission(exercise, user) -> Submission | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                         Submission.vendor_id == user.vendor_id))


def _save(client, exercise, user, answers: dict | None = None, *, version: int | None = None, **extra):
    """POST the draft form as the page would (answers by section position)."""
    if version is None:
        _start(client, exercise)
        version = _submission(exercise, user).draft_version
    data = {"draft_version": str(version), **extra}
    for section in exercise.sections:
        data[f"answer_{section.id}"] = (answers or {}).get(section.position, f"Our answer to {section.position}.")
    return client.post(_url(exercise), data=data)


def _submit(client, exercise, user, **kwargs):
    return client.post(_url(exercise, "/submit"), data={"draft_version": str(_submission(exercise, user).draft_version)},
                       **kwargs)


def _upload(client, exercise, data: bytes, name: str, section=None, **kwargs):
    form = {"file": (io.BytesIO(data), name)}
    if section is not None:
        form["section_id"] = str(section.id)
    return client.post(_url(exercise, "/files"), data=form, content_type="multipart/form-data", **kwargs)


def _hk(moment, fmt: str = "minutes") -> str:
    """As the app shows a moment (app.i18n.hk_datetime), in English: "22 Dec 2026, 21:03"."""
    return format_datetime(moment, {"minutes": "d MMM y, HH:mm", "seconds": "d MMMM y, HH:mm:ss"}[fmt], tzinfo=HK, locale="en")


# --- questions, interest, addenda ----------------------------------------------------------------------------

def test_vendor_asks_a_question(login, vendor):
    exercise = create_published_exercise()
    response = login(vendor).post(f"/exercises/{exercise.id}/clarifications", data={"question": "Is a licence needed?"})
    assert response.status_code == 302
    item = db.session.scalar(sa.select(Clarification))
    assert item.vendor_id == vendor.vendor_id and item.question == "Is a licence needed?"


def test_question_after_the_clarification_deadline_is_refused_with_a_message(login, vendor):
    exercise = create_published_exercise(closes_in=timedelta(hours=4), questions_until=timedelta(hours=1))
    client = login(vendor)
    with freeze_time(exercise.clarification_deadline + timedelta(seconds=1)):
        response = client.post(f"/exercises/{exercise.id}/clarifications", data={"question": "Too late?"})
    assert response.status_code == 400
    assert "The clarification deadline has passed" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Clarification.id))) == 0


def test_empty_question_shows_the_error_at_the_field(login, vendor):
    exercise = create_published_exercise()
    page = login(vendor).post(f"/exercises/{exercise.id}/clarifications", data={"question": ""})
    assert page.status_code == 400
    assert 'id="question-error"' in page.get_data(as_text=True)


def test_vendor_registers_interest_once(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    client.post(f"/exercises/{exercise.id}/interest")
    client.post(f"/exercises/{exercise.id}/interest")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InterestRegistration)) == 1
    assert "has registered interest" in client.get(f"/exercises/{exercise.id}").get_data(as_text=True)


def test_submit_is_refused_until_the_addendum_is_acknowledged(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _save(client, exercise, vendor)
    issue_test_addendum(exercise)
    page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "Acknowledge addendum no. 1" in page

    refused = _submit(client, exercise, vendor, follow_redirects=True).get_data(as_text=True)
    assert "Acknowledge addendum no. 1 before submitting" in refused
    assert _submission(exercise, vendor).state == SubmissionState.draft

    addendum = exercise.addenda[0]
    client.post(f"/exercises/{exercise.id}/addenda/{addendum.id}/acknowledge")
    assert db.session.get(Acknowledgement, (addendum.id, vendor.vendor_id)) is not None
    assert _submit(client, exercise, vendor).status_code == 302
    assert _submission(exercise, vendor).state == SubmissionState.submitted


def test_acknowledging_an_addendum_of_another_exercise_is_404(login, vendor):
    one, other = create_published_exercise(), create_published_exercise()
    issue_test_addendum(other)
    response = login(vendor).post(f"/exercises/{one.id}/addenda/{other.addenda[0].id}/acknowledge")
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Acknowledgement)) == 0


# --- drafting ------------------------------------------------------------------------------------------------

def test_draft_is_saved_and_script_in_an_answer_is_shown_escaped(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    assert _save(client, exercise, vendor, {1: "<script>alert(1)</script>"}).status_code == 302
    page = client.get(_url(exercise)).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_the_word_count_is_rendered_by_the_server(login, vendor):
    exercise = create_published_exercise(word_limit=3)
    client = login(vendor)
    _save(client, exercise, vendor, {1: "one two three four", 2: "服務組別"})
    page = client.get(_url(exercise)).get_data(as_text=True)
    assert "4 of 3 words: over the limit" in page
    assert "4 of 3 words" in page and "Section 1 approach" in page


def test_second_user_of_the_same_company_is_warned_that_its_save_replaced_a_colleagues(login, vendor):
    exercise = create_published_exercise()
    colleague = create_colleague(vendor)
    first, second = login(vendor), login(colleague)
    _start(first, exercise)
    opened_at = _submission(exercise, vendor).draft_version
    second.get(_url(exercise))
    _save(first, exercise, vendor, {1: "First user's text"}, version=opened_at)
    page = _save(second, exercise, colleague, {1: "Second user's text"}, version=opened_at).status_code
    assert page == 302
    shown = second.get(_url(exercise)).get_data(as_text=True)
    assert f"{vendor.name} saved changes after you opened this page; your save replaced them" in shown
    # and the first user, saving on top of its own save, is not warned
    again = _save(first, exercise, vendor, version=_submission(exercise, vendor).draft_version)
    assert "replaced them" not in first.get(_url(exercise)).get_data(as_text=True) and again.status_code == 302


def test_autosave_answers_json_and_the_page_keeps_working_without_it(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    version = _submission(exercise, vendor).draft_version
    response = _save(client, exercise, vendor, {1: "Autosaved text"}, version=version, autosave="1")
    assert response.status_code == 200 and response.is_json
    assert response.json["ok"] is True and response.json["draft_version"] == version + 1
    assert re.fullmatch(r"Saved at \d{1,2}:\d\d", response.json["message"]), response.json["message"]
    assert response.json["last_saved"].endswith(f" · {vendor.name}")
    assert "Autosaved text" in client.get(_url(exercise)).get_data(as_text=True)
    invalid = _save(client, exercise, vendor, {1: "x" * 200_001}, version=version + 1, autosave="1")
    assert invalid.status_code == 400 and invalid.json["ok"] is False and invalid.json["error"].startswith("Not saved:")


def test_a_vendor_not_invited_to_a_tender_cannot_start_a_proposal(login, vendor):
    invited = create_vendor_user()
    tender = create_published_exercise(kind=ExerciseKind.tender, invited=(invited,))
    assert login(vendor).get(_url(tender)).status_code == 404
    assert _submission(tender, vendor) is None
    assert login(invited).get(_url(tender)).status_code == 200


# --- uploads -------------------------------------------------------------------------------------------------

def test_a_real_pdf_is_accepted_and_acknowledged_with_its_receipt_line(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    section = exercise.sections[0]
    response = _upload(client, exercise, SMALL_PDF, "method statement.pdf", section, follow_redirects=True)
    page = response.get_data(as_text=True)
    digest = hashlib.sha256(SMALL_PDF).hexdigest()
    assert response.status_code == 200
    assert f"Received method statement.pdf: {len(SMALL_PDF)}\u00a0B, SHA-256 {digest}" in page
    item = db.session.scalar(sa.select(SubmissionFile))
    assert item.section_id == section.id and item.file.sha256 == digest
    download = client.get(_url(exercise, f"/files/{item.id}"))
    assert download.status_code == 200 and download.data == SMALL_PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("data, name, reason", [
    (PNG_BYTES, "report.pdf", "does not match its .pdf extension"),
    (HTML_BYTES, "report.pdf", "does not match its .pdf extension"),
    (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe", "Files of type .exe are not accepted"),
])
def test_uploads_with_the_wrong_content_or_type_are_refused_with_the_reason(login, vendor, data, name, reason):
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    response = _upload(client, exercise, data, name, exercise.sections[0])
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 0


def test_an_oversize_upload_is_refused(app, login, vendor):
    app.config["SUBMISSION_MAX_UPLOAD_BYTES"] = len(SMALL_PDF) - 1
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    response = _upload(client, exercise, SMALL_PDF, "big.pdf")
    assert response.status_code == 400
    assert "The file is larger than" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 0


def test_the_upload_limit_and_its_error_name_the_same_size(app, login, vendor):
    app.config["SUBMISSION_MAX_UPLOAD_BYTES"] = 1536  # 1.5 KB; the stated limit and the refusal must agree
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    page = client.get(_url(exercise, "")).get_data(as_text=True)
    assert "up to 1.5\u00a0KB each" in page
    response = _upload(client, exercise, SMALL_PDF + b"%" + b"x" * 2000 + b"\n", "big.pdf")
    assert "The file is larger than the 1.5\u00a0KB limit." in response.get_data(as_text=True)


def test_a_file_can_be_removed_while_drafting(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _start(client, exercise)
    _upload(client, exercise, SMALL_PDF, "a.pdf")
    item_id = db.session.scalar(sa.select(SubmissionFile.id))
    assert client.post(_url(exercise, f"/files/{item_id}/remove")).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 0


# --- prices ---------------------------------------------------------------------------------------------------

def test_prices_bad_amount_is_reported_at_the_field_and_good_ones_are_totalled(login, vendor):
    tender = create_published_exercise(kind=ExerciseKind.tender, invited=(vendor,), price_items=2)
    client = login(vendor)
    _start(client, tender)
    first, second = tender.price_items
    bad = client.post(_url(tender, "/prices"), data={f"price_{first.id}": "12.345", f"price_{second.id}": "abc"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert f'id="price_{first.id}-error"' in page and "Enter an amount in Hong Kong dollars" in page
    assert db.session.scalar(sa.select(sa.func.count(PriceLine.id))) == 0

    good = client.post(_url(tender, "/prices"), data={f"price_{first.id}": "1,000,000", f"price_{second.id}": "250000.50"})
    assert good.status_code == 302
    # line 1: 1 x 1,000,000; line 2: 2 x 250,000.50 -> 1,500,001.00
    assert "HK$1,500,001.00" in client.get(_url(tender)).get_data(as_text=True)


# --- submit, receipt, withdraw ----------------------------------------------------------------------------------

def _ready_to_submit(client, exercise, user):
    _save(client, exercise, user)
    _upload(client, exercise, SMALL_PDF, "proposal.pdf", exercise.sections[0])


def test_incomplete_proposal_is_refused_with_what_is_missing(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _save(client, exercise, vendor, {1: "", 2: "Only section two."})
    page = _submit(client, exercise, vendor, follow_redirects=True).get_data(as_text=True)
    assert "Section 1. Section 1 approach needs an answer." in page
    assert _submission(exercise, vendor).state == SubmissionState.draft


def test_submit_gives_a_receipt_with_files_hashes_and_a_downloadable_pdf(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    response = _submit(client, exercise, vendor)
    assert response.status_code == 302 and response.headers["Location"].endswith(_url(exercise, "/receipt"))

    page = client.get(_url(exercise, "/receipt")).get_data(as_text=True)
    version = db.session.scalar(sa.select(SubmissionVersion))
    assert version.receipt_number in page
    assert _hk(version.submitted_at, "seconds") in page  # the receipt's server time to the second
    assert hashlib.sha256(SMALL_PDF).hexdigest() in page and version.sha256 in page
    doc_id = version.receipt_document_id
    doc = wait_for(lambda: db.session.scalar(sa.select(Document).where(Document.id == doc_id,
                                                                      Document.status == DocumentStatus.ready)))
    assert doc is not None, "the receipt PDF was not rendered"
    page = client.get(_url(exercise, "/receipt")).get_data(as_text=True)
    assert f"/documents/{doc.id}" in page
    pdf = client.get(f"/documents/{doc.id}")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert login(create_vendor_user()).get(f"/documents/{doc.id}").status_code == 404


def test_receipt_page_says_being_prepared_until_the_pdf_is_ready(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    _submit(client, exercise, vendor)
    doc_id = db.session.scalar(sa.select(SubmissionVersion.receipt_document_id))
    # a real worker would otherwise finish its render after the reset below and mark it ready again
    assert wait_for(lambda: db.session.scalar(sa.select(Document).where(Document.id == doc_id,
                                                                       Document.status == DocumentStatus.ready)))
    db.session.execute(sa.update(Document).where(Document.id == doc_id)
                       .values(status=DocumentStatus.queued, sha256=None))  # as if its render were still waiting
    db.session.commit()
    doc = db.session.get(Document, doc_id)
    page = client.get(_url(exercise, "/receipt")).get_data(as_text=True)
    assert "Being prepared" in page and f"/documents/{doc.id}" not in page


def test_double_submit_returns_the_same_receipt_and_one_version(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    version = _submission(exercise, vendor).draft_version
    first = client.post(_url(exercise, "/submit"), data={"draft_version": str(version)})
    second = client.post(_url(exercise, "/submit"), data={"draft_version": str(version)})
    receipt = _url(exercise, "/receipt")
    assert first.headers["Location"].endswith(receipt) and second.headers["Location"].endswith(receipt)
    versions = db.session.scalars(sa.select(SubmissionVersion)).all()
    assert len(versions) == 1
    page = client.get(receipt).get_data(as_text=True)
    assert versions[0].receipt_number in page and "already submitted" not in page


def test_withdraw_needs_confirmation_then_resubmit_keeps_two_versions(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    _submit(client, exercise, vendor)

    unconfirmed = client.post(_url(exercise, "/withdraw"), data={}, follow_redirects=True)
    assert "Tick the box to confirm the withdrawal" in unconfirmed.get_data(as_text=True)
    assert _submission(exercise, vendor).state == SubmissionState.submitted

    assert client.post(_url(exercise, "/withdraw"), data={"confirm": "y"}).status_code == 302
    assert _submission(exercise, vendor).state == SubmissionState.withdrawn
    _save(client, exercise, vendor, {1: "Improved answer."})
    assert _submit(client, exercise, vendor).status_code == 302

    submission = _submission(exercise, vendor)
    first, second = submission.versions
    assert submission.state == SubmissionState.submitted and submission.current_version_id == second.id
    assert first.withdrawn_at is not None and second.withdrawn_at is None
    page = client.get(_url(exercise, "/receipt")).get_data(as_text=True)
    assert first.receipt_number in page and second.receipt_number in page and "Withdrawn on" in page


def test_reconfirm_after_an_addendum_that_changed_requirements(login, vendor):
    exercise = create_published_exercise()
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    _submit(client, exercise, vendor)
    issue_test_addendum(exercise, changes_requirements=True)
    page = client.get(_url(exercise)).get_data(as_text=True)
    assert "Re-confirm your proposal" in page
    client.post(f"/exercises/{exercise.id}/addenda/{exercise.addenda[0].id}/acknowledge")
    assert client.post(_url(exercise, "/reconfirm")).status_code == 302
    assert _submission(exercise, vendor).needs_reconfirmation is False


# --- subscriptions and notifications ----------------------------------------------------------------------------

def test_subscriptions_are_saved_and_shown(login, vendor):
    client = login(vendor)
    health = next(c for c in clusters() if c.code == "HEALTH")
    db.session.commit()
    assert client.post("/account/subscriptions", data={"clusters": [str(health.id)]}).status_code == 302
    assert db.session.scalars(sa.select(ClusterSubscription.cluster_id)).all() == [health.id]
    page = client.get("/account/subscriptions").get_data(as_text=True)
    checked = set(re.findall(r'<input checked id="clusters-\d+" name="clusters" type="checkbox" value="(\d+)"', page))
    assert checked == {str(health.id)}


def test_notifications_list_own_messages_newest_first_and_mark_read(login, vendor):
    client = login(vendor)
    someone_else = create_vendor_user()
    db.session.add_all([
        Notification(user_id=vendor.id, to_email=vendor.email, subject="Older message", body="one"),
        Notification(user_id=vendor.id, to_email=vendor.email, subject="Newer message", body="two"),
        Notification(user_id=someone_else.id, to_email=someone_else.email, subject="Not yours", body="three"),
    ])
    db.session.commit()
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("Newer message") < page.index("Older message") and "Not yours" not in page
    assert client.post("/notifications/read").status_code == 302
    unread = db.session.scalar(sa.select(sa.func.count(Notification.id)).where(
        Notification.user_id == vendor.id, Notification.read_at.is_(None)))
    assert unread == 0
    assert db.session.scalar(sa.select(Notification.read_at).where(Notification.subject == "Not yours")) is None


def test_visiting_the_proposal_page_creates_nothing(login, vendor):
    """A cross-site link can make a browser GET the page; only the POSTed start button creates a draft."""
    exercise = create_published_exercise()
    client = login(vendor)
    page = client.get(_url(exercise)).get_data(as_text=True)
    assert "Start your proposal" in page and _submission(exercise, vendor) is None
    assert _start(client, exercise).status_code == 302 and _submission(exercise, vendor) is not None


# --- one editing model: what is on screen is saved before the action (issue 8, item 1 and "Bad input") -------------

def _page_post(client, exercise, user, tail: str, answers: dict, **extra):
    """POST the whole proposal page (answers by section position) to one of its buttons' URLs."""
    data = {"draft_version": str(_submission(exercise, user).draft_version), **extra}
    for section in exercise.sections:
        data[f"answer_{section.id}"] = answers.get(section.position, f"Our answer to {section.position}.")
    return client.post(_url(exercise, tail), data=data, content_type="multipart/form-data")


def _answers(exercise, user) -> dict[int, str]:
    from eoi.sealed import content_for_system
    return {s.position: content_for_system(_submission(exercise, user), purpose="test").answers.get(s.id)
            for s in exercise.sections}


def test_submit_saves_the_answers_on_the_page_and_submits_them(login, vendor):
    exercise = create_published_exercise(sections=2)
    client = login(vendor)
    _save(client, exercise, vendor)
    response = _page_post(client, exercise, vendor, "/submit", {1: "Edited, never saved."})
    assert response.status_code == 302 and response.location.endswith("/submission/receipt")
    version = db.session.scalar(sa.select(SubmissionVersion))
    from eoi.sealed import manifest_for_system
    assert manifest_for_system(version, purpose="test")["answers"][str(exercise.sections[0].id)] == "Edited, never saved."


def test_resending_a_submitted_page_gives_the_same_receipt(login, vendor):
    exercise = create_published_exercise(sections=1)
    client = login(vendor)
    _save(client, exercise, vendor)
    data = {"draft_version": str(_submission(exercise, vendor).draft_version),
            f"answer_{exercise.sections[0].id}": "Changed and submitted."}
    first = client.post(_url(exercise, "/submit"), data=data)
    again = client.post(_url(exercise, "/submit"), data=data)  # a double click: the same page sent twice
    assert first.status_code == again.status_code == 302 and again.location.endswith("/submission/receipt")
    assert db.session.scalar(sa.select(sa.func.count(SubmissionVersion.id))) == 1


def test_a_refused_upload_saves_nothing_and_shows_the_typed_answers_with_the_problem_at_the_top(login, vendor):
    exercise = create_published_exercise(sections=2)
    client = login(vendor)
    _save(client, exercise, vendor, {1: "Saved."})
    version = _submission(exercise, vendor).draft_version
    response = _page_post(client, exercise, vendor, "/files", {1: "Typed, not saved <b>yet</b>."},
                          **{f"file-{exercise.sections[1].id}": (io.BytesIO(PNG_BYTES), "report.pdf")})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = page.index('class="error-summary"')
    assert summary < page.index('id="answers"')  # at the top
    assert f'href="#upload-{exercise.sections[1].id}"' in page[summary:]
    assert "File for section 2: The file&#39;s content does not match its .pdf extension." in page
    assert "Typed, not saved &lt;b&gt;yet&lt;/b&gt;." in page and 'data-unsaved="1"' in page
    assert _answers(exercise, vendor)[1] == "Saved." and _submission(exercise, vendor).draft_version == version
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 0


def test_an_upload_saves_the_typed_answers_with_the_file(login, vendor):
    exercise = create_published_exercise(sections=1)
    client = login(vendor)
    _save(client, exercise, vendor, {1: "Saved."})
    response = _page_post(client, exercise, vendor, "/files", {1: "Typed before the upload."}, at="files-general",
                          **{"file-general": (io.BytesIO(SMALL_PDF), "annex.pdf")})
    assert response.status_code == 302 and response.location.endswith("?at=files-general#message")
    assert _answers(exercise, vendor)[1] == "Typed before the upload."
    assert db.session.scalar(sa.select(sa.func.count(SubmissionFile.id))) == 1


def test_a_late_submit_refuses_saves_nothing_and_shows_what_was_typed(login, vendor):
    exercise = create_published_exercise(sections=1, closes_in=timedelta(hours=1))  # the session outlives it
    client = login(vendor)
    _save(client, exercise, vendor, {1: "Saved."})
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        response = _page_post(client, exercise, vendor, "/submit", {1: "Typed at the last second."})
    page = response.get_data(as_text=True)
    assert response.status_code == 409, response.location
    assert "Refused: received at" in page and "Typed at the last second." in page
    assert re.search(r'<textarea id="unsaved-\d+"[^>]*readonly', page)
    assert _answers(exercise, vendor)[1] == "Saved."
    assert db.session.scalar(sa.select(sa.func.count(SubmissionVersion.id))) == 0


def test_an_invalid_price_stops_the_submit_and_keeps_everything_typed(login, vendor):
    exercise = create_published_exercise(kind=ExerciseKind.tender, invited=(vendor,), price_items=1, sections=1)
    client = login(vendor)
    _save(client, exercise, vendor, {1: "Saved."})
    item = exercise.price_items[0]
    response = _page_post(client, exercise, vendor, "/submit", {1: "Typed."}, **{f"price_{item.id}": "12 dollars"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'href="#price_{item.id}"' in page and 'value="12 dollars"' in page and "Typed." in page
    assert _answers(exercise, vendor)[1] == "Saved."
    assert db.session.scalar(sa.select(sa.func.count(SubmissionVersion.id))) == 0
