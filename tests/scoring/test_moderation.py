"""Moderation (issue 10 item 5): per criterion the members' scores, mean, median, spread and outliers; the chair
reopens a sheet with a reason (before and after kept); consensus with a rationale; every change audited."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.extensions import db
from scoring.operations import SheetError, record_consensus, reopen_sheet, save_scores
from scoring.queries import assignment_for, moderation_of, seat_of, technical_criteria_of
from scoring.states import ScoreSheetState
from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit


@pytest.fixture
def scored(app):
    exercise, submissions, officer = create_opened_exercise(vendors=1, criteria=((50, 10), (50, 10)))
    panel, chair, members, _ = create_panel(exercise, officer, members=3)
    c1, c2 = technical_criteria_of(exercise)
    proposal = submissions[0]
    for user, (a, b) in zip((chair, *members), ((6, 5), (7, 5), (6, 6), (1, 5))):
        declare_all(panel, user)
        score_and_submit(panel, user, proposal, values={c1.id: a, c2.id: b}, justification=f"Reasoned by {user.name}.")
    return panel, chair, members, proposal, officer, c1, c2


def _events(action):
    return [json.loads(e.details) for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))]


def test_statistics_and_outliers_per_criterion(scored):
    panel, chair, members, proposal, officer, c1, c2 = scored
    view = moderation_of(panel, proposal)
    stats = view["stats"][c1.id]
    assert (stats.mean, stats.median, stats.range) == (Decimal("5.0000"), Decimal("6.0000"), Decimal("6.0000"))
    outlier_sheet = assignment_for(seat_of(members[2], panel), proposal).sheet
    assert stats.outliers == (str(outlier_sheet.id),)  # 1 is 5 points from the others' median of 6
    assert view["stats"][c2.id].outliers == () and view["all_submitted"]


def test_moderation_page_for_the_chair(scored, login):
    panel, chair, members, proposal, officer, c1, c2 = scored
    text = login(chair).get(f"/scoring/panels/{panel.id}/proposals/{proposal.id}").get_data(as_text=True)
    assert "outlier" in text and "Reasoned by" in text and "Median" in text
    assert login(members[0]).get(f"/scoring/panels/{panel.id}/proposals/{proposal.id}").status_code == 302  # audited


def test_reopen_keeps_the_reason_and_the_before_and_after(scored):
    panel, chair, members, proposal, officer, c1, c2 = scored
    sheet = assignment_for(seat_of(members[2], panel), proposal).sheet
    with pytest.raises(SheetError):
        reopen_sheet(sheet, actor=chair, reason="why")  # too short
    db.session.rollback()
    reopen_sheet(sheet, actor=chair, reason="Your score of 1 on criterion 1 is far from the panel's.")
    db.session.commit()
    assert sheet.state == ScoreSheetState.reopened and sheet.submitted_at is None
    save_scores(sheet.assignment, actor=members[2], version=sheet.version,
                entries={c1.id: (5, "Revised after the panel's discussion.")})
    db.session.commit()
    reopened = _events("score_sheet.reopened")[-1]
    assert reopened["reason"].startswith("Your score of 1") and reopened["scores_before"][str(c1.id)] == 1
    assert [{"criterion_id": c1.id, "before": 1, "after": 5}] in [e["changes"] for e in _events("score.changed")]


def test_a_member_cannot_reopen(scored):
    panel, chair, members, proposal, officer, c1, c2 = scored
    sheet = assignment_for(seat_of(members[0], panel), proposal).sheet
    with pytest.raises(SheetError):
        reopen_sheet(sheet, actor=members[1], reason="I would like to see it changed.")


def test_consensus_with_rationale_audited_before_and_after(scored):
    panel, chair, members, proposal, officer, c1, c2 = scored
    record_consensus(panel, proposal, c1, actor=chair, value=Decimal("6"), rationale="Agreed after discussion.")
    record_consensus(panel, proposal, c1, actor=chair, value=Decimal("6.5"), rationale="Revised after discussion.")
    db.session.commit()
    assert [(e["before"], e["after"]) for e in _events("score.consensus_recorded")] == [(None, "6.00"), ("6.00", "6.50")]
    with pytest.raises(SheetError):
        record_consensus(panel, proposal, c1, actor=chair, value=Decimal("11"), rationale="Off the scale entirely.")


def test_no_consensus_while_a_sheet_is_open(scored):
    panel, chair, members, proposal, officer, c1, c2 = scored
    reopen_sheet(assignment_for(seat_of(members[0], panel), proposal).sheet, actor=officer,
                 reason="Please look again at criterion 2.")
    with pytest.raises(SheetError):
        record_consensus(panel, proposal, c1, actor=chair, value=Decimal(6), rationale="Too early for this one.")


def test_consensus_through_the_page_refused_at_the_field(scored, login):
    panel, chair, members, proposal, officer, c1, c2 = scored
    client = login(chair)
    url = f"/scoring/panels/{panel.id}/proposals/{proposal.id}/criteria/{c1.id}/consensus"
    bad = client.post(url, data={f"c{c1.id}-value": "12", f"c{c1.id}-rationale": "Kept-Rationale-Text here"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Kept-Rationale-Text" in text
    ok = client.post(url, data={f"c{c1.id}-value": "6", f"c{c1.id}-rationale": "Agreed at the meeting."})
    assert ok.status_code == 302


def test_results_rank_with_pass_marks_and_say_whether_they_can_be_defended(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((50, 10), (50, 10)))
    panel, chair, members, _ = create_panel(exercise, officer, members=2)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0], values={c1.id: 8, c2.id: 7})
        score_and_submit(panel, user, submissions[1], values={c1.id: 5, c2.id: 6})
    from scoring.queries import results_of
    view = results_of(panel)
    assert [(r.proposal, r.total) for r in view["results"]] == [(str(submissions[0].id), Decimal("75.0000")),
                                                                (str(submissions[1].id), Decimal("55.0000"))]
    assert "stays first without any one member" in view["sentences"][1]
    text = login(officer).get(f"/scoring/panels/{panel.id}/results").get_data(as_text=True)
    assert "Ranking" in text and "<td>75</td>" in text and "Krippendorff" in text
    assert login(members[0]).get(f"/scoring/panels/{panel.id}/results").status_code == 404


def test_a_chair_with_any_conflict_does_not_see_the_ranking(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "Former employer, left in 2005."})
    assert login(chair).get(f"/scoring/panels/{panel.id}/results").status_code == 404
