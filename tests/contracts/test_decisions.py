"""Decisions with approval: the recommendation, segregation of duties (the matrix), the shortlist filling the
restricted tender's invited list, the standstill with challenges, the next-ranked tenderer after a decline, and the
outcomes the letters follow. Refusals carry the reason in the user's language and are audited."""
from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from markupsafe import escape

from app.audit import AuditEvent
from app.auth.models import Role
from app.boundary import rollback_refused
from app.db import now_utc, simulated_time
from app.extensions import db
from contracts import decisions as dec
from contracts.decisions import DecisionRefused
from contracts.states import ChallengeState, DecisionKind, DecisionState
from eoi.models import Exercise
from eoi.states import ExerciseKind, ExerciseState
from scoring.models import EvaluationSettings
from scoring.queries import technical_criteria_of
from tests.factories import (create_draft, create_opened_exercise, create_panel, create_staff, create_vendor_user,
                             declare_all, score_and_submit, sign_off)

#: per submission (in creation order): scores on the two criteria (max 10 and 5): totals 84, 20 (fails 50), 96
SCORES = ((8, 4), (2, 1), (9, 5))


def _evaluated(kind: ExerciseKind):
    exercise, submissions, officer = create_opened_exercise(vendors=3, criteria=((60, 10), (40, 5)))
    db.session.add(EvaluationSettings(exercise_id=exercise.id, overall_pass_mark=Decimal(50), technical_weight=100,
                                      price_formula="lowest_pro_rata"))
    exercise.kind = kind
    db.session.commit()
    panel, chair, members, secretary = create_panel(exercise, officer, members=1)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        for submission, (a, b) in zip(submissions, SCORES):
            score_and_submit(panel, user, submission, values={c1.id: a, c2.id: b})
    sign_off(panel, chair)  # a decision follows the signed-off evaluation
    return {"exercise": exercise, "submissions": submissions, "officer": officer, "panel": panel, "chair": chair,
            "member": members[0], "secretary": secretary, "approver": create_staff(Role.approver)}


@pytest.fixture
def eoi(app):
    return _evaluated(ExerciseKind.eoi)


@pytest.fixture
def tender(app):
    return _evaluated(ExerciseKind.tender)


def _events(action):
    return [json.loads(e.details) | {"actor_id": e.actor_id}
            for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action))]


def _refused(call, *args, **kwargs) -> DecisionRefused:
    """Run an operation that must be refused; answer the refusal as the boundary does (rollback, then its audit)."""
    with pytest.raises(DecisionRefused) as refused:
        call(*args, **kwargs)
    rollback_refused(refused.value)
    return refused.value


def test_the_recommendation_falls_back_to_the_technical_ranking(eoi, tender, monkeypatch):
    first, failed, best = eoi["submissions"]
    assert dec.recommendation_for(eoi["exercise"]) == [best.id, first.id]
    assert dec.recommendation_for(tender["exercise"]) == [tender["submissions"][2].id]
    # after scoring adds its "recommended" key, it is what counts (a tender's one id, an EOI's list)
    import scoring.queries
    real = scoring.queries.results_of
    monkeypatch.setattr(scoring.queries, "results_of", lambda panel, lang="en": {**real(panel), "recommended": None})
    assert dec.recommendation_for(tender["exercise"]) == []
    monkeypatch.setattr(scoring.queries, "results_of",
                        lambda panel, lang="en": {**real(panel), "recommended": first.id})
    assert dec.recommendation_for(tender["exercise"]) == [first.id]


