"""Who may see and do what in exercises. The sealed box and vendors-see-only-their-own live here."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from eoi.models import Exercise, Invitation, OpeningOfficer, Submission
from eoi.states import EXERCISE_TRANSITIONS, ExerciseState

MANAGERS = frozenset({Role.officer})
PUBLIC_STATES = frozenset(set(ExerciseState) - {ExerciseState.draft})
_OPENING_STATES = frozenset({ExerciseState.published, ExerciseState.closed, ExerciseState.opened,
                             ExerciseState.evaluating, ExerciseState.decided, ExerciseState.concluded})


def is_public(exercise: Exercise) -> bool:
    """Published at some time: never a draft, nor a draft cancelled before its publication (its texts stay private)."""
    return exercise.state in PUBLIC_STATES and (exercise.state != ExerciseState.cancelled
                                                or exercise.published_at is not None)


def public_condition():
    """is_public as a WHERE clause."""
    return sa.and_(Exercise.state.in_(PUBLIC_STATES),
                   sa.or_(Exercise.state != ExerciseState.cancelled, Exercise.published_at.is_not(None)))


def is_officer(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.role in MANAGERS


def can_manage_exercise(user, exercise: Exercise) -> bool:
    """Officers set up, publish, answer, issue addenda and open this exercise (every officer manages every
    exercise today; a named team per exercise would narrow it here, and every officer route follows)."""
    return is_officer(user) and exercise is not None


def can_edit_setup(user, exercise: Exercise) -> bool:
    """The set-up (sections, price lines, documents, invitations) changes only while the exercise is a draft;
    after publication it changes only by an addendum. A draft whose publication is ordered for its date is locked too
    (what the officer confirmed is what is published; withdrawing the order unlocks it)."""
    return can_manage_exercise(user, exercise) and exercise.state == ExerciseState.draft and not exercise.is_scheduled


def can_invite_vendors(user, exercise: Exercise) -> bool:
    """A restricted tender's invitation list changes only while it is a draft (issue 8 item 9: no control that
    always fails is offered after publication)."""
    return can_edit_setup(user, exercise) and exercise.is_restricted


def can_issue_addendum(user, exercise: Exercise) -> bool:
    """Only while open by the server clock (the operation refuses after closing even before the periodic task ran)."""
    return can_manage_exercise(user, exercise) and exercise.is_open


def can_record_incident(user, exercise: Exercise) -> bool:
    """A deadline incident extends closing while open or just closed (before opening)."""
    return can_manage_exercise(user, exercise) and exercise.state in (ExerciseState.published, ExerciseState.closed)


def can_follow_opening(user, exercise: Exercise) -> bool:
    """The opening page exists from publication on (it says when the box can be opened)."""
    return can_manage_exercise(user, exercise) and exercise.state in _OPENING_STATES


def can_cancel_exercise(user, exercise: Exercise) -> bool:
    """Whatever the transition table lets move to cancelled."""
    return (can_manage_exercise(user, exercise)
            and ExerciseState.cancelled in EXERCISE_TRANSITIONS.get(exercise.state, set()))


def exercise_actions(user, exercise: Exercise) -> dict[str, bool]:
    """The officer's decisions for an exercise's pages, so templates never compare states."""
    return {
        "edit_setup": can_edit_setup(user, exercise),
        "publish": can_edit_setup(user, exercise),
        "invite": can_invite_vendors(user, exercise),
        "withdraw_publication": can_manage_exercise(user, exercise) and exercise.is_scheduled,
        "issue_addendum": can_issue_addendum(user, exercise),
        "record_incident": can_record_incident(user, exercise),
        "follow_opening": can_follow_opening(user, exercise),
        "cancel": can_cancel_exercise(user, exercise),
        "communicate": can_manage_exercise(user, exercise) and exercise.state != ExerciseState.draft,
    }


def is_named_opening_officer(user, exercise: Exercise) -> bool:
    """Named at publication as one of the officers who may open this exercise's box (invariant 3)."""
    return getattr(user, "is_authenticated", False) and db.session.get(OpeningOfficer, (exercise.id, user.id)) is not None


