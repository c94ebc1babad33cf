"""Officer pages through HTTP: set-up, publication checklist, clarifications, addenda (forced extension),
deadline incidents, the two-officer opening with its record, and the sealed box on the officer's dashboard."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth.models import Role
from app.boundary import rollback_refused
from app.db import now_utc
from app.extensions import db
from app.i18n import HK
from eoi import operations as ops
from eoi.models import (
    Addendum,
    Clarification,
    DeadlineIncident,
    Exercise,
    ExerciseDocument,
    Invitation,
    LateAttempt,
    Section,
)
from eoi.operations import SubmissionClosed
from eoi.states import ExerciseKind, ExerciseState, IncidentState
from tests.factories import (PDF_BYTES, create_cluster, create_draft, create_published, create_staff,
                             create_submission, create_vendor_user, opening_officers)


def hk_input(moment: datetime) -> str:
    """What an officer types into a datetime-local input for moment (Hong Kong time)."""
    return moment.astimezone(HK).strftime("%Y-%m-%dT%H:%M")


def text(response) -> str:
    return response.get_data(as_text=True)


def committed() -> None:
    """Drop this session's view of the data: what follows reads only what a request committed
    (the test client's requests share the test's session)."""
    db.session.rollback()


@pytest.fixture
def officer():
    return create_staff(Role.officer)


@pytest.fixture
def as_officer(login, officer):
    return login(officer)


# --- set-up -------------------------------------------------------------------------------------------------

def test_officer_creates_an_exercise_with_hong_kong_times_stored_in_utc(as_officer):
    cluster = create_cluster("ET")
    closes = datetime(2031, 7, 1, 12, 0, tzinfo=HK)
    response = as_officer.post("/manage/exercises/new", data={
        "kind": "eoi", "reference": "OSP/EOI/2031/01", "title_en": "One-stop portal EOI", "title_zh": "一站式入門網站",
        "description_en": "PPP opportunities.", "description_zh": "公私營合作機會。", "clusters": [str(cluster.id)],
        "parent_id": "0", "publication_at": "2031-06-01T09:00", "clarification_deadline": "2031-06-20T17:00",
        "closes_at": "2031-07-01T12:00", "validity_until": "", "late_addendum_hours": "72", "min_extension_hours": "48"})
    assert response.status_code == 302
    committed()
    exercise = db.session.scalar(sa.select(Exercise).where(Exercise.reference == "OSP/EOI/2031/01"))
    assert response.headers["Location"].endswith(f"/manage/exercises/{exercise.id}")
    assert exercise.closes_at == closes.astimezone(UTC) == datetime(2031, 7, 1, 4, 0, tzinfo=UTC)
    assert exercise.state == ExerciseState.draft and exercise.clusters == [cluster]
    assert exercise.min_extension_hours == 48 and exercise.validity_until is None
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}"))
    assert "Add at least one questionnaire section." in page  # the publication checklist
    edit = text(as_officer.get(f"/manage/exercises/{exercise.id}/edit"))
    assert 'value="2031-07-01T12:00"' in edit  # shown back in Hong Kong time
    listing = text(as_officer.get("/manage/exercises"))
    assert "OSP/EOI/2031/01" in listing and "New exercise" in listing


def test_exercise_form_refuses_a_duplicate_reference(as_officer, officer):
    existing = create_draft(officer)
    response = as_officer.post("/manage/exercises/new", data={
        "kind": "eoi", "reference": existing.reference, "title_en": "Again", "parent_id": "0",
        "late_addendum_hours": "72", "min_extension_hours": "72"})
    assert response.status_code == 200
    assert "Another exercise already uses this reference." in text(response)
    assert db.session.scalar(sa.select(sa.func.count(Exercise.id))) == 1


def test_edit_changes_a_draft_but_not_a_published_exercise(as_officer, officer):
    draft = create_draft(officer)
    data = {"kind": "eoi", "reference": draft.reference, "title_en": "Renamed", "title_zh": draft.title_zh,
            "parent_id": "0", "closes_at": hk_input(draft.closes_at), "late_addendum_hours": "72",
            "min_extension_hours": "72", "clusters": [str(c.id) for c in draft.clusters]}
    assert as_officer.post(f"/manage/exercises/{draft.id}/edit", data=data).status_code == 302
    committed()
    assert db.session.get(Exercise, draft.id).title_en == "Renamed"
    published = create_published(officer)
    response = as_officer.post(f"/manage/exercises/{published.id}/edit", data={**data, "reference": published.reference})
    assert response.status_code == 400 and "not possible while the exercise is" in text(response)
    assert 'value="Renamed"' in text(response)  # the refused form comes back as typed (app.boundary re-renders)
    committed()
    assert db.session.get(Exercise, published.id).title_en != "Renamed"


def test_sections_are_added_edited_reordered_and_deleted(as_officer, officer):
    exercise = create_draft(officer, complete=False)
    for title in ("Company profile", "Technical approach", "Business model"):
        response = as_officer.post(f"/manage/exercises/{exercise.id}/sections/new", data={
            "title_en": title, "title_zh": "章節", "word_limit": "800", "answer_required": "y"})
        assert response.status_code == 302
    missing = as_officer.post(f"/manage/exercises/{exercise.id}/sections/new", data={"title_en": "No Chinese"})
    assert missing.status_code == 200 and "This field is required." in text(missing)

    def titles():
        committed()
        return [(s.position, s.title_en) for s in db.session.get(Exercise, exercise.id).sections]

    assert titles() == [(1, "Company profile"), (2, "Technical approach"), (3, "Business model")]
    third = db.session.scalar(sa.select(Section).where(Section.title_en == "Business model"))
    as_officer.post(f"/manage/sections/{third.id}/move/up")
    assert titles() == [(1, "Company profile"), (2, "Business model"), (3, "Technical approach")]
    first = db.session.scalar(sa.select(Section).where(Section.title_en == "Company profile"))
    as_officer.post(f"/manage/sections/{first.id}/edit", data={
        "title_en": "Company and team", "title_zh": "公司及團隊", "word_limit": "", "attachment_required": "y"})
    committed()
    edited = db.session.get(Section, first.id)
    assert (edited.title_en, edited.word_limit, edited.answer_required, edited.attachment_required) == (
        "Company and team", None, False, True)
    as_officer.post(f"/manage/sections/{first.id}/delete")
    assert titles() == [(1, "Business model"), (2, "Technical approach")]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.startswith("exercise.section_"))) == 6


def test_price_lines_only_for_a_price_envelope(as_officer, officer):
    tender = create_draft(officer, kind=ExerciseKind.tender, has_price_envelope=True)
    response = as_officer.post(f"/manage/exercises/{tender.id}/price-items/new", data={
        "description_en": "Annual operation fee", "description_zh": "每年營運費", "unit": "year", "unit_zh": "年", "quantity": "5"})
    assert response.status_code == 302
    committed()
    assert [(i.description_en, i.quantity) for i in db.session.get(Exercise, tender.id).price_items] == [
        ("Annual operation fee", 5)]
    eoi = create_draft(officer)
    refused = as_officer.post(f"/manage/exercises/{eoi.id}/price-items/new", data={
        "description_en": "Fee", "description_zh": "費用", "unit": "year", "unit_zh": "年", "quantity": "1"})
    assert "This exercise has no price envelope." in text(refused)
    assert db.session.get(Exercise, eoi.id).price_items == []


def test_document_upload_records_its_sha256_and_versions(as_officer, officer):
    import hashlib
    exercise = create_draft(officer, complete=False)
    for body in (PDF_BYTES, PDF_BYTES + b"% revised\n"):
        response = as_officer.post(f"/manage/exercises/{exercise.id}/documents/new", data={
            "title": "Invitation for EOI", "title_zh": "意向書邀請", "file": (io.BytesIO(body), "invitation.pdf")},
            content_type="multipart/form-data")
        assert response.status_code == 302
    committed()
    docs = db.session.scalars(sa.select(ExerciseDocument).where(ExerciseDocument.exercise_id == exercise.id)
                              .order_by(ExerciseDocument.version)).all()
    assert [(d.version, d.superseded) for d in docs] == [(1, True), (2, False)]
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}"))
    assert hashlib.sha256(PDF_BYTES + b"% revised\n").hexdigest() in page
    assert hashlib.sha256(PDF_BYTES).hexdigest() in page  # earlier versions stay listed
    download = as_officer.get(f"/manage/documents/{docs[1].id}/file")
    assert download.status_code == 200 and download.data == PDF_BYTES + b"% revised\n"
    wrong = as_officer.post(f"/manage/exercises/{exercise.id}/documents/new", data={
        "title": "Script", "title_zh": "程式", "file": (io.BytesIO(b"MZ\x90\x00binary"), "setup.exe")}, content_type="multipart/form-data")
    assert wrong.status_code == 400 and "Files of type .exe are not accepted" in text(wrong)
    assert db.session.scalar(sa.select(sa.func.count(ExerciseDocument.id))) == 2


# --- publication --------------------------------------------------------------------------------------------

def _openers(officer) -> dict:
    """The publish form's choice of opening officers: officer and enough others to reach the minimum."""
    return {"opening_officers": [str(u.id) for u in opening_officers(officer)]}


