"""Pages of the letters: the officer's page that issues an exercise's letters and follows the batch's progress, the
vendor's own letters and their download (another company's letter is a 404), and the panels on the exercise
pages (the officer's link, the public award notice)."""
from __future__ import annotations

from io import BytesIO

from flask import make_response, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.audit import record
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.documents.service import download_name, read_verified
from app.extensions import db
from contracts import bp
from contracts import letters as ops
from contracts import permissions as can
from contracts.decisions import approved_decision, decision_outcomes
from contracts.letter_models import Letter, LetterKind
from eoi.models import Exercise


def _exercise(exercise_id: int) -> Exercise:
    exercise = db.session.get(Exercise, exercise_id)
    if exercise is None:
        raise NotFound()
    return exercise


def _letters_url(exercise: Exercise) -> str:
    return url_for("contracts.exercise_letters", exercise_id=exercise.id)


@bp.get("/letters/exercises/<int:exercise_id>")
@role_required(Role.officer, Role.approver, Role.admin)
def exercise_letters(exercise_id: int):
    """The letters of an exercise: before issuing, who would get which letter (from the ranking); after, the batch's
    progress (the page reloads itself every few seconds while letters are being prepared, no script needed), and
    the letters the approved decision still owes (a replacement award whose letters were deferred)."""
    exercise = _exercise(exercise_id)
    batch = ops.batch_of(exercise)
    ranking = ops.ranking_of(exercise)
    decision = approved_decision(exercise)
    outcomes = decision_outcomes(decision) if decision else {}
    progress = ops.progress_of(batch) if batch else None
    locale = str(get_locale() or "en")
    rows = []
    if not ranking.error and outcomes:
        from app.auth.models import Vendor
        vendors = {v.id: v for v in db.session.query(Vendor).filter(Vendor.id.in_(list(ranking.results)))}
        rows = [{"vendor": vendors[v], "result": r, "kind": LetterKind(outcomes.get(v, "regret"))}
                for v, r in sorted(ranking.results.items(), key=lambda item: item[1].rank)]
    letters = batch.letters if batch else []
    response = make_response(render_template(
        "contracts/letters_exercise.html", exercise=exercise, batch=batch, ranking=ranking, rows=rows,
        progress=progress, letters=letters, locale=locale, form=ConfirmForm(), decision=decision,
        due=ops.letters_due(exercise, outcomes, decision) if batch and outcomes and not ranking.error else [],
        can_issue=can.can_issue_letters(current_user, exercise),
        next_step=_results_step(exercise) if ranking.error and not batch else None))
    if progress is not None and not progress.done:
        response.headers["Refresh"] = "3"  # the progress bar moves without any script
    return response


def _results_step(exercise: Exercise) -> tuple[str, str] | None:
    """Letters wait for the panel's results: where this user goes to get them (form the panel, or follow its
    results), when they may."""
    from scoring.permissions import can_form_panel, can_see_results
    from scoring.queries import panel_of
    panel = panel_of(exercise)
    if panel is None:
        if can_form_panel(current_user, exercise):
            return url_for("scoring.panel_manage", exercise_id=exercise.id), _("Form the assessment panel")
        return None
    if can_see_results(current_user, panel):
        return url_for("scoring.results", panel_id=panel.id), _("Results")
    return None


@bp.post("/letters/exercises/<int:exercise_id>")
@role_required(Role.officer)
def issue_exercise_letters(exercise_id: int):
    exercise = _exercise(exercise_id)
    on_refusal(redirect_to=_letters_url(exercise))
    if ConfirmForm().validate_on_submit():
        decision = approved_decision(exercise)
        if decision is None:
            raise ops.LettersRefused(_l("Letters are issued once an approver has approved the decision on this "
                                        "exercise."))
        outcomes = decision_outcomes(decision)
        due = ops.letters_due(exercise, outcomes, decision)
        ops.issue_letters(exercise, outcomes, actor=current_user, reference=f"{exercise.reference}/L",
                          decision=decision)
        commit(_("%(n)s letters are being prepared and signed; each company is told when its letter is issued.",
                 n=len(due)))
    return redirect(_letters_url(exercise))


@bp.get("/letters")
@role_required(Role.vendor)
def my_letters():
    letters = ops.letters_of_vendor(current_user.vendor_id)
    return render_template("contracts/my_letters.html", letters=letters, locale=str(get_locale() or "en"))


@bp.get("/letters/<int:letter_id>.pdf")
@login_required
def letter_pdf(letter_id: int):
    letter = db.session.get(Letter, letter_id)
    if letter is None or not can.can_view_letter(current_user, letter) or letter.document is None:
        raise NotFound()  # another company's letter: not even its existence
    on_refusal(redirect_to=url_for("contracts.my_letters") if current_user.role == Role.vendor
               else _letters_url(letter.exercise))
    data = read_verified(letter.document)
    record(current_user, "document.downloaded", letter.document, kind="letter")
    commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                         download_name=download_name(letter.document))
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- panels on the exercise pages (registered in contracts.init_app) ----------------------------

def letters_link_panel(exercise: Exercise) -> dict | None:
    """The officer's exercise page links to the letters once the box is opened."""
    return {} if exercise.is_opened else None


def award_notice_panel(exercise: Exercise) -> dict | None:
    if not exercise.is_opened:  # no letter before the opening: the public page spends no query on it
        return None
    return ops.award_notice(exercise)
