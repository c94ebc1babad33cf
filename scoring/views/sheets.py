"""A member's score sheet beside the proposal (autosave or plain form; version against silent overwrites), the
proposal's attachments inline, and the moderation page (chair or officer): every sheet, statistics, reopen,
consensus."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy.orm as so

from flask import jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.errors import require
from app.audit import record
from app.errors import DomainError
from app.extensions import db
from app.i18n import hk_datetime, page_language
from eoi import sealed
from eoi.models import Submission
from scoring import bp
from scoring.forms import ConsensusForm, ReasonForm, sheet_form
from scoring.models import Assignment, Criterion, Panel, PanelMember, ScoreSheet
from scoring.states import ScoreSheetState

from scoring.operations import record_consensus, reopen_sheet, save_scores, submit_sheet

from scoring.permissions import (can_moderate, can_read_proposal, can_read_report, can_score, can_see_panel_scores,
                                 can_see_results)
from scoring.queries import moderation_of, results_of, scores_by_criterion, seat_of, technical_criteria_of
from scoring.views.panels import proposal_names


class ProposalWithheld(DomainError):
    """The member's own assignment, but it may not see the proposal now: not declared for every vendor yet, or
    a declared conflict with this vendor (invariant 5). Refused, audited, and sent back to its panel page."""
    default_message = _l("You see a proposal only after declaring, for every vendor, that you have no conflict "
                         "with it; a proposal you declared a conflict with is not yours to score.")
    status_code = 403


class ScoresWithheld(DomainError):
    """A panel member reaching for the panel's scores of a proposal it does not moderate (invariant 6): refused,
    audited, sent back to its panel page without saying anything about the proposal."""
    default_message = _l("The panel's scores are shown to a member only for its own submitted sheets, and to the "
                         "proposal's moderators.")
    status_code = 403


def weighted_total(criteria: list[Criterion], values: dict[int, int | None]) -> Decimal:
    """Σ score / maximum × weight over the scored criteria (the running total shown beside the sheet)."""
    total = sum((Decimal(values[c.id]) / c.max_score * c.weight for c in criteria if values.get(c.id) is not None),
                Decimal(0))
    return total.quantize(Decimal("0.01"))


def _assignment(assignment_id: int) -> Assignment:
    # the member, panel, proposal and exercise every check reads, in the same round trip
    assignment = db.session.get(Assignment, assignment_id, options=[
        so.joinedload(Assignment.member).joinedload(PanelMember.panel),
        so.joinedload(Assignment.submission).joinedload(Submission.exercise)])
    readable = assignment is not None and can_read_proposal(current_user, assignment)
    if assignment is not None and assignment.member.user_id == current_user.id and assignment.member.active \
            and not readable:
        raise ProposalWithheld(redirect_to=url_for("scoring.panel_work", panel_id=assignment.member.panel_id)) \
            .record_after_rollback(lambda: record(current_user, "panel.access_refused", assignment.submission.exercise,
                                                  assignment_id=assignment.id, what="proposal"))
    # 404 for anything else the member may not read: a removed member or another's sheet learns nothing
    if not readable:
        raise NotFound()
    return assignment


def _form_values(form, criteria) -> dict[int, int | None]:
    return {c.id: form[f"s{c.id}"].data for c in criteria}


def _sheet_page(assignment: Assignment, form=None, problems=None, status: int = 200):
    criteria = technical_criteria_of(assignment.submission.exercise)
    sheet = assignment.sheet
    if form is None:
        form = sheet_form(criteria, scores_by_criterion(sheet) if sheet else {}, sheet.version if sheet else 0)
    for criterion_id, message in (problems or {}).items():
        form[f"s{criterion_id}"].errors = [*form[f"s{criterion_id}"].errors, str(message)]
    panel = assignment.member.panel
    content = sealed.content_for_system(assignment.submission, purpose="panel scoring (declared no conflict)")
    return render_template(
        "scoring/sheet.html", assignment=assignment, exercise=panel.exercise, panel=panel, sheet=sheet, form=form,
        criteria=criteria, content=content, name=proposal_names(panel, current_user)[assignment.submission_id],
        total=weighted_total(criteria, _form_values(form, criteria)), can_score=can_score(current_user, assignment),
        max_total=sum((c.weight for c in criteria), Decimal(0)),
        others=_others(panel, assignment) if can_see_panel_scores(current_user, panel, assignment.submission) else None,
    ), status


def _others(panel: Panel, assignment: Assignment):
    from scoring.queries import sheets_for_submission
    return [s for s in sheets_for_submission(panel, assignment.submission)
            if s.assignment_id != assignment.id and s.state == ScoreSheetState.submitted]


@bp.get("/assignments/<int:assignment_id>")
@role_required(Role.panel)
def sheet(assignment_id: int):
    return _sheet_page(_assignment(assignment_id))


@bp.post("/assignments/<int:assignment_id>")
@role_required(Role.panel)
def sheet_save(assignment_id: int):
    """Save (the plain form, or the page's autosave with autosave=1), or save and submit (action=submit)."""
    assignment = _assignment(assignment_id)
    criteria = technical_criteria_of(assignment.submission.exercise)
    form = sheet_form(criteria, formdata=request.form)
    autosave = request.form.get("autosave") == "1"
    on_refusal(render=lambda error: _sheet_page(assignment, form, getattr(error, "problems", None)),
               status=409 if not autosave else 400)
    if not form.validate_on_submit():
        if autosave:
            return jsonify(ok=False, error=_("Not saved: check the marked fields."),
                           fields={k: [str(e) for e in v] for k, v in form.errors.items()}), 400
        return _sheet_page(assignment, form, status=400)
    version = int(form.version.data or 0) if str(form.version.data or "0").isdigit() else -1
    entries = {c.id: (form[f"s{c.id}"].data, form[f"j{c.id}"].data or "") for c in criteria}
    saved = save_scores(assignment, actor=current_user, version=version, entries=entries)
    if request.form.get("action") == "submit":
        submit_sheet(assignment, actor=current_user)
        commit(_("Your score sheet was submitted. You can now see the panel's other scores for this proposal."))
        return redirect(url_for("scoring.sheet", assignment_id=assignment.id))
    # read before the commit expires them (reloading every criterion would double an autosave's statements)
    answer = {"version": saved.version, "total": str(weighted_total(criteria, _form_values(form, criteria))),
              "saved_at": saved.updated_at}
    commit()
    if autosave:
        return jsonify(ok=True, version=answer["version"], total=answer["total"],
                       message=_("Saved at %(time)s.", time=hk_datetime(answer["saved_at"])))
    from flask import flash
    flash(_("Your scores were saved."), "success")
    return redirect(url_for("scoring.sheet", assignment_id=assignment.id))


@bp.get("/assignments/<int:assignment_id>/files/<int:file_id>")
@role_required(Role.panel)
def sheet_file(assignment_id: int, file_id: int):
    """An attachment of the proposal, shown inline (PDFs in the browser's own viewer)."""
    assignment = _assignment(assignment_id)
    described = next((f for f in sealed.content_for_system(assignment.submission, purpose="panel scoring").files
                      if f.id == file_id), None)
    stream = described and sealed.open_file_for_system(assignment.submission, file_id, purpose="panel scoring")
    if stream is None:
        raise NotFound()
    inline = described.content_type == "application/pdf"
    response = send_file(stream, mimetype=described.content_type if inline else "application/octet-stream",
                         as_attachment=not inline, download_name=described.name)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- moderation ---------------------------------------------------------------------------------------------

def _moderated(panel_id: int, submission_id: int) -> tuple[Panel, Submission]:
    panel = db.session.get(Panel, panel_id)
    submission = db.session.get(Submission, submission_id)
    # a chair with a conflict gets the same 404 as for a proposal that does not exist (it sees nothing of it)
    if panel is None or submission is None or submission.exercise_id != panel.exercise_id \
            or not can_moderate(current_user, panel, submission):
        if panel is not None and seat_of(current_user, panel) is not None:  # a member reaching for others' scores
            raise ScoresWithheld(redirect_to=url_for("scoring.panel_work", panel_id=panel.id)).record_after_rollback(
                lambda: record(current_user, "panel.access_refused", panel.exercise, submission_id=submission_id,
                               what="panel scores"))
        raise NotFound()
    return panel, submission


def _chart_data(view: dict) -> dict:
    from scoring.views.report import moderation_chart_data
    return moderation_chart_data(view)


def _moderation_page(panel, submission, *, consensus_form=None, reason_form=None, status=200):
    view = moderation_of(panel, submission)
    forms = {c.id: ConsensusForm(prefix=f"c{c.id}") for c in view["criteria"]}
    if consensus_form is not None:
        forms[int(consensus_form._prefix.strip("c-"))] = consensus_form
    names = proposal_names(panel, current_user)
    sees_results = can_see_results(current_user, panel)
    # the ranking's robustness in plain words (issue 10, item 7), as on the results page, in the reader's names
    robustness = results_of(panel, page_language(), names=names).get("sentences", []) if sees_results else []
    return render_template("scoring/moderation.html", panel=panel, exercise=panel.exercise, submission=submission,
                           name=names[submission.id], robustness=robustness,
                           view=view, confirm=ConfirmForm(), consensus_forms=forms,
                           reason_form=reason_form or ReasonForm(),
                           can_see_results=sees_results,
                           can_read_report=can_read_report(current_user, panel), charts=_chart_data(view)), status


@bp.get("/panels/<int:panel_id>/proposals/<int:submission_id>")
@role_required(Role.officer, Role.panel)
def moderation(panel_id: int, submission_id: int):
    panel, submission = _moderated(panel_id, submission_id)
    return _moderation_page(panel, submission)


@bp.post("/sheets/<int:sheet_id>/reopen")
@role_required(Role.officer, Role.panel)
def sheet_reopen(sheet_id: int):
    score_sheet = db.get_or_404(ScoreSheet, sheet_id)
    panel, submission = _moderated(score_sheet.assignment.member.panel_id, score_sheet.assignment.submission_id)
    form = ReasonForm()
    on_refusal(render=lambda _error: _moderation_page(panel, submission, reason_form=form), field=form.reason)
    if not form.validate_on_submit():
        return _moderation_page(panel, submission, reason_form=form, status=400)
    reopen_sheet(score_sheet, actor=current_user, reason=form.reason.data)
    commit(_("The sheet was reopened; the member was emailed."))
    return redirect(url_for("scoring.moderation", panel_id=panel.id, submission_id=submission.id))


@bp.post("/panels/<int:panel_id>/proposals/<int:submission_id>/criteria/<int:criterion_id>/consensus")
@role_required(Role.officer, Role.panel)
def consensus(panel_id: int, submission_id: int, criterion_id: int):
    panel, submission = _moderated(panel_id, submission_id)
    criterion = db.get_or_404(Criterion, criterion_id)
    form = ConsensusForm(prefix=f"c{criterion.id}")
    on_refusal(render=lambda _error: _moderation_page(panel, submission, consensus_form=form), field=form.value)
    if not form.validate_on_submit():
        return _moderation_page(panel, submission, consensus_form=form, status=400)
    record_consensus(panel, submission, criterion, actor=current_user, value=form.value.data,
                     rationale=form.rationale.data)
    commit(_("The consensus score was recorded."))
    return redirect(url_for("scoring.moderation", panel_id=panel.id, submission_id=submission.id))
