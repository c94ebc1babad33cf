"""Conflicts of interest (issue 10 item 3, invariant 5): declarations per vendor before any content, a declared
conflict removes the proposal from the member's work, the chair sees declarations and flags from interests,
a conflicted chair does not moderate, hidden identities."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from app.extensions import db
from scoring.models import InterestKind
from scoring.operations import ConflictError, add_interest, declare_conflicts, exclude_assignment
from scoring.permissions import can_moderate, can_read_proposal, has_declared_all
from scoring.queries import assignment_for, assignments_of, likely_conflicts, seat_of
from tests.factories import create_opened_exercise, create_panel, create_staff, declare_all, score_and_submit


@pytest.fixture
def world(app):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, clerk = create_panel(exercise, officer)
    return exercise, submissions, officer, panel, chair, members, clerk


def test_no_content_until_the_member_declared_for_every_vendor(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    seat = seat_of(members[0], panel)
    first = assignment_for(seat, submissions[0])
    assert not can_read_proposal(members[0], first)
    declare_conflicts(seat, actor=members[0], declarations={submissions[0].vendor_id: (False, "")})
    assert not has_declared_all(seat) and not can_read_proposal(members[0], first)  # one vendor left
    declare_conflicts(seat, actor=members[0], declarations={submissions[1].vendor_id: (False, "")})
    assert can_read_proposal(members[0], first)


def test_a_declared_conflict_removes_the_proposal_from_the_members_work(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    declare_all(panel, members[0], conflicts={submissions[1].vendor_id: "My brother is its finance director."})
    seat = seat_of(members[0], panel)
    assert [a.submission_id for a in assignments_of(seat)] == [submissions[0].id]
    conflicted = assignment_for(seat, submissions[1])
    assert conflicted.excluded_at is not None and not can_read_proposal(members[0], conflicted)


def test_a_conflict_needs_details_and_cannot_be_withdrawn(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    seat = seat_of(members[0], panel)
    vendor = submissions[0].vendor_id
    with pytest.raises(ConflictError) as refused:
        declare_conflicts(seat, actor=members[0], declarations={vendor: (True, "x")})
    assert vendor in refused.value.problems
    db.session.rollback()
    declare_all(panel, members[0], conflicts={vendor: "I hold shares in this company."})
    with pytest.raises(ConflictError) as refused:
        declare_conflicts(seat, actor=members[0], declarations={vendor: (False, "")})
    assert "cannot be withdrawn" in str(refused.value.problems[vendor])


def test_secretary_and_outsiders_do_not_declare(world):
    exercise, submissions, officer, panel, chair, members, clerk = world
    with pytest.raises(ConflictError):
        declare_conflicts(seat_of(clerk, panel), actor=clerk, declarations={submissions[0].vendor_id: (False, "")})
    db.session.rollback()
    with pytest.raises(ConflictError):  # declaring for another member
        declare_conflicts(seat_of(members[0], panel), actor=members[1],
                          declarations={submissions[0].vendor_id: (False, "")})


def test_a_conflicted_chair_does_not_moderate_that_proposal_but_an_officer_does(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "I was a director until last year."})
    score_and_submit(panel, chair, submissions[0])
    assert can_moderate(chair, panel, submissions[0])
    assert not can_moderate(chair, panel, submissions[1])
    assert can_moderate(officer, panel, submissions[1])


def test_chair_moderates_only_after_its_own_sheet(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    declare_all(panel, chair)
    assert not can_moderate(chair, panel, submissions[0])
    score_and_submit(panel, chair, submissions[0])
    assert can_moderate(chair, panel, submissions[0]) and not can_moderate(members[0], panel, submissions[0])


def test_interests_flag_likely_conflicts_to_the_chair(world, login):
    exercise, submissions, officer, panel, chair, members, _ = world
    vendor = submissions[0].vendor
    vendor_user = vendor.users[0]
    add_interest(actor=vendor_user, kind=InterestKind.group_company, name="Harbour Holdings Group",
                 vendor_id=vendor.id)
    add_interest(actor=members[0], kind=InterestKind.relative_employer, name="harbour holdings group")
    add_interest(actor=members[1], kind=InterestKind.company, name="Unrelated Bakery")
    db.session.commit()
    flags = likely_conflicts(panel)
    assert [(f["member"].user_id, f["vendor"].id) for f in flags] == [(members[0].id, vendor.id)]
    page = login(chair).get(f"/scoring/panels/{panel.id}").get_data(as_text=True)
    assert "Likely conflicts flagged" in page and "harbour holdings group" in page
    assert "Likely conflicts flagged" not in login(members[1]).get(f"/scoring/panels/{panel.id}").get_data(as_text=True)


def test_interest_kinds_belong_to_their_owner(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    with pytest.raises(ConflictError):
        add_interest(actor=members[0], kind=InterestKind.director, name="Someone")
    with pytest.raises(ConflictError):
        add_interest(actor=submissions[0].vendor.users[0], kind=InterestKind.director, name="Someone",
                     vendor_id=submissions[1].vendor_id)


def test_chair_or_officer_excludes_a_member_with_a_reason(world):
    exercise, submissions, officer, panel, chair, members, _ = world
    assignment = assignment_for(seat_of(members[0], panel), submissions[0])
    with pytest.raises(ConflictError):
        exclude_assignment(assignment, actor=members[1], reason="Because I say so, really.")
    db.session.rollback()
    exclude_assignment(assignment, actor=officer, reason="Undeclared link found by the chair.")
    assert assignment.excluded_at is not None


def test_declaration_page_keeps_input_and_shows_the_reason_at_the_field(world, login):
    exercise, submissions, officer, panel, chair, members, _ = world
    client = login(members[0])
    a, b = submissions[0].vendor_id, submissions[1].vendor_id
    response = client.post(f"/scoring/panels/{panel.id}/declarations",
                           data={f"v{a}": "conflict", f"d{a}": "short", f"v{b}": "none", f"d{b}": ""})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Describe the conflict" in text and "short</textarea>" in text
    zh = login(members[1])
    zh.get("/language/zh_Hant")
    text = zh.post(f"/scoring/panels/{panel.id}/declarations",
                   data={f"v{a}": "conflict", f"d{a}": "短", f"v{b}": "none"}).get_data(as_text=True)
    assert "請描述利益衝突" in text


def test_hidden_identities_show_letters_on_the_sheet(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _ = create_panel(exercise, officer, hide_identities=True)
    declare_all(panel, members[0])
    client = login(members[0])
    assignment = assignment_for(seat_of(members[0], panel), submissions[0])
    text = client.get(f"/scoring/assignments/{assignment.id}").get_data(as_text=True)
    assert "Proposal A" in text and submissions[0].vendor.name_en not in text
    home = client.get("/").get_data(as_text=True)
    assert all(s.vendor.name_en not in home for s in submissions)
    officer_page = login(officer).get(f"/scoring/exercises/{exercise.id}/panel").get_data(as_text=True)
    assert submissions[0].vendor.name_en in officer_page


def test_reaching_for_a_proposal_before_declaring_is_refused_and_audited(world, login):
    import sqlalchemy as sa
    from app.audit import AuditEvent
    exercise, submissions, officer, panel, chair, members, _ = world
    assignment = assignment_for(seat_of(members[0], panel), submissions[0])
    client = login(members[0])
    response = client.get(f"/scoring/assignments/{assignment.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/scoring/panels/{panel.id}")
    assert "Our approach" not in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get(f"/scoring/panels/{panel.id}/proposals/{submissions[0].id}").status_code == 302
    refused = list(db.session.scalars(sa.select(AuditEvent.details).where(AuditEvent.action == "panel.access_refused")))
    assert len(refused) == 2 and '"proposal"' in refused[0] and "panel scores" in refused[1]
