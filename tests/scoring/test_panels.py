"""Assessment panels (issue 10 item 2): forming, assigning (emails), progress without scores, reminders,
removal, the home-page queue."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import Role
from app.extensions import db
from app.notifications import Notification
from eoi.states import ExerciseState
from scoring.models import PanelRole
from scoring.operations import (PanelError, add_panel_member, assign_proposals, form_panel, remind_panel,
                                remove_panel_member)
from scoring.queries import members_yet_to_submit, progress_of, seat_of
from tests.factories import (create_opened_exercise, create_panel, create_published, create_staff, declare_all,
                             score_and_submit)


def _events(action):
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_officer_forms_a_panel_with_chair_members_and_secretary(app):
    exercise, submissions, officer = create_opened_exercise()
    panel, chair, members, clerk = create_panel(exercise, officer)
    roles = {m.user_id: m.role for m in panel.members}
    assert roles == {chair.id: PanelRole.chair, members[0].id: PanelRole.member, members[1].id: PanelRole.member,
                     clerk.id: PanelRole.secretary}
    assert _events("panel.formed") and _events("panel.assigned")
    assert exercise.state == ExerciseState.evaluating


def test_assignment_emails_each_scoring_member_once_and_not_the_secretary(app):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, clerk = create_panel(exercise, officer)
    to = [n.to_email for n in db.session.scalars(sa.select(Notification))
          if n.subject.startswith("Proposals to score")]
    assert sorted(to) == sorted([chair.email, *(m.email for m in members)])
    assert clerk.email not in to


def test_assign_some_proposals_to_one_member(app):
    exercise, submissions, officer = create_opened_exercise(vendors=3)
    panel, chair, members, _ = create_panel(exercise, officer, assign=False)
    seat = seat_of(members[0], panel)
    created = assign_proposals(panel, actor=officer, members=[seat], submissions=submissions[:1])
    assert [(a.member_id, a.submission_id) for a in created] == [(seat.id, submissions[0].id)]
    assert assign_proposals(panel, actor=officer, members=[seat], submissions=submissions[:1]) == []  # kept, not doubled


def test_panel_refuses_non_panel_accounts_and_duplicates(app):
    exercise, _subs, officer = create_opened_exercise(vendors=1)
    chair = create_staff(Role.panel)
    with pytest.raises(PanelError):
        form_panel(exercise, actor=officer, chair=chair, members=[create_staff(Role.officer)])
    db.session.rollback()
    with pytest.raises(PanelError):
        form_panel(exercise, actor=officer, chair=chair, members=[chair])
    db.session.rollback()
    with pytest.raises(PanelError):
        form_panel(exercise, actor=create_staff(Role.panel), chair=chair, members=[create_staff(Role.panel)])


def test_proposals_are_not_assigned_before_opening(app):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    panel = form_panel(exercise, actor=officer, chair=create_staff(Role.panel), members=[create_staff(Role.panel)])
    with pytest.raises(PanelError):
        assign_proposals(panel, actor=officer)


def test_progress_counts_without_scores(app):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, members[0])
    score_and_submit(panel, members[0], submissions[0])
    row = next(r for r in progress_of(panel) if r["member"].user_id == members[0].id)
    assert (row["declared"], row["to_declare"], row["submitted"], row["not_started"]) == (2, 2, 1, 1)
    assert all("value" not in str(k) for k in row)  # counts only


def test_chair_reminds_those_who_have_not_submitted_in_one_audited_action(app):
    exercise, submissions, officer = create_opened_exercise(vendors=1)
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, members[0])
    score_and_submit(panel, members[0], submissions[0])
    reminded = remind_panel(panel, actor=chair)
    db.session.commit()
    assert sorted(m.user_id for m in reminded) == sorted([chair.id, members[1].id])
    event = _events("panel.reminded")[-1]
    assert sorted(json.loads(event.details)["user_ids"]) == sorted([chair.id, members[1].id])
    subjects = [n.to_email for n in db.session.scalars(sa.select(Notification)) if n.subject.startswith("Reminder")]
    assert sorted(subjects) == sorted([chair.email, members[1].email])


def test_a_member_cannot_remind(app):
    exercise, _s, officer = create_opened_exercise(vendors=1)
    panel, chair, members, _ = create_panel(exercise, officer)
    with pytest.raises(PanelError):
        remind_panel(panel, actor=members[0])


def test_removed_member_loses_access_at_once(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=1)
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, members[0])
    client = login(members[0])
    seat = seat_of(members[0], panel)
    from scoring.queries import assignment_for
    assignment = assignment_for(seat, submissions[0])
    assert client.get(f"/scoring/assignments/{assignment.id}").status_code == 200
    remove_panel_member(seat, actor=officer)
    db.session.commit()
    assert seat_of(members[0], panel) is None
    assert client.get(f"/scoring/assignments/{assignment.id}").status_code == 404
    assert client.get(f"/scoring/panels/{panel.id}").status_code == 404
    assert members_yet_to_submit(panel) and all(m.user_id != members[0].id for m in members_yet_to_submit(panel))


def test_chair_cannot_be_removed_and_members_can_be_added(app):
    exercise, _s, officer = create_opened_exercise(vendors=1)
    panel, chair, members, _ = create_panel(exercise, officer)
    with pytest.raises(PanelError):
        remove_panel_member(seat_of(chair, panel), actor=officer)
    newcomer = create_staff(Role.panel)
    assert add_panel_member(panel, newcomer, actor=officer).role == PanelRole.member


def test_officer_forms_the_panel_through_the_page(app, login):
    exercise, _s, officer = create_opened_exercise(vendors=1)
    chair, member = create_staff(Role.panel), create_staff(Role.panel)
    client = login(officer)
    page = client.get(f"/scoring/exercises/{exercise.id}/panel")
    assert page.status_code == 200 and chair.name in page.get_data(as_text=True)
    bad = client.post(f"/scoring/exercises/{exercise.id}/panel", data={"chair": chair.id, "secretary": 0})
    assert bad.status_code == 400 and "Choose at least one member" in bad.get_data(as_text=True)
    ok = client.post(f"/scoring/exercises/{exercise.id}/panel", data={"chair": chair.id, "members": [member.id],
                                                                       "secretary": 0})
    assert ok.status_code == 302
    page = client.get(f"/scoring/exercises/{exercise.id}/panel").get_data(as_text=True)
    assert "Assign proposals" in page and member.name in page


def test_home_shows_the_members_queue(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, clerk = create_panel(exercise, officer)
    home = login(members[0]).get("/").get_data(as_text=True)
    assert "Your panel work" in home and "Declare your conflicts of interest" in home
    declare_all(panel, members[0])
    home = login(members[0]).get("/").get_data(as_text=True)
    assert f"/scoring/assignments/" in home and "Declare your conflicts" not in home
    assert "Your panel work" not in login(officer).get("/").get_data(as_text=True)