def test_publish_refuses_an_incomplete_exercise_with_the_list_of_what_to_fix(as_officer, officer):
    exercise = create_draft(officer, complete=False, description_zh="")
    response = as_officer.post(f"/manage/exercises/{exercise.id}/publish", data=_openers(officer),
                               follow_redirects=True)
    page = text(response)
    assert "cannot be published yet" in page
    for problem in ("Chinese description is missing.", "Choose at least one service cluster.",
                    "Add at least one questionnaire section.", "Upload at least one tender document."):
        assert problem in page
    committed()
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.draft


def test_publish_refuses_dates_out_of_order(as_officer, officer):
    now = now_utc()
    exercise = create_draft(officer, clarification_deadline=now + timedelta(days=12), closes_at=now + timedelta(days=10),
                            validity_until=now + timedelta(days=9))
    page = text(as_officer.post(f"/manage/exercises/{exercise.id}/publish", data=_openers(officer),
                                follow_redirects=True))
    assert "The clarification deadline must come before the closing time." in page
    assert "The validity period must end after the closing time." in page
    committed()
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.draft


def test_publish_a_complete_exercise(as_officer, officer):
    exercise = create_draft(officer)
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}"))
    assert "Everything needed for publication is in place." in page
    chosen = _openers(officer)
    form = text(as_officer.get(f"/manage/exercises/{exercise.id}/publish"))
    assert all(f'value="{i}"' in form for i in chosen["opening_officers"])
    response = as_officer.post(f"/manage/exercises/{exercise.id}/publish", data=chosen, follow_redirects=True)
    assert "The exercise is published." in text(response)
    committed()
    published = db.session.get(Exercise, exercise.id)
    assert published.state == ExerciseState.published and published.published_at is not None
    assert sorted(str(o.user_id) for o in published.opening_officers) == sorted(chosen["opening_officers"])
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}"))
    assert "Officers who may open the box" in page and officer.email in page


