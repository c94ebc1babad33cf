"""Officer pages of the scoring area: an exercise's evaluation criteria."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.errors import require
from app.extensions import db
from eoi.models import Exercise
from scoring import bp
from scoring.forms import PRICE_FORMULA_TITLES, CriterionForm, EvaluationSettingsForm
from scoring.models import Criterion, Envelope
from scoring.operations import add_criterion, criteria_problems, delete_criterion, set_evaluation_settings
from scoring.permissions import can_edit_criteria, can_manage_criteria
from scoring.queries import criteria_of, settings_of


def criteria_panel(exercise: Exercise) -> dict | None:
    """The public exercise page's panel (registered in scoring.init_app): the criteria by group, with guidance,
    scale descriptors, pass marks and how the envelopes combine, if any criteria are set."""
    criteria = criteria_of(exercise)
    if not criteria:
        return None
    settings = settings_of(exercise)
    return {"criteria": criteria, "settings": settings, "price_formula": PRICE_FORMULA_TITLES.get(settings.price_formula)}


def criteria_link_panel(exercise: Exercise) -> dict:
    """The officer's exercise page links to the criteria page."""
    return {}


def _exercise(exercise_id: int) -> Exercise:
    exercise = db.get_or_404(Exercise, exercise_id)
    require(can_manage_criteria(current_user, exercise))
    return exercise


def _criteria_url(exercise: Exercise) -> str:
    return url_for("scoring.criteria", exercise_id=exercise.id)


def _page(exercise: Exercise, form: CriterionForm, status: int = 200, settings_form=None):
    settings = settings_of(exercise)
    if settings_form is None:
        settings_form = EvaluationSettingsForm(formdata=None, overall_pass_mark=settings.overall_pass_mark,
                                               technical_weight=settings.technical_weight,
                                               price_formula=settings.price_formula)
    return render_template("scoring/criteria.html", exercise=exercise, form=form, criteria=criteria_of(exercise),
                           problems=criteria_problems(exercise), confirm=ConfirmForm(), settings=settings,
                           settings_form=settings_form, price_formula=PRICE_FORMULA_TITLES.get(settings.price_formula),
                           can_edit=can_edit_criteria(current_user, exercise)), status


@bp.route("/exercises/<int:exercise_id>/criteria", methods=["GET", "POST"])
@role_required(Role.officer)
def criteria(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = CriterionForm(price_envelope=exercise.has_price_envelope)
    on_refusal(render=lambda _error: _page(exercise, form))
    if not form.validate_on_submit():
        return _page(exercise, form, 400 if form.is_submitted() else 200)
    add_criterion(exercise, actor=current_user, name_en=form.name_en.data, name_zh=form.name_zh.data,
                  weight=form.weight.data, max_score=form.max_score.data, pass_mark=form.pass_mark.data,
                  envelope=Envelope(form.envelope.data), group_en=form.group_en.data or "",
                  group_zh=form.group_zh.data or "", guidance_en=form.guidance_en.data or "",
                  guidance_zh=form.guidance_zh.data or "", descriptors_en=form.descriptors_en.data or "",
                  descriptors_zh=form.descriptors_zh.data or "")
    commit(_("The criterion was added."))
    return redirect(_criteria_url(exercise))


@bp.post("/criteria/<int:criterion_id>/delete")
@role_required(Role.officer)
def criterion_delete(criterion_id: int):
    criterion = db.get_or_404(Criterion, criterion_id)
    exercise = criterion.exercise
    require(can_manage_criteria(current_user, exercise))
    on_refusal(redirect_to=_criteria_url(exercise))
    if ConfirmForm().validate_on_submit():
        delete_criterion(criterion, actor=current_user)
        commit(_("The criterion was deleted."))
    return redirect(_criteria_url(exercise))


@bp.post("/exercises/<int:exercise_id>/evaluation-settings")
@role_required(Role.officer)
def evaluation_settings(exercise_id: int):
    exercise = _exercise(exercise_id)
    form = EvaluationSettingsForm()
    criterion_form = CriterionForm(formdata=None, price_envelope=exercise.has_price_envelope)
    on_refusal(render=lambda _error: _page(exercise, criterion_form, settings_form=form))
    if not form.validate_on_submit():
        return _page(exercise, criterion_form, 400, settings_form=form)
    set_evaluation_settings(exercise, actor=current_user, overall_pass_mark=form.overall_pass_mark.data,
                            technical_weight=form.technical_weight.data, price_formula=form.price_formula.data)
    commit(_("The evaluation settings were saved."))
    return redirect(_criteria_url(exercise))
