"""Score sheets: saving (autosave or the plain form) with a version against silent overwrites, submitting a
complete sheet, the chair reopening one with a reason, and consensus scores. Every change of a score is
audited with its value before and after."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.db import now_utc
from app.extensions import db
from app.guards import ActionRefused
from app.notifications import external_url, notify
from app.states import transition
from eoi.models import Submission
from scoring.models import Assignment, ConsensusScore, Criterion, Panel, Score, ScoreSheet
from scoring.operations.results import require_scores_open
from scoring.permissions import can_moderate, can_read_proposal, can_score
from scoring.queries import scores_by_criterion, sheets_for_submission, technical_criteria_of
from scoring.states import ScoreSheetState

__all__ = ["SheetError", "StaleSheet", "MIN_JUSTIFICATION", "MAX_JUSTIFICATION", "save_scores", "submit_sheet",
           "reopen_sheet", "record_consensus"]

MIN_JUSTIFICATION = 10
MAX_JUSTIFICATION = 5000


class SheetError(ActionRefused):
    """A refused save or submission; problems maps a criterion id to the reason shown at its field."""
    status_code = 422

    def __init__(self, message=None, *, problems: dict | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.problems = problems or {}


class StaleSheet(SheetError):
    default_message = _l("This sheet was changed in another tab or window since you opened it. Your entries are "
                         "kept here: reload the sheet to see the saved version, then enter them again.")
    status_code = 409


def _sheet(assignment: Assignment) -> ScoreSheet:
    if assignment.sheet is None:
        sheet = ScoreSheet(assignment=assignment, state=ScoreSheetState.draft, version=0)
        db.session.add(sheet)
        db.session.flush()
    return assignment.sheet


def _check_entries(criteria: dict[int, Criterion], entries: dict[int, tuple[int | None, str]]) -> dict:
    problems = {}
    for criterion_id, (value, justification) in entries.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise SheetError(_l("That criterion is not scored by the panel."))
        if value is not None and not (0 <= value <= criterion.max_score):
            problems[criterion_id] = _l("Enter a whole number from 0 to %(max)s.", max=criterion.max_score)
        elif len(justification or "") > MAX_JUSTIFICATION:
            problems[criterion_id] = _l("Keep the justification under %(n)s characters.", n=MAX_JUSTIFICATION)
    return problems


def save_scores(assignment: Assignment, *, actor: User, version: int,
                entries: dict[int, tuple[int | None, str]]) -> ScoreSheet:
    """Save some or all scores (criterion id -> (score or None, justification)). `version` is the sheet's
    version the user's page was showing: an older one means another tab saved since, and the save is refused
    (StaleSheet) rather than overwrite it. A score outside the scale is refused at its field (SheetError).
    Only the assigned member, after declaring no conflict (invariant 5), while the sheet is not submitted."""
    require_scores_open(assignment.member.panel, error=SheetError)
    if not can_score(actor, assignment):
        raise SheetError(_l("You cannot score this proposal now."), problems={})
    criteria = {c.id: c for c in technical_criteria_of(assignment.submission.exercise)}
    problems = _check_entries(criteria, entries)
    if problems:
        raise SheetError(_l("Some scores need your attention."), problems=problems)
    sheet = db.session.execute(db.select(ScoreSheet).where(ScoreSheet.assignment_id == assignment.id)
                               .with_for_update()).scalar_one_or_none() if assignment.sheet else _sheet(assignment)
    if sheet.version != version:
        raise StaleSheet()
    existing = scores_by_criterion(sheet)
    changes = []
    for criterion_id, (value, justification) in entries.items():
        score = existing.get(criterion_id)
        if score is None:
            score = Score(sheet=sheet, criterion_id=criterion_id, value=None, justification="")
            db.session.add(score)
        justification = (justification or "").strip()
        if score.value != value:
            changes.append({"criterion_id": criterion_id, "before": score.value, "after": value})
        if score.value != value or score.justification != justification:
            score.value, score.justification = value, justification
    sheet.version += 1
    sheet.updated_at = now_utc()
    db.session.flush()
    if changes:
        record(actor, "score.changed", sheet, submission_id=assignment.submission_id, changes=changes,
               sheet_state=sheet.state.value)
    return sheet


def sheet_problems(sheet: ScoreSheet | None, criteria: list[Criterion]) -> dict[int, object]:
    """What stops submitting: criterion id -> the reason (a missing score, a missing or too short justification)."""
    scores = scores_by_criterion(sheet) if sheet else {}
    problems = {}
    for criterion in criteria:
        score = scores.get(criterion.id)
        if score is None or score.value is None:
            problems[criterion.id] = _l("Give a score from 0 to %(max)s.", max=criterion.max_score)
        elif len(score.justification.strip()) < MIN_JUSTIFICATION:
            problems[criterion.id] = _l("Justify the score (at least %(n)s characters).", n=MIN_JUSTIFICATION)
    return problems


def submit_sheet(assignment: Assignment, *, actor: User) -> ScoreSheet:
    """Submit a complete sheet (every criterion scored and justified); raises SheetError with the problem at
    each field. After this the member sees the panel's other scores for the proposal (invariant 6)."""
    require_scores_open(assignment.member.panel, error=SheetError)
    if not can_score(actor, assignment):
        raise SheetError(_l("You cannot score this proposal now."))
    criteria = technical_criteria_of(assignment.submission.exercise)
    if not criteria:
        raise SheetError(_l("The exercise has no technical criteria to score."))
    sheet = assignment.sheet
    problems = sheet_problems(sheet, criteria)
    if problems:
        raise SheetError(_l("The sheet is not complete: %(n)s criteria need your attention.", n=len(problems)),
                         problems=problems)
    transition(sheet, ScoreSheetState.submitted, actor=actor, action="score_sheet.submitted",
               submission_id=assignment.submission_id,
               scores={str(s.criterion_id): s.value for s in sheet.scores})
    sheet.submitted_at = now_utc()
    sheet.version += 1
    db.session.flush()
    return sheet