def test_publish_needs_the_minimum_number_of_opening_officers_chosen(as_officer, officer):
    exercise = create_draft(officer)
    other = create_staff(Role.officer)
    response = as_officer.post(f"/manage/exercises/{exercise.id}/publish",
                               data={"opening_officers": [str(officer.id), str(other.id)]})
    assert response.status_code == 200
    assert "Choose at least 3 officers, so that one absence does not block the opening." in text(response)
    committed()
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.draft


# --- invitations --------------------------------------------------------------------------------------------

def test_invite_chosen_vendors_and_the_eoi_respondents(as_officer, officer):
    respondent, chosen, bystander = create_vendor_user(), create_vendor_user(), create_vendor_user()
    eoi = create_published(officer)
    create_submission(eoi, respondent)
    tender = create_draft(officer, kind=ExerciseKind.tender, parent_id=eoi.id)
    form = text(as_officer.get(f"/manage/exercises/{tender.id}/invitations"))
    assert chosen.vendor.name_en in form and "<fieldset" in form
    response = as_officer.post(f"/manage/exercises/{tender.id}/invitations", data={"vendors": [str(chosen.vendor_id)]})
    assert response.status_code == 302
    as_officer.post(f"/manage/exercises/{tender.id}/invitations/from-eoi")
    committed()
    invited = set(db.session.scalars(sa.select(Invitation.vendor_id).where(Invitation.exercise_id == tender.id)))
    assert invited == {chosen.vendor_id, respondent.vendor_id}
    assert bystander.vendor_id not in invited


