"""Who may see and do what in the scoring area: criteria (the exercise's managers), panels, conflicts of interest
(invariant 5) and blind scoring (invariant 6). Every read of a proposal's content by a panel member goes through
can_read_proposal; every view of others' scores through can_see_panel_scores."""
from __future__ import annotations

from app.auth.models import Role
from eoi.models import Exercise, Submission
from eoi.permissions import can_edit_setup, can_manage_exercise
from eoi.states import ExerciseState
from scoring.models import Assignment, Panel, PanelMember, PanelRole
from scoring.queries import (assignment_for, declarations_of, declared_clear_of, has_declared_for_all, seat_of,
                             sheet_state)
from scoring.states import ScoreSheetState

_PANEL_STATES = frozenset({ExerciseState.published, ExerciseState.closed, ExerciseState.opened,
                           ExerciseState.evaluating})


def can_manage_criteria(user, exercise: Exercise) -> bool:
    """The officers who manage the exercise see and set its evaluation criteria."""
    return can_manage_exercise(user, exercise)


def can_edit_criteria(user, exercise: Exercise) -> bool:
    """Criteria change only while the exercise is a draft: vendors are told them at publication."""
    return can_edit_setup(user, exercise)


def can_form_panel(user, exercise: Exercise) -> bool:
    """An exercise's managers form and change its panel from publication until a decision."""
    return can_manage_exercise(user, exercise) and exercise.state in _PANEL_STATES


def can_assign_proposals(user, panel: Panel) -> bool:
    """Proposals are assigned once the box is opened (there is nothing to score before)."""
    return can_form_panel(user, panel.exercise) and panel.exercise.is_opened


def can_follow_panel(user, panel: Panel) -> bool:
    """Progress (declared, scoring, submitted; never a score): the managers, the chair and the secretary."""
    if can_manage_exercise(user, panel.exercise):
        return True
    seat = seat_of(user, panel)
    return seat is not None and seat.role in (PanelRole.chair, PanelRole.secretary)


def can_remind_panel(user, panel: Panel) -> bool:
    """The chair (or a managing officer) reminds the members who have not submitted."""
    seat = seat_of(user, panel)
    return panel.exercise.is_opened and (can_manage_exercise(user, panel.exercise)
                                         or (seat is not None and seat.role == PanelRole.chair))


def can_declare(user, panel: Panel) -> bool:
    """A scoring member declares its conflicts once the box is opened (the vendors are known then)."""
    seat = seat_of(user, panel)
    return seat is not None and seat.role.scores and panel.exercise.is_opened and panel.exercise.state in _PANEL_STATES


def has_declared_all(member: PanelMember) -> bool:
    """Invariant 5: a member sees no proposal content until it has declared for every vendor of the exercise."""
    return has_declared_for_all(member)


def is_clear_of(member: PanelMember, vendor_id: int) -> bool:
    """The member declared no conflict with this vendor (and has declared for every vendor)."""
    return declared_clear_of(member, vendor_id)


def _own_assignment(user, assignment: Assignment) -> bool:
    member = assignment.member
    return (getattr(user, "is_authenticated", False) and member.user_id == user.id and member.active
            and member.role.scores and assignment.excluded_at is None)


def can_read_proposal(user, assignment: Assignment) -> bool:
    """Invariant 5: the assigned member reads the proposal only after declaring no conflict with its vendor
    (and declaring for every vendor); a removed member, an excluded assignment or a withdrawn proposal: never."""
    if not _own_assignment(user, assignment):
        return False
    submission, exercise = assignment.submission, assignment.submission.exercise
    # _own_assignment made sure the assignment's member is the user's active scoring seat: can_declare's checks
    # without looking the seat up again
    return (exercise.is_opened and exercise.state in _PANEL_STATES and submission.stands
            and is_clear_of(assignment.member, submission.vendor_id))


def can_score(user, assignment: Assignment) -> bool:
    """Score while the sheet is not submitted (draft or reopened by the chair)."""
    return can_read_proposal(user, assignment) and sheet_state(assignment) != ScoreSheetState.submitted


def can_see_panel_scores(user, panel: Panel, submission: Submission) -> bool:
    """Invariant 6 (blind scoring) and 5: a member sees the others' scores for a proposal only once its own sheet
    for it is submitted and it has no conflict with the vendor; moderators see them through can_moderate."""
    seat = seat_of(user, panel)
    if seat is None or not seat.role.scores:
        return False
    assignment = assignment_for(seat, submission)
    return (assignment is not None and can_read_proposal(user, assignment)
            and sheet_state(assignment) == ScoreSheetState.submitted)


