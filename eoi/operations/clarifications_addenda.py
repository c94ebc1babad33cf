"""Addenda (numbered, acknowledged, moving closing) and clarifications (asked, answered, published)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User
from app.db import now_utc
from app.extensions import db
from eoi.models import Addendum, Acknowledgement, Clarification, Exercise, Submission, minimum_closing_after_addendum
from eoi.operations.common import ExerciseError, require_officer, require_state
from app.notifications import external_url
from eoi.operations.interest import acknowledge_to, notify_interested, notify_vendors, vendor_users
from eoi.states import ExerciseState, SubmissionState


def issue_addendum(exercise: Exercise, *, actor: User, text_en: str, text_zh: str, changes_requirements: bool,
                   new_closes_at: datetime | None = None) -> Addendum:
    """Number the addendum, move closing (never earlier; at least the minimum extension when issued late),
    ask interested vendors to acknowledge it, and flag submissions that must be re-confirmed."""
    require_officer(actor)
    require_state(exercise, ExerciseState.published)
    now = now_utc()
    if exercise.is_closed_at(now):
        raise ExerciseError(_l("The exercise has closed; an addendum can no longer be issued."))
    if new_closes_at is not None and new_closes_at < exercise.closes_at:
        raise ExerciseError(_l("An addendum can only move the closing time later."))
    target = new_closes_at or exercise.closes_at
    forced = minimum_closing_after_addendum(exercise, now)
    if forced is not None and target < forced:
        target = forced
    number = (db.session.scalar(sa.select(sa.func.max(Addendum.number)).where(Addendum.exercise_id == exercise.id)) or 0) + 1
    addendum = Addendum(exercise=exercise, number=number, text_en=text_en.strip(), text_zh=text_zh.strip(),
                        changes_requirements=changes_requirements, issued_by_id=actor.id, issued_at=now,
                        previous_closes_at=exercise.closes_at,
                        new_closes_at=target if target != exercise.closes_at else None)
    exercise.closes_at = target
    db.session.add(addendum)
    affected: list[int] = []
    if changes_requirements:
        affected = list(db.session.scalars(sa.select(Submission.vendor_id).where(
            Submission.exercise_id == exercise.id, Submission.state == SubmissionState.submitted)))
        db.session.execute(sa.update(Submission).where(Submission.exercise_id == exercise.id,
                                                       Submission.state == SubmissionState.submitted)
                           .values(needs_reconfirmation=True))
    db.session.flush()
    record(actor, "exercise.addendum_issued", exercise, number=number, changes_requirements=changes_requirements,
           closes_at=target.isoformat(), previous_closes_at=addendum.previous_closes_at.isoformat())
    notify_interested(exercise, "addendum_issued", addendum=addendum)
    if affected:  # issue 8 item 6: each affected company's users are told, with the deadline, on their own
        notify_vendors(vendor_users(affected), "reconfirmation_needed", exercise, addendum=addendum, deadline=target,
                       link=external_url("eoi.submission_edit", exercise_id=exercise.id))
    return addendum


def acknowledge_addendum(addendum: Addendum, *, actor: User) -> bool:
    """The vendor (any of its users) acknowledges; acknowledging twice is harmless."""
    if actor.vendor_id is None:
        raise ExerciseError(_l("Only vendors acknowledge addenda."))
    exercise = addendum.exercise
    if exercise.state != ExerciseState.published or exercise.is_closed_at(now_utc()):
        raise ExerciseError(_l("The exercise has closed: addenda are no longer acknowledged."))
    if db.session.get(Acknowledgement, (addendum.id, actor.vendor_id)):
        return False
    db.session.add(Acknowledgement(addendum_id=addendum.id, vendor_id=actor.vendor_id, user_id=actor.id))
    db.session.flush()
    record(actor, "addendum.acknowledged", addendum, exercise_id=addendum.exercise_id)
    return True


def unacknowledged_addenda(exercise: Exercise, vendor_id: int) -> list[Addendum]:
    acked = sa.select(Acknowledgement.addendum_id).where(Acknowledgement.vendor_id == vendor_id)
    return list(db.session.scalars(sa.select(Addendum).where(Addendum.exercise_id == exercise.id,
                                                            Addendum.id.not_in(acked)).order_by(Addendum.number)))


def ask_clarification(exercise: Exercise, *, actor: User, question: str) -> Clarification:
    """A question from a vendor, refused after the clarification deadline (server clock)."""
    if actor.vendor_id is None:
        raise ExerciseError(_l("Only registered vendors can ask questions."))
    require_state(exercise, ExerciseState.published)
    now = now_utc()
    if exercise.clarification_deadline is None or now >= exercise.clarification_deadline:
        raise ExerciseError(_l("The clarification deadline has passed; questions are no longer accepted."))
    if not question.strip():
        raise ExerciseError(_l("Write your question."))
    item = Clarification(exercise=exercise, vendor_id=actor.vendor_id, asked_by_id=actor.id, question=question.strip(),
                         asked_at=now)
    db.session.add(item)
    db.session.flush()
    record(actor, "clarification.asked", item, exercise_id=exercise.id)
    acknowledge_to([actor], "question_received", exercise, asked_at=now)
    return item


def answer_clarification(item: Clarification, *, actor: User, question_en: str, question_zh: str,
                         answer_en: str, answer_zh: str) -> Clarification:
    """Publish the (anonymised) question and the answer in both languages to every vendor."""
    require_officer(actor)
    if not all(s.strip() for s in (question_en, question_zh, answer_en, answer_zh)):
        raise ExerciseError(_l("Give the question and the answer in both languages."))
    if item.published_at is not None:
        raise ExerciseError(_l("This clarification is already published."))
    now = now_utc()
    item.public_question_en, item.public_question_zh = question_en.strip(), question_zh.strip()
    item.answer_en, item.answer_zh = answer_en.strip(), answer_zh.strip()
    item.answered_by_id, item.answered_at, item.published_at = actor.id, now, now
    item.number = (db.session.scalar(sa.select(sa.func.max(Clarification.number))
                                     .where(Clarification.exercise_id == item.exercise_id)) or 0) + 1
    db.session.flush()
    record(actor, "clarification.published", item, exercise_id=item.exercise_id, number=item.number)
    # The asker hears it as the answer to its own question, not a second time as a general notice.
    notify_interested(item.exercise, "clarification_published", except_user_ids={item.asked_by_id}, clarification=item)
    asker = db.session.get(User, item.asked_by_id)
    if asker is not None and asker.is_enabled:
        acknowledge_to([asker], "question_answered", item.exercise, asked_at=item.asked_at, clarification=item)
    return item
