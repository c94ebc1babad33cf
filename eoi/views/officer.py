"""Officer pages under /manage: set up and publish exercises, answer clarifications, issue addenda, record
deadline incidents, follow submissions (names and receipts only until opening) and open the box with a second officer.

Every route loads its object, checks can_manage_exercise on the exercise it belongs to (403), calls operations and
commits once (app.boundary answers a refusal)."""
from __future__ import annotations

from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.audit import record
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.db import now_utc
from app.errors import require
from app.extensions import db
from app.hooks import render_exercise_panels
from app.i18n import hk_datetime
from app.storage import safe_display_name, save_upload, stored_path
from eoi import bp, queries
from eoi.forms.officer import (
    AddendumForm,
    CancelForm,
    ClarificationAnswerForm,
    DocumentForm,
    ExerciseForm,
    IncidentForm,
    InvitationForm,
    OpeningConfirmForm,
    OpeningPassphraseForm,
    PriceItemForm,
    PublishForm,
    SectionForm,
    hk_to_utc,
)
from eoi import operations as ops
from eoi.models import (Clarification, DeadlineIncident, Exercise, ExerciseDocument, PriceItem, Section, Submission,
                        minimum_closing_after_addendum)
from eoi.operations import setup
from eoi.permissions import can_manage_exercise, can_read_technical_content, can_take_part_in_opening, exercise_actions
from eoi.sealed import open_file_for, technical_content_for
from eoi.states import ExerciseState, IncidentState, OpeningState

UPLOAD_MAX_BYTES = 50 * 1024 * 1024
DOCUMENT_TYPES = {"pdf", "docx", "xlsx"}


def _managed(exercise: Exercise) -> Exercise:
    """Object-level check after loading: this officer may manage this exercise (403 otherwise)."""
    require(can_manage_exercise(current_user, exercise))
    return exercise


def _exercise(exercise_id: int) -> Exercise:
    return _managed(db.get_or_404(Exercise, exercise_id))


def _dashboard_url(exercise: Exercise) -> str:
    return url_for("eoi.exercise_manage", exercise_id=exercise.id)


def _dashboard(exercise: Exercise):
    return redirect(_dashboard_url(exercise))


def _back_to_dashboard(exercise: Exercise) -> Exercise:
    """Refusals of this request go back to the exercise's dashboard."""
    on_refusal(redirect_to=_dashboard_url(exercise))
    return exercise


def _form_page(template: str, status: int = 400, **context):
    """Refusals of this request re-render the form the officer sent (nothing typed is lost); returns the page."""
    def page(_error=None):
        return render_template(template, **context)
    on_refusal(render=page, status=status)
    return page


def _upload(file, exercise: Exercise, *, title: str, addendum=None, title_zh: str | None = None) -> ExerciseDocument:
    saved = save_upload(file.stream, file.filename, max_bytes=UPLOAD_MAX_BYTES, allowed=DOCUMENT_TYPES)
    return ops.add_exercise_document(exercise, saved, title=title, actor=current_user, addendum=addendum,
                                     title_zh=title_zh)


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
        "unconfirmed": queries.unconfirmed_submissions(exercise),
        "opening_record": queries.latest_opening_record(exercise),
        "verification": queries.opening_verification(exercise),
        "is_named": named, "incident_pending": blocked,
        "before_closing": exercise.effective_state == ExerciseState.published,
        "can_start": closed and named and not blocked and (not started or opening.started_by_id != current_user.id
                                                            and not can_take_part_in_opening(opening.started_by, exercise)),
        "started_by_me": started and opening.started_by_id == current_user.id,
        "can_confirm": closed and started and named and not blocked and opening.started_by_id != current_user.id,
        **_opening_officers_context(exercise),
    }


# --- exercises ----------------------------------------------------------------------------------------------

@bp.route("/manage/opening-key", methods=["GET", "POST"])
@role_required(Role.officer)
def opening_key():
    """The officer's own opening passphrase (issue 9): set once, changed with the current one."""
    form = OpeningPassphraseForm()
    has_key = ops.has_opening_key(current_user)
    page = _form_page("eoi/officer/opening_key.html", form=form, has_key=has_key)
    if form.validate_on_submit():
        ops.set_opening_passphrase(current_user, form.passphrase.data, confirm=form.confirm.data,
                                   current=form.current.data)
        commit(_("Your opening passphrase is set. Keep it to yourself: it is never stored."))
        return redirect(url_for("eoi.opening_key"))
    return page()


