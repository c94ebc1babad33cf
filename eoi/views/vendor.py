"""Vendor pages: interest, questions, addenda, subscriptions, notifications, and the proposal from draft to receipt.

Every submission URL is keyed by the exercise and the signed-in user's company, so another company's
submission cannot even be addressed; a file id that is not in the company's own submission is a 404.
"""
from __future__ import annotations


import sqlalchemy as sa
from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from jinja2.filters import do_filesizeformat
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role, User
from app.auth.permissions import role_required
from app.db import now_utc
from app.documents.models import Document
from app.errors import DomainError
from app.extensions import db
from app.i18n import hk_datetime, safe_next_url
from app.notifications import Notification
from eoi import bp
from eoi.forms_vendor import (ClarificationForm, DraftForm, PriceForm, SubmitForm, SubscriptionsForm, UploadForm,
                              WithdrawForm, answer_field_name, price_field_name)
from eoi.models import Addendum, ClusterSubscription, Exercise, ServiceCluster, Submission
from eoi.operations import (SubmissionClosed, acknowledge_addendum, add_submission_file, ask_clarification,
                            completeness_problems, get_or_create_submission, reconfirm_submission, record_late_attempt,
                            register_interest, remove_submission_file, save_draft, save_prices, set_subscriptions,
                            submit_submission, unacknowledged_addenda, withdraw_submission, word_count)
from eoi.permissions import can_take_part, owns_submission
from eoi.sealed import (SealedContent, SealedFile, file_for, open_file_for, price_content_for, receive_file,
                        technical_content_for, version_manifest_for)
from eoi.states import ExerciseState, SubmissionState
from eoi.views.public import load_public_exercise, render_exercise_detail

DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024
NOTIFICATIONS_SHOWN = 100


def _locale() -> str:
    return str(get_locale() or "en")


def _user():
    return current_user._get_current_object()


def _run(operation, *args, **kwargs):
    """One operation, one commit. A late refusal keeps only its LateAttempt row (invariant 2).
    Returns (result, None) on success, (None, message) when a business rule refused."""
    try:
        result = operation(*args, **kwargs)
    except SubmissionClosed as exc:
        db.session.rollback()
        record_late_attempt(exc)
        db.session.commit()
        return None, exc.message
    except DomainError as exc:
        db.session.rollback()
        return None, exc.message
    db.session.commit()
    return result, None


def _exercise_for_vendor(exercise_id: int) -> Exercise:
    """The exercise, if this vendor may take part in it (404 otherwise: an uninvited tender is not theirs)."""
    exercise = load_public_exercise(exercise_id)
    if not can_take_part(current_user, exercise):
        raise NotFound()
    return exercise


def _existing_submission(exercise: Exercise) -> Submission | None:
    return db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                         Submission.vendor_id == current_user.vendor_id))


def _own_submission(exercise: Exercise) -> Submission:
    submission = _existing_submission(exercise)
    if submission is None or not owns_submission(current_user, submission):
        raise NotFound()
    return submission


def _to_detail(exercise: Exercise, anchor: str | None = None):
    return redirect(url_for("eoi.exercise_detail", exercise_id=exercise.id, _anchor=anchor))


def _to_edit(exercise: Exercise, anchor: str | None = None):
    return redirect(url_for("eoi.submission_edit", exercise_id=exercise.id, _anchor=anchor))


# --- on the exercise page ---------------------------------------------------------------------------

