"""Officer pages under /manage: set up and publish exercises, answer clarifications, issue addenda, record
deadline incidents, follow submissions (names and receipts only until opening) and open the box with a second officer."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.audit import record
from app.auth.models import Role, Vendor
from app.auth.permissions import role_required
from app.db import now_utc
from app.documents.models import Document
from app.errors import DomainError
from app.extensions import db
from app.hooks import render_exercise_panels
from app.storage import safe_display_name, save_upload, stored_path
from eoi import bp
from eoi.forms_officer import (
    AddendumForm,
    CancelForm,
    ClarificationAnswerForm,
    DocumentForm,
    ExerciseForm,
    IncidentForm,
    InvitationForm,
    OpeningConfirmForm,
    PriceItemForm,
    PublishForm,
    SectionForm,
    hk_to_utc,
)
from eoi.models import (
    Clarification,
    DeadlineIncident,
    Exercise,
    ExerciseDocument,
    LateAttempt,
    PriceItem,
    Section,
    Submission,
    minimum_closing_after_addendum,
)
from eoi import operations as ops
from eoi import queries
from eoi.operations import setup
from eoi.permissions import can_take_part_in_opening
from eoi.sealed import SealedContent, open_file_for, technical_content_for
from eoi.states import ExerciseState, IncidentState, OpeningState, SubmissionState

UPLOAD_MAX_BYTES = 50 * 1024 * 1024
DOCUMENT_TYPES = {"pdf", "docx", "xlsx"}
CANCELLABLE = {ExerciseState.draft, ExerciseState.published, ExerciseState.closed, ExerciseState.opened,
               ExerciseState.evaluating}


def _run(action: Callable[[], object], success: str) -> bool:
    """Run one operation: on a broken rule roll back and flash why; otherwise commit once and flash success."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return False
    db.session.commit()
    flash(success, "success")
    return True


def _dashboard(exercise: Exercise):
    return redirect(url_for("eoi.exercise_manage", exercise_id=exercise.id))


def _upload(file, exercise: Exercise, *, title: str, addendum=None) -> ExerciseDocument:
    saved = save_upload(file.stream, file.filename, max_bytes=UPLOAD_MAX_BYTES, allowed=DOCUMENT_TYPES)
    return ops.add_exercise_document(exercise, saved, title=title, actor=current_user, addendum=addendum)


def _opening_record(exercise: Exercise) -> Document | None:
    return db.session.scalar(sa.select(Document).where(
        Document.kind == "opening_record", Document.subject_type == "Exercise", Document.subject_id == exercise.id)
        .order_by(Document.id.desc()).limit(1))


def _received_submissions(exercise: Exercise) -> list[Submission]:
    """Who submitted (or withdrew) and when, with receipt numbers: never content (invariant 1)."""
    return list(db.session.scalars(sa.select(Submission).where(
        Submission.exercise_id == exercise.id, Submission.state != SubmissionState.draft)
        .order_by(Submission.submitted_at, Submission.id)))


def _opening_officers_context(exercise: Exercise) -> dict:
    """The named opening officers, which of them can still take part, and whether too few remain (invariant 3)."""
    officers = queries.opening_officers_of(exercise)
    able = {u.id for u in queries.able_opening_officers(exercise)}
    return {"opening_officers": officers, "able_officer_ids": able,
            "too_few_opening_officers": bool(officers) and len(able) < 2 and not exercise.is_opened
            and exercise.state != ExerciseState.cancelled}


def _incident_rows(exercise: Exercise) -> list[tuple[DeadlineIncident, bool, bool]]:
    """Each incident with whether the current officer may confirm it and may decline it."""
    named = can_take_part_in_opening(current_user, exercise)
    return [(i, i.state == IncidentState.pending and named and i.recorded_by_id != current_user.id,
             i.state == IncidentState.pending and (named or i.recorded_by_id == current_user.id))
            for i in queries.incidents_of(exercise)]


def _opening_context(exercise: Exercise) -> dict:
    """Everything the opening page decides: who was named, who started, what the officer may do now."""
    opening = queries.live_opening(exercise)
    started = opening is not None and opening.state == OpeningState.started
    named = can_take_part_in_opening(current_user, exercise)
    closed = exercise.effective_state == ExerciseState.closed
    blocked = queries.pending_incident(exercise) is not None
    return {
        "opening_state": opening, "standing": queries.standing_submissions(exercise),
        "unconfirmed": queries.unconfirmed_submissions(exercise), "opening_record": _opening_record(exercise),
        "is_named": named, "incident_pending": blocked,
        "before_closing": exercise.effective_state == ExerciseState.published,
        "can_start": closed and named and not blocked and (not started or opening.started_by_id != current_user.id
                                                            and not can_take_part_in_opening(opening.started_by, exercise)),
        "started_by_me": started and opening.started_by_id == current_user.id,
        "can_confirm": closed and started and named and not blocked and opening.started_by_id != current_user.id,
        **_opening_officers_context(exercise),
    }


