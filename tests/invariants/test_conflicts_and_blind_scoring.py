"""Invariants 5 (conflicts) and 6 (blind scoring), walked over every GET route like test_sealed_box.py:
a member who declared a conflict with a vendor never receives that vendor's proposal content on any route or PDF,
nor does a member who has not declared, nor a chair with a conflict (the leak in review systems is through the
chair's pages); a member sees no other member's justification or score for a proposal before submitting its own
sheet. Each walk has a positive control on the same routes, so it can fail."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from eoi.models import Submission
from scoring.models import Assignment, ScoreSheet
from scoring.permissions import can_see_panel_scores
from scoring.queries import technical_criteria_of
from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit
from tests.invariants.test_sealed_box import _urls, _walk

MARKER = "Numbat-Conflict-Proposal-5521"


def _world():
    exercise, submissions, officer = create_opened_exercise(vendors=2, answer=MARKER)
    panel, chair, members, clerk = create_panel(exercise, officer)
    return exercise, submissions, officer, panel, chair, members, clerk


def _content(n: int) -> str:
    return f"{MARKER} (no. {n})"


def _all_urls(app):
    top = max(db.session.scalar(sa.select(sa.func.max(t.id))) or 0 for t in (Submission, Assignment, ScoreSheet))
    return _urls(app, max(top, 8))


def test_a_conflicted_member_never_receives_that_proposal(app, login):
    exercise, submissions, officer, panel, chair, members, _ = _world()
    declare_all(panel, members[0], conflicts={submissions[1].vendor_id: "I advised this company last year."})
    leaks = _walk(login(members[0]), _all_urls(app), [_content(1), _content(2)])
    seen = {m for found in leaks.values() for m in found}
    assert _content(1) in seen, "positive control: the member reads the proposal it is clear of"
    assert _content(2) not in seen, {url: found for url, found in leaks.items() if _content(2) in found}


def test_a_member_who_has_not_declared_receives_no_content(app, login):
    exercise, submissions, officer, panel, chair, members, clerk = _world()
    for user in (members[1], clerk):  # not declared; the secretary never scores nor reads
        assert _walk(login(user), _all_urls(app), [_content(1), _content(2)]) == {}


def test_a_conflicted_chair_sees_nothing_of_that_proposal(app, login):
    exercise, submissions, officer, panel, chair, members, _ = _world()
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "My spouse works for this company."})
    for member in members:
        declare_all(panel, member)
        for n, submission in enumerate(submissions, start=1):
            score_and_submit(panel, member, submission, justification=f"Justification-Marker-P{n} by {member.id}")
    score_and_submit(panel, chair, submissions[0])
    markers = [_content(2), *(f"Justification-Marker-P2 by {m.id}" for m in members),
               f"Justification-Marker-P1 by {members[0].id}"]
    leaks = _walk(login(chair), _all_urls(app), markers)
    seen = {m for found in leaks.values() for m in found}
    assert f"Justification-Marker-P1 by {members[0].id}" in seen, "positive control: the chair moderates proposal 1"
    assert not (seen & set(markers[:-1])), leaks
    officer_seen = {m for found in _walk(login(officer), _all_urls(app), markers).values() for m in found}
    assert f"Justification-Marker-P2 by {members[0].id}" in officer_seen, "an officer moderates it instead"


def test_blind_scoring_no_other_scores_before_ones_own_sheet_is_submitted(app, login):
    exercise, submissions, officer, panel, chair, members, _ = _world()
    for user in (chair, *members):
        declare_all(panel, user)
    criteria = technical_criteria_of(exercise)
    odd = {c.id: c.max_score for c in criteria}
    score_and_submit(panel, members[0], submissions[0], values=odd, justification="Blind-Marker-A rated it top")
    assert not can_see_panel_scores(members[1], panel, submissions[0])
    assert _walk(login(members[1]), _all_urls(app), ["Blind-Marker-A"]) == {}
    assert not can_see_panel_scores(chair, panel, submissions[0])
    assert _walk(login(chair), _all_urls(app), ["Blind-Marker-A"]) == {}
    score_and_submit(panel, chair, submissions[0])
    leaks = _walk(login(chair), _all_urls(app), ["Blind-Marker-A"])
    assert leaks, "positive control: once the chair's own sheet is submitted, it moderates and reads the sheet"
    score_and_submit(panel, members[1], submissions[0])
    assert can_see_panel_scores(members[1], panel, submissions[0])
