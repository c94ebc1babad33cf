"""Vendors' interest and cluster subscriptions, and the notices sent to interested vendors."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import User, Vendor
from app.extensions import db
from app.notifications import external_url, notify
from eoi.models import ClusterSubscription, Exercise, InterestRegistration, Submission
from eoi.operations.common import ExerciseError


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


def vendor_users(vendor_ids) -> list[User]:
    if not vendor_ids:
        return []
    return list(db.session.scalars(sa.select(User).where(User.vendor_id.in_(vendor_ids), User.is_enabled.is_(True),
                                                         User.email_verified_at.is_not(None))))


def notify_vendors(users, template: str, exercise: Exercise, *, link: str | None = None, **context) -> None:
    """Each user gets the message in its own language; the link is the exercise's page unless given."""
    link = link or external_url("eoi.exercise_detail", exercise_id=exercise.id)
    for user in users:
        locale = user.locale or "en"
        notify(to_email=user.email, template=template, locale=locale, user=user, link=link,
               reference=exercise.reference, title=exercise.title(locale), **context)


def acknowledge_to(users, template: str, exercise: Exercise, *, endpoint: str = "eoi.exercise_detail", **context) -> None:
    """An acknowledgement (proposal received, withdrawn, re-confirmed; question received, answered) to each user in
    the user's saved language, linking to the page where it can be checked. Never any sealed content."""
    notify_vendors(users, template, exercise, link=external_url(endpoint, exercise_id=exercise.id), **context)


def acknowledge_to_company(vendor_id: int, template: str, exercise: Exercise, **context) -> None:
    """To every user of the company: colleagues who share the proposal learn of it too."""
    acknowledge_to(vendor_users([vendor_id]), template, exercise, **context)


def published_audience_ids(exercise: Exercise) -> set[int]:
    """The companies told of publication: the invited ones of a restricted tender, else its clusters' subscribers."""
    if exercise.is_restricted:
        return {i.vendor_id for i in exercise.invitations}
    cluster_ids = [c.id for c in exercise.clusters]
    return set(db.session.scalars(sa.select(ClusterSubscription.vendor_id)
                                  .where(ClusterSubscription.cluster_id.in_(cluster_ids))))


def notify_published(exercise: Exercise) -> None:
    """Invited vendors are told they are invited; subscribers that the exercise matches their clusters."""
    notify_vendors(vendor_users(published_audience_ids(exercise)), "exercise_published", exercise,
                   invited=exercise.is_restricted)


def notify_publication_failed(exercise: Exercise, officer: User | None, problems: list[str]) -> None:
    """The officer who ordered a publication that could not happen at its date is told why."""
    if officer is None or not officer.is_enabled:
        return
    notify(to_email=officer.email, template="publication_failed", locale=officer.locale or "en", user=officer,
           link=external_url("eoi.exercise_manage", exercise_id=exercise.id), reference=exercise.reference,
           problems=problems)


def notify_interested(exercise: Exercise, template: str, *, except_user_ids=(), **context) -> None:
    """Vendors who registered interest, were invited, or hold a submission, plus subscribers of its clusters."""
    ids = set(db.session.scalars(sa.select(InterestRegistration.vendor_id).where(InterestRegistration.exercise_id == exercise.id)))
    ids |= set(db.session.scalars(sa.select(Submission.vendor_id).where(Submission.exercise_id == exercise.id)))
    ids |= {i.vendor_id for i in exercise.invitations}
    if not exercise.is_restricted:
        ids |= set(db.session.scalars(sa.select(ClusterSubscription.vendor_id).where(
            ClusterSubscription.cluster_id.in_([c.id for c in exercise.clusters]))))
    notify_vendors([u for u in vendor_users(ids) if u.id not in set(except_user_ids)], template, exercise, **context)
