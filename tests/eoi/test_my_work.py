"""Issue 8 items 6, 9 and 10: every role's home ("My work"), the re-confirmation nobody can miss, and addenda
acknowledged only while they can matter."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.auth.models import Role
from app.extensions import db
from app.hooks import HomePanel, hooks
from app.main import EMPTY_QUEUES
from app.notifications import Notification
from eoi import operations as ops
from eoi.models import Acknowledgement, Addendum, Submission
from tests.factories import (create_published_exercise, create_staff, create_submission, create_vendor_user,
                             issue_test_addendum)


BANNER = 'class="flash flash-error banner"'


def _home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_vendor_home_lists_proposals_addenda_reconfirmations_and_unread_notifications(login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(reference="OSP-EOI-HOME")
    create_submission(exercise, vendor)
    client = login(vendor)
    page = _home(client)
    assert "My work" in page and "OSP-EOI-HOME" in page and "Submitted" in page
    assert "Re-confirm your proposal" not in page  # positive control for the banner below

    issue_test_addendum(exercise, changes_requirements=True)
    page = _home(client)
    assert "Re-confirm your proposal for OSP-EOI-HOME by" in page
    assert "Submitted before an addendum: not re-confirmed" in page
    assert "Addenda to acknowledge" in page and "Addendum no. 1" in page
    assert "Re-confirm your proposal for OSP-EOI-HOME" in page and "Unread notifications" in page
    # a notification links within the site as served, not to the address the mail was built for
    assert f'<a href="/exercises/{exercise.id}/submission">Re-confirm your proposal' in page
    assert 'href="http' not in page


def test_an_addendum_that_changes_requirements_tells_each_affected_vendor_with_the_deadline(login):
    affected, drafting = create_vendor_user(), create_vendor_user()
    exercise = create_published_exercise(reference="OSP-EOI-RECONF")
    create_submission(exercise, affected)
    ops.get_or_create_submission(exercise, actor=drafting)
    db.session.commit()
    issue_test_addendum(exercise, changes_requirements=True)

    def notes(user):
        return list(db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id)))
    reconfirm = [n for n in notes(affected) if n.subject.startswith("Re-confirm your proposal for OSP-EOI-RECONF by")]
    assert len(reconfirm) == 1 and f"/exercises/{exercise.id}/submission" in reconfirm[0].link
    assert not any(n.subject.startswith("Re-confirm") for n in notes(drafting))  # only vendors that had submitted

    client = login(affected)
    assert BANNER in _home(client)
    detail = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert BANNER in detail and "Re-confirm your proposal for OSP-EOI-RECONF by" in detail
    assert "An addendum issued within" in detail  # the exercise's late-addendum rule
    receipt = client.get(f"/exercises/{exercise.id}/submission/receipt").get_data(as_text=True)
    assert "Re-confirm your proposal for OSP-EOI-RECONF by" in receipt
    assert "Submitted before an addendum: not re-confirmed" in receipt
    proposal = client.get(f"/exercises/{exercise.id}/submission").get_data(as_text=True)
    assert "Deadline:" in proposal

    # Acknowledged and re-confirmed: every banner goes.
    submission = db.session.scalar(sa.select(Submission).where(Submission.vendor_id == affected.vendor_id))
    for addendum in exercise.addenda:
        ops.acknowledge_addendum(addendum, actor=affected)
    ops.reconfirm_submission(submission, actor=affected)
    db.session.commit()
    assert BANNER not in _home(client)
    assert BANNER not in client.get(f"/exercises/{exercise.id}").get_data(as_text=True)


def test_addenda_are_not_offered_or_taken_after_closing(login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(reference="OSP-EOI-ACK", closes_in=timedelta(days=3))
    issue_test_addendum(exercise)
    addendum = exercise.addenda[0]
    client = login(vendor)
    assert "Acknowledge addendum no. 1" in client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        assert "Acknowledge addendum no. 1" not in client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
        assert "Addenda to acknowledge" not in _home(client)
        client.post(f"/exercises/{exercise.id}/addenda/{addendum.id}/acknowledge")
    assert db.session.get(Acknowledgement, (addendum.id, vendor.vendor_id)) is None
    with pytest.raises(ops.ExerciseError):
        with freeze_time(exercise.closes_at + timedelta(seconds=1)):
            ops.acknowledge_addendum(addendum, actor=vendor)


def test_officer_home_shows_stages_questions_and_closings_soon(login):
    officer = create_staff(Role.officer)
    soon = create_published_exercise(reference="OSP-EOI-SOON", closes_in=timedelta(days=2))
    create_published_exercise(reference="OSP-EOI-PAST", closes_in=timedelta(hours=-1))
    vendor = create_vendor_user()
    ops.ask_clarification(soon, actor=vendor, question="When is the site visit?")
    db.session.commit()
    page = _home(login(officer))
    assert "Exercises by stage" in page and "Open for submissions: 1" in page and "Closed: 1" in page
    assert "Questions awaiting an answer" in page and "1 question" in page
    assert "Closing within 7 days" in page and "OSP-EOI-SOON" in page


def test_admin_home_shows_accounts_awaiting_action_and_the_audit_chain(login):
    admin = create_staff(Role.admin)
    other = create_staff(Role.officer)
    from app.auth import operations as auth_ops
    auth_ops.set_user_enabled(other, False, actor=admin)
    db.session.commit()
    page = _home(login(admin))
    assert "Accounts awaiting action" in page and other.email in page
    assert "Audit chain" in page and "Recent staff account changes" in page


@pytest.mark.parametrize("role", [Role.panel, Role.approver])
def test_panel_and_approver_homes_say_what_will_appear(login, role):
    page = _home(login(create_staff(role)))
    if role == Role.panel:  # the scoring area registers the panel member's queue, empty until it sits on a panel
        assert "Your panel work" in page and "You are not on any panel at the moment." in page
    else:  # the contracts area registers the approver's queue; empty, it says what will appear there
        assert "Decisions awaiting your approval" in page and str(EMPTY_QUEUES[role]).split(".")[0] in page


def test_an_area_registers_a_home_panel_through_the_hook(app, login):
    user = create_staff(Role.panel)
    hooks(app).add_home_panel("test.queue", HomePanel(frozenset({Role.panel}), "admin/_home.html",
                                                      lambda u: None))
    try:
        page = _home(login(user))
        # A registered panel replaces the core's sentence, even when it has nothing to show now.
        assert "Your queue" not in page
    finally:
        del hooks(app).home_panels["test.queue"]
