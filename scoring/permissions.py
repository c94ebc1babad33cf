"""Who may see and do what in the scoring area (conflicts, blind scoring and segregation of duties come with
panels). Criteria belong to the exercise's set-up, so the exercise's managers own them."""
from __future__ import annotations

from eoi.models import Exercise
from eoi.permissions import can_edit_setup, can_manage_exercise


def can_manage_criteria(user, exercise: Exercise) -> bool:
    """The officers who manage the exercise see and set its evaluation criteria."""
    return can_manage_exercise(user, exercise)


def can_edit_criteria(user, exercise: Exercise) -> bool:
    """Criteria change only while the exercise is a draft: vendors are told them at publication."""
    return can_edit_setup(user, exercise)