def test_segregation_of_duties_matrix(eoi):
    e = eoi
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=dec.proposal_for(e["exercise"]),
                                   justification="The two proposals that pass, in rank order.")
    db.session.commit()
    removed = create_staff(Role.approver)
    from scoring.models import PanelMember, PanelRole
    db.session.add(PanelMember(panel=e["panel"], user=removed, role=PanelRole.member, removed_at=now_utc()))
    sitting_approver = create_staff(Role.approver)
    db.session.add(PanelMember(panel=e["panel"], user=sitting_approver, role=PanelRole.secretary))
    db.session.commit()
    cases = [  # (actor, may approve, reason)
        (e["officer"], False, "Only approvers"),
        (create_staff(Role.officer), False, "Only approvers"),
        (e["chair"], False, "Only approvers"),
        (e["member"], False, "Only approvers"),
        (e["secretary"], False, "Only approvers"),
        (create_staff(Role.admin), False, "Only approvers"),
        (create_vendor_user(), False, "Only approvers"),
        (sitting_approver, False, "took part in the evaluation"),
        (removed, False, "took part in the evaluation"),
    ]
    for actor, _may, reason in cases:
        assert not dec.approval_refusal(actor, decision) is None
        from contracts.permissions import can_approve_decision
        assert not can_approve_decision(actor, decision)
        for call in (lambda: dec.approve_decision(decision, actor=actor),
                     lambda: dec.return_decision(decision, actor=actor, reason="No")):
            assert reason in _refused(call).message
    # the officer who recorded it, later made an approver, may not approve their own decision
    e["officer"].role = Role.approver
    db.session.commit()
    assert "You recorded this decision" in _refused(dec.approve_decision, decision, actor=e["officer"]).message
    refusals = _events("decision.approval_refused")
    assert len(refusals) == 2 * len(cases) + 1
    assert {r["actor_id"] for r in refusals} == {a.id for a, _m, _r in cases} | {e["officer"].id}
    assert db.session.get(type(decision), decision.id).state == DecisionState.submitted
    assert dec.decisions_awaiting(e["approver"]) == [decision] and dec.decisions_awaiting(sitting_approver) == []
    dec.approve_decision(decision, actor=e["approver"])
    db.session.commit()
    assert decision.state == DecisionState.final and decision.approved_by_id == e["approver"].id
    assert "not awaiting approval" in _refused(dec.approve_decision, decision, actor=create_staff(Role.approver)).message


def test_refusals_are_in_the_users_language(eoi, app):
    decision = dec.record_decision(eoi["exercise"], actor=eoi["officer"], submission_ids=[eoi["submissions"][0].id],
                                   justification="Only the first.")
    db.session.commit()
    with app.test_request_context(headers={"Accept-Language": "zh-Hant"}):
        from flask_babel import refresh
        from flask import session
        session["lang"] = "zh_Hant"
        refresh()
        message = _refused(dec.approve_decision, decision, actor=eoi["chair"]).message
    assert "approver" not in message and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_an_approved_shortlist_fills_the_restricted_tenders_invited_list(eoi):
    e = eoi
    tender = create_draft(e["officer"], kind=ExerciseKind.tender, parent_id=e["exercise"].id)
    first, failed, best = e["submissions"]
    with pytest.raises(DecisionRefused) as refused:
        dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id], justification="  ")
    assert refused.value.field == "justification"
    with pytest.raises(DecisionRefused):
        dec.record_decision(e["exercise"], actor=e["approver"], submission_ids=[best.id], justification="x")
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id, first.id],
                                   justification="Both proposals that pass the marks.")
    db.session.commit()
    assert decision.kind == DecisionKind.shortlist and decision.standstill_days == 0
    with pytest.raises(DecisionRefused, match="already has a decision"):
        dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id], justification="Again")
    dec.return_decision(decision, actor=e["approver"], reason="Explain why the third company is left out.")
    db.session.commit()
    assert decision.state == DecisionState.returned and decision.return_reason.startswith("Explain")
    dec.resubmit_decision(decision, actor=e["officer"], submission_ids=[best.id, first.id],
                          justification="Both pass; the third scored 20, below the overall pass mark of 50.")
    dec.approve_decision(decision, actor=e["approver"])
    db.session.commit()
    db.session.refresh(tender)
    assert {i.vendor_id for i in tender.invitations} == {best.vendor_id, first.vendor_id}
    assert e["exercise"].state == ExerciseState.decided
    assert dec.decision_outcomes(decision) == {best.vendor_id: "shortlist", first.vendor_id: "shortlist",
                                               failed.vendor_id: "regret"}
    fixed = _events("decision.outcomes_fixed")
    assert len(fixed) == 1 and fixed[0]["outcomes"] == {str(k): v for k, v in dec.decision_outcomes(decision).items()}
    # a challenge belongs to awards only
    assert "cannot be challenged" in _refused(dec.lodge_challenge, decision, actor=_vendor_user(failed),
                                              text="Unfair").message


def _vendor_user(submission):
    from app.auth.models import User
    return db.session.scalar(sa.select(User).where(User.vendor_id == submission.vendor_id))