# --- clarifications -----------------------------------------------------------------------------------------

def test_officer_answers_a_clarification_which_is_published_anonymised(as_officer, officer):
    vendor = create_vendor_user(name_en="Harbour Systems Limited")
    exercise = create_published(officer)
    item = ops.ask_clarification(exercise, actor=vendor, question="Harbour Systems asks: is hosting in scope?")
    db.session.commit()
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}/clarifications"))
    assert "Harbour Systems Limited" in page  # officers see who asked
    assert f'id="c{item.id}-question_en"' in page and "is hosting in scope?</textarea>" in page  # prefilled
    incomplete = as_officer.post(f"/manage/clarifications/{item.id}/answer", data={
        f"c{item.id}-question_en": "Is hosting in scope?", f"c{item.id}-question_zh": "寄存服務是否包括在內？",
        f"c{item.id}-answer_en": "Yes."})
    assert incomplete.status_code == 400 and "This field is required." in text(incomplete)
    assert db.session.get(Clarification, item.id).published_at is None
    response = as_officer.post(f"/manage/clarifications/{item.id}/answer", data={
        f"c{item.id}-question_en": "Is hosting in scope?", f"c{item.id}-question_zh": "寄存服務是否包括在內？",
        f"c{item.id}-answer_en": "Yes, see section 4.", f"c{item.id}-answer_zh": "是，見第4節。"})
    assert response.status_code == 302
    committed()
    item = db.session.get(Clarification, item.id)
    assert item.published_at is not None and item.number == 1
    assert item.public_question_en == "Is hosting in scope?" and item.answer_zh == "是，見第4節。"


# --- addenda ------------------------------------------------------------------------------------------------

def test_early_addendum_keeps_closing_and_attaches_documents(as_officer, officer):
    exercise = create_published(officer)
    closes = exercise.closes_at
    page = text(as_officer.get(f"/manage/exercises/{exercise.id}/addenda/new"))
    assert "within 72 hours of the closing time" in page and "If you issue it now" not in page
    response = as_officer.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
        "text_en": "Section 3 is clarified.", "text_zh": "第3節已予澄清。",
        "documents": [(io.BytesIO(PDF_BYTES + b"% add\n"), "Invitation.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 302
    committed()
    exercise = db.session.get(Exercise, exercise.id)
    addendum = db.session.scalar(sa.select(Addendum).where(Addendum.exercise_id == exercise.id))
    assert addendum.number == 1 and addendum.new_closes_at is None and exercise.closes_at == closes
    versions = [(d.title, d.version, d.superseded, d.addendum_id) for d in exercise.documents]
    assert versions == [("Invitation", 1, True, None), ("Invitation", 2, False, addendum.id)]


def test_late_addendum_forces_the_minimum_extension(login, officer):
    exercise = create_published(officer, min_extension_hours=48)
    late = exercise.closes_at - timedelta(hours=10)
    with freeze_time(late):
        client = login(officer)
        page = text(client.get(f"/manage/exercises/{exercise.id}/addenda/new"))
        assert "If you issue it now, closing moves to at least" in page
        response = client.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
            "text_en": "The service levels change.", "text_zh": "服務水平有變。", "changes_requirements": "y"})
        assert response.status_code == 302
    committed()
    exercise = db.session.get(Exercise, exercise.id)
    assert exercise.closes_at == late + timedelta(hours=48)
    addendum = db.session.scalar(sa.select(Addendum).where(Addendum.exercise_id == exercise.id))
    assert addendum.changes_requirements and addendum.new_closes_at == late + timedelta(hours=48)