def reopen_sheet(sheet: ScoreSheet, *, actor: User, reason: str) -> ScoreSheet:
    """The chair (or a managing officer) reopens one member's submitted sheet with a reason; the member revises
    and submits again. The reason and the scores before are audited; each later change with before and after."""
    assignment = sheet.assignment
    require_scores_open(assignment.member.panel, error=SheetError)
    if not can_moderate(actor, assignment.member.panel, assignment.submission):
        raise SheetError(_l("Only the chair or the exercise's officers can reopen a sheet."))
    reason = (reason or "").strip()
    if len(reason) < MIN_JUSTIFICATION:
        raise SheetError(_l("Give the reason for reopening (at least %(n)s characters).", n=MIN_JUSTIFICATION))
    transition(sheet, ScoreSheetState.reopened, actor=actor, action="score_sheet.reopened", reason=reason,
               submission_id=assignment.submission_id, user_id=assignment.member.user_id,
               scores_before={str(s.criterion_id): s.value for s in sheet.scores})
    sheet.submitted_at, sheet.reopen_reason = None, reason
    sheet.version += 1
    user = assignment.member.user
    notify(to_email=user.email, template="sheet_reopened", locale=user.locale or "en", user=user,
           link=external_url("scoring.sheet", assignment_id=assignment.id),
           reference=assignment.submission.exercise.reference, reason=reason)
    db.session.flush()
    return sheet


def _hundredths(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def record_consensus(panel: Panel, submission: Submission, criterion: Criterion, *, actor: User,
                     value: Decimal, rationale: str) -> ConsensusScore:
    """The panel's consensus score for one criterion of one proposal, with its rationale; only once every
    member's sheet for it is submitted. Audited with before and after. Raises SheetError."""
    require_scores_open(panel, error=SheetError)
    if not can_moderate(actor, panel, submission):
        raise SheetError(_l("Only the chair or the exercise's officers can record a consensus."))
    if criterion.exercise_id != panel.exercise_id:
        raise SheetError(_l("That criterion is not scored by the panel."))
    sheets = sheets_for_submission(panel, submission)
    if not sheets or any(s.state != ScoreSheetState.submitted for s in sheets):
        raise SheetError(_l("Every member's sheet for this proposal must be submitted first."))
    if not (0 <= value <= criterion.max_score):
        raise SheetError(_l("Enter a score from 0 to %(max)s.", max=criterion.max_score))
    rationale = (rationale or "").strip()
    if len(rationale) < MIN_JUSTIFICATION:
        raise SheetError(_l("Give the rationale (at least %(n)s characters).", n=MIN_JUSTIFICATION))
    consensus = db.session.scalar(db.select(ConsensusScore).where(ConsensusScore.submission_id == submission.id,
                                                                  ConsensusScore.criterion_id == criterion.id))
    before = consensus.value if consensus else None
    if consensus is None:
        consensus = ConsensusScore(panel_id=panel.id, submission_id=submission.id, criterion_id=criterion.id,
                                   value=value, rationale=rationale, recorded_by_id=actor.id)
        db.session.add(consensus)
    else:
        consensus.value, consensus.rationale, consensus.recorded_by_id = value, rationale, actor.id
        consensus.recorded_at = now_utc()
    db.session.flush()
    record(actor, "score.consensus_recorded", panel.exercise, submission_id=submission.id, criterion_id=criterion.id,
           before=_hundredths(before), after=_hundredths(value))
    return consensus
