"""Officer actions on evaluation criteria (draft only), and the criteria check before publication."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.extensions import db
from app.i18n import number
from app.guards import ActionRefused, require_role, require_state
from eoi.models import Exercise
from eoi.states import ExerciseState
from scoring.aggregation import PriceFormula
from scoring.models import Criterion, Envelope, EvaluationSettings
from scoring.queries import criteria_of

__all__ = ["CriterionError", "add_criterion", "delete_criterion", "criteria_problems", "set_evaluation_settings",
           "criteria_of"]


class CriterionError(ActionRefused):
    pass


def _require_draft(exercise: Exercise, actor: User) -> None:
    require_role(actor, Role.officer, error=CriterionError)
    require_state(exercise, ExerciseState.draft, error=CriterionError,
                  message=_l("Criteria can be changed only while the exercise is a draft."))


def add_criterion(exercise: Exercise, *, actor: User, name_en: str, name_zh: str, weight: Decimal, max_score: int,
                  pass_mark: int | None, envelope: Envelope, group_en: str = "", group_zh: str = "",
                  guidance_en: str = "", guidance_zh: str = "", descriptors_en: str = "",
                  descriptors_zh: str = "") -> Criterion:
    """Append a criterion (in a group, with guidance and what the levels of its scale mean, in both languages);
    only in draft (criteria are part of what vendors are told). Raises CriterionError."""
    _require_draft(exercise, actor)
    if not (name_en.strip() and name_zh.strip()):
        raise CriterionError(_l("Give the criterion's name in both languages."))
    if envelope == Envelope.price and not exercise.has_price_envelope:
        raise CriterionError(_l("Only an exercise with a price envelope can have price criteria."))
    if pass_mark is not None and pass_mark > max_score:
        raise CriterionError(_l("The pass mark cannot be above the maximum score."))
    existing = criteria_of(exercise)
    criterion = Criterion(exercise_id=exercise.id, position=max((c.position for c in existing), default=0) + 1,
                          name_en=name_en.strip(), name_zh=name_zh.strip(), weight=weight, max_score=max_score,
                          pass_mark=pass_mark, envelope=envelope, group_en=group_en.strip(), group_zh=group_zh.strip(),
                          guidance_en=guidance_en.strip(), guidance_zh=guidance_zh.strip(),
                          descriptors_en=descriptors_en.strip(), descriptors_zh=descriptors_zh.strip())
    db.session.add(criterion)
    db.session.flush()
    record(actor, "exercise.criterion_added", exercise, criterion_id=criterion.id, weight=str(weight),
           envelope=envelope.value)
    return criterion


def delete_criterion(criterion: Criterion, *, actor: User) -> None:
    """Remove a criterion and close the gap in the numbering; only in draft. Raises CriterionError."""
    _require_draft(criterion.exercise, actor)
    exercise = criterion.exercise
    db.session.delete(criterion)
    db.session.flush()
    for position, remaining in enumerate(criteria_of(exercise), start=1):
        remaining.position = position
    record(actor, "exercise.criterion_deleted", exercise, criterion_id=criterion.id)


def criteria_problems(exercise: Exercise) -> list[str]:
    """Criteria are optional until panels score; when given, their weights must add up to 100 within each
    envelope (the technical/price split weighs the envelopes against each other)."""
    problems = []
    for envelope in Envelope:
        criteria = [c for c in criteria_of(exercise) if c.envelope == envelope]
        total = sum((c.weight for c in criteria), Decimal(0))
        if criteria and total != Decimal(100):
            problems.append(str(_l("%(envelope)s envelope: the criteria weights add up to %(total)s%%; they must add "
                                   "up to 100%%.", envelope=envelope.title, total=number(total))))
    return problems


def set_evaluation_settings(exercise: Exercise, *, actor: User, overall_pass_mark: Decimal | None,
                            technical_weight: int | None = None, price_formula: str | None = None) -> EvaluationSettings:
    """The overall technical pass mark and, with a price envelope, the technical/price split and the price formula;
    only in draft (vendors are told them). Raises CriterionError."""
    _require_draft(exercise, actor)
    if overall_pass_mark is not None and not (0 <= overall_pass_mark <= 100):
        raise CriterionError(_l("The overall pass mark is a weighted score from 0 to 100."))
    settings = db.session.get(EvaluationSettings, exercise.id) or EvaluationSettings(exercise_id=exercise.id)
    if exercise.has_price_envelope:
        if technical_weight is None or not (1 <= technical_weight <= 99):
            raise CriterionError(_l("Give the technical share as a whole number from 1 to 99; price takes the rest."))
        if price_formula not in {f.value for f in PriceFormula}:
            raise CriterionError(_l("Choose a price formula."))
        settings.technical_weight, settings.price_formula = technical_weight, price_formula
    else:
        settings.technical_weight = 100
    settings.overall_pass_mark = overall_pass_mark
    db.session.add(settings)
    db.session.flush()
    record(actor, "exercise.evaluation_settings", exercise, overall_pass_mark=str(overall_pass_mark),
           technical_weight=settings.technical_weight, price_formula=settings.price_formula)
    return settings

