"""Invariant 2 (closing time is the server's clock): an action that arrives after closing is refused with a
clear message stating the server's time of receipt, recorded, and nothing of it is saved."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.extensions import db
from eoi import operations as ops
from eoi.models import LateAttempt
from eoi.operations import SubmissionClosed
from eoi.states import ExerciseKind, ExerciseState
from tests.eoi.test_vendor_views import _hk, _ready_to_submit, _save, _start, _submission, _url
from tests.factories import (attachment_upload, create_published, create_published_exercise, create_submission,
                             create_vendor_user)


@pytest.fixture
def vendor():
    return create_vendor_user()


def _draft_in_tender(vendor):
    tender = create_published(kind=ExerciseKind.tender, vendors=[vendor], price_envelope=True)
    submission = ops.get_or_create_submission(tender, actor=vendor)
    db.session.commit()
    return tender, submission


ACTIONS = {
    "save": lambda s, v: ops.save_draft(s, actor=v, answers={s.exercise.sections[0].id: "Text"}),
    "upload": lambda s, v: ops.add_submission_file(s, attachment_upload("late.pdf"), actor=v, section=None),
    "price": lambda s, v: ops.save_prices(s, actor=v, prices={s.exercise.price_items[0].id: Decimal("1")}),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_each_draft_action_is_accepted_until_closing_and_refused_one_second_after(app, vendor, action):
    tender, submission = _draft_in_tender(vendor)
    with freeze_time(tender.closes_at - timedelta(seconds=1)):
        ACTIONS[action](submission, vendor)  # positive control: the same action just before closing
    db.session.commit()
    version = submission.draft_version
    with freeze_time(tender.closes_at + timedelta(seconds=1)), \
            pytest.raises(SubmissionClosed, match="after the closing time") as refused:
        ACTIONS[action](submission, vendor)
    db.session.rollback()
    ops.record_late_attempt(refused.value)
    db.session.commit()
    assert db.session.scalar(sa.select(LateAttempt.action)) == refused.value.action
    assert submission.draft_version == version


def test_withdrawal_is_refused_after_closing(app, vendor):
    submission = create_submission(create_published(), vendor)
    with freeze_time(submission.exercise.closes_at + timedelta(seconds=1)), \
            pytest.raises(SubmissionClosed, match="after the closing time"):
        ops.withdraw_submission(submission, actor=vendor)
    db.session.rollback()
    with freeze_time(submission.exercise.closes_at - timedelta(seconds=1)):
        ops.withdraw_submission(submission, actor=vendor)  # positive control


def test_submit_one_second_after_closing_is_refused_recorded_and_changes_nothing(login, vendor):
    exercise = create_published_exercise(closes_in=timedelta(hours=2))
    client = login(vendor)
    _ready_to_submit(client, exercise, vendor)
    before = _submission(exercise, vendor)
    draft_version, state = before.draft_version, before.state
    late = exercise.closes_at + timedelta(seconds=1)
    with freeze_time(late):
        page = client.post(_url(exercise, "/submit"), data={"draft_version": str(draft_version)},
                           follow_redirects=True).get_data(as_text=True)
    assert (f"received at {_hk(late, 'seconds')} (server time), after the closing time of "
            f"{_hk(exercise.closes_at, 'seconds')}") in page
    after = _submission(exercise, vendor)
    assert (after.state, after.draft_version, after.versions) == (state, draft_version, [])
    attempt = db.session.scalar(sa.select(LateAttempt))
    assert attempt.action == "submit" and attempt.vendor_id == vendor.vendor_id and attempt.received_at == late


def test_a_late_draft_save_is_refused_and_the_text_is_not_saved(login, vendor):
    exercise = create_published_exercise(closes_in=timedelta(hours=2))
    client = login(vendor)
    _save(client, exercise, vendor, {1: "On time."})
    version = _submission(exercise, vendor).draft_version
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        response = _save(client, exercise, vendor, {1: "Too late."}, version=version)
    assert response.status_code == 409 and "after the closing time" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(LateAttempt.action)) == "save"
    assert _submission(exercise, vendor).draft_version == version


def test_opening_the_proposal_page_after_closing_without_a_draft_is_refused_politely(login, vendor):
    exercise = create_published_exercise(closes_in=timedelta(hours=2))
    client = login(vendor)
    with freeze_time(exercise.closes_at + timedelta(minutes=5)):
        page = client.get(_url(exercise)).get_data(as_text=True)
        started = _start(client, exercise)
    assert "Proposals can no longer be started" in page and started.status_code == 302
    assert _submission(exercise, vendor) is None
    assert db.session.scalar(sa.select(sa.func.count(LateAttempt.id))) == 0


def test_a_published_exercise_past_closing_shows_as_closed_before_the_task_runs(app, client):
    exercise = create_published()
    with freeze_time(exercise.closes_at + timedelta(minutes=1)):
        assert exercise.state == ExerciseState.published
        assert exercise.effective_state == ExerciseState.closed