def can_take_part_in_opening(user, exercise: Exercise) -> bool:
    """Invariant 3: only an officer named when the exercise was published, still enabled and still an officer,
    starts or confirms its opening; an account created or made an officer later never can."""
    return is_officer(user) and user.is_enabled and is_named_opening_officer(user, exercise)


def is_invited(vendor_id: int | None, exercise: Exercise) -> bool:
    if vendor_id is None:
        return False
    return db.session.scalar(sa.select(Invitation.id).where(
        Invitation.exercise_id == exercise.id, Invitation.vendor_id == vendor_id)) is not None


def can_view_exercise(user, exercise: Exercise) -> bool:
    """Published exercises are public; drafts only for officers. A restricted tender shows its page to all
    (the fact of the tender is public) but its documents only to invited vendors (see can_download_tender_docs)."""
    return is_public(exercise) or is_officer(user)


def can_download_exercise_documents(user, exercise: Exercise) -> bool:
    if is_officer(user):
        return True
    if not is_public(exercise):
        return False
    if not exercise.is_restricted:
        return True
    return getattr(user, "is_authenticated", False) and is_invited(user.vendor_id, exercise)


def can_ask_question(exercise: Exercise, now) -> bool:
    """Clarification questions are taken while published and before the clarification deadline."""
    return (exercise.state == ExerciseState.published and exercise.clarification_deadline is not None
            and now < exercise.clarification_deadline)


def can_take_part(user, exercise: Exercise) -> bool:
    """Vendors may draft and submit in an EOI, or in a tender they were invited to."""
    if not getattr(user, "is_authenticated", False) or user.role != Role.vendor:
        return False
    if exercise.state in (ExerciseState.draft, ExerciseState.cancelled):
        return False
    return not exercise.is_restricted or is_invited(user.vendor_id, exercise)


def can_acknowledge_addenda(user, exercise: Exercise) -> bool:
    """A company that may take part acknowledges addenda while the exercise is open by the server clock: after
    closing an acknowledgement changes nothing, so none is asked for or taken (issue 8 item 9)."""
    return can_take_part(user, exercise) and exercise.is_open


def must_reconfirm(user, submission: Submission) -> bool:
    """The company's submitted proposal was put in doubt by an addendum that changed the requirements and can
    still be re-confirmed (before closing)."""
    return (owns_submission(user, submission) and submission.is_submitted and submission.needs_reconfirmation
            and submission.exercise.is_open)


def owns_submission(user, submission: Submission) -> bool:
    """Invariant 8: a vendor's users see only their own company's submission."""
    return getattr(user, "is_authenticated", False) and user.vendor_id is not None and user.vendor_id == submission.vendor_id


def can_edit_submission(user, submission: Submission) -> bool:
    """The company drafts while the exercise is open by the server clock and its proposal is not submitted
    (a submitted proposal is withdrawn first). The operations check the clock again when acting (invariant 2)."""
    return owns_submission(user, submission) and submission.exercise.is_open and not submission.is_submitted


def can_withdraw_submission(user, submission: Submission) -> bool:
    """A submitted proposal can be withdrawn before closing (invariant 2)."""
    return owns_submission(user, submission) and submission.exercise.is_open and submission.is_submitted


def can_read_technical_content(user: User, submission: Submission) -> bool:
    """Invariant 1: before opening, only the vendor itself; after opening, officers too (panel rules come later),
    and only a submission that stands (a draft, a withdrawn or an unconfirmed proposal stays the vendor's own)."""
    if owns_submission(user, submission):
        return True
    return submission.exercise.is_opened and submission.stands and is_officer(user)


def can_read_price(user: User, submission: Submission) -> bool:
    """Invariant 4: price envelopes open only after the technical evaluation is final."""
    if owns_submission(user, submission):
        return True
    return submission.exercise.price_opened_at is not None and submission.stands and is_officer(user)