def test_addendum_cannot_move_closing_earlier(as_officer, officer):
    exercise = create_published(officer)
    closes = exercise.closes_at
    response = as_officer.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
        "text_en": "Earlier.", "text_zh": "提早。", "new_closes_at": hk_input(closes - timedelta(days=1))})
    assert response.status_code == 400 and "An addendum can only move the closing time later." in text(response)
    committed()
    assert db.session.get(Exercise, exercise.id).closes_at == closes
    assert db.session.scalar(sa.select(sa.func.count(Addendum.id))) == 0


# --- deadline incidents and late attempts -------------------------------------------------------------------

def test_incident_after_closing_reopens_the_box_once_a_second_officer_confirms(login, officer, second_officer):
    vendor = create_vendor_user(name_en="Latecomer Limited")
    exercise = create_published(officer)
    after = exercise.closes_at + timedelta(minutes=3)
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    db.session.commit()
    new_closing = after + timedelta(days=1)
    with freeze_time(after):
        with pytest.raises(SubmissionClosed) as refusal:
            ops.save_draft(submission, actor=vendor, answers={})
        rollback_refused(refusal.value)  # what the request boundary does: roll back, record the late attempt
        ops.close_exercise(exercise)
        db.session.commit()
        client = login(officer)
        page = text(client.get(f"/manage/exercises/{exercise.id}"))
        assert "Latecomer Limited" in page and "Late attempts refused" in page
        response = client.post(f"/manage/exercises/{exercise.id}/incident", data={
            "reason_en": "The portal was unavailable for 40 minutes.", "reason_zh": "網站停止運作40分鐘。",
            "evidence": "Monitoring alert 2031-123; hosting provider report.", "new_closes_at": hk_input(new_closing)})
        assert response.status_code == 302
        committed()
        incident = db.session.scalar(sa.select(DeadlineIncident))
        # Recorded by one officer, it does not take effect: the box stays closed, the public page says nothing.
        assert incident.state == IncidentState.pending and db.session.get(Exercise, exercise.id).state == ExerciseState.closed
        assert "unavailable for 40 minutes" not in text(login(vendor).get(f"/exercises/{exercise.id}"))
        page = text(client.get(f"/manage/exercises/{exercise.id}"))
        assert "Awaiting a second officer" in page and f"/manage/incidents/{incident.id}/confirm" not in page
        # The recorder cannot confirm its own incident, even by posting the form.
        refused = client.post(f"/manage/incidents/{incident.id}/confirm", follow_redirects=True)
        assert "A second, different officer must confirm the deadline incident." in text(refused)
        confirming = login(second_officer)
        assert f"/manage/incidents/{incident.id}/confirm" in text(confirming.get(f"/manage/exercises/{exercise.id}"))
        response = confirming.post(f"/manage/incidents/{incident.id}/confirm", follow_redirects=True)
        assert "The incident is confirmed" in text(response)
    committed()
    exercise = db.session.get(Exercise, exercise.id)
    assert exercise.state == ExerciseState.published
    assert exercise.closes_at == new_closing.replace(second=0, microsecond=0)
    incident = db.session.scalar(sa.select(DeadlineIncident))
    assert (incident.state, incident.recorded_by_id, incident.confirmed_by_id) == (
        IncidentState.effective, officer.id, second_officer.id)
    assert incident.reason_zh == "網站停止運作40分鐘。" and db.session.scalar(sa.select(sa.func.count(LateAttempt.id))) == 1
    actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("deadline_incident.%")).order_by(AuditEvent.id)).all()
    assert actions == ["deadline_incident.recorded", "deadline_incident.confirmed"]