# --- exercises ----------------------------------------------------------------------------------------------

@bp.get("/manage/exercises")
@role_required(Role.officer)
def manage_exercises():
    received = (sa.select(sa.func.count(Submission.id)).where(Submission.exercise_id == Exercise.id,
                                                              Submission.standing())
                .correlate(Exercise).scalar_subquery())
    rows = db.session.execute(sa.select(Exercise, received).order_by(Exercise.created_at.desc(), Exercise.id.desc())).all()
    return render_template("eoi/officer/exercises.html", rows=rows)


@bp.route("/manage/exercises/new", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_new():
    form = ExerciseForm()
    if form.validate_on_submit():
        try:
            exercise = ops.create_exercise(actor=current_user, **form.fields_for_operation())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The exercise was created as a draft."), "success")
            return _dashboard(exercise)
    return render_template("eoi/officer/exercise_form.html", form=form, exercise=None)


@bp.route("/manage/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_edit(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = ExerciseForm(exercise=exercise)
    if form.validate_on_submit() and _run(
            lambda: ops.update_exercise(exercise, actor=current_user, **form.fields_for_operation()),
            _("The exercise was saved.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/exercise_form.html", form=form, exercise=exercise)


@bp.get("/manage/exercises/<int:exercise_id>")
@role_required(Role.officer)
def exercise_manage(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    context = {
        "problems": ops.publication_problems(exercise) if exercise.state == ExerciseState.draft else [],
        "submissions": _received_submissions(exercise),
        "late_attempts": db.session.scalars(sa.select(LateAttempt).where(LateAttempt.exercise_id == exercise.id)
                                            .order_by(LateAttempt.received_at)).all(),
        "incidents": _incident_rows(exercise),
        "open_questions": db.session.scalar(sa.select(sa.func.count(Clarification.id)).where(
            Clarification.exercise_id == exercise.id, Clarification.published_at.is_(None))),
        "opening_record": _opening_record(exercise),
        "can_cancel": exercise.state in CANCELLABLE,
        **_opening_officers_context(exercise),
    }
    return render_template("eoi/officer/exercise_manage.html", exercise=exercise, confirm=ConfirmForm(),
                           panels=render_exercise_panels(exercise, "manage"), **context)


@bp.route("/manage/exercises/<int:exercise_id>/publish", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_publish(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = PublishForm()
    if form.validate_on_submit() and _run(lambda: ops.publish_exercise(exercise, actor=current_user,
                                                                       opening_officers=form.chosen()),
                                          _("The exercise is published.")):
        return _dashboard(exercise)
    problems = ops.publication_problems(exercise) if exercise.state == ExerciseState.draft else []
    return render_template("eoi/officer/exercise_publish.html", exercise=exercise, form=form, problems=problems,
                           can_publish=exercise.state == ExerciseState.draft)


@bp.route("/manage/exercises/<int:exercise_id>/cancel", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_cancel(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = CancelForm()
    if form.validate_on_submit() and _run(lambda: ops.cancel_exercise(exercise, actor=current_user,
                                                                      reason=form.reason.data),
                                          _("The exercise was cancelled.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/exercise_cancel.html", exercise=exercise, form=form)


# --- questionnaire sections and price schedule --------------------------------------------------------------

@bp.route("/manage/exercises/<int:exercise_id>/sections/new", methods=["GET", "POST"])
@role_required(Role.officer)
def section_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = SectionForm()
    if form.validate_on_submit() and _run(lambda: setup.add_section(exercise, actor=current_user, **form.values()),
                                          _("The section was added.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/section_form.html", exercise=exercise, form=form, section=None)


@bp.route("/manage/sections/<int:section_id>/edit", methods=["GET", "POST"])
@role_required(Role.officer)
def section_edit(section_id: int):
    section = db.get_or_404(Section, section_id)
    form = SectionForm(obj=section)
    if form.validate_on_submit() and _run(lambda: setup.update_section(section, actor=current_user, **form.values()),
                                          _("The section was saved.")):
        return _dashboard(section.exercise)
    return render_template("eoi/officer/section_form.html", exercise=section.exercise, form=form, section=section)


@bp.post("/manage/sections/<int:section_id>/move/<any(up, down):direction>")
@role_required(Role.officer)
def section_move(section_id: int, direction: str):
    section = db.get_or_404(Section, section_id)
    if ConfirmForm().validate_on_submit():
        _run(lambda: setup.move_section(section, actor=current_user, offset=-1 if direction == "up" else 1),
             _("The sections were reordered."))
    return _dashboard(section.exercise)


@bp.post("/manage/sections/<int:section_id>/delete")
@role_required(Role.officer)
def section_delete(section_id: int):
    section = db.get_or_404(Section, section_id)
    exercise = section.exercise
    if ConfirmForm().validate_on_submit():
        _run(lambda: setup.delete_section(section, actor=current_user), _("The section was deleted."))
    return _dashboard(exercise)


@bp.route("/manage/exercises/<int:exercise_id>/price-items/new", methods=["GET", "POST"])
@role_required(Role.officer)
def price_item_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = PriceItemForm()
    if form.validate_on_submit() and _run(lambda: setup.add_price_item(exercise, actor=current_user, **form.values()),
                                          _("The price schedule line was added.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/price_item_form.html", exercise=exercise, form=form)


@bp.post("/manage/price-items/<int:item_id>/delete")
@role_required(Role.officer)
def price_item_delete(item_id: int):
    item = db.get_or_404(PriceItem, item_id)
    exercise = item.exercise
    if ConfirmForm().validate_on_submit():
        _run(lambda: setup.delete_price_item(item, actor=current_user), _("The price schedule line was deleted."))
    return _dashboard(exercise)


# --- tender documents and invitations -----------------------------------------------------------------------

@bp.route("/manage/exercises/<int:exercise_id>/documents/new", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_document_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = DocumentForm()
    if form.validate_on_submit() and _run(lambda: _upload(form.file.data, exercise, title=form.title.data.strip()),
                                          _("The document was uploaded.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/document_form.html", exercise=exercise, form=form)


@bp.get("/manage/documents/<int:document_id>/file")
@role_required(Role.officer)
def exercise_document_file(document_id: int):
    document = db.get_or_404(ExerciseDocument, document_id)
    stored = document.file
    return send_file(stored_path(stored.storage_key), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.original_name)


@bp.route("/manage/exercises/<int:exercise_id>/invitations", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_invitations(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = InvitationForm(exercise=exercise)
    if form.validate_on_submit() and _run(lambda: ops.invite_vendors(exercise, form.chosen(), actor=current_user),
                                          _("The vendors were invited.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/invitations.html", exercise=exercise, form=form, confirm=ConfirmForm())


@bp.post("/manage/exercises/<int:exercise_id>/invitations/from-eoi")
@role_required(Role.officer)
def exercise_invite_from_eoi(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    if ConfirmForm().validate_on_submit():
        _run(lambda: ops.carry_over_from_eoi(exercise, actor=current_user),
             _("The respondents to the EOI exercise were invited."))
    return _dashboard(exercise)


# --- clarifications, addenda, deadline incidents ------------------------------------------------------------

def _answer_form(item: Clarification, formdata=None) -> ClarificationAnswerForm:
    return ClarificationAnswerForm(formdata=formdata, prefix=f"c{item.id}",
                                   data={"question_en": item.question, "question_zh": item.question})


def _render_clarifications(exercise: Exercise, failed: ClarificationAnswerForm | None = None, failed_id=None):
    items = db.session.scalars(sa.select(Clarification).where(Clarification.exercise_id == exercise.id)
                               .order_by(Clarification.published_at.is_not(None), Clarification.asked_at)).all()
    forms = {i.id: failed if i.id == failed_id else _answer_form(i) for i in items if i.published_at is None}
    vendors = {v.id: v for v in db.session.scalars(sa.select(Vendor).where(Vendor.id.in_({i.vendor_id for i in items})))}
    return render_template("eoi/officer/clarifications.html", exercise=exercise, items=items, forms=forms,
                           vendors=vendors)


@bp.get("/manage/exercises/<int:exercise_id>/clarifications")
@role_required(Role.officer)
def manage_clarifications(exercise_id: int):
    return _render_clarifications(db.get_or_404(Exercise, exercise_id))


@bp.post("/manage/clarifications/<int:clarification_id>/answer")
@role_required(Role.officer)
def clarification_answer(clarification_id: int):
    item = db.get_or_404(Clarification, clarification_id)
    form = ClarificationAnswerForm(prefix=f"c{item.id}")
    if form.validate_on_submit() and _run(lambda: ops.answer_clarification(
            item, actor=current_user, question_en=form.question_en.data, question_zh=form.question_zh.data,
            answer_en=form.answer_en.data, answer_zh=form.answer_zh.data), _("The answer is published to all vendors.")):
        return redirect(url_for("eoi.manage_clarifications", exercise_id=item.exercise_id))
    return _render_clarifications(item.exercise, failed=form, failed_id=item.id), 400


def _issue_addendum(exercise: Exercise, form: AddendumForm) -> None:
    addendum = ops.issue_addendum(exercise, actor=current_user, text_en=form.text_en.data, text_zh=form.text_zh.data,
                                  changes_requirements=form.changes_requirements.data,
                                  new_closes_at=hk_to_utc(form.new_closes_at.data))
    for file in (f for f in form.documents.data or [] if f and f.filename):
        name = safe_display_name(file.filename)
        _upload(file, exercise, title=name.rpartition(".")[0] or name, addendum=addendum)


@bp.route("/manage/exercises/<int:exercise_id>/addenda/new", methods=["GET", "POST"])
@role_required(Role.officer)
def addendum_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = AddendumForm()
    if form.validate_on_submit() and _run(lambda: _issue_addendum(exercise, form), _("The addendum was issued.")):
        return _dashboard(exercise)
    forced = minimum_closing_after_addendum(exercise, now_utc())
    return render_template("eoi/officer/addendum_form.html", exercise=exercise, form=form, forced_closing=forced)


@bp.route("/manage/exercises/<int:exercise_id>/incident", methods=["GET", "POST"])
@role_required(Role.officer)
def incident_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = IncidentForm()
    if form.validate_on_submit() and _run(lambda: ops.record_deadline_incident(
            exercise, actor=current_user, new_closes_at=hk_to_utc(form.new_closes_at.data), reason_en=form.reason_en.data,
            reason_zh=form.reason_zh.data, evidence=form.evidence.data),
            _("The incident was recorded. If the box had closed, a second named officer must confirm it before "
              "it takes effect.")):
        return _dashboard(exercise)
    return render_template("eoi/officer/incident_form.html", exercise=exercise, form=form)


@bp.post("/manage/incidents/<int:incident_id>/confirm")
@role_required(Role.officer)
def incident_confirm(incident_id: int):
    incident = db.get_or_404(DeadlineIncident, incident_id)
    if ConfirmForm().validate_on_submit():
        _run(lambda: ops.confirm_deadline_incident(incident, actor=current_user),
             _("The incident is confirmed: the box is open for submissions until the new closing time."))
    return _dashboard(incident.exercise)


@bp.post("/manage/incidents/<int:incident_id>/decline")
@role_required(Role.officer)
def incident_decline(incident_id: int):
    incident = db.get_or_404(DeadlineIncident, incident_id)
    if ConfirmForm().validate_on_submit():
        _run(lambda: ops.decline_deadline_incident(incident, actor=current_user),
             _("The incident was declined; the closing time is unchanged."))
    return _dashboard(incident.exercise)


# --- opening and opened submissions -------------------------------------------------------------------------

@bp.get("/manage/exercises/<int:exercise_id>/opening")
@role_required(Role.officer)
def opening(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    return render_template("eoi/officer/opening.html", exercise=exercise, confirm=ConfirmForm(),
                           form=OpeningConfirmForm(), **_opening_context(exercise))


@bp.post("/manage/exercises/<int:exercise_id>/opening/start")
@role_required(Role.officer)
def opening_start(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    if ConfirmForm().validate_on_submit():
        _run(lambda: ops.start_opening(exercise, actor=current_user),
             _("The opening is started. A second officer must now confirm it."))
    return redirect(url_for("eoi.opening", exercise_id=exercise.id))


@bp.post("/manage/exercises/<int:exercise_id>/opening/confirm")
@role_required(Role.officer)
def opening_confirm(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    form = OpeningConfirmForm()
    if not form.validate_on_submit():
        flash(_("Enter your password to confirm the opening."), "error")
    else:
        try:
            ops.confirm_opening(exercise, actor=current_user, password=form.password.data)
        except DomainError as exc:
            flash(exc.message, "error")  # nothing changed but the audit record of a failed re-authentication
        else:
            flash(_("The tender box is opened. The opening record is being prepared."), "success")
        db.session.commit()
    return redirect(url_for("eoi.opening", exercise_id=exercise.id))


@bp.get("/manage/submissions/<int:submission_id>")
@role_required(Role.officer)
def manage_submission(submission_id: int):
    submission = db.get_or_404(Submission, submission_id)
    try:
        content = technical_content_for(current_user, submission)
    except SealedContent as exc:
        flash(exc.message, "error")
        return _dashboard(submission.exercise)
    return render_template("eoi/officer/submission.html", submission=submission, exercise=submission.exercise,
                           content=content)


@bp.get("/manage/submissions/<int:submission_id>/files/<int:file_id>")
@role_required(Role.officer)
def manage_submission_file(submission_id: int, file_id: int):
    submission = db.get_or_404(Submission, submission_id)
    try:
        opened = open_file_for(current_user, submission, file_id)
    except SealedContent as exc:
        flash(exc.message, "error")
        return _dashboard(submission.exercise)
    if opened is None:
        raise NotFound()
    item, stream = opened
    record(current_user, "submission.file_downloaded", submission, file_id=item.id)  # a sensitive read
    db.session.commit()
    response = send_file(stream, mimetype=item.content_type, as_attachment=True, download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
