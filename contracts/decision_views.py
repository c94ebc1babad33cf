"""Pages of the decisions: the officer records a decision from the panel's recommendation, the approver approves or
returns it, officers answer challenges and make an award final, a company that took part sees its outcome and may
challenge an award during the standstill. Thin: load -> check -> one operation -> commit (app.boundary answers
refusals)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.errors import require
from app.extensions import db
from app.i18n import number
from contracts import bp
from contracts import decisions as dec
from contracts import permissions as can
from contracts.forms import AnswerForm, ChallengeForm, DecisionForm, ReasonForm
from contracts.models import Challenge, Decision
from contracts.states import DecisionState
from eoi.models import Exercise
from eoi.queries import standing_submissions
from eoi.states import ExerciseKind, ExerciseState


def _decision(decision_id: int) -> Decision:
    decision = db.session.get(Decision, decision_id)
    if decision is None or not can.can_view_decisions(current_user):
        raise NotFound()
    return decision


def _url(decision: Decision) -> str:
    return url_for("contracts.decision_detail", decision_id=decision.id)


def _field_error(form):
    def add(error):
        name = getattr(error, "field", None)
        if name and name in form:
            form[name].errors = [*form[name].errors, error.message]
    return add


def proposal_rows(exercise: Exercise) -> list[dict]:
    """Each standing proposal with its technical rank, total and pass/fail (when the panel has results)."""
    results = dec._panel_results(exercise)
    by_id = {int(r.proposal): r for r in results["results"]} if results else {}
    rows = [{"submission": s, "result": by_id.get(s.id)} for s in standing_submissions(exercise)]
    return sorted(rows, key=lambda r: (r["result"] is None, r["result"].rank if r["result"] else 0, r["submission"].id))


def _choices(exercise: Exercise) -> list[tuple[int, str]]:
    choices = []
    for row in proposal_rows(exercise):
        s, r = row["submission"], row["result"]
        facts = (_("rank %(rank)s, %(total)s points, %(outcome)s", rank=r.rank, total=number(r.total),
                   outcome=_("passes") if r.passed else _("fails")) if r else _("no results"))
        choices.append((s.id, f"{s.vendor.display_name(str(get_locale()))} ({facts})"))
    return choices


# --- lists ----------------------------------------------------------------------------------------

@bp.get("/decisions")
@role_required(Role.officer, Role.approver, Role.admin)
def decisions():
    return render_template("contracts/decisions.html", decisions=dec.all_decisions(),
                           awaiting=dec.decisions_awaiting(current_user) if current_user.role == Role.approver else [])


@bp.get("/decisions/mine")
@role_required(Role.vendor)
def my_decisions():
    rows = [{"decision": d, "outcome": dec.decision_outcomes(d).get(current_user.vendor_id)}
            for d in dec.decisions_for_vendor(current_user.vendor_id)]
    return render_template("contracts/my_decisions.html", rows=rows)


# --- recording and revising -----------------------------------------------------------------------

def _form_page(form, exercise, decision=None, status=200):
    return render_template("contracts/decision_form.html", form=form, exercise=exercise, decision=decision,
                           shortlist=exercise.kind == ExerciseKind.eoi,
                           recommended=dec.recommendation_for(exercise), proposed=dec.proposal_for(exercise),
                           rows=proposal_rows(exercise), declined=dec.declined_submission_ids(exercise)), status


@bp.route("/decisions/new/<int:exercise_id>", methods=["GET", "POST"])
@role_required(Role.officer)
def decision_new(exercise_id: int):
    exercise = db.get_or_404(Exercise, exercise_id)
    existing = dec.live_decision(exercise)
    if existing is not None:
        return redirect(_url(existing))
    if (outstanding := dec.evaluation_outstanding(exercise)) is not None:  # no form that could only be refused
        flash(str(outstanding), "error")
        return redirect(url_for("eoi.exercise_manage", exercise_id=exercise.id))
    form = DecisionForm(choices=_choices(exercise))
    if not form.is_submitted():
        form.submissions.data = dec.proposal_for(exercise)
    on_refusal(render=lambda error: (_field_error(form)(error), _form_page(form, exercise, status=400))[1])
    if not form.validate_on_submit():
        return _form_page(form, exercise, status=400 if form.is_submitted() else 200)
    decision = dec.record_decision(exercise, actor=current_user, submission_ids=form.submissions.data,
                                   justification=form.justification.data)
    commit(_("The decision was recorded and sent for approval."))
    return redirect(_url(decision))


@bp.route("/decisions/<int:decision_id>/revise", methods=["GET", "POST"])
@role_required(Role.officer)
def decision_revise(decision_id: int):
    decision = _decision(decision_id)
    require(can.can_revise_decision(current_user, decision))
    exercise = decision.exercise
    form = DecisionForm(choices=_choices(exercise))
    if not form.is_submitted():
        form.submissions.data = [e.submission_id for e in decision.entries]
        form.justification.data = decision.justification
    on_refusal(render=lambda error: (_field_error(form)(error), _form_page(form, exercise, decision, 400))[1])
    if not form.validate_on_submit():
        return _form_page(form, exercise, decision, 400 if form.is_submitted() else 200)
    dec.resubmit_decision(decision, actor=current_user, submission_ids=form.submissions.data,
                          justification=form.justification.data)
    commit(_("The decision was revised and sent for approval again."))
    return redirect(_url(decision))


# --- one decision -----------------------------------------------------------------------------------

def _detail_page(decision: Decision, status: int = 200, **forms):
    user = current_user
    flags = {name: getattr(can, f"can_{name}")(user, decision)
             for name in ("approve_decision", "revise_decision", "finalise_award", "answer_challenges",
                          "decline_award", "create_contract_from")}
    answer_forms = {c.id: AnswerForm(prefix=f"c{c.id}") for c in decision.open_challenges}
    if "answer_form" in forms:
        answer_forms[forms.pop("answer_form_id")] = forms.pop("answer_form")
    forms = {"return_form": ReasonForm(), "decline_form": ReasonForm(prefix="decline"), **forms}
    refusal = (dec.approval_refusal(user, decision)
               if user.role == Role.approver and decision.state == DecisionState.submitted else None)
    tenders = dec.child_tenders(decision)
    invitable = {t.id for t in tenders if can.can_manage_contracts(user) and t.state == ExerciseState.draft
                 and not t.is_scheduled}
    return render_template("contracts/decision_detail.html", decision=decision, flags=flags, confirm=ConfirmForm(),
                           rows=proposal_rows(decision.exercise), chosen=set(e.submission_id for e in decision.entries),
                           outcomes=dec.decision_outcomes(decision), approval_refusal=refusal,
                           tenders=tenders, answer_forms=answer_forms, invitable=invitable,
                           contracts=dec.contracts_from(decision),
                           # everyone who reaches this page may open the letters page (same roles)
                           letters_link=decision.state in (DecisionState.approved, DecisionState.final),
                           **forms), status


@bp.get("/decisions/<int:decision_id>")
@role_required(Role.officer, Role.approver, Role.admin)
def decision_detail(decision_id: int):
    return _detail_page(_decision(decision_id))


@bp.post("/decisions/<int:decision_id>/approve")
@role_required(Role.approver)
def decision_approve(decision_id: int):
    decision = _decision(decision_id)
    on_refusal(redirect_to=_url(decision))
    if ConfirmForm().validate_on_submit():
        dec.approve_decision(decision, actor=current_user)
        commit(_("The decision was approved."))
    return redirect(_url(decision))


@bp.post("/decisions/<int:decision_id>/return")
@role_required(Role.approver)
def decision_return(decision_id: int):
    decision = _decision(decision_id)
    form = ReasonForm()
    on_refusal(render=lambda error: (_field_error(form)(error), _detail_page(decision, 400, return_form=form))[1])
    if not form.validate_on_submit():
        return _detail_page(decision, 400, return_form=form)
    dec.return_decision(decision, actor=current_user, reason=form.reason.data)
    commit(_("The decision was returned to the officer."))
    return redirect(_url(decision))


@bp.post("/decisions/<int:decision_id>/final")
@role_required(Role.officer)
def decision_finalise(decision_id: int):
    decision = _decision(decision_id)
    on_refusal(redirect_to=_url(decision))
    if ConfirmForm().validate_on_submit():
        dec.finalise_award(decision, actor=current_user)
        commit(_("The award is final: the contract can be drawn up."))
    return redirect(_url(decision))


@bp.post("/decisions/<int:decision_id>/decline")
@role_required(Role.officer)
def decision_decline(decision_id: int):
    decision = _decision(decision_id)
    form = ReasonForm(prefix="decline")
    on_refusal(render=lambda error: (_field_error(form)(error), _detail_page(decision, 400, decline_form=form))[1])
    if not form.validate_on_submit():
        return _detail_page(decision, 400, decline_form=form)
    dec.decline_award(decision, actor=current_user, reason=form.reason.data)
    commit(_("The award lapsed. The next-ranked tenderer is proposed: check and record the new decision."))
    return redirect(url_for("contracts.decision_new", exercise_id=decision.exercise_id))


@bp.post("/decisions/<int:decision_id>/invite/<int:tender_id>")
@role_required(Role.officer)
def decision_invite(decision_id: int, tender_id: int):
    decision = _decision(decision_id)
    tender = db.get_or_404(Exercise, tender_id)
    on_refusal(redirect_to=_url(decision))
    if ConfirmForm().validate_on_submit():
        added = dec.invite_shortlist(decision, tender, actor=current_user)
        commit(_("%(n)s companies were invited to %(ref)s.", n=added, ref=tender.reference))
    return redirect(_url(decision))


@bp.post("/challenges/<int:challenge_id>/answer")
@role_required(Role.officer)
def challenge_answer(challenge_id: int):
    challenge = db.get_or_404(Challenge, challenge_id)
    decision = challenge.decision
    form = AnswerForm(prefix=f"c{challenge.id}")
    on_refusal(render=lambda error: (_field_error(form)(error),
                                     _detail_page(decision, 400, answer_form=form, answer_form_id=challenge.id))[1])
    if not form.validate_on_submit():
        return _detail_page(decision, 400, answer_form=form, answer_form_id=challenge.id)
    dec.answer_challenge(challenge, actor=current_user, answer=form.answer.data)
    commit(_("The answer was recorded."))
    return redirect(_url(decision))


# --- the vendor's view ------------------------------------------------------------------------------

def _vendor_page(decision: Decision, form, status=200):
    mine = [c for c in decision.challenges if c.vendor_id == current_user.vendor_id]
    return render_template("contracts/decision_vendor.html", decision=decision, form=form, challenges=mine,
                           outcome=dec.decision_outcomes(decision).get(current_user.vendor_id),
                           may_challenge=can.can_challenge(current_user, decision)), status


@bp.route("/decisions/<int:decision_id>/challenge", methods=["GET", "POST"])
@role_required(Role.vendor)
def decision_challenge(decision_id: int):
    decision = db.session.get(Decision, decision_id)
    form = ChallengeForm()
    if decision is not None and not can.can_view_decision_as_vendor(current_user, decision) \
            and request.method == "POST" and decision.state in dec.ANNOUNCED_STATES and form.validate_on_submit():
        # an approved decision is announced: a company that did not take part is told why it may not challenge it,
        # and the attempt is audited (lodge_challenge refuses it)
        on_refusal(redirect_to=url_for("contracts.my_decisions"))
        dec.lodge_challenge(decision, actor=current_user, text=form.text.data)
    if decision is None or not can.can_view_decision_as_vendor(current_user, decision):
        raise NotFound()  # a decision on an exercise the company did not take part in: not even its existence
    if request.method == "GET":
        return _vendor_page(decision, form)
    on_refusal(render=lambda error: (_field_error(form)(error), _vendor_page(decision, form, 400))[1])
    if not form.validate_on_submit():
        return _vendor_page(decision, form, 400)
    dec.lodge_challenge(decision, actor=current_user, text=form.text.data)
    commit(_("Your challenge was lodged. The procurement office will answer it before the award becomes final."))
    return redirect(url_for("contracts.decision_challenge", decision_id=decision.id))


# --- panels on other pages ----------------------------------------------------------------------------

def approver_home(user) -> dict | None:
    """The approver's queue on the home page (registered in contracts.init_app)."""
    if getattr(user, "role", None) != Role.approver:
        return None
    from app.main import EMPTY_QUEUES
    return {"awaiting": dec.decisions_awaiting(user), "empty": EMPTY_QUEUES[Role.approver]}


def exercise_decision_panel(exercise) -> dict | None:
    """The decision section of an exercise's manage page: the standing decision, or the link to record one."""
    if not can.can_view_decisions(current_user) or exercise.state not in (*dec.DECIDABLE, ExerciseState.concluded):
        return None
    may_record = can.can_record_decision(current_user, exercise)
    # what the officer still waits for before recording one (officer's instructions: not for other readers)
    outstanding = (dec.evaluation_outstanding(exercise) if not may_record and can.can_manage_contracts(current_user)
                   and dec.live_decision(exercise) is None else None)
    return {"decisions": dec.decisions_of(exercise), "may_record": may_record,
            "outstanding": str(outstanding) if outstanding else None}
