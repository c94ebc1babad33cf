"""The results of an evaluation (issue 10, item 6): the ranking and, for a tender, the combined scores; the
chair's sign-off of the technical evaluation; and the officers' price opening page (two named officers, each with
its opening passphrase, as at the technical opening), which opens only the technically compliant tenders' prices."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from app.i18n import page_language
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.errors import require
from app.extensions import db
from eoi import sealed
from eoi.forms.officer import OpeningConfirmForm
from eoi.models import Submission
from eoi.permissions import can_take_part_in_opening
from eoi.queries import latest_opening_record, live_opening, opening_officers_of, opening_verification
from eoi.states import OpeningEnvelope, OpeningState
from scoring import bp
from scoring.documents import PRICE_RECORD_KIND
from scoring.models import Panel
from scoring.operations import (confirm_price_opening, require_price_readable, sign_off_problems, sign_off_technical,
                                start_price_opening)
from scoring.permissions import can_follow_price_opening, can_see_results, can_sign_off
from scoring.queries import proposals_of, results_of, settings_of
from scoring.views.panels import proposal_names


def _visible_panel(panel_id: int) -> Panel:
    panel = db.session.get(Panel, panel_id)
    if panel is None or not can_see_results(current_user, panel):
        raise NotFound()
    return panel


@bp.get("/panels/<int:panel_id>/results")
@role_required(Role.officer, Role.panel)
def results(panel_id: int):
    panel = _visible_panel(panel_id)
    sign_off = can_sign_off(current_user, panel)
    names = proposal_names(panel, current_user)
    return render_template("scoring/results.html", panel=panel, exercise=panel.exercise,
                           view=results_of(panel, page_language(), names=names), names=names, confirm=ConfirmForm(),
                           can_sign_off=sign_off, sign_off_problems=sign_off_problems(panel) if sign_off else [],
                           can_open_prices=can_follow_price_opening(current_user, panel),
                           price_record=_price_record_for(panel),
                           formula_title=FORMULA_TITLES(), tie_breaks={
                               "criterion": _("equal total: higher score on the heaviest differing criterion"),
                               "received_at": _("equal total and scores: received earlier"),
                               "key": _("equal in every respect: by reference")})


def _price_record_for(panel: Panel):
    """The price opening record, for the officers who follow the price opening (staff documents: app.documents)."""
    if not can_follow_price_opening(current_user, panel):
        return None
    return latest_opening_record(panel.exercise, PRICE_RECORD_KIND)


def FORMULA_TITLES() -> dict[str, str]:  # noqa: N802 (read like a constant, translated per request)
    from scoring.forms import PRICE_FORMULA_TITLES
    return {k: str(v) for k, v in PRICE_FORMULA_TITLES.items()}


@bp.post("/panels/<int:panel_id>/sign-off")
@role_required(Role.officer, Role.panel)
def sign_off(panel_id: int):
    panel = _visible_panel(panel_id)
    target = url_for("scoring.results", panel_id=panel.id)
    on_refusal(redirect_to=target)
    if ConfirmForm().validate_on_submit():
        sign_off_technical(panel, actor=current_user)
        commit(_("The technical evaluation is signed off; the scores are frozen."))
    return redirect(target)


# --- the price opening (tenders) ----------------------------------------------------------------------------

def _price_panel(panel_id: int) -> Panel:
    panel = db.get_or_404(Panel, panel_id)
    require(can_follow_price_opening(current_user, panel))
    return panel


def _prices_url(panel: Panel) -> str:
    return url_for("scoring.price_opening", panel_id=panel.id)


@bp.get("/panels/<int:panel_id>/prices")
@role_required(Role.officer)
def price_opening(panel_id: int):
    panel = _price_panel(panel_id)
    exercise = panel.exercise
    opening = live_opening(exercise, OpeningEnvelope.price)
    started = opening is not None and opening.state == OpeningState.started
    named = can_take_part_in_opening(current_user, exercise)
    ready = panel.is_signed_off and bool(panel.compliant) and exercise.price_opened_at is None
    names = proposal_names(panel, current_user)
    compliant = [(sid, names.get(sid, "")) for sid in panel.compliant]
    sealed_ones = [(s.id, names[s.id]) for s in proposals_of(panel) if s.id not in panel.compliant]
    view = results_of(panel, page_language(), names=names) if exercise.price_opened_at is not None else None
    return render_template(
        "scoring/price_opening.html", panel=panel, exercise=exercise, opening_state=opening, form=OpeningConfirmForm(),
        is_named=named, opening_officers=opening_officers_of(exercise), compliant=compliant, kept_sealed=sealed_ones,
        can_start=ready and named and not started, started_by_me=started and opening.started_by_id == current_user.id,
        can_confirm=ready and named and started and opening.started_by_id != current_user.id,
        view=view, verification=opening_verification(exercise, OpeningEnvelope.price), settings=settings_of(exercise),
        formula_title=FORMULA_TITLES(), price_record=latest_opening_record(exercise, PRICE_RECORD_KIND))


def _price_refusal_target(panel: Panel) -> str:
    return _prices_url(panel) if can_follow_price_opening(current_user, panel) else url_for("main.home")


@bp.post("/panels/<int:panel_id>/prices/start")
@role_required(Role.officer, Role.panel)
def price_opening_start(panel_id: int):
    panel = db.get_or_404(Panel, panel_id)
    on_refusal(redirect_to=_price_refusal_target(panel))
    form = OpeningConfirmForm()
    if not form.validate_on_submit():
        flash(_("Enter your opening passphrase to start the opening."), "error")
        return redirect(_price_refusal_target(panel))
    start_price_opening(panel, actor=current_user, passphrase=form.passphrase.data)
    commit(_("The price opening is started. A second officer must now confirm it."))
    return redirect(_prices_url(panel))


@bp.post("/panels/<int:panel_id>/prices/confirm")
@role_required(Role.officer, Role.panel)
def price_opening_confirm(panel_id: int):
    panel = db.get_or_404(Panel, panel_id)
    on_refusal(redirect_to=_price_refusal_target(panel))
    form = OpeningConfirmForm()
    if not form.validate_on_submit():
        flash(_("Enter your opening passphrase to confirm the opening."), "error")
        return redirect(_price_refusal_target(panel))
    confirm_price_opening(panel, actor=current_user, passphrase=form.passphrase.data)
    commit(_("The price envelopes of the technically compliant tenders are opened."))
    return redirect(_prices_url(panel))


@bp.get("/panels/<int:panel_id>/prices/<int:submission_id>")
@role_required(Role.officer)
def tender_prices(panel_id: int, submission_id: int):
    """One tender's price schedule (unit price × quantity per line, the total): compliant tenders only, after
    the price opening; any other is refused and audited."""
    panel = _price_panel(panel_id)
    submission = db.get_or_404(Submission, submission_id)
    if submission.exercise_id != panel.exercise_id:
        raise NotFound()
    on_refusal(redirect_to=_prices_url(panel))
    require_price_readable(panel, submission, actor=current_user)
    content = sealed.price_content_for(current_user, submission)
    items = list(panel.exercise.price_items)
    return render_template("scoring/tender_prices.html", panel=panel, exercise=panel.exercise, submission=submission,
                           name=proposal_names(panel, current_user)[submission.id], items=items, content=content,
                           total=content.total(items))
