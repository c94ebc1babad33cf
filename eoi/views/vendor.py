"""Vendor pages: interest, questions, addenda, subscriptions, notifications, and the proposal from draft to receipt.

Every submission URL is keyed by the exercise and the signed-in user's company, so another company's
submission cannot even be addressed; a file id that is not in the company's own submission is a 404.
"""
from __future__ import annotations

import sqlalchemy.orm as so
from flask import current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadData, URLSafeSerializer
from werkzeug.exceptions import HTTPException, NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.db import now_utc
from app.errors import too_large_response
from app.extensions import db
from app.held_forms import form_fields_without_files, keeps_typed_text, take
from app.boundary import commit, on_refusal
from app.i18n import file_size, hk_datetime, hk_time, safe_next_url, sentences
from app.storage import UploadRejected
from app.notifications import mark_all_read
from eoi import bp, queries
from eoi.forms.vendor import (ClarificationForm, DraftForm, PriceForm, SubscriptionsForm, WithdrawForm,
                              answer_field_name, price_field_name)
from eoi.models import Addendum, Exercise, Submission
from eoi.operations import (acknowledge_addendum, add_submission_file, ask_clarification, completeness_problems,
                            get_or_create_submission, lock_submission_of, reconfirm_submission, register_interest,
                            remove_submission_file, save_on_screen, set_subscriptions, submit_submission,
                            unacknowledged_addenda, withdraw_submission)
from eoi.operations.submissions import DraftConflict, SubmissionError, fingerprint
from eoi.permissions import (can_acknowledge_addenda, can_edit_submission, can_take_part, can_withdraw_submission,
                             must_reconfirm, owns_submission)
from eoi.rules import word_count
from eoi.sealed import (SealedFile, file_for, open_file_for, price_content_for, receive_file,
                        technical_content_for, version_manifest_for)
from eoi.views.public import load_public_exercise, render_exercise_detail

DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024
NOTIFICATIONS_SHOWN = 100


def _locale() -> str:
    return str(get_locale() or "en")


def _user():
    return current_user._get_current_object()


def _exercise_for_vendor(exercise_id: int, *, with_sections: bool = False) -> Exercise:
    """The exercise, if this vendor may take part in it (404 otherwise: an uninvited tender is not theirs);
    with_sections: its sections read by the same statement (the proposal page and its actions use them)."""
    exercise = load_public_exercise(exercise_id, *((so.joinedload(Exercise.sections),) if with_sections else ()))
    if not can_take_part(current_user, exercise):
        raise NotFound()
    return exercise


def _own_submission(exercise: Exercise, *, for_update: bool = False, with_vendor: bool = False) -> Submission:
    """The company's submission (404 if none); for_update: under its row lock, for a request that changes it;
    with_vendor: the company read by the same statement (the receipt names it)."""
    if for_update:
        submission = lock_submission_of(exercise, current_user.vendor_id)
    else:
        submission = queries.submission_of(exercise, current_user.vendor_id,
                                           *((so.joinedload(Submission.vendor),) if with_vendor else ()))
    if submission is None or not owns_submission(current_user, submission):
        raise NotFound()
    return submission


def _detail_url(exercise_id: int, anchor: str | None = None) -> str:
    return url_for("eoi.exercise_detail", exercise_id=exercise_id, _anchor=anchor)


def _edit_url(exercise_id: int, anchor: str | None = None) -> str:
    return url_for("eoi.submission_edit", exercise_id=exercise_id, _anchor=anchor)


def _receipt_url(exercise_id: int, anchor: str | None = None) -> str:
    return url_for("eoi.submission_receipt", exercise_id=exercise_id, _anchor=anchor)


def _on_detail(exercise_id: int) -> Exercise:
    """The exercise; refusals of this request go back to its page."""
    exercise = _exercise_for_vendor(exercise_id)
    on_refusal(redirect_to=_detail_url(exercise_id))
    return exercise


def _on_edit(exercise_id: int, anchor: str | None = None) -> tuple[Exercise, Submission]:
    """The company's exercise and submission; refusals of this request go back to the proposal page."""
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    on_refusal(redirect_to=_edit_url(exercise_id, anchor))
    return exercise, submission


# --- on the exercise page ---------------------------------------------------------------------------