def test_award_standstill_challenge_answer_final(tender, app):
    e = tender
    first, failed, best = e["submissions"]
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=dec.proposal_for(e["exercise"]),
                                   justification="Highest technical score; passes every mark.")
    dec.approve_decision(decision, actor=e["approver"])
    db.session.commit()
    assert decision.state == DecisionState.approved and decision.entries[0].submission_id == best.id
    assert decision.standstill_ends_at - decision.approved_at == timedelta(days=app.config["STANDSTILL_DAYS"]) \
        == timedelta(days=10)
    assert dec.decision_outcomes(decision) == {best.vendor_id: "award", first.vendor_id: "regret",
                                               failed.vendor_id: "regret"}
    loser, winner, outsider = _vendor_user(first), _vendor_user(best), create_vendor_user()
    assert "successful tenderer" in _refused(dec.lodge_challenge, decision, actor=winner, text="?").message
    assert "did not take part" in _refused(dec.lodge_challenge, decision, actor=outsider, text="Unfair").message
    assert _refused(dec.lodge_challenge, decision, actor=loser, text="  ").field == "text"
    challenge = dec.lodge_challenge(decision, actor=loser, text="Our proposal met every service level.")
    db.session.commit()
    assert "standstill period has not ended" in _refused(dec.finalise_award, decision, actor=e["officer"]).message
    with simulated_time(decision.standstill_ends_at + timedelta(minutes=1)):
        assert "standstill period has ended" in _refused(dec.lodge_challenge, decision, actor=_vendor_user(failed),
                                                         text="Late").message
        assert "Answer every challenge" in _refused(dec.finalise_award, decision, actor=e["officer"]).message
        assert _refused(dec.answer_challenge, challenge, actor=e["officer"], answer="").field == "answer"
        dec.answer_challenge(challenge, actor=e["officer"], answer="Your score on the plan was 6 of 10 against 9.")
        dec.finalise_award(decision, actor=e["officer"])
        db.session.commit()
    assert challenge.state == ChallengeState.answered and decision.state == DecisionState.final
    refused = _events("decision.challenge_refused")
    assert {r["actor_id"] for r in refused} == {winner.id, outsider.id, _vendor_user(failed).id}


def test_a_declined_award_proposes_the_next_ranked_tenderer(tender):
    e = tender
    first, failed, best = e["submissions"]
    with pytest.raises(DecisionRefused, match="one tenderer"):
        dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id, first.id], justification="x")
    decision = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id], justification="Best.")
    dec.approve_decision(decision, actor=e["approver"])
    db.session.commit()
    proposed = dec.decline_award(decision, actor=e["officer"], reason="The tenderer withdrew its offer in writing.")
    db.session.commit()
    assert proposed == [first.id] == dec.proposal_for(e["exercise"])  # the failed one is never proposed
    with pytest.raises(DecisionRefused, match="declined or was rejected"):
        dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=[best.id], justification="Again")
    db.session.rollback()
    second = dec.record_decision(e["exercise"], actor=e["officer"], submission_ids=proposed,
                                 justification="Next-ranked after the withdrawal.")
    assert second.previous_id == decision.id and second.state == DecisionState.submitted


