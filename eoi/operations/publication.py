"""Officer set-up and publication of an exercise: details, documents, invitations, publish, cancel."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User, Vendor
from app.db import now_utc
from app.extensions import db
from app.i18n import list_separator, sentences
from app.states import transition
from app.hooks import publication_problems_from_areas
from app.storage import SavedUpload, StoredFile
from eoi.models import Addendum, Exercise, ExerciseDocument, Invitation, Submission
from eoi.operations.common import ExerciseError, require_officer, require_setup_open, require_state
from eoi.operations.interest import (notify_interested, notify_publication_failed, notify_published,
                                    published_audience_ids, vendor_users)
from eoi.operations.opening import cancel_started_opening, name_opening_officers, opening_officer_problems
from eoi.states import ExerciseKind, ExerciseState


def addendum_rule_problems(fields: dict) -> list[str]:
    """The late-addendum window and minimum extension may not go below the configured floors, so that a
    last-minute addendum always leaves time to re-confirm an on-time proposal."""
    window, extension = (current_app.config[k] for k in ("ADDENDUM_LATE_WINDOW_MIN_HOURS",
                                                         "ADDENDUM_MIN_EXTENSION_MIN_HOURS"))
    problems = []
    if "late_addendum_hours" in fields and (fields["late_addendum_hours"] or 0) < window:
        problems.append(str(_l("The late-addendum window must be at least %(n)s hours.", n=window)))
    if "min_extension_hours" in fields and (fields["min_extension_hours"] or 0) < extension:
        problems.append(str(_l("The minimum extension after a late addendum must be at least %(n)s hours.",
                               n=extension)))
    return problems


def _require_addendum_rule(fields: dict) -> None:
    if problems := addendum_rule_problems(fields):
        raise ExerciseError(sentences(problems))


def create_exercise(*, actor: User, **fields) -> Exercise:
    require_officer(actor)
    _require_addendum_rule(fields)
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
    require_setup_open(exercise)
    _require_addendum_rule(fields)
    if "clusters" in fields:
        exercise.clusters = list(fields.pop("clusters"))
    for name, value in fields.items():
        setattr(exercise, name, value)
    record(actor, "exercise.updated", exercise, fields=sorted(fields))
    db.session.flush()
    return exercise


def publication_problems(exercise: Exercise, now: datetime | None = None) -> list[str]:
    """Everything that stops publication, as messages for the officer to fix."""
    now = now or now_utc()
    problems = publication_problems_from_areas(exercise)  # e.g. scoring's criteria check, when registered
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


def publish_exercise(exercise: Exercise, *, actor: User, opening_officers: Sequence[User]) -> Exercise:
    """Publish as set (issue 8 item 8): at once when the publication date is not set or has passed, otherwise order
    publication for that date (the periodic task publish_due_exercises makes it public then). Either way the
    officers who alone may open the box are named now (invariant 3); refused with everything to fix."""
    require_officer(actor)
    require_setup_open(exercise)
    problems = publication_problems(exercise) + opening_officer_problems(opening_officers)
    if problems:
        raise ExerciseError(_l("The exercise cannot be published yet: %(list)s", list=sentences(problems)))
    name_opening_officers(exercise, opening_officers, actor=actor)
    if publishes_at_once(exercise):
        _make_public(exercise, actor=actor)
    else:
        exercise.publication_ordered_by_id = actor.id
        record(actor, "exercise.publication_ordered", exercise, publication_at=exercise.publication_at.isoformat())
    return exercise


def publishes_at_once(exercise: Exercise, now: datetime | None = None) -> bool:
    """Whether confirming publication now makes the exercise public at once (no publication date ahead)."""
    return exercise.publication_at is None or exercise.publication_at <= (now or now_utc())


def _make_public(exercise: Exercise, *, actor: User | None) -> None:
    exercise.published_at = now_utc()
    exercise.publication_ordered_by_id = None
    transition(exercise, ExerciseState.published, actor=actor, action="exercise.published")
    notify_published(exercise)


def withdraw_publication_order(exercise: Exercise, *, actor: User) -> None:
    """Back to a plain draft: the ordered publication will not happen and the opening officers named with it are
    named again when publication is confirmed next time."""
    require_officer(actor)
    if not exercise.is_scheduled:
        raise ExerciseError(_l("No publication is ordered for this exercise."))
    exercise.publication_ordered_by_id = None
    exercise.opening_officers.clear()
    db.session.flush()
    record(actor, "exercise.publication_order_withdrawn", exercise)


def publish_due_exercises(now: datetime | None = None) -> int:
    """Periodic: publish every draft whose ordered publication date has come. One that can no longer be published
    (e.g. its closing time passed meanwhile, or too few of its opening officers remain) goes back to a plain draft
    and the officer who ordered it is told why."""
    now = now or now_utc()
    due = db.session.scalars(sa.select(Exercise).where(
        Exercise.state == ExerciseState.draft, Exercise.publication_ordered_by_id.is_not(None),
        Exercise.publication_at <= now).with_for_update(skip_locked=True)).all()
    published = 0
    for exercise in due:
        officers = [o.user for o in exercise.opening_officers]
        problems = publication_problems(exercise, now) + opening_officer_problems(officers)
        if problems:
            ordered_by = db.session.get(User, exercise.publication_ordered_by_id)
            exercise.publication_ordered_by_id = None
            exercise.opening_officers.clear()
            db.session.flush()
            record(None, "exercise.publication_failed", exercise, problems=problems)
            notify_publication_failed(exercise, ordered_by, problems)
            continue
        _make_public(exercise, actor=None)
        published += 1
    return published


def publication_audience(exercise: Exercise) -> tuple[list[Vendor], int]:
    """Who is told when the exercise is published: the companies (invited ones for a restricted tender, subscribers
    of its clusters otherwise) and the number of their users who receive the email."""
    vendor_ids = published_audience_ids(exercise)
    vendors = list(db.session.scalars(sa.select(Vendor).where(Vendor.id.in_(vendor_ids)).order_by(Vendor.name_en))) \
        if vendor_ids else []
    return vendors, len(vendor_users(vendor_ids))


def cancel_exercise(exercise: Exercise, *, actor: User, reason: str) -> None:
    require_officer(actor)
    if not reason.strip():
        raise ExerciseError(_l("Give the reason for cancelling."))
    exercise.cancel_reason = reason.strip()
    transition(exercise, ExerciseState.cancelled, actor=actor, action="exercise.cancelled", reason=reason.strip())
    cancel_started_opening(exercise, actor=actor, reason="The exercise was cancelled.")
    if exercise.published_at is not None:  # a draft nobody outside saw stays unannounced
        notify_interested(exercise, "exercise_cancelled")


def add_exercise_document(exercise: Exercise, upload: SavedUpload, *, title: str, actor: User,
                          addendum: Addendum | None = None, title_zh: str | None = None) -> ExerciseDocument:
    """A tender document with its SHA-256; a new upload with the same title becomes the next version."""
    require_officer(actor)
    if exercise.is_scheduled:
        require_setup_open(exercise)
    if exercise.state not in (ExerciseState.draft, ExerciseState.published) or (
            exercise.state == ExerciseState.published and addendum is None):
        raise ExerciseError(_l("After publication, documents are changed only by issuing an addendum."))
    stored = StoredFile(storage_key=upload.storage_key, original_name=upload.original_name, content_type=upload.content_type,
                        size=upload.size, sha256=upload.sha256, uploaded_by_id=actor.id)
    previous = [d for d in exercise.documents if d.title == title and not d.superseded]
    for old in previous:
        old.superseded = True
    title_zh = (title_zh or "").strip() or next((d.title_zh for d in previous if d.title_zh), None)
    doc = ExerciseDocument(exercise=exercise, title=title, title_zh=title_zh, file=stored, addendum=addendum,
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
    require_setup_open(exercise)
    if unverified := [v for v in vendors if v.verified_at is None]:
        raise ExerciseError(_l("Only companies whose registration is verified can be invited: %(names)s.",
                               names=list_separator().join(v.name_en for v in unverified)))
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
