"""The demo data (issue 11 item 7, decisions): the EOI's shortlist approved, filling the open tender's invited list;
the 2006 Business and Trade tender awarded after a challenge was answered, and the contract follows that award."""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from contracts.decisions import decision_outcomes, took_part
from contracts.models import Contract, Decision
from contracts.states import ChallengeState, DecisionKind, DecisionState
from contracts.letter_models import Letter
from eoi.models import Exercise
from scoring.queries import panel_of


def test_demo_shortlist_and_award_after_an_answered_challenge(app):
    from demo import seed_demo
    seed_demo()
    shortlist, award = db.session.scalars(sa.select(Decision).order_by(Decision.id)).all()
    approver = db.session.scalar(sa.select(User).where(User.email == "approver.ho@tenderbox.example"))
    assert shortlist.kind == DecisionKind.shortlist and shortlist.state == DecisionState.final
    assert shortlist.approved_by_id == approver.id and not took_part(approver, shortlist.exercise)
    tender = db.session.scalar(sa.select(Exercise).where(Exercise.reference == "OSP/T/BT/01"))
    assert {i.vendor_id for i in tender.invitations} == set(shortlist.vendor_ids)
    outcomes = decision_outcomes(shortlist)
    assert "regret" in outcomes.values() and list(outcomes.values()).count("shortlist") == len(shortlist.entries)
    assert award.kind == DecisionKind.award and award.state == DecisionState.final
    assert [c.state for c in award.challenges] == [ChallengeState.answered]
    assert award.challenges[0].answered_at < award.final_at and award.final_at >= award.standstill_ends_at
    # each decision follows its panel's signed-off evaluation, and the 2006 tender's letters went out at approval
    for decision in (shortlist, award):
        panel = panel_of(decision.exercise)
        assert panel.is_signed_off and panel.signed_off_at < decision.recorded_at
    kinds = sorted(letter.kind.value for letter in db.session.scalars(sa.select(Letter).where(
        Letter.exercise_id == award.exercise_id)))
    assert kinds == ["award", "regret"]
    contract = db.session.scalar(sa.select(Contract))
    assert contract.exercise_id == award.exercise_id and contract.vendor_id == award.vendor_ids[0]
