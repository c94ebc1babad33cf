"""Officer actions on evaluation criteria (draft only), and the criteria check before publication."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.extensions import db
from app.guards import ActionRefused, require_role, require_state
from eoi.models import Exercise
from eoi.states import ExerciseState
from scoring.models import Criterion, Envelope
from scoring.queries import criteria_of


class CriterionError(ActionRefused):
    pass


def _require_draft(exercise: Exercise, actor: User) -> None:
    require_role(actor, Role.officer, error=CriterionError)
    require_state(exercise, ExerciseState.draft, error=CriterionError,
                  message=_l("Criteria can be changed only while the exercise is a draft."))


def add_criterion(exercise: Exercise, *, actor: User, name_en: str, name_zh: str, weight: Decimal, max_score: int,
                  pass_mark: int | None, envelope: Envelope) -> Criterion:
    """Append a criterion; only in draft (criteria are part of what vendors are told). Raises CriterionError."""
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
                          pass_mark=pass_mark, envelope=envelope)
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
    """Criteria are optional until panels score; when given, their weights must add up to 100."""
    criteria = criteria_of(exercise)
    total = sum((c.weight for c in criteria), Decimal(0))
    if criteria and total != Decimal(100):
        return [str(_l("The criteria weights add up to %(total)s%%; they must add up to 100%%.", total=f"{total.normalize():f}"))]
    return []

