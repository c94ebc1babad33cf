"""Invariant 3 (opening): two different officers open the box (the first starts, a second re-authenticates);
the opening record lists every submission with its receipt number and SHA-256."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth.models import Role
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from eoi import operations as ops
from eoi.models import Exercise, Opening
from eoi.states import ExerciseState, OpeningState
from tests.eoi.test_officer_views import (ANSWER, FILE_NAME, committed, officer, second_officer,  # noqa: F401
                                         sealed_tender, text)
from tests.factories import OPENING_PASSPHRASE, PASSWORD, create_published, create_staff, create_submission, create_vendor_user, wait_for


def _close(tender):
    return freeze_time(tender.closes_at + timedelta(minutes=5))


def test_opening_needs_a_second_different_officer(login, officer, sealed_tender):
    tender, _submission, _vendor = sealed_tender
    with _close(tender):
        first = login(officer)
        assert first.post(f"/manage/exercises/{tender.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE}).status_code == 302
        page = text(first.post(f"/manage/exercises/{tender.id}/opening/confirm", data={"passphrase": OPENING_PASSPHRASE},
                               follow_redirects=True))
        assert "A second, different officer must confirm the opening." in page
        committed()
        assert db.session.get(Exercise, tender.id).opened_at is None


def test_opening_refuses_a_wrong_password_and_keeps_the_attempt(login, officer, second_officer, sealed_tender):
    tender, _submission, _vendor = sealed_tender
    second = second_officer
    with _close(tender):
        login(officer).post(f"/manage/exercises/{tender.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE})
        page = text(login(second).post(f"/manage/exercises/{tender.id}/opening/confirm",
                                       data={"passphrase": "not the password 99"}, follow_redirects=True))
    assert "Your opening passphrase was not correct; the box stays sealed." in page
    committed()
    assert db.session.get(Exercise, tender.id).state == ExerciseState.closed
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "exercise.opening_reauth_failed",
                                                            AuditEvent.actor_id == second.id))


def test_two_officer_opening_produces_the_opening_record(login, officer, second_officer, sealed_tender):
    tender, submission, vendor = sealed_tender
    second = second_officer
    with _close(tender):
        first = login(officer)
        first.post(f"/manage/exercises/{tender.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE})
        confirming = login(second)
        page = text(confirming.get(f"/manage/exercises/{tender.id}/opening"))
        assert 'type="password"' in page
        assert f"by {officer.name}" in page  # the page names who started the opening
        assert "Mary Second" in page and officer.email in page  # and the officers named at publication
        response = confirming.post(f"/manage/exercises/{tender.id}/opening/confirm", data={"passphrase": OPENING_PASSPHRASE},
                                   follow_redirects=True)
        assert "The tender box is opened." in text(response)
    committed()
    exercise = db.session.get(Exercise, tender.id)
    opening = db.session.scalar(sa.select(Opening).where(Opening.exercise_id == tender.id))
    assert exercise.state == ExerciseState.opened and opening.state == OpeningState.completed
    assert (opening.started_by_id, opening.confirmed_by_id) == (officer.id, second.id)
    record = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.kind == "opening_record", Document.subject_type == "Exercise", Document.subject_id == tender.id,
        Document.status == DocumentStatus.ready)))
    assert record is not None, "the opening record was never rendered"
    first = login(officer)  # a session signed at the frozen (future) time is not accepted now
    opening_page = text(first.get(f"/manage/exercises/{tender.id}/opening"))
    assert f"/documents/{record.id}" in opening_page
    download = first.get(f"/documents/{record.id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert login(vendor).get(f"/documents/{record.id}").status_code == 404
    opened = text(first.get(f"/manage/submissions/{submission.id}"))
    assert ANSWER in opened and FILE_NAME in opened
    assert "4455667.89" not in opened and "4,455,667.89" not in opened  # price stays sealed (invariant 4)
    file_id = db.session.scalar(sa.text("SELECT id FROM submission_files WHERE submission_id = :s"),
                                {"s": submission.id})
    attachment = first.get(f"/manage/submissions/{submission.id}/files/{file_id}")
    assert attachment.status_code == 200 and attachment.data.startswith(b"%PDF")


def test_opening_record_lists_every_submission_with_receipt_and_sha256(login, officer, second_officer, sealed_tender,
                                                                       tmp_path):
    import shutil
    import subprocess
    tender, submission, _vendor = sealed_tender
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (poppler-utils)")
    second = second_officer
    with _close(tender):
        ops.start_opening(tender, actor=officer, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(tender, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    record = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.kind == "opening_record", Document.status == DocumentStatus.ready)))
    response = login(officer).get(f"/documents/{record.id}")
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(response.data)
    content = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(content.split())
    assert submission.current_version.receipt_number in content
    assert submission.current_version.sha256 in flat
    assert "Sealed Bidder Limited" in content and "Mary Second" in content and tender.reference in content
    assert ANSWER not in content


def test_an_incident_that_reopens_the_box_cancels_a_started_opening(app):
    """Opening attests the box after the real closing: a start made before an extension no longer counts."""
    first, second = create_staff(Role.officer), create_staff(Role.officer)
    exercise = create_published(first)
    create_submission(exercise, create_vendor_user())
    with freeze_time(exercise.closes_at + timedelta(minutes=1)):
        started = ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        new_closing = exercise.closes_at + timedelta(hours=2)
        incident = ops.record_deadline_incident(exercise, actor=second, new_closes_at=new_closing,
                                                reason_en="Portal outage", reason_zh="網站故障",
                                                evidence="Monitoring log 12:00-12:40")
        with pytest.raises(ops.ExerciseError, match="awaits a second officer"):
            ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)  # not while the incident is pending
        ops.confirm_deadline_incident(incident, actor=first)
        db.session.commit()
    assert started.state == OpeningState.cancelled and exercise.state == ExerciseState.published
    with freeze_time(new_closing + timedelta(minutes=1)):
        ops.close_exercise(exercise)
        with pytest.raises(ops.ExerciseError, match="not been started"):
            ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
    assert exercise.state == ExerciseState.opened