@bp.post("/exercises/<int:exercise_id>/interest")
@role_required(Role.vendor)
def interest_register(exercise_id: int):
    exercise = _on_detail(exercise_id)
    if ConfirmForm().validate_on_submit():
        register_interest(exercise, actor=_user())
        commit(_("Your company's interest is registered. We will tell you about addenda and answers."))
    return redirect(_detail_url(exercise_id))


@bp.post("/exercises/<int:exercise_id>/clarifications")
@role_required(Role.vendor)
def clarification_ask(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    form = ClarificationForm()
    on_refusal(render=lambda _error: render_exercise_detail(exercise, question_form=form), field=form.question)
    if not form.validate_on_submit():
        return render_exercise_detail(exercise, question_form=form, status=400)
    ask_clarification(exercise, actor=_user(), question=form.question.data)
    commit(_("Your question was sent. The answer will be published to all vendors without your company's name."))
    return redirect(_detail_url(exercise_id, "clarifications"))


@bp.post("/exercises/<int:exercise_id>/addenda/<int:addendum_id>/acknowledge")
@role_required(Role.vendor)
def addendum_acknowledge(exercise_id: int, addendum_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    addendum = db.session.get(Addendum, addendum_id)
    if addendum is None or addendum.exercise_id != exercise.id:
        raise NotFound()
    back = safe_next_url(request.form.get("next")) or _detail_url(exercise_id, "addenda")
    on_refusal(redirect_to=back)
    if ConfirmForm().validate_on_submit():
        acknowledge_addendum(addendum, actor=_user())
        commit(_("Addendum no. %(n)s acknowledged.", n=addendum.number))
    return redirect(back)


# --- subscriptions and notifications ----------------------------------------------------------------

@bp.route("/account/subscriptions", methods=["GET", "POST"])
@role_required(Role.vendor)
def subscriptions():
    form = SubscriptionsForm(clusters=queries.service_clusters(), locale=_locale(),
                             data={"clusters": sorted(queries.subscribed_cluster_ids(current_user.vendor_id))})
    on_refusal(render=lambda _error: render_template("eoi/vendor/subscriptions.html", form=form))
    if form.validate_on_submit():
        set_subscriptions(current_user.vendor, set(form.clusters.data or []), actor=_user())
        commit(_("Your cluster subscriptions were saved."))
        return redirect(url_for("eoi.subscriptions"))
    return render_template("eoi/vendor/subscriptions.html", form=form), 400 if form.errors else 200


@bp.get("/notifications")
@role_required(Role.vendor)
def notifications():
    return render_template("eoi/vendor/notifications.html",
                           notes=queries.recent_notifications(current_user, NOTIFICATIONS_SHOWN))


@bp.post("/notifications/read")
@role_required(Role.vendor)
def notifications_read():
    if ConfirmForm().validate_on_submit():
        mark_all_read(current_user)
        commit(_("All notifications are marked as read."))
    return redirect(url_for("eoi.notifications"))


# --- the proposal -----------------------------------------------------------------------------------

def _max_upload() -> int:
    return current_app.config.get("SUBMISSION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD)


def _section_files(files) -> dict:
    grouped: dict = {}
    for item in files:
        grouped.setdefault(item.section_id, []).append(item)
    return grouped


def _history(submission: Submission) -> list[tuple]:
    """(version, status label, receipt Document or None), newest first; the versions and receipts in one query."""
    if submission.current_version_id is None:  # never submitted: no version exists (submit makes each one current)
        return []
    rows = []
    for version, receipt in reversed(queries.versions_with_receipts(submission)):
        if version.withdrawn_at is not None:
            status = _("Withdrawn on %(time)s", time=hk_datetime(version.withdrawn_at))
        elif version.id == submission.current_version_id and submission.is_submitted:
            status = _("Current")
        else:
            status = _("Replaced")
        rows.append((version, status, receipt))
    return rows


class ErrorSlot:
    """Where a refusal of the proposal page's action is shown: the boundary adds the message to `errors`, and the
    error summary at the top links it to `target` (the file input, the submit section) with `next_step`."""

    def __init__(self, target: str = "submit", next_step: str | None = None, label: str | None = None):
        self.target, self.next_step, self.label, self.errors = target, next_step, label, []


def _error_summary(draft_form, price_form, slot: ErrorSlot | None) -> list[tuple[str, str]]:
    """(link target, message) for every problem of the page as sent, in page order, each saying what to do next."""
    items: list[tuple[str, str]] = []
    for form in (draft_form, price_form):
        if form is None:
            continue
        for name, errors in form.errors.items():
            if name == "csrf_token":
                items.append(("save-draft", _("This page had expired, so nothing was saved. What you typed is still "
                                              "below: press Save draft to save it.")))
            elif name in form:
                items.append((form[name].id, f"{form[name].label.text}: {' '.join(map(str, errors))}"))
    if slot is not None and slot.errors:
        message = " ".join(map(str, slot.errors))
        if slot.label:
            message = f"{slot.label}: {message}"
        items.append((slot.target, f"{message} {slot.next_step}" if slot.next_step else message))
    return items


def _unsaved_answers(draft_form, answers: dict[int, str]) -> dict[int, str]:
    """Section id -> the text sent with this request where it differs from what is stored (shown after a refusal)."""
    if draft_form is None:
        return {}
    return {s.id: text for s, text in ((s, (f.data or "").replace("\r\n", "\n")) for s, f in draft_form.answer_fields()
                                       if f.raw_data) if text != answers.get(s.id, "")}


def _message_at(exercise: Exercise) -> str | None:
    """Where on the proposal page the last action's message goes (?at=...): a known place only."""
    at = request.args.get("at") or ""
    known = {"answers", "prices", "submit", "addenda", "files-general", *(f"files-{s.id}" for s in exercise.sections)}
    return at if at in known else None


def _page_token(submission: Submission) -> str:
    """Signed into the proposal page: text held across a sign-in (app.held_forms) goes back only into the
    submission whose page sent it (a form posted from elsewhere cannot plant text in a vendor's page)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="proposal-page").dumps(submission.id)


def _page_token_names(token: str | None, submission: Submission) -> bool:
    try:
        return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="proposal-page").loads(token or "") == submission.id
    except BadData:
        return False


def _base_name(kind: str, key: int) -> str:
    return f"base-{kind}-{key}"


def _loaded_from_request() -> dict | None:
    """What the page was loaded with ({(kind, id): fingerprint}), from its hidden base-* fields; None if not sent."""
    loaded = {}
    for name, value in request.form.items():
        kind, _, key = name.removeprefix("base-").partition("-")
        if name.startswith("base-") and kind in ("answer", "price") and key.isdigit():
            loaded[(kind, int(key))] = value
    return loaded or None


def _render_edit(submission: Submission, *, draft_form=None, price_form=None, slot: ErrorSlot | None = None,
                 status=200, theirs: dict | None = None, fields=None):
    exercise, locale = submission.exercise, _locale()
    content = technical_content_for(current_user, submission)
    prices = price_content_for(current_user, submission) if exercise.has_price_envelope else None
    # What this page is loaded with (three-way save, gap c): the stored values now, unless the page re-shows a sent
    # form that was not saved (it keeps the bases it was loaded with); after a conflict, the stored ones, so that the
    # combined text can be saved.
    bases = {_base_name("answer", s.id): fingerprint(content.answers.get(s.id, "")) for s in exercise.sections}
    if prices is not None and not prices.sealed:
        bases |= {_base_name("price", i.id): fingerprint(prices.lines[i.id]) if i.id in prices.lines else fingerprint("")
                  for i in exercise.price_items}
    sent_fields = fields if fields is not None else (request.form if request.method == "POST" else None)
    if draft_form is not None and not theirs and sent_fields is not None:
        bases |= {name: value for name, value in sent_fields.items() if name in bases}
    if draft_form is not None and theirs:
        draft_form.draft_version.data = submission.draft_version
        draft_form.draft_version.raw_data = [str(submission.draft_version)]
    editable = can_edit_submission(current_user, submission)
    sent = draft_form is not None
    draft_form = draft_form or DraftForm.for_sections(exercise.sections, locale, formdata=None, data={
        "draft_version": submission.draft_version,
        **{answer_field_name(s.id): content.answers.get(s.id, "") for s in exercise.sections}})
    if prices is not None and price_form is None:
        price_form = PriceForm.for_items(exercise.price_items, formdata=None, meta={"csrf": False}, data={
            price_field_name(item_id): f"{amount:,.2f}" for item_id, amount in prices.lines.items()})
    unsaved = _unsaved_answers(draft_form, content.answers) if sent else {}
    typed_prices = price_form is not None and sent and any(
        (f.data or "").strip() and (f.data or "").replace(",", "").strip() != f"{prices.lines.get(i.id, '')}"
        for i, f in price_form.item_fields())
    context = {
        "exercise": exercise, "submission": submission, "editable": editable, "is_open": exercise.is_open,
        "submitted": submission.is_submitted,
        "draft_form": draft_form, "price_form": price_form,
        "errors": _error_summary(draft_form, price_form, slot) if sent else [],
        "unsaved": unsaved, "has_unsaved": bool(unsaved) or typed_prices,
        "message_at": _message_at(exercise) if not sent else None,
        "answers": content.answers, "files_by_section": _section_files(content.files),
        "word_counts": {s.id: word_count(draft_form[answer_field_name(s.id)].data or "") for s in exercise.sections},
        "price_lines": prices.lines if prices else {},
        "price_total": prices.total(exercise.price_items) if prices else None,
        "problems": completeness_problems(submission, content=content, prices=prices) if editable else [],
        "unacknowledged": (unacknowledged_addenda(exercise, submission.vendor_id)
                           if can_acknowledge_addenda(current_user, exercise) else []),
        "history": _history(submission),
        "withdraw_form": WithdrawForm(formdata=None),
        "max_upload": _max_upload(),
        "last_saved_by": queries.user_by_id(submission.last_saved_by_id),
        "bases": bases, "page_token": _page_token(submission),
        "theirs_answers": {key: value for (kind, key), value in (theirs or {}).items() if kind == "answer"},
        "theirs_prices": {key: value for (kind, key), value in (theirs or {}).items() if kind == "price"},
        "theirs_by": getattr(theirs, "by", None),
    }
    context["server_now"] = now_utc()  # the upload warning near closing reckons with the server's clock
    return render_template("eoi/vendor/submission_edit.html", **context), status


def _restore_to_page(exercise_id: int, **_args) -> str:
    """Where the typed text of any proposal action goes back to after signing in again (app.held_forms)."""
    return url_for("eoi.submission_edit", exercise_id=exercise_id)


@bp.post("/exercises/<int:exercise_id>/submission/start")
@role_required(Role.vendor)
def submission_start(exercise_id: int):
    exercise = _on_detail(exercise_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(_detail_url(exercise_id))
    get_or_create_submission(exercise, actor=_user())  # a POST: a visit alone changes nothing
    commit()
    return redirect(_edit_url(exercise_id))


@bp.get("/exercises/<int:exercise_id>/submission")
@role_required(Role.vendor)
def submission_edit(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id, with_sections=True)
    submission = queries.submission_of(exercise, current_user.vendor_id)
    if submission is None:
        return render_template("eoi/vendor/submission_start.html", exercise=exercise, is_open=exercise.is_open,
                               form=ConfirmForm())
    if not owns_submission(current_user, submission):
        raise NotFound()
    held = take(url_for("eoi.submission_edit", exercise_id=exercise_id))
    if held is not None and _page_token_names(held.get("page_token"), submission):
        # Typed before the session expired (app.held_forms): back in the fields, not saved until the vendor saves.
        draft, prices = _forms_from(exercise, held)
        flash(_("What you typed before you were signed out is back below. It is not saved yet: check it, then press "
                "Save draft. Files you had chosen were not kept: choose them again."), "warning")
        return _render_edit(submission, draft_form=draft, price_form=prices, fields=held)
    return _render_edit(submission)


def _forms_from(exercise: Exercise, formdata):
    """The page's answer and price forms filled from formdata (held or read past the size limit), not validated."""
    draft = DraftForm.for_sections(exercise.sections, _locale(), formdata=formdata, meta={"csrf": False})
    prices = (PriceForm.for_items(exercise.price_items, formdata=formdata, meta={"csrf": False})
              if exercise.has_price_envelope else None)
    return draft, prices


@bp.errorhandler(413)
def proposal_too_large(_exc):
    """A proposal page sent with more than MAX_CONTENT_LENGTH (files chosen without JavaScript): its text fields are
    read with the files discarded, and the page comes back with them, unsaved, and the limit. Elsewhere: the
    application's page saying the limit."""
    view = current_app.view_functions.get(request.endpoint or "")
    proposal_post = getattr(view, "keeps_typed_text", None) is _restore_to_page  # the proposal page's actions
    if not proposal_post or not current_user.is_authenticated or current_user.role != Role.vendor:
        return too_large_response()
    try:
        exercise = _exercise_for_vendor(request.view_args["exercise_id"])
        submission = _own_submission(exercise)
    except HTTPException:
        return too_large_response()
    fields = form_fields_without_files()
    draft, prices = _forms_from(exercise, fields)
    slot = ErrorSlot("upload-general", next_step=_(
        "What you typed is kept below but is not saved yet: press Save draft first, then upload the files one at a "
        "time (each up to %(each)s).", each=file_size(_max_upload())))
    slot.errors.append(_("The files you chose add up to more than %(limit)s, the most the page can send at once, so "
                         "nothing was saved.", limit=file_size(current_app.config.get("MAX_CONTENT_LENGTH"))))
    return _render_edit(submission, draft_form=draft, price_form=prices, slot=slot, status=413, fields=fields)


def _section_of(exercise: Exercise, section_id: int | None):
    if section_id is None:
        return None
    section = next((s for s in exercise.sections if s.id == section_id), None)
    if section is None:
        raise NotFound()
    return section


def _file_key(section) -> str:
    return str(section.id) if section else "general"


def _chosen_files(exercise: Exercise) -> list[tuple[object, object]]:
    """(section or None, the uploaded file) for every file input of the page that has a file chosen."""
    chosen = []
    for section in [*exercise.sections, None]:
        storage = request.files.get(f"file-{_file_key(section)}")
        if storage is not None and storage.filename:
            chosen.append((section, storage))
    single = request.files.get("file")  # a client that sends one file and its section (section_id) only
    if single is not None and single.filename:
        chosen.append((_section_of(exercise, request.form.get("section_id", type=int)), single))
    return chosen


def _theirs_of(error) -> dict | None:
    """A colleague's stored values that clash with this page's (DraftConflict), with who saved them."""
    if not isinstance(error, DraftConflict):
        return None
    theirs = _Theirs(error.theirs)
    theirs.by = error.by
    return theirs


class _Theirs(dict):
    by = None


def _proposal_action(exercise_id: int, action: str, act=None):
    """Every action of the proposal page (save, upload, remove a file, acknowledge an addendum, submit) is one POST of
    the whole page: what the vendor typed (answers, prices) and chose (files) is saved first, then the action runs,
    all in one transaction. A refusal or an invalid field rolls it all back and shows the page again with everything
    typed still in it and the problems summarised at the top; success goes back to where the vendor was.

    act(exercise, submission, form, result) -> (message, url or None) does the action after the save."""
    exercise = _exercise_for_vendor(exercise_id, with_sections=True)
    submission = _own_submission(exercise, for_update=True)
    draft = DraftForm.for_sections(exercise.sections, _locale())
    prices = PriceForm.for_items(exercise.price_items, meta={"csrf": False}) if exercise.has_price_envelope else None
    slot = ErrorSlot()
    def refused(error):
        theirs = _theirs_of(error)
        if theirs:  # the summary links to the first place both changed
            kind, key = sorted(theirs, key=lambda k: (k[0] != "answer", k[1]))[0]
            slot.target, slot.next_step = (answer_field_name(key) if kind == "answer" else price_field_name(key)), None
        return _render_edit(submission, draft_form=draft, price_form=prices, slot=slot, theirs=theirs)
    on_refusal(render=refused,
               field=slot, status=400 if action == "upload" else 409)
    autosave = request.form.get("autosave") == "1"
    valid = draft.validate_on_submit() & (prices.validate() if prices is not None else True)
    if not valid:
        if autosave:
            problems = _error_summary(draft, prices, None)
            return jsonify(ok=False, status=400, error=_("Not saved: %(problems)s", problems=sentences(
                text for _target, text in problems))), 400
        return _render_edit(submission, draft_form=draft, price_form=prices, status=400)
    result = save_on_screen(submission, actor=_user(), answers=draft.answers(),
                            prices=prices.prices() if prices is not None else None,
                            expected_version=draft.draft_version.data, action=action, loaded=_loaded_from_request())
    received = []
    if not autosave:
        for section, storage in _chosen_files(exercise):
            slot.target = f"upload-{_file_key(section)}"
            slot.label = (_("File for section %(n)s", n=section.position) if section else _("Other attachments"))
            slot.next_step = _("Choose the file again and press Upload: a browser forgets a chosen file after an "
                               "error. What you typed is kept below but is not saved yet.")
            upload = receive_file(storage.stream, storage.filename, max_bytes=_max_upload())
            received.append((section, add_submission_file(submission, upload, actor=_user(), section=section)))
    slot.target, slot.next_step, slot.label = "submit", _("What you typed is kept below but is not saved yet."), None
    message, url = act(exercise, submission, draft, result) if act else (None, None)
    # Where the page goes back to, taken before the commit expires the sections (no reload after it)
    files_at = f"files-{_file_key(received[0][0])}" if received else None
    commit()
    submission = result.submission
    if autosave:
        warning = result.overwrote and _("%(name)s saved changes after you opened this page; your save replaced "
                                         "them.", name=result.overwrote.name)
        saved_at = submission.last_saved_at
        content = technical_content_for(current_user, submission)
        bases = {_base_name("answer", s.id): fingerprint(content.answers.get(s.id, "")) for s in exercise.sections}
        if exercise.has_price_envelope:
            lines = price_content_for(current_user, submission).lines
            bases |= {_base_name("price", i.id): fingerprint(lines.get(i.id, "")) for i in exercise.price_items}
        for kind, key in result.kept_theirs:  # the page still shows the old text there: it must not look edited
            bases.pop(_base_name(kind, key), None)
        if result.kept_theirs:
            warning = _("A colleague changed other parts of this proposal after you opened this page; their changes "
                        "are kept. Reload the page to see them.")
        return jsonify(ok=True, draft_version=submission.draft_version, warning=warning or None, bases=bases,
                       message=_("Saved at %(time)s", time=hk_time(saved_at)) if saved_at else "",
                       last_saved=f"{hk_datetime(saved_at)} · {current_user.name}" if result.saved else None)
    if result.overwrote:
        flash(_("%(name)s saved changes after you opened this page; your save replaced them. Check the answers below.",
                name=result.overwrote.name), "warning")
    if result.kept_theirs:
        flash(_("A colleague changed other parts of this proposal after you opened the page. Their changes are kept "
                "below, with yours."), "warning")
    elif result.saved and not url:  # a submit says so in its own message
        flash(_("Your draft was saved."), "success")
    for _section, item in received:
        flash(_("Received %(name)s: %(size)s, SHA-256 %(sha)s, at %(time)s.", name=item.name,
                size=file_size(item.size), sha=item.sha256, time=hk_datetime(item.uploaded_at)), "success")
    if message:
        flash(message, "success")
    elif not received and not result.saved:
        flash(_("Your draft is saved: nothing had changed since the last save."), "success")
    if url:
        return redirect(url)
    at = request.form.get("at") or files_at or "answers"
    return redirect(url_for("eoi.submission_edit", exercise_id=exercise_id, at=at, _anchor="message"))


@bp.post("/exercises/<int:exercise_id>/submission")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_save(exercise_id: int):
    """Save draft (the button, and the page's autosave): answers, prices and any chosen files."""
    return _proposal_action(exercise_id, "save")


@bp.post("/exercises/<int:exercise_id>/submission/files")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_upload(exercise_id: int):
    """Upload: the chosen files, after what was typed is saved."""
    def act(exercise, submission, form, result):
        if not request.files or not _chosen_files(exercise):
            raise UploadRejected(_("Choose a file to upload."))
        return None, None
    return _proposal_action(exercise_id, "upload", act)


def _own_file(submission: Submission, file_id: int) -> SealedFile:
    """One of the company's own files (read through the sealed box's door; any other id is a 404). The
    submission is the company's own, so the door never refuses it as sealed."""
    item = file_for(current_user, submission, file_id)
    if item is None:
        raise NotFound()
    return item


@bp.get("/exercises/<int:exercise_id>/submission/files/<int:file_id>")
@role_required(Role.vendor)
def submission_file_download(exercise_id: int, file_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    opened = open_file_for(current_user, _own_submission(exercise), file_id)  # the company's own: never sealed
    if opened is None:
        raise NotFound()
    item, stream = opened
    response = send_file(stream, mimetype=item.content_type, as_attachment=True, download_name=item.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/exercises/<int:exercise_id>/submission/files/<int:file_id>/remove")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_file_remove(exercise_id: int, file_id: int):
    def act(exercise, submission, form, result):
        item = _own_file(submission, file_id)
        remove_submission_file(submission, item.id, actor=_user())
        return _("%(name)s was removed from your proposal.", name=item.name), None
    return _proposal_action(exercise_id, "remove_file", act)


@bp.post("/exercises/<int:exercise_id>/submission/prices")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_prices(exercise_id: int):
    """Save prices (the button in the price schedule): the whole page is saved, prices included."""
    exercise = _exercise_for_vendor(exercise_id)
    if not exercise.has_price_envelope:
        raise NotFound()
    return _proposal_action(exercise_id, "price",
                            lambda *_args: (_("Your prices were saved in the sealed price envelope."), None))


@bp.post("/exercises/<int:exercise_id>/submission/addenda/<int:addendum_id>/acknowledge")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_addendum_acknowledge(exercise_id: int, addendum_id: int):
    """Acknowledge an addendum from the proposal page: what was typed is saved first."""
    def act(exercise, submission, form, result):
        addendum = db.session.get(Addendum, addendum_id)
        if addendum is None or addendum.exercise_id != exercise.id:
            raise NotFound()
        acknowledge_addendum(addendum, actor=_user())
        return _("Addendum no. %(n)s acknowledged.", n=addendum.number), None
    return _proposal_action(exercise_id, "acknowledge", act)


@bp.post("/exercises/<int:exercise_id>/submission/submit")
@keeps_typed_text(_restore_to_page)
@role_required(Role.vendor)
def submission_submit(exercise_id: int):
    """Submit what is on screen: the typed answers and prices and any chosen file are saved, then submitted."""
    def act(exercise, submission, form, result):
        if result.kept_theirs:  # saved, but what is stored now is not what this vendor saw: it reviews it first
            flash(_("Nothing was submitted: a colleague changed this proposal after you opened the page. Your changes "
                    "are saved with theirs. Review the proposal below, then submit."), "warning")
            return None, None
        if result.overwrote:
            raise SubmissionError(_("%(name)s saved changes after you opened this page. Nothing was submitted: review "
                                    "the answers below and submit again.", name=result.overwrote.name))
        submission = result.submission
        # Saved just now (or resent after it was submitted: the same receipt): submit what is stored, which is what
        # is on screen. Otherwise the version this page was loaded with, so a colleague's change since it was loaded
        # is refused rather than submitted unseen.
        fresh = result.saved or _chosen_files(exercise) or submission.is_submitted
        draft_version = submission.draft_version if fresh else form.draft_version.data
        if draft_version is None:
            raise SubmissionError(_("The page was out of date. Review your proposal and submit again."))
        version = submit_submission(submission, actor=_user(), draft_version=draft_version)
        return (_("Your proposal was received at %(time)s (server time). Receipt number: %(number)s.",
                  time=hk_datetime(version.submitted_at), number=version.receipt_number), _receipt_url(exercise_id))
    return _proposal_action(exercise_id, "submit", act)


@bp.get("/exercises/<int:exercise_id>/submission/receipt")
@role_required(Role.vendor)
def submission_receipt(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise, with_vendor=True)
    history = _history(submission)  # first: it loads every version and receipt, which the lines below then reuse
    version = submission.current_version or (submission.versions[-1] if submission.versions else None)
    if version is None:
        flash(_("Your proposal has not been submitted yet."), "error")
        return redirect(_edit_url(exercise_id))
    document = next((doc for v, _status, doc in history if v is version), None)
    return render_template("eoi/vendor/submission_receipt.html", exercise=exercise, submission=submission,
                           version=version, files=version_manifest_for(current_user, version)["files"],
                           document=document, history=history, withdraw_form=WithdrawForm(formdata=None),
                           can_withdraw=can_withdraw_submission(current_user, submission),
                           must_reconfirm=must_reconfirm(current_user, submission))


@bp.post("/exercises/<int:exercise_id>/submission/withdraw")
@role_required(Role.vendor)
def submission_withdraw(exercise_id: int):
    exercise = _exercise_for_vendor(exercise_id)
    submission = _own_submission(exercise)
    on_refusal(redirect_to=_receipt_url(exercise_id, "withdraw"))
    form = WithdrawForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.confirm.errors)) or _("Tick the box to confirm the withdrawal."), "error")
        return redirect(_receipt_url(exercise_id, "withdraw"))
    withdraw_submission(submission, actor=_user())
    commit(_("Your proposal was withdrawn. You can edit it and submit again before the closing time."))
    return redirect(_edit_url(exercise_id))


@bp.post("/exercises/<int:exercise_id>/submission/reconfirm")
@role_required(Role.vendor)
def submission_reconfirm(exercise_id: int):
    exercise, submission = _on_edit(exercise_id)
    if ConfirmForm().validate_on_submit():
        reconfirm_submission(submission, actor=_user())
        commit(_("You confirmed that your submitted proposal stands."))
    return redirect(_edit_url(exercise_id))