def test_incident_before_closing_takes_effect_at_once(as_officer, officer):
    exercise = create_published(officer)
    new_closing = exercise.closes_at + timedelta(days=1)
    response = as_officer.post(f"/manage/exercises/{exercise.id}/incident", data={
        "reason_en": "Outage this morning", "reason_zh": "今早故障", "evidence": "Logs",
        "new_closes_at": hk_input(new_closing)})
    assert response.status_code == 302
    committed()
    assert db.session.get(Exercise, exercise.id).closes_at == new_closing.replace(second=0, microsecond=0)
    assert db.session.scalar(sa.select(DeadlineIncident.state)) == IncidentState.effective


def test_incident_needs_a_later_closing_time(as_officer, officer):
    exercise = create_published(officer)
    response = as_officer.post(f"/manage/exercises/{exercise.id}/incident", data={
        "reason_en": "Outage", "reason_zh": "故障", "evidence": "Logs", "new_closes_at": hk_input(exercise.closes_at)})
    assert "The new closing time must be later" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(DeadlineIncident.id))) == 0


# --- the sealed box and the two-officer opening -------------------------------------------------------------

ANSWER = "Kangaroo-Lantern proprietary design 5521"
FILE_NAME = "confidential-solution-8832.pdf"
PRICE = Decimal("4455667.89")


@pytest.fixture
def second_officer(officer):
    """An officer who exists when the tenders below are published, so it is named to open them."""
    return create_staff(Role.officer, name="Mary Second")


@pytest.fixture
def sealed_tender(officer, second_officer):
    vendor = create_vendor_user(name_en="Sealed Bidder Limited")
    tender = create_published(officer, kind=ExerciseKind.tender, vendors=[vendor], price_envelope=True)
    submission = create_submission(tender, vendor, answer=ANSWER, file_name=FILE_NAME, price=PRICE)
    return tender, submission, vendor


def test_dashboard_before_opening_shows_who_submitted_but_no_content(as_officer, sealed_tender):
    tender, submission, _vendor = sealed_tender
    page = text(as_officer.get(f"/manage/exercises/{tender.id}"))
    assert "Sealed Bidder Limited" in page and submission.current_version.receipt_number in page
    for secret in (ANSWER, FILE_NAME, "4455667.89", "4,455,667.89"):
        assert secret not in page
    assert f"/manage/submissions/{submission.id}" not in page
    refused = as_officer.get(f"/manage/submissions/{submission.id}", follow_redirects=True)
    assert "sealed until the tender box is opened" in text(refused) and ANSWER not in text(refused)
    sealed_file = as_officer.get(f"/manage/submissions/{submission.id}/files/1")
    assert sealed_file.status_code == 302


def test_cancel_needs_a_reason(as_officer, officer):
    exercise = create_published(officer)
    empty = as_officer.post(f"/manage/exercises/{exercise.id}/cancel", data={"reason": ""})
    assert empty.status_code == 200 and "This field is required." in text(empty)
    response = as_officer.post(f"/manage/exercises/{exercise.id}/cancel", data={"reason": "Scope changed by policy."})
    assert response.status_code == 302
    committed()
    cancelled = db.session.get(Exercise, exercise.id)
    assert cancelled.state == ExerciseState.cancelled and cancelled.cancel_reason == "Scope changed by policy."

