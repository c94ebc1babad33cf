"""Officer actions on exercises: set-up, publication, documents, addenda, clarifications, closing, opening."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User, Vendor
from app.auth.passwords import verify_password
from app.db import now_utc
from app.documents.service import queue_document
from app.errors import DomainError
from app.extensions import db
from app.notifications import external_url, notify
from app.states import transition
from app.storage import SavedUpload
from eoi.models import (Addendum, Acknowledgement, Clarification, ClusterSubscription, DeadlineIncident, Exercise,
                        ExerciseDocument, InterestRegistration, Invitation, StoredFile, Submission,
                        minimum_closing_after_addendum)
from eoi.states import ExerciseKind, ExerciseState, SubmissionState


class ExerciseError(DomainError):
    pass


def require_officer(actor: User) -> None:
    if actor.role != Role.officer:
        raise ExerciseError(_l("Only procurement officers can do this."))


def require_state(exercise: Exercise, *states: ExerciseState) -> None:
    if exercise.state not in states:
        raise ExerciseError(_l("This action is not possible while the exercise is %(state)s.", state=exercise.state.title))


# --- set-up --------------------------------------------------------------------------------------

def create_exercise(*, actor: User, **fields) -> Exercise:
    require_officer(actor)
    clusters = fields.pop("clusters", [])
    exercise = Exercise(created_by_id=actor.id, **fields)
    exercise.clusters = list(clusters)
    db.session.add(exercise)
    db.session.flush()
    record(actor, "exercise.created", exercise, reference=exercise.reference, kind=exercise.kind.value)
    return exercise


def update_exercise(exercise: Exercise, *, actor: User, **fields) -> Exercise:
    """Edit the set-up; only in draft (after publication, changes go through addenda)."""
    require_officer(actor)
    require_state(exercise, ExerciseState.draft)
    if "clusters" in fields:
        exercise.clusters = list(fields.pop("clusters"))
    for name, value in fields.items():
        setattr(exercise, name, value)
    record(actor, "exercise.updated", exercise, fields=sorted(fields))
    db.session.flush()
    return exercise


#: Checks that later areas add (scoring adds its criteria check): fn(exercise) -> list of messages.
PUBLICATION_CHECKS: list = []


def publication_problems(exercise: Exercise, now: datetime | None = None) -> list[str]:
    """Everything that stops publication, as messages for the officer to fix."""
    now = now or now_utc()
    problems = []
    for check in PUBLICATION_CHECKS:
        problems.extend(check(exercise))
    for field, label in (("title_en", _l("English title")), ("title_zh", _l("Chinese title")),
                         ("description_en", _l("English description")), ("description_zh", _l("Chinese description"))):
        if not (getattr(exercise, field) or "").strip():
            problems.append(str(_l("%(field)s is missing.", field=label)))
    if not exercise.clusters:
        problems.append(str(_l("Choose at least one service cluster.")))
    if not exercise.sections:
        problems.append(str(_l("Add at least one questionnaire section.")))
    if exercise.closes_at is None or exercise.clarification_deadline is None:
        problems.append(str(_l("Set the clarification deadline and the closing time.")))
    else:
        if exercise.closes_at <= now:
            problems.append(str(_l("The closing time must be in the future.")))
        if not exercise.clarification_deadline < exercise.closes_at:
            problems.append(str(_l("The clarification deadline must come before the closing time.")))
        if exercise.publication_at and not exercise.publication_at <= exercise.clarification_deadline:
            problems.append(str(_l("The publication date must come before the clarification deadline.")))
        if exercise.validity_until and not exercise.validity_until > exercise.closes_at:
            problems.append(str(_l("The validity period must end after the closing time.")))
    if exercise.kind == ExerciseKind.tender:
        if not exercise.invitations:
            problems.append(str(_l("Invite at least one vendor to the restricted tender.")))
        if exercise.has_price_envelope and not exercise.price_items:
            problems.append(str(_l("Add the price schedule lines for the price envelope.")))
    if not any(not d.superseded for d in exercise.documents):
        problems.append(str(_l("Upload at least one tender document.")))
    return problems


def publish_exercise(exercise: Exercise, *, actor: User) -> Exercise:
    require_officer(actor)
    if problems := publication_problems(exercise):
        raise ExerciseError(_l("The exercise cannot be published yet: %(list)s", list=" ".join(problems)))
    exercise.published_at = now_utc()
    transition(exercise, ExerciseState.published, actor=actor, action="exercise.published")
    _notify_published(exercise)
    return exercise


def cancel_exercise(exercise: Exercise, *, actor: User, reason: str) -> None:
    require_officer(actor)
    if not reason.strip():
        raise ExerciseError(_l("Give the reason for cancelling."))
    exercise.cancel_reason = reason.strip()
    transition(exercise, ExerciseState.cancelled, actor=actor, action="exercise.cancelled", reason=reason.strip())
    _notify_interested(exercise, "exercise_cancelled")


def add_exercise_document(exercise: Exercise, upload: SavedUpload, *, title: str, actor: User,
                          addendum: Addendum | None = None) -> ExerciseDocument:
    """A tender document with its SHA-256; a new upload with the same title becomes the next version."""
    require_officer(actor)
    if exercise.state not in (ExerciseState.draft, ExerciseState.published) or (
            exercise.state == ExerciseState.published and addendum is None):
        raise ExerciseError(_l("After publication, documents are changed only by issuing an addendum."))
    stored = StoredFile(storage_key=upload.storage_key, original_name=upload.original_name, content_type=upload.content_type,
                        size=upload.size, sha256=upload.sha256, uploaded_by_id=actor.id)
    previous = [d for d in exercise.documents if d.title == title and not d.superseded]
    for old in previous:
        old.superseded = True
    doc = ExerciseDocument(exercise=exercise, title=title, file=stored, addendum=addendum,
                           version=max((d.version for d in previous), default=0) + 1)
    db.session.add(doc)
    db.session.flush()
    record(actor, "exercise.document_added", exercise, document_id=doc.id, title=title, version=doc.version,
           sha256=upload.sha256, size=upload.size)
    return doc


def invite_vendors(exercise: Exercise, vendors: list[Vendor], *, actor: User) -> int:
    require_officer(actor)
    if exercise.kind != ExerciseKind.tender:
        raise ExerciseError(_l("Only restricted tenders have invited vendors."))
    require_state(exercise, ExerciseState.draft)
    have = {i.vendor_id for i in exercise.invitations}
    added = [Invitation(exercise=exercise, vendor=v) for v in vendors if v.id not in have]
    db.session.add_all(added)
    db.session.flush()
    record(actor, "exercise.vendors_invited", exercise, vendor_ids=[v.vendor_id for v in added])
    return len(added)


def carry_over_from_eoi(tender: Exercise, *, actor: User) -> int:
    """Invite, in one action, every vendor whose submission to the parent EOI stands (the EOI's respondents)."""
    if tender.parent_id is None:
        raise ExerciseError(_l("This tender has no parent EOI exercise."))
    vendors = db.session.scalars(sa.select(Vendor).join(Submission, Submission.vendor_id == Vendor.id).where(
        Submission.exercise_id == tender.parent_id, Submission.standing())).all()
    return invite_vendors(tender, list(vendors), actor=actor)


# --- addenda and clarifications ---------------------------------------------------------------------

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
    if changes_requirements:
        db.session.execute(sa.update(Submission).where(Submission.exercise_id == exercise.id,
                                                       Submission.state == SubmissionState.submitted)
                           .values(needs_reconfirmation=True))
    db.session.flush()
    record(actor, "exercise.addendum_issued", exercise, number=number, changes_requirements=changes_requirements,
           closes_at=target.isoformat(), previous_closes_at=addendum.previous_closes_at.isoformat())
    _notify_interested(exercise, "addendum_issued", addendum=addendum)
    return addendum


def acknowledge_addendum(addendum: Addendum, *, actor: User) -> bool:
    """The vendor (any of its users) acknowledges; acknowledging twice is harmless."""
    if actor.vendor_id is None:
        raise ExerciseError(_l("Only vendors acknowledge addenda."))
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
    _notify_interested(item.exercise, "clarification_published", clarification=item)
    return item


# --- interest, subscriptions, notifications -----------------------------------------------------------

def register_interest(exercise: Exercise, *, actor: User) -> bool:
    if actor.vendor_id is None:
        raise ExerciseError(_l("Only vendors register interest."))
    if db.session.get(InterestRegistration, (exercise.id, actor.vendor_id)):
        return False
    db.session.add(InterestRegistration(exercise_id=exercise.id, vendor_id=actor.vendor_id, registered_by_id=actor.id))
    db.session.flush()
    record(actor, "exercise.interest_registered", exercise)
    return True


def set_subscriptions(vendor: Vendor, cluster_ids: set[int], *, actor: User) -> None:
    current = {s.cluster_id: s for s in db.session.scalars(
        sa.select(ClusterSubscription).where(ClusterSubscription.vendor_id == vendor.id))}
    for cid in set(current) - cluster_ids:
        db.session.delete(current[cid])
    for cid in cluster_ids - set(current):
        db.session.add(ClusterSubscription(vendor_id=vendor.id, cluster_id=cid))
    db.session.flush()
    record(actor, "vendor.subscriptions_changed", vendor, clusters=sorted(cluster_ids))


def _vendor_users(vendor_ids) -> list[User]:
    if not vendor_ids:
        return []
    return list(db.session.scalars(sa.select(User).where(User.vendor_id.in_(vendor_ids), User.is_enabled.is_(True),
                                                         User.email_verified_at.is_not(None))))


def _notify(users, template: str, exercise: Exercise, **context) -> None:
    link = external_url("eoi.exercise_detail", exercise_id=exercise.id)
    for user in users:
        locale = user.locale or "en"
        notify(to_email=user.email, template=template, locale=locale, user=user, link=link,
               reference=exercise.reference, title=exercise.title(locale), **context)


def _notify_published(exercise: Exercise) -> None:
    if exercise.is_restricted:
        vendor_ids = {i.vendor_id for i in exercise.invitations}
    else:
        cluster_ids = [c.id for c in exercise.clusters]
        vendor_ids = set(db.session.scalars(sa.select(ClusterSubscription.vendor_id)
                                            .where(ClusterSubscription.cluster_id.in_(cluster_ids))))
    _notify(_vendor_users(vendor_ids), "exercise_published", exercise)


def _notify_interested(exercise: Exercise, template: str, **context) -> None:
    """Vendors who registered interest, were invited, or hold a submission, plus subscribers of its clusters."""
    ids = set(db.session.scalars(sa.select(InterestRegistration.vendor_id).where(InterestRegistration.exercise_id == exercise.id)))
    ids |= set(db.session.scalars(sa.select(Submission.vendor_id).where(Submission.exercise_id == exercise.id)))
    ids |= {i.vendor_id for i in exercise.invitations}
    if not exercise.is_restricted:
        ids |= set(db.session.scalars(sa.select(ClusterSubscription.vendor_id).where(
            ClusterSubscription.cluster_id.in_([c.id for c in exercise.clusters]))))
    _notify(_vendor_users(ids), template, exercise, **context)


# --- closing, incidents, opening ---------------------------------------------------------------------

def close_exercise(exercise: Exercise, *, actor=None) -> bool:
    """Mark a published exercise closed once its closing time has passed (idempotent)."""
    if exercise.state != ExerciseState.published or not exercise.is_closed_at(now_utc()):
        return False
    exercise.closed_at = now_utc()
    transition(exercise, ExerciseState.closed, actor=actor, action="exercise.closed", closes_at=exercise.closes_at.isoformat())
    return True


def record_deadline_incident(exercise: Exercise, *, actor: User, new_closes_at: datetime, reason_en: str,
                             reason_zh: str, evidence: str) -> DeadlineIncident:
    """A platform failure near closing: extend closing for everyone, publish the reason, audit it."""
    require_officer(actor)
    require_state(exercise, ExerciseState.published, ExerciseState.closed)
    if not all(s.strip() for s in (reason_en, reason_zh, evidence)):
        raise ExerciseError(_l("Give the reason in both languages and the evidence."))
    now = now_utc()
    if new_closes_at <= max(now, exercise.closes_at):
        raise ExerciseError(_l("The new closing time must be later than both now and the current closing time."))
    incident = DeadlineIncident(exercise_id=exercise.id, recorded_by_id=actor.id, reason_en=reason_en.strip(),
                                reason_zh=reason_zh.strip(), evidence=evidence.strip(),
                                previous_closes_at=exercise.closes_at, new_closes_at=new_closes_at, recorded_at=now)
    db.session.add(incident)
    exercise.closes_at = new_closes_at
    if exercise.state == ExerciseState.closed:
        exercise.closed_at = None
        exercise.first_opener_id = exercise.opening_started_at = None  # the opening starts again after the new closing
        transition(exercise, ExerciseState.published, actor=actor, action="exercise.reopened_by_incident")
    db.session.flush()
    record(actor, "exercise.deadline_extended", exercise, incident_id=incident.id,
           previous_closes_at=incident.previous_closes_at.isoformat(), new_closes_at=new_closes_at.isoformat(),
           reason=reason_en.strip())
    _notify_interested(exercise, "deadline_extended", incident=incident)
    return incident


def start_opening(exercise: Exercise, *, actor: User) -> None:
    """The first officer starts the opening; a second, different officer must confirm (invariant 3)."""
    require_officer(actor)
    close_exercise(exercise, actor=actor)
    require_state(exercise, ExerciseState.closed)
    if exercise.first_opener_id not in (None, actor.id):
        raise ExerciseError(_l("The opening was already started by another officer; confirm it as the second officer."))
    exercise.first_opener_id, exercise.opening_started_at = actor.id, now_utc()
    record(actor, "exercise.opening_started", exercise)


def confirm_opening(exercise: Exercise, *, actor: User, password: str) -> Exercise:
    """The second officer re-authenticates; the box opens and the opening record PDF is queued."""
    require_officer(actor)
    require_state(exercise, ExerciseState.closed)
    if exercise.first_opener_id is None:
        raise ExerciseError(_l("The opening has not been started by a first officer."))
    if exercise.first_opener_id == actor.id:
        raise ExerciseError(_l("A second, different officer must confirm the opening."))
    first = db.session.get(User, exercise.first_opener_id)
    if exercise.opening_started_at < exercise.closes_at or not (first.is_enabled and first.role == Role.officer):
        raise ExerciseError(_l("The opening must be started again by an active officer after the closing time."))
    if not verify_password(actor.password_hash, password or ""):
        raise ExerciseError(_l("Your password was not correct; the box stays sealed.")).record_after_rollback(
            lambda: record(actor, "exercise.opening_reauth_failed", exercise))
    exercise.second_opener_id, exercise.opened_at = actor.id, now_utc()
    transition(exercise, ExerciseState.opened, actor=actor, action="exercise.opened",
               first_officer=exercise.first_opener_id, second_officer=actor.id)
    queue_document("opening_record", exercise, language="en", vendor_id=None, actor=actor)
    return exercise


def close_due_exercises(now: datetime | None = None) -> int:
    """Periodic: close every published exercise whose closing time has passed."""
    due = db.session.scalars(sa.select(Exercise).where(Exercise.state == ExerciseState.published,
                                                       Exercise.closes_at <= (now or now_utc()))).all()
    return sum(close_exercise(e) for e in due)


def extension_hint(exercise: Exercise) -> timedelta:
    return timedelta(hours=exercise.min_extension_hours)
