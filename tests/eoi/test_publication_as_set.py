"""Issue 8 items 8, 9 and 11: publication happens at the set date (by the periodic task) or at once when the date has
passed, after a confirmation page that says who is told; a tender's invitations say "you are invited"; controls
that always fail are not offered; disabling an account asks first."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from freezegun import freeze_time

from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from app.hooks import hooks
from app.notifications import Notification
from eoi import operations as ops
from eoi.models import ClusterSubscription, Exercise
from eoi.states import ExerciseKind, ExerciseState
from tests.factories import (create_draft, create_published, create_staff, create_vendor_user, opening_officers)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _openers(officer) -> dict:
    return {"opening_officers": [str(u.id) for u in opening_officers(officer)]}


def _subscribe(vendor_user, exercise) -> None:
    db.session.add(ClusterSubscription(vendor_id=vendor_user.vendor_id, cluster_id=exercise.clusters[0].id))
    db.session.commit()


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))


def test_a_publication_date_ahead_is_kept_and_the_periodic_task_publishes_then(login):
    officer = create_staff(Role.officer)
    at = now_utc() + timedelta(days=1)
    exercise = create_draft(officer, publication_at=at)
    subscriber = create_vendor_user()
    _subscribe(subscriber, exercise)
    client = login(officer)
    page = _text(client.get(f"/manage/exercises/{exercise.id}/publish"))
    assert "the scheduled task publishes it then" in page and "Who is told" in page
    assert subscriber.vendor.name_en in page and "1 user account receives the email." in page

    response = client.post(f"/manage/exercises/{exercise.id}/publish", data=_openers(officer), follow_redirects=True)
    assert "Publication is ordered for" in _text(response)
    db.session.expire_all()
    exercise = db.session.get(Exercise, exercise.id)
    assert exercise.state == ExerciseState.draft and exercise.is_scheduled and len(exercise.opening_officers) >= 3
    assert login(subscriber).get(f"/exercises/{exercise.id}").status_code == 404  # not public yet
    assert not [n for n in _notes(subscriber) if exercise.reference in n.subject]
    home = _text(client.get("/"))
    assert "Publication ordered" in home and exercise.reference in home  # the officer's My work lists it
    # The set-up is locked while the publication is ordered, on the server too.
    assert "Edit the set-up" not in _text(client.get(f"/manage/exercises/{exercise.id}"))
    try:
        ops.update_exercise(exercise, actor=officer, title_en="Changed")
        raise AssertionError("the set-up changed while publication was ordered")
    except ops.ExerciseError:
        db.session.rollback()

    assert ops.publish_due_exercises() == 0  # positive control: not yet
    with freeze_time(at + timedelta(seconds=1)):
        assert ops.publish_due_exercises() == 1
        db.session.commit()
    exercise = db.session.get(Exercise, exercise.id)
    assert exercise.state == ExerciseState.published and not exercise.is_scheduled
    assert [n.subject for n in _notes(subscriber) if exercise.reference in n.subject] == [
        f"New exercise published: {exercise.reference}"]
    assert "publish-due-exercises" in hooks().periodic_tasks


def test_a_publication_date_that_has_passed_publishes_at_once(login):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer, publication_at=now_utc() - timedelta(hours=1))
    client = login(officer)
    page = _text(client.get(f"/manage/exercises/{exercise.id}/publish"))
    assert "At once, as soon as you confirm below." in page and "Publish the exercise now" in page
    assert "No company subscribes" in page
    response = client.post(f"/manage/exercises/{exercise.id}/publish", data=_openers(officer), follow_redirects=True)
    assert "The exercise is published." in _text(response)
    db.session.expire_all()
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.published


def test_an_ordered_publication_can_be_withdrawn_and_one_that_became_impossible_is_told(login):
    officer = create_staff(Role.officer)
    at = now_utc() + timedelta(days=1)
    exercise = create_draft(officer, publication_at=at, closes_at=now_utc() + timedelta(days=10))
    ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    client = login(officer)
    client.post(f"/manage/exercises/{exercise.id}/publish/withdraw")
    db.session.expire_all()
    exercise = db.session.get(Exercise, exercise.id)
    assert not exercise.is_scheduled and exercise.opening_officers == []

    ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    with freeze_time(exercise.closes_at + timedelta(hours=1)):  # the date came only after closing: impossible
        assert ops.publish_due_exercises() == 0
        db.session.commit()
    exercise = db.session.get(Exercise, exercise.id)
    assert exercise.state == ExerciseState.draft and not exercise.is_scheduled
    assert any("was not published at its publication date" in n.subject for n in _notes(officer))


def test_invitations_say_you_are_invited_and_list_only_verified_companies(login):
    officer = create_staff(Role.officer)
    invited = create_vendor_user()
    unverified = create_vendor_user(verified=False, name_en="Unverified Pending Limited")
    draft = create_draft(officer, kind=ExerciseKind.tender)
    page = _text(login(officer).get(f"/manage/exercises/{draft.id}/invitations"))
    assert invited.vendor.name_en in page and "Unverified Pending Limited" not in page
    try:
        ops.invite_vendors(draft, [unverified.vendor], actor=officer)
        raise AssertionError("an unverified company was invited")
    except ops.ExerciseError:
        db.session.rollback()

    tender = create_published(officer, kind=ExerciseKind.tender, vendors=[invited])
    subjects = [n.subject for n in _notes(invited)]
    assert f"You are invited to tender: {tender.reference}" in subjects
    assert not any(s.startswith("New exercise published") for s in subjects)
    page = _text(login(officer).get(f"/manage/exercises/{tender.id}/invitations"))
    assert "The invitation list can no longer change" in page and "Invite the chosen vendors" not in page


def test_after_closing_the_officer_pages_show_closed_and_offer_no_addendum(login):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    client = login(officer)
    assert "Issue an addendum" in _text(client.get(f"/manage/exercises/{exercise.id}"))  # positive control
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):  # no periodic task has run
        client = login(officer)  # staff sessions expire when idle
        for url in (f"/manage/exercises/{exercise.id}", "/manage/exercises", f"/manage/exercises/{exercise.id}/opening"):
            page = _text(client.get(url))
            assert "Open for submissions" not in page and "Closed" in page, url
        page = _text(client.get(f"/manage/exercises/{exercise.id}"))
        assert 'href="/manage/exercises/%d/addenda/new"' % exercise.id not in page
        assert "Addenda are issued only while the exercise is open" in page


def test_disabling_an_account_asks_first(login):
    admin = create_staff(Role.admin)
    other = create_staff(Role.officer)
    client = login(admin)
    listing = _text(client.get("/admin/users"))
    assert f'/admin/users/{other.id}/enabled"' in listing and "Your account" in listing
    page = _text(client.get(f"/admin/users/{other.id}/enabled"))
    assert f"Disable the account of {other.name}?" in page and "signed out at once" in page
    db.session.expire_all()
    assert db.session.get(User, other.id).is_enabled  # a visit changes nothing
    client.post(f"/admin/users/{other.id}/enabled")
    db.session.expire_all()
    assert not db.session.get(User, other.id).is_enabled