@bp.post("/exercises/<int:exercise_id>/interest")
@role_required(Role.vendor)
def interest_register(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    if ConfirmForm().validate_on_submit():
        _done, error = _run(register_interest, exercise, actor=_user())
        flash(error or _("Your company's interest is registered. We will tell you about addenda and answers."),
              "error" if error else "success")
    return _to_detail(exercise)


@bp.post("/exercises/<int:exercise_id>/clarifications")
@role_required(Role.vendor)
def clarification_ask(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    form = ClarificationForm()
    if form.validate_on_submit():
        _item, error = _run(ask_clarification, exercise, actor=_user(), question=form.question.data)
        if error is None:
            flash(_("Your question was sent. The answer will be published to all vendors without your company's name."),
                  "success")
            return _to_detail(exercise, "clarifications")
        form.question.errors.append(error)
    return render_exercise_detail(exercise, question_form=form, status=400)


@bp.post("/exercises/<int:exercise_id>/addenda/<int:addendum_id>/acknowledge")
@role_required(Role.vendor)
def addendum_acknowledge(exercise_id: int, addendum_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    addendum = db.session.get(Addendum, addendum_id)
    if addendum is None or addendum.exercise_id != exercise.id:
        raise NotFound()
    if ConfirmForm().validate_on_submit():
        _done, error = _run(acknowledge_addendum, addendum, actor=_user())
        flash(error or _("Addendum no. %(n)s acknowledged.", n=addendum.number), "error" if error else "success")
    return redirect(safe_next_url(request.form.get("next")) or url_for("eoi.exercise_detail", exercise_id=exercise.id,
                                                                       _anchor="addenda"))


# --- subscriptions and notifications ----------------------------------------------------------------

@bp.route("/account/subscriptions", methods=["GET", "POST"])
@role_required(Role.vendor)
def subscriptions():
    clusters = db.session.scalars(sa.select(ServiceCluster).order_by(ServiceCluster.code)).all()
    current = set(db.session.scalars(sa.select(ClusterSubscription.cluster_id).where(
        ClusterSubscription.vendor_id == current_user.vendor_id)))
    form = SubscriptionsForm(clusters=clusters, locale=_locale(), data={"clusters": sorted(current)})
    if form.validate_on_submit():
        _done, error = _run(set_subscriptions, current_user.vendor, set(form.clusters.data or []), actor=_user())
        flash(error or _("Your cluster subscriptions were saved."), "error" if error else "success")
        return redirect(url_for("eoi.subscriptions"))
    return render_template("eoi/vendor/subscriptions.html", form=form), 400 if form.errors else 200


@bp.get("/notifications")
@role_required(Role.vendor)
def notifications():
    notes = db.session.scalars(sa.select(Notification).where(Notification.user_id == current_user.id)
                               .order_by(Notification.created_at.desc(), Notification.id.desc())
                               .limit(NOTIFICATIONS_SHOWN)).all()
    return render_template("eoi/vendor/notifications.html", notes=notes)


@bp.post("/notifications/read")
@role_required(Role.vendor)
def notifications_read():
    if ConfirmForm().validate_on_submit():
        # Not a procurement action (no audit): the user's own reading marks, on the user's own rows.
        db.session.execute(sa.update(Notification).where(Notification.user_id == current_user.id,
                                                         Notification.read_at.is_(None)).values(read_at=now_utc()))
        db.session.commit()
        flash(_("All notifications are marked as read."), "success")
    return redirect(url_for("eoi.notifications"))


# --- the proposal -----------------------------------------------------------------------------------

def _is_open(exercise: Exercise) -> bool:
    """Open for submissions by the server clock (the operations check again when acting)."""
    return exercise.effective_state == ExerciseState.published


def _max_upload() -> int:
    return current_app.config.get("SUBMISSION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD)


def _section_files(files) -> dict:
    grouped: dict = {}
    for item in files:
        grouped.setdefault(item.section_id, []).append(item)
    return grouped


def _history(submission: Submission) -> list[tuple]:
    """(version, status label, receipt Document or None), newest first; the receipts in one query."""
    if submission.current_version_id is None:  # never submitted: no version exists (submit makes each one current)
        return []
    ids = [v.receipt_document_id for v in submission.versions if v.receipt_document_id]
    receipts = {d.id: d for d in db.session.scalars(sa.select(Document).where(Document.id.in_(ids)))} if ids else {}
    rows = []
    for version in reversed(submission.versions):
        if version.withdrawn_at is not None:
            status = _("Withdrawn on %(time)s", time=hk_datetime(version.withdrawn_at))
        elif version.id == submission.current_version_id and submission.state == SubmissionState.submitted:
            status = _("Current")
        else:
            status = _("Replaced")
        rows.append((version, status, receipts.get(version.receipt_document_id)))
    return rows


def _render_edit(submission: Submission, *, draft_form=None, price_form=None, upload_error=None, status=200):
    exercise, locale = submission.exercise, _locale()
    content = technical_content_for(current_user, submission)
    prices = price_content_for(current_user, submission) if exercise.has_price_envelope else None
    editable = _is_open(exercise) and submission.state != SubmissionState.submitted
    draft_form = draft_form or DraftForm.for_sections(exercise.sections, locale, formdata=None, data={
        "draft_version": submission.draft_version,
        **{answer_field_name(s.id): content.answers.get(s.id, "") for s in exercise.sections}})
    if prices is not None and price_form is None:
        price_form = PriceForm.for_items(exercise.price_items, formdata=None, data={
            price_field_name(item_id): f"{amount:,.2f}" for item_id, amount in prices.lines.items()})
    context = {
        "exercise": exercise, "submission": submission, "editable": editable, "is_open": _is_open(exercise),
        "draft_form": draft_form, "price_form": price_form, "upload_error": upload_error or (None, None),
        "answers": content.answers, "files_by_section": _section_files(content.files),
        "word_counts": {s.id: word_count(draft_form[answer_field_name(s.id)].data or "") for s in exercise.sections},
        "price_lines": prices.lines if prices else {},
        "price_total": prices.total(exercise.price_items) if prices else None,
        "problems": completeness_problems(submission, content=content, prices=prices) if editable else [],
        "unacknowledged": unacknowledged_addenda(exercise, submission.vendor_id),
        "history": _history(submission),
        "submit_form": SubmitForm(formdata=None, data={"draft_version": submission.draft_version}),
        "withdraw_form": WithdrawForm(formdata=None),
        "max_upload": _max_upload(),
        "last_saved_by": submission.last_saved_by_id and db.session.get(User, submission.last_saved_by_id),
    }
    return render_template("eoi/vendor/submission_edit.html", **context), status


def _autosave_response(result, error):
    if error:
        return jsonify(ok=False, error=error), 409
    submission = result.submission
    warning = result.overwrote and _("%(name)s saved changes after you opened this page; your save replaced them.",
                                     name=result.overwrote.name)
    return jsonify(ok=True, draft_version=submission.draft_version, warning=warning or None,
                   message=_("Draft saved automatically at %(time)s.", time=hk_datetime(submission.last_saved_at)))


def _start_submission(exercise: Exercise):
    """The company's submission, created as a draft (a POST: a visit alone changes nothing)."""
    try:
        submission = get_or_create_submission(exercise, actor=_user())
    except SubmissionClosed:
        db.session.rollback()  # a visit is not a late submission: nothing to record
        flash(_("This exercise closed at %(time)s. Proposals can no longer be started.",
                time=hk_datetime(exercise.closes_at)), "error")
        return None
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None
    db.session.commit()
    return submission


@bp.post("/exercises/<int:exercise_id>/submission/start")
@role_required(Role.vendor)
def submission_start(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    if not ConfirmForm().validate_on_submit():
        return _to_detail(exercise)
    return redirect(url_for("eoi.submission_edit", exercise_id=exercise.id)) if _start_submission(exercise) \
        else _to_detail(exercise)


@bp.route("/exercises/<int:exercise_id>/submission", methods=["GET", "POST"])
@role_required(Role.vendor)
def submission_edit(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    if request.method == "GET":
        submission = _existing_submission(exercise)
        if submission is None:
            return render_template("eoi/vendor/submission_start.html", exercise=exercise, is_open=_is_open(exercise),
                                   form=ConfirmForm())
        return _render_edit(submission)
    submission = _own_submission(exercise)
    autosave = request.form.get("autosave") == "1"
    form = DraftForm.for_sections(exercise.sections, _locale())
    if not form.validate_on_submit():
        if autosave:
            return jsonify(ok=False, error=_("The draft could not be saved automatically.")), 400
        return _render_edit(submission, draft_form=form, status=400)
    result, error = _run(save_draft, submission, actor=_user(), answers=form.answers(),
                         expected_version=form.draft_version.data)
    if autosave:
        return _autosave_response(result, error)
    if error:
        flash(error, "error")
        return _render_edit(submission, draft_form=form, status=409)
    if result.overwrote:
        flash(_("%(name)s saved changes after you opened this page; your save replaced them. Check the answers below.",
                name=result.overwrote.name), "warning")
    else:
        flash(_("Your draft was saved."), "success")
    return _to_edit(exercise)


def _section_of(exercise: Exercise, section_id: int | None):
    if section_id is None:
        return None
    section = next((s for s in exercise.sections if s.id == section_id), None)
    if section is None:
        raise NotFound()
    return section


@bp.post("/exercises/<int:exercise_id>/submission/files")
@role_required(Role.vendor)
def submission_upload(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    form = UploadForm()
    section = _section_of(exercise, form.section_id.data)
    anchor = f"files-{section.id if section else 'general'}"
    if not form.validate_on_submit():
        return _render_edit(submission, upload_error=(anchor, " ".join(map(str, form.file.errors))), status=400)
    try:
        upload = receive_file(form.file.data.stream, form.file.data.filename, max_bytes=_max_upload())
    except DomainError as exc:
        db.session.rollback()
        return _render_edit(submission, upload_error=(anchor, exc.message), status=400)
    item, error = _run(add_submission_file, submission, upload, actor=_user(), section=section)
    if error:
        flash(error, "error")
        return _to_edit(exercise, anchor)
    flash(_("Received %(name)s: %(size)s, SHA-256 %(sha)s, at %(time)s.", name=item.name,
            size=do_filesizeformat(item.size), sha=item.sha256, time=hk_datetime(item.uploaded_at)), "success")
    return redirect(url_for("eoi.submission_edit", exercise_id=exercise_id, _anchor=anchor))  # no reload after commit


def _own_file(submission: Submission, file_id: int) -> SealedFile:
    try:
        item = file_for(current_user, submission, file_id)
    except SealedContent:
        raise NotFound() from None
    if item is None:
        raise NotFound()
    return item


@bp.get("/exercises/<int:exercise_id>/submission/files/<int:file_id>")
@role_required(Role.vendor)
def submission_file_download(exercise_id: int, file_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    try:
        opened = open_file_for(current_user, _own_submission(exercise), file_id)
    except SealedContent:
        raise NotFound() from None
    if opened is None:
        raise NotFound()
    item, stream = opened
    response = send_file(stream, mimetype=item.content_type, as_attachment=True, download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/exercises/<int:exercise_id>/submission/files/<int:file_id>/remove")
@role_required(Role.vendor)
def submission_file_remove(exercise_id: int, file_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    item = _own_file(submission, file_id)
    anchor = f"files-{item.section_id or 'general'}"
    if ConfirmForm().validate_on_submit():
        name = item.name
        _done, error = _run(remove_submission_file, submission, item.id, actor=_user())
        flash(error or _("%(name)s was removed from your proposal.", name=name), "error" if error else "success")
    return _to_edit(exercise, anchor)


@bp.post("/exercises/<int:exercise_id>/submission/prices")
@role_required(Role.vendor)
def submission_prices(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    if not exercise.has_price_envelope:
        raise NotFound()
    form = PriceForm.for_items(exercise.price_items)
    if not form.validate_on_submit():
        return _render_edit(submission, price_form=form, status=400)
    _done, error = _run(save_prices, submission, actor=_user(), prices=form.prices())
    flash(error or _("Your prices were saved in the sealed price envelope."), "error" if error else "success")
    return _to_edit(exercise, "prices")


@bp.post("/exercises/<int:exercise_id>/submission/submit")
@role_required(Role.vendor)
def submission_submit(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    form = SubmitForm()
    if not form.validate_on_submit():
        flash(_("The page was out of date. Review your proposal and submit again."), "error")
        return _to_edit(exercise, "submit")
    version, error = _run(submit_submission, submission, actor=_user(), draft_version=form.draft_version.data)
    if error:
        flash(error, "error")
        return _to_edit(exercise, "submit")
    flash(_("Your proposal was received at %(time)s (server time). Receipt number: %(number)s.",
            time=hk_datetime(version.submitted_at), number=version.receipt_number), "success")
    return redirect(url_for("eoi.submission_receipt", exercise_id=exercise_id))  # no reload after commit


@bp.get("/exercises/<int:exercise_id>/submission/receipt")
@role_required(Role.vendor)
def submission_receipt(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    history = _history(submission)  # first: it loads every version and receipt, which the lines below then reuse
    version = submission.current_version or (submission.versions[-1] if submission.versions else None)
    if version is None:
        flash(_("Your proposal has not been submitted yet."), "error")
        return _to_edit(exercise)
    document = next((doc for v, _status, doc in history if v is version), None)
    return render_template("eoi/vendor/submission_receipt.html", exercise=exercise, submission=submission,
                           version=version, files=version_manifest_for(current_user, version)["files"], document=document,
                           history=history, withdraw_form=WithdrawForm(formdata=None),
                           is_open=_is_open(exercise))


@bp.post("/exercises/<int:exercise_id>/submission/withdraw")
@role_required(Role.vendor)
def submission_withdraw(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.confirm.errors)) or _("Tick the box to confirm the withdrawal."), "error")
        return redirect(url_for("eoi.submission_receipt", exercise_id=exercise.id, _anchor="withdraw"))
    _done, error = _run(withdraw_submission, submission, actor=_user())
    if error:
        flash(error, "error")
        return redirect(url_for("eoi.submission_receipt", exercise_id=exercise.id, _anchor="withdraw"))
    flash(_("Your proposal was withdrawn. You can edit it and submit again before the closing time."), "success")
    return _to_edit(exercise)


@bp.post("/exercises/<int:exercise_id>/submission/reconfirm")
@role_required(Role.vendor)
def submission_reconfirm(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    if ConfirmForm().validate_on_submit():
        _done, error = _run(reconfirm_submission, submission, actor=_user())
        flash(error or _("You confirmed that your submitted proposal stands."), "error" if error else "success")
    return _to_edit(exercise)