def can_moderate(user, panel: Panel, submission: Submission) -> bool:
    """The chair moderates a proposal when clear of its vendor and (if it scores it) after submitting its own
    sheet; a chair with a conflict sees nothing of it, and a managing officer moderates instead."""
    if panel.exercise.state not in _PANEL_STATES or not panel.exercise.is_opened or not submission.stands:
        return False
    if can_manage_exercise(user, panel.exercise) and getattr(user, "role", None) == Role.officer:
        return True
    seat = seat_of(user, panel)
    if seat is None or seat.role != PanelRole.chair or not is_clear_of(seat, submission.vendor_id):
        return False
    own = assignment_for(seat, submission)
    return own is None or own.excluded_at is not None or sheet_state(own) == ScoreSheetState.submitted


def can_see_vendor_identity(user, panel: Panel) -> bool:
    """An exercise may hide the vendors' identities from its panel; officers always see them."""
    return not panel.hide_identities or can_manage_exercise(user, panel.exercise)


def can_see_results(user, panel: Panel) -> bool:
    """The ranking names every proposal: a managing officer, or a chair clear of every vendor (a chair with a
    conflict sees nothing of that proposal, so not the ranking either)."""
    if getattr(user, "role", None) == Role.officer and can_manage_exercise(user, panel.exercise):
        return panel.exercise.is_opened
    seat = seat_of(user, panel)
    if seat is None or seat.role != PanelRole.chair or not has_declared_all(seat):
        return False
    return not any(d.has_conflict for d in declarations_of(seat).values())


def can_read_report(user, panel: Panel) -> bool:
    """The evaluation report names every proposal and carries every member's scores and justifications: for the
    officers who manage the exercise and for approvers, once the box is opened; for the chair only when it is clear of
    every vendor (can_see_results) and moderates every proposal (its own sheets are submitted: blind scoring holds).
    No other panel member, and no secretary, ever."""
    if not panel.exercise.is_opened:
        return False
    role = getattr(user, "role", None)
    if role == Role.officer:
        return can_manage_exercise(user, panel.exercise)
    if role == Role.approver:
        return getattr(user, "is_authenticated", False)
    if not can_see_results(user, panel):
        return False
    from scoring.queries import proposals_of
    return all(can_moderate(user, panel, s) for s in proposals_of(panel))


def report_kind_for(user, panel: Panel) -> str:
    """Which report this reader gets: vendors named, or by letter for a chair of a panel that hides identities."""
    from scoring.report import BLIND_REPORT_KIND, REPORT_KIND
    return REPORT_KIND if can_see_vendor_identity(user, panel) or getattr(user, "role", None) == Role.approver \
        else BLIND_REPORT_KIND


def can_export_scores(user, panel: Panel) -> bool:
    """Every score with its justification, as CSV or Excel: officers who manage the exercise and approvers, once the
    box is opened (the chair reads the report; exports leave the system, so they stay with staff who answer for it)."""
    role = getattr(user, "role", None)
    if not panel.exercise.is_opened or not getattr(user, "is_authenticated", False):
        return False
    return (role == Role.officer and can_manage_exercise(user, panel.exercise)) or role == Role.approver


def can_sign_off(user, panel: Panel) -> bool:
    """The chair signs the technical evaluation off (a chair with a conflict sees nothing of that proposal, so a
    managing officer signs off instead), once, while the exercise is under evaluation; whether the panel is ready
    is scoring.operations.sign_off_problems."""
    if panel.is_signed_off or panel.exercise.state not in _PANEL_STATES or not panel.exercise.is_opened:
        return False
    chair = next((m for m in panel.members if m.active and m.role == PanelRole.chair), None)
    seat = seat_of(user, panel)
    if seat is not None and seat.role == PanelRole.chair:
        return can_see_results(user, panel)
    chair_conflicted = chair is None or any(d.has_conflict for d in declarations_of(chair).values())
    return chair_conflicted and getattr(user, "role", None) == Role.officer and can_manage_exercise(user, panel.exercise)


def can_follow_price_opening(user, panel: Panel) -> bool:
    """The price opening page of a tender: the exercise's officers (only named opening officers start or confirm
    it; the operation checks that, and the chair's sign-off, again)."""
    return (getattr(user, "role", None) == Role.officer and can_manage_exercise(user, panel.exercise)
            and panel.exercise.has_price_envelope and panel.exercise.is_opened)
