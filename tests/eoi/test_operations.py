"""eoi operations and can_* predicates called directly (no HTTP): each refusal beside the same call allowed."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from app.auth.models import Role
from app.guards import ActionRefused
from app.storage import UploadRejected
from eoi import operations as ops
from eoi import sealed
from eoi.operations import ExerciseError, SubmissionError
from eoi.permissions import (can_download_exercise_documents, can_manage_exercise, can_read_price,
                             can_read_technical_content, can_take_part, can_view_exercise, owns_submission)
from eoi.states import ExerciseKind, ExerciseState, SubmissionState
from tests.factories import (SMALL_PDF, attachment_upload, create_colleague, create_draft, create_published,
                             create_staff, create_submission, create_vendor_user, opening_officers)


# --- guards shared through app.guards ---------------------------------------------------------

def test_only_officers_create_exercises(app):
    with pytest.raises(ExerciseError, match="Only procurement officers"):
        ops.create_exercise(actor=create_vendor_user(), kind=ExerciseKind.eoi, reference="X/1", title_en="x",
                            title_zh="x")
    exercise = ops.create_exercise(actor=create_staff(Role.officer), kind=ExerciseKind.eoi, reference="X/2",
                                   title_en="x", title_zh="x")
    assert exercise.state == ExerciseState.draft


def test_a_published_exercise_is_not_edited_but_a_draft_is(app):
    officer = create_staff(Role.officer)
    published = create_published(officer)
    with pytest.raises(ExerciseError, match="while the exercise is") as refused:
        ops.update_exercise(published, actor=officer, title_en="Renamed")
    assert isinstance(refused.value, ActionRefused)  # the generic refusal of app.guards, specialised by eoi
    draft = create_draft(officer)
    assert ops.update_exercise(draft, actor=officer, title_en="Renamed").title_en == "Renamed"


def test_publication_lists_every_problem_then_publishes_once_fixed(app):
    officer = create_staff(Role.officer)
    incomplete = create_draft(officer, complete=False)
    problems = ops.publication_problems(incomplete)
    assert len(problems) >= 3 and any("service cluster" in p for p in problems)
    with pytest.raises(ExerciseError, match="cannot be published yet"):
        ops.publish_exercise(incomplete, actor=officer, opening_officers=opening_officers(officer))
    complete = create_draft(officer)
    assert ops.publication_problems(complete) == []
    assert ops.publish_exercise(complete, actor=officer, opening_officers=opening_officers(officer)).state == ExerciseState.published


# --- can_* predicates --------------------------------------------------------------------------

def test_officers_manage_and_see_drafts_others_do_not(app):
    officer, vendor = create_staff(Role.officer), create_vendor_user()
    draft = create_draft(officer)
    assert can_manage_exercise(officer, draft) and can_view_exercise(officer, draft)
    assert not can_manage_exercise(vendor, draft) and not can_view_exercise(vendor, draft)
    assert not can_manage_exercise(create_staff(Role.admin), draft)


def test_a_restricted_tender_is_for_invited_vendors_only(app):
    invited, outsider = create_vendor_user(), create_vendor_user()
    tender = create_published(kind=ExerciseKind.tender, vendors=[invited])
    assert can_take_part(invited, tender) and can_download_exercise_documents(invited, tender)
    assert not can_take_part(outsider, tender) and not can_download_exercise_documents(outsider, tender)
    assert can_view_exercise(outsider, tender)  # the fact of the tender is public
    with pytest.raises(SubmissionError, match="cannot take part"):
        ops.get_or_create_submission(tender, actor=outsider)
    assert ops.get_or_create_submission(tender, actor=invited).vendor_id == invited.vendor_id


def test_a_submission_is_its_companys_own(app):
    vendor, other = create_vendor_user(), create_vendor_user()
    submission = create_submission(create_published(), vendor)
    assert owns_submission(vendor, submission) and owns_submission(create_colleague(vendor), submission)
    assert not owns_submission(other, submission)
    assert can_read_technical_content(vendor, submission) and not can_read_technical_content(other, submission)


def test_before_opening_officers_cannot_read_content_or_price(app):
    officer, vendor = create_staff(Role.officer), create_vendor_user()
    tender = create_published(officer, kind=ExerciseKind.tender, vendors=[vendor], price_envelope=True)
    submission = create_submission(tender, vendor, price=Decimal("100"))
    assert not can_read_technical_content(officer, submission) and not can_read_price(officer, submission)
    assert can_read_technical_content(vendor, submission) and can_read_price(vendor, submission)


# --- submissions through the sealed door -------------------------------------------------------

def test_a_draft_is_saved_and_read_back_through_the_sealed_door(app):
    vendor = create_vendor_user()
    exercise = create_published()
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    section = exercise.sections[0]
    ops.save_draft(submission, actor=vendor, answers={section.id: "Line one\r\nline two", 999999: "ignored"})
    assert sealed.technical_content_for(vendor, submission).answers == {section.id: "Line one\nline two"}
    assert submission.draft_version == 1 and submission.last_saved_by_id == vendor.id


def test_attachments_are_added_and_removed_by_id(app):
    vendor = create_vendor_user()
    exercise = create_published()
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    item = ops.add_submission_file(submission, attachment_upload("plan.pdf"), actor=vendor, section=exercise.sections[0])
    assert (item.name, item.size, item.section_id) == ("plan.pdf", len(SMALL_PDF), exercise.sections[0].id)
    assert [f.id for f in sealed.technical_content_for(vendor, submission).files] == [item.id]
    with pytest.raises(SubmissionError, match="not part of your proposal"):
        ops.remove_submission_file(submission, item.id + 1000, actor=vendor)
    ops.remove_submission_file(submission, item.id, actor=vendor)
    assert sealed.technical_content_for(vendor, submission).files == []


def test_prices_only_for_lines_of_the_schedule(app):
    vendor = create_vendor_user()
    tender = create_published(kind=ExerciseKind.tender, vendors=[vendor], price_envelope=True)
    submission = ops.get_or_create_submission(tender, actor=vendor)
    line = tender.price_items[0]
    ops.save_prices(submission, actor=vendor, prices={line.id: Decimal("1250000.00"), 999999: Decimal("1")})
    prices = sealed.price_content_for(vendor, submission)
    assert prices.lines == {line.id: Decimal("1250000.00")} and prices.total(tender.price_items) == Decimal("6250000.00")


def test_an_incomplete_proposal_is_refused_with_what_is_missing(app):
    vendor = create_vendor_user()
    exercise = create_published()
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    with pytest.raises(SubmissionError, match="needs an answer"):
        ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version)
    ops.save_draft(submission, actor=vendor, answers={s.id: "Answer" for s in exercise.sections})
    version = ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version)
    assert submission.state == SubmissionState.submitted and version.number == 1


def test_submit_is_idempotent_and_a_stale_page_is_refused(app):
    vendor = create_vendor_user()
    submission = create_submission(create_published(), vendor)
    version = submission.current_version
    assert ops.submit_submission(submission, actor=vendor, draft_version=version.from_draft_version) is version
    assert len(submission.versions) == 1
    ops.withdraw_submission(submission, actor=vendor)
    with pytest.raises(SubmissionError, match="changed since you opened"):
        ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version - 1)
    again = ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version)
    assert again.number == 2 and version.withdrawn_at is not None


def test_the_manifest_freezes_answers_files_and_prices_with_its_hash(app):
    vendor = create_vendor_user()
    tender = create_published(kind=ExerciseKind.tender, vendors=[vendor], price_envelope=True)
    submission = create_submission(tender, vendor, answer="Frozen answer", file_name="frozen.pdf", price=Decimal("7"))
    version = submission.current_version
    manifest = sealed.version_manifest_for(vendor, version)
    assert list(manifest["answers"].values()) == ["Frozen answer"]
    assert [f["name"] for f in manifest["files"]] == ["frozen.pdf"] and list(manifest["prices"].values()) == ["7.00"]
    assert sealed.manifest_matches_hash(version)
    with pytest.raises(sealed.SealedContent, match="sealed until the tender box is opened"):
        sealed.version_manifest_for(create_staff(Role.officer), version)


def test_receive_file_refuses_what_storage_refuses(app):
    with pytest.raises(UploadRejected, match="not accepted"):
        sealed.receive_file(io.BytesIO(b"MZ\x90\x00"), "tool.exe", max_bytes=10**6)
    assert sealed.receive_file(io.BytesIO(SMALL_PDF), "ok.pdf", max_bytes=10**6).size == len(SMALL_PDF)


def test_save_on_screen_writes_only_what_differs_and_nothing_when_nothing_does(app):
    import sqlalchemy as sa
    from app.audit import AuditEvent
    from app.extensions import db
    from tests.factories import create_published_exercise, create_vendor_user

    vendor = create_vendor_user()
    exercise = create_published_exercise(kind=ExerciseKind.tender, invited=(vendor,), sections=2, price_items=1)
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    first, second = (s.id for s in exercise.sections)
    item = exercise.price_items[0].id
    ops.save_draft(submission, actor=vendor, answers={first: "One.", second: "Two."})
    ops.save_prices(submission, actor=vendor, prices={item: Decimal("10.00")})
    db.session.commit()
    version = submission.draft_version
    events = lambda: db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))  # noqa: E731
    before = events()

    same = ops.save_on_screen(submission, actor=vendor, answers={first: "One.", second: "Two."},
                              prices={item: Decimal("10.00")}, expected_version=version)
    db.session.commit()
    assert (same.saved, submission.draft_version, events()) == (False, version, before)

    changed = ops.save_on_screen(submission, actor=vendor, answers={first: "One.", second: "Two, edited.\r\nOK"},
                                 prices={item: Decimal("12.50")}, expected_version=version)
    db.session.commit()
    assert changed.saved and submission.draft_version == version + 1
    assert sealed.content_for_system(submission, purpose="test").answers == {first: "One.", second: "Two, edited.\nOK"}
    assert sealed.prices_for_system(submission, purpose="test").lines == {item: Decimal("12.50")}

    ops.submit_submission(submission, actor=vendor, draft_version=submission.draft_version)
    db.session.commit()
    with pytest.raises(SubmissionError):  # submitted: a change on screen is refused, not saved
        ops.save_on_screen(submission, actor=vendor, answers={first: "Changed after submitting."})