def test_a_decision_follows_the_signed_off_evaluation_and_for_a_priced_tender_the_price_opening(app, login):
    """No panel, a panel still scoring, a tender whose prices are sealed: each refused with what is still to do, the
    exercise page offers no button but says why, and the form's address sends the officer back with the reason."""
    from scoring.models import Panel
    from scoring.operations import confirm_price_opening, start_price_opening
    from tests.factories import OPENING_PASSPHRASE, create_opened_tender
    exercise, submissions, officer = create_opened_exercise(vendors=2)
    client = login(officer)

    def refused_with(text):
        assert text in _refused(dec.record_decision, exercise, actor=officer, submission_ids=[submissions[0].id],
                                justification="The better plan.").message
        page = client.get(f"/manage/exercises/{exercise.id}").get_data(as_text=True)
        assert str(escape(text)) in page and f"/contracts/decisions/new/{exercise.id}" not in page
        response = client.get(f"/contracts/decisions/new/{exercise.id}")
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/manage/exercises/{exercise.id}")
        assert str(escape(text)) in client.get(response.headers["Location"]).get_data(as_text=True)

    refused_with("form the exercise's panel first")
    panel, chair, members, _ = create_panel(exercise, officer, members=1)
    for user in (chair, *members):
        declare_all(panel, user)
        for submission in submissions:
            score_and_submit(panel, user, submission)
    refused_with("its chair has not signed the technical evaluation off yet")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(dec.Decision)) == 0
    sign_off(panel, chair)
    page = client.get(f"/manage/exercises/{exercise.id}").get_data(as_text=True)
    assert f"/contracts/decisions/new/{exercise.id}" in page  # positive control: now offered, and taken
    assert dec.record_decision(exercise, actor=officer, submission_ids=[submissions[0].id],
                               justification="The better plan.").state == DecisionState.submitted

    tender, bids, officer, second = create_opened_tender(prices=(Decimal("100"), Decimal("90")))
    panel, chair, members, _ = create_panel(tender, officer, members=1)
    for user in (chair, *members):
        declare_all(panel, user)
        for bid in bids:
            score_and_submit(panel, user, bid)
    sign_off(panel, chair)
    assert "opening of the compliant tenders' price envelopes" in _refused(
        dec.record_decision, tender, actor=officer, submission_ids=[bids[0].id], justification="Best value.").message
    start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    confirm_price_opening(db.session.get(Panel, panel.id), actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    assert dec.record_decision(tender, actor=officer, submission_ids=[bids[1].id],
                               justification="Best value.").entries[0].submission_id == bids[1].id


def test_a_tender_that_nobody_passed_is_not_awarded(app):
    from tests.factories import create_opened_tender
    tender, bids, officer, _second = create_opened_tender(prices=(Decimal("100"),))
    panel, chair, members, _ = create_panel(tender, officer, members=1)
    c1, c2 = technical_criteria_of(tender)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, bids[0], values={c1.id: 1, c2.id: 1})  # below the pass mark of 5
    sign_off(panel, chair)
    refusal = _refused(dec.record_decision, tender, actor=officer, submission_ids=[bids[0].id], justification="x")
    assert "No tender passed the technical evaluation" in refusal.message and "cancel the tender" in refusal.message


def test_an_award_goes_only_to_a_tender_that_passed_even_after_the_price_opening(app):
    from scoring.models import Panel
    from scoring.operations import confirm_price_opening, start_price_opening
    from tests.factories import OPENING_PASSPHRASE, create_opened_tender
    tender, (failed, passed), officer, second = create_opened_tender(prices=(Decimal("50"), Decimal("90")))
    panel, chair, members, _ = create_panel(tender, officer, members=1)
    c1, c2 = technical_criteria_of(tender)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, failed, values={c1.id: 1, c2.id: 9})  # below criterion 1's pass mark
        score_and_submit(panel, user, passed, values={c1.id: 7, c2.id: 7})
    sign_off(panel, chair)
    start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    confirm_price_opening(db.session.get(Panel, panel.id), actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    refusal = _refused(dec.record_decision, tender, actor=officer, submission_ids=[failed.id], justification="Cheapest.")
    assert "did not pass the technical evaluation" in refusal.message and refusal.field == "submissions"
    decision = dec.record_decision(tender, actor=officer, submission_ids=[passed.id], justification="Best value.")
    approver = create_staff(Role.approver)
    dec.return_decision(decision, actor=approver, reason="Explain the price difference.")
    db.session.commit()
    refusal = _refused(dec.resubmit_decision, decision, actor=officer, submission_ids=[failed.id], justification="x")
    assert "did not pass the technical evaluation" in refusal.message


def test_a_decision_waiting_on_a_cancelled_exercise_is_neither_approved_nor_resubmitted(eoi):
    from eoi.operations import cancel_exercise
    first, _failed, best = eoi["submissions"]
    waiting = dec.record_decision(eoi["exercise"], actor=eoi["officer"], submission_ids=[best.id, first.id],
                                  justification="The panel's recommendation.")
    db.session.commit()
    assert dec.approval_refusal(eoi["approver"], waiting) is None  # positive control: approvable until cancelled
    cancel_exercise(eoi["exercise"], actor=eoi["officer"], reason="The programme was re-scoped.")
    db.session.commit()
    assert "cancelled" in str(dec.approval_refusal(eoi["approver"], waiting))
    assert "cancelled" in _refused(dec.approve_decision, waiting, actor=eoi["approver"]).message
    db.session.refresh(waiting)
    assert waiting.state == DecisionState.submitted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(dec.Decision).where(
        dec.Decision.state == DecisionState.approved)) == 0