@bp.get("/manage/exercises")
@role_required(Role.officer)
def manage_exercises():
    return render_template("eoi/officer/exercises.html", rows=queries.exercises_with_standing_counts())


@bp.route("/manage/exercises/new", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_new():
    form = ExerciseForm()
    page = _form_page("eoi/officer/exercise_form.html", form=form, exercise=None, setup_locked=False)
    if form.validate_on_submit():
        exercise = ops.create_exercise(actor=current_user, **form.fields_for_operation())
        commit(_("The exercise was created as a draft."))
        return _dashboard(exercise)
    return page()


@bp.route("/manage/exercises/<int:exercise_id>/edit", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_edit(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = ExerciseForm(exercise=exercise)
    page = _form_page("eoi/officer/exercise_form.html", form=form, exercise=exercise,
                      setup_locked=not exercise_actions(current_user, exercise)["edit_setup"])
    if form.validate_on_submit():
        ops.update_exercise(exercise, actor=current_user, **form.fields_for_operation())
        commit(_("The exercise was saved."))
        return _dashboard(exercise)
    return page()


@bp.get("/manage/exercises/<int:exercise_id>")
@role_required(Role.officer)
def exercise_manage(exercise_id: int):
    exercise = _exercise(exercise_id)
    can = exercise_actions(current_user, exercise)
    submissions = queries.received_submissions(exercise)
    return render_template(
        "eoi/officer/exercise_manage.html", exercise=exercise, confirm=ConfirmForm(), can=can,
        problems=ops.publication_problems(exercise) if can["publish"] else [], submissions=submissions,
        readable={s.id for s in submissions if can_read_technical_content(current_user, s)},
        late_attempts=queries.late_attempts(exercise), incidents=_incident_rows(exercise),
        open_questions=queries.unanswered_question_count(exercise),
        opening_record=queries.latest_opening_record(exercise), panels=render_exercise_panels(exercise, "manage"),
        **_opening_officers_context(exercise))


@bp.route("/manage/exercises/<int:exercise_id>/publish", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_publish(exercise_id: int):
    """The confirmation page of publication: when it happens (at once, or at the publication date by the scheduled
    task), who is told, and who may open the box (issue 8 items 8 and 11)."""
    exercise = _exercise(exercise_id)
    form = PublishForm()
    can = exercise_actions(current_user, exercise)
    problems = ops.publication_problems(exercise) if can["publish"] else []
    audience, recipients = ops.publication_audience(exercise) if can["publish"] and not problems else ([], 0)
    page = _form_page("eoi/officer/exercise_publish.html", exercise=exercise, form=form, can_publish=can["publish"],
                      can_withdraw=can["withdraw_publication"], problems=problems, confirm=ConfirmForm(),
                      at_once=ops.publishes_at_once(exercise), audience=audience, recipients=recipients,
                      ordered_by=queries.user_by_id(exercise.publication_ordered_by_id))
    if form.validate_on_submit():
        ops.publish_exercise(exercise, actor=current_user, opening_officers=form.chosen())
        commit(_("The exercise is published.") if exercise.state == ExerciseState.published else
               _("Publication is ordered for %(when)s.", when=hk_datetime(exercise.publication_at)))
        return _dashboard(exercise)
    return page()


@bp.post("/manage/exercises/<int:exercise_id>/publish/withdraw")
@role_required(Role.officer)
def exercise_publication_withdraw(exercise_id: int):
    exercise = _back_to_dashboard(_exercise(exercise_id))
    if ConfirmForm().validate_on_submit():
        ops.withdraw_publication_order(exercise, actor=current_user)
        commit(_("The ordered publication was withdrawn: the exercise is a draft again."))
    return _dashboard(exercise)


@bp.route("/manage/exercises/<int:exercise_id>/cancel", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_cancel(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = CancelForm()
    page = _form_page("eoi/officer/exercise_cancel.html", exercise=exercise, form=form)
    if form.validate_on_submit():
        ops.cancel_exercise(exercise, actor=current_user, reason=form.reason.data)
        commit(_("The exercise was cancelled."))
        return _dashboard(exercise)
    return page()


# --- questionnaire sections and price schedule --------------------------------------------------------------

@bp.route("/manage/exercises/<int:exercise_id>/sections/new", methods=["GET", "POST"])
@role_required(Role.officer)
def section_new(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = SectionForm()
    page = _form_page("eoi/officer/section_form.html", exercise=exercise, form=form, section=None)
    if form.validate_on_submit():
        setup.add_section(exercise, actor=current_user, **form.values())
        commit(_("The section was added."))
        return _dashboard(exercise)
    return page()


@bp.route("/manage/sections/<int:section_id>/edit", methods=["GET", "POST"])
@role_required(Role.officer)
def section_edit(section_id: int):
    section = db.get_or_404(Section, section_id)
    exercise = _managed(section.exercise)
    form = SectionForm(obj=section)
    page = _form_page("eoi/officer/section_form.html", exercise=exercise, form=form, section=section)
    if form.validate_on_submit():
        setup.update_section(section, actor=current_user, **form.values())
        commit(_("The section was saved."))
        return _dashboard(exercise)
    return page()


@bp.post("/manage/sections/<int:section_id>/move/<any(up, down):direction>")
@role_required(Role.officer)
def section_move(section_id: int, direction: str):
    section = db.get_or_404(Section, section_id)
    exercise = _back_to_dashboard(_managed(section.exercise))
    if ConfirmForm().validate_on_submit():
        setup.move_section(section, actor=current_user, offset=-1 if direction == "up" else 1)
        commit(_("The sections were reordered."))
    return _dashboard(exercise)


@bp.post("/manage/sections/<int:section_id>/delete")
@role_required(Role.officer)
def section_delete(section_id: int):
    section = db.get_or_404(Section, section_id)
    exercise = _back_to_dashboard(_managed(section.exercise))
    if ConfirmForm().validate_on_submit():
        setup.delete_section(section, actor=current_user)
        commit(_("The section was deleted."))
    return _dashboard(exercise)


@bp.route("/manage/exercises/<int:exercise_id>/price-items/new", methods=["GET", "POST"])
@role_required(Role.officer)
def price_item_new(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = PriceItemForm()
    page = _form_page("eoi/officer/price_item_form.html", exercise=exercise, form=form)
    if form.validate_on_submit():
        setup.add_price_item(exercise, actor=current_user, **form.values())
        commit(_("The price schedule line was added."))
        return _dashboard(exercise)
    return page()


@bp.post("/manage/price-items/<int:item_id>/delete")
@role_required(Role.officer)
def price_item_delete(item_id: int):
    item = db.get_or_404(PriceItem, item_id)
    exercise = _back_to_dashboard(_managed(item.exercise))
    if ConfirmForm().validate_on_submit():
        setup.delete_price_item(item, actor=current_user)
        commit(_("The price schedule line was deleted."))
    return _dashboard(exercise)


# --- tender documents and invitations -----------------------------------------------------------------------

@bp.route("/manage/exercises/<int:exercise_id>/documents/new", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_document_new(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = DocumentForm()
    page = _form_page("eoi/officer/document_form.html", exercise=exercise, form=form)
    if form.validate_on_submit():
        _upload(form.file.data, exercise, title=form.title.data.strip(), title_zh=form.title_zh.data.strip())
        commit(_("The document was uploaded."))
        return _dashboard(exercise)
    return page()


@bp.get("/manage/documents/<int:document_id>/file")
@role_required(Role.officer)
def exercise_document_file(document_id: int):
    document = db.get_or_404(ExerciseDocument, document_id)
    _managed(document.exercise)
    stored = document.file
    return send_file(stored_path(stored.storage_key), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.original_name)


@bp.route("/manage/exercises/<int:exercise_id>/invitations", methods=["GET", "POST"])
@role_required(Role.officer)
def exercise_invitations(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = InvitationForm(exercise=exercise)
    page = _form_page("eoi/officer/invitations.html", exercise=exercise, form=form, confirm=ConfirmForm(),
                      can_invite=exercise_actions(current_user, exercise)["invite"])
    if form.validate_on_submit():
        ops.invite_vendors(exercise, form.chosen(), actor=current_user)
        commit(_("The vendors were invited."))
        return _dashboard(exercise)
    return page()


@bp.post("/manage/exercises/<int:exercise_id>/invitations/from-eoi")
@role_required(Role.officer)
def exercise_invite_from_eoi(exercise_id: int):
    exercise = _back_to_dashboard(_exercise(exercise_id))
    if ConfirmForm().validate_on_submit():
        ops.carry_over_from_eoi(exercise, actor=current_user)
        commit(_("The respondents to the EOI exercise were invited."))
    return _dashboard(exercise)


# --- clarifications, addenda, deadline incidents ------------------------------------------------------------

def _answer_form(item: Clarification, formdata=None) -> ClarificationAnswerForm:
    return ClarificationAnswerForm(formdata=formdata, prefix=f"c{item.id}",
                                   data={"question_en": item.question, "question_zh": item.question})


def _render_clarifications(exercise: Exercise, failed: ClarificationAnswerForm | None = None, failed_id=None):
    items = queries.all_clarifications(exercise)
    forms = {i.id: failed if i.id == failed_id else _answer_form(i) for i in items if i.published_at is None}
    return render_template("eoi/officer/clarifications.html", exercise=exercise, items=items, forms=forms,
                           vendors=queries.vendors_by_id(i.vendor_id for i in items))


@bp.get("/manage/exercises/<int:exercise_id>/clarifications")
@role_required(Role.officer)
def manage_clarifications(exercise_id: int):
    return _render_clarifications(_exercise(exercise_id))


@bp.post("/manage/clarifications/<int:clarification_id>/answer")
@role_required(Role.officer)
def clarification_answer(clarification_id: int):
    item = db.get_or_404(Clarification, clarification_id)
    exercise = _managed(item.exercise)
    form = ClarificationAnswerForm(prefix=f"c{item.id}")
    on_refusal(render=lambda _error: _render_clarifications(exercise, failed=form, failed_id=item.id))
    if not form.validate_on_submit():
        return _render_clarifications(exercise, failed=form, failed_id=item.id), 400
    ops.answer_clarification(item, actor=current_user, question_en=form.question_en.data,
                             question_zh=form.question_zh.data, answer_en=form.answer_en.data,
                             answer_zh=form.answer_zh.data)
    commit(_("The answer is published to all vendors."))
    return redirect(url_for("eoi.manage_clarifications", exercise_id=exercise.id))


def _issue_addendum(exercise: Exercise, form: AddendumForm) -> None:
    addendum = ops.issue_addendum(exercise, actor=current_user, text_en=form.text_en.data, text_zh=form.text_zh.data,
                                  changes_requirements=form.changes_requirements.data,
                                  new_closes_at=hk_to_utc(form.new_closes_at.data))
    for file in (f for f in form.documents.data or [] if f and f.filename):
        name = safe_display_name(file.filename)
        _upload(file, exercise, title=name.rpartition(".")[0] or name, addendum=addendum)  # keeps its Chinese title
    for file, title, title_zh in form.new_documents():
        _upload(file, exercise, title=title, title_zh=title_zh, addendum=addendum)


@bp.route("/manage/exercises/<int:exercise_id>/addenda/new", methods=["GET", "POST"])
@role_required(Role.officer)
def addendum_new(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = AddendumForm(existing_titles=[d.title for d in exercise.documents if not d.superseded])
    page = _form_page("eoi/officer/addendum_form.html", exercise=exercise, form=form,
                      forced_closing=minimum_closing_after_addendum(exercise, now_utc()),
                      can_issue=exercise_actions(current_user, exercise)["issue_addendum"])
    if form.validate_on_submit():
        _issue_addendum(exercise, form)
        commit(_("The addendum was issued."))
        return _dashboard(exercise)
    return page(), 400 if form.errors else 200


@bp.route("/manage/exercises/<int:exercise_id>/incident", methods=["GET", "POST"])
@role_required(Role.officer)
def incident_new(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = IncidentForm()
    page = _form_page("eoi/officer/incident_form.html", exercise=exercise, form=form)
    if form.validate_on_submit():
        ops.record_deadline_incident(exercise, actor=current_user, new_closes_at=hk_to_utc(form.new_closes_at.data),
                                     reason_en=form.reason_en.data, reason_zh=form.reason_zh.data,
                                     evidence=form.evidence.data)
        commit(_("The incident was recorded. If the box had closed, a second named officer must confirm it before "
                 "it takes effect."))
        return _dashboard(exercise)
    return page()


@bp.post("/manage/incidents/<int:incident_id>/confirm")
@role_required(Role.officer)
def incident_confirm(incident_id: int):
    incident = db.get_or_404(DeadlineIncident, incident_id)
    exercise = _back_to_dashboard(_managed(incident.exercise))
    if ConfirmForm().validate_on_submit():
        ops.confirm_deadline_incident(incident, actor=current_user)
        commit(_("The incident is confirmed: the box is open for submissions until the new closing time."))
    return _dashboard(exercise)


@bp.post("/manage/incidents/<int:incident_id>/decline")
@role_required(Role.officer)
def incident_decline(incident_id: int):
    incident = db.get_or_404(DeadlineIncident, incident_id)
    exercise = _back_to_dashboard(_managed(incident.exercise))
    if ConfirmForm().validate_on_submit():
        ops.decline_deadline_incident(incident, actor=current_user)
        commit(_("The incident was declined; the closing time is unchanged."))
    return _dashboard(exercise)


# --- opening and opened submissions -------------------------------------------------------------------------

def _opening_url(exercise: Exercise) -> str:
    return url_for("eoi.opening", exercise_id=exercise.id)


@bp.get("/manage/exercises/<int:exercise_id>/opening")
@role_required(Role.officer)
def opening(exercise_id: int):
    exercise = _exercise(exercise_id)
    return render_template("eoi/officer/opening.html", exercise=exercise, confirm=ConfirmForm(),
                           form=OpeningConfirmForm(), **_opening_context(exercise))


@bp.post("/manage/exercises/<int:exercise_id>/opening/start")
@role_required(Role.officer)
def opening_start(exercise_id: int):
    exercise = _exercise(exercise_id)
    on_refusal(redirect_to=_opening_url(exercise))
    form = OpeningConfirmForm()
    if not form.validate_on_submit():
        flash(_("Enter your opening passphrase to start the opening."), "error")
        return redirect(_opening_url(exercise))
    ops.start_opening(exercise, actor=current_user, passphrase=form.passphrase.data)
    commit(_("The opening is started. A second officer must now confirm it."))
    return redirect(_opening_url(exercise))


@bp.post("/manage/exercises/<int:exercise_id>/opening/confirm")
@role_required(Role.officer)
def opening_confirm(exercise_id: int):
    exercise = _exercise(exercise_id)
    on_refusal(redirect_to=_opening_url(exercise))
    form = OpeningConfirmForm()
    if not form.validate_on_submit():
        flash(_("Enter your opening passphrase to confirm the opening."), "error")
        return redirect(_opening_url(exercise))
    ops.confirm_opening(exercise, actor=current_user, passphrase=form.passphrase.data)
    commit(_("The tender box is opened. The opening record is being prepared."))
    return redirect(_opening_url(exercise))


def _readable(submission_id: int) -> Submission:
    """A submission whose content this officer may read now (the sealed box refuses otherwise)."""
    submission = db.get_or_404(Submission, submission_id)
    _back_to_dashboard(_managed(submission.exercise))
    return submission


@bp.get("/manage/submissions/<int:submission_id>")
@role_required(Role.officer)
def manage_submission(submission_id: int):
    submission = _readable(submission_id)
    return render_template("eoi/officer/submission.html", submission=submission, exercise=submission.exercise,
                           content=technical_content_for(current_user, submission))


@bp.get("/manage/submissions/<int:submission_id>/files/<int:file_id>")
@role_required(Role.officer)
def manage_submission_file(submission_id: int, file_id: int):
    submission = _readable(submission_id)
    opened = open_file_for(current_user, submission, file_id)
    if opened is None:
        raise NotFound()
    item, stream = opened
    record(current_user, "submission.file_downloaded", submission, file_id=item.id)  # a sensitive read
    commit()
    response = send_file(stream, mimetype=item.content_type, as_attachment=True, download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response
