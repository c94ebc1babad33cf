"""Results (issue 10, item 6): the chair signs the technical evaluation off (scores frozen), then two named
officers open the price envelopes of the technically compliant tenders only (the cryptographic opening), and the
combined scores rank the tenders; results_of(panel)["recommended"] names the shortlist (EOI) or the first
compliant tenderer (tender)."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import Role
from app.extensions import db
from eoi import sealed
from eoi.models import Exercise, Submission
from eoi.operations import ExerciseError
from scoring.models import Panel
from scoring.operations import (ResultsError, SheetError, confirm_price_opening, record_consensus, reopen_sheet,
                                sign_off_problems, sign_off_technical, start_price_opening)
from scoring.queries import assignment_for, results_of, seat_of, technical_criteria_of
from scoring.states import PanelState
from tests.factories import (OPENING_PASSPHRASE, create_opened_exercise, create_opened_tender, create_panel,
                             create_staff, declare_all, score_and_submit)

#: scores (criterion 1, criterion 2) per tender, the same from every member: tender 0 and 1 pass, tender 2 fails
SCORES = ((8, 7), (6, 6), (3, 9))


def _events(action):
    return [json.loads(e.details) for e in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)
                                                              .order_by(AuditEvent.id))]


@pytest.fixture
def tender(app):
    return scored_tender()


def scored_tender():
    """A tender scored by a chair and two members: prices 100, 80, 120 per line; tender 2 fails a pass mark."""
    exercise, submissions, officer, second = create_opened_tender()
    panel, chair, members, _clerk = create_panel(exercise, officer, members=2)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        for submission, (a, b) in zip(submissions, SCORES):
            score_and_submit(panel, user, submission, values={c1.id: a, c2.id: b})
    return panel, chair, members, submissions, officer, second


def _open_prices(panel, first, second):
    start_price_opening(panel, actor=first, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    confirm_price_opening(panel, actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()


def test_sign_off_freezes_the_scores_and_is_audited_with_the_ranking(tender):
    panel, chair, members, submissions, officer, second = tender
    assert sign_off_problems(panel) == []
    with pytest.raises(ResultsError, match="chair"):
        sign_off_technical(panel, actor=members[0])
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    assert panel.state == PanelState.signed_off and panel.signed_off_by_id == chair.id
    assert panel.compliant == [submissions[0].id, submissions[1].id]
    event = _events("panel.technical_signed_off")[-1]
    assert event["compliant"] == panel.compliant and [r["passed"] for r in event["ranking"]] == [True, True, False]
    c1 = technical_criteria_of(panel.exercise)[0]
    sheet = assignment_for(seat_of(members[0], panel), submissions[0]).sheet
    with pytest.raises(SheetError, match="frozen"):
        reopen_sheet(sheet, actor=chair, reason="Please look again at criterion 1.")
    db.session.rollback()
    with pytest.raises(SheetError, match="frozen"):
        record_consensus(panel, submissions[0], c1, actor=chair, value=Decimal(7), rationale="Agreed at the meeting.")
    db.session.rollback()
    with pytest.raises(ResultsError, match="frozen"):
        sign_off_technical(panel, actor=chair)


def test_sign_off_waits_for_every_sheet_and_for_consensus_on_outliers(app):
    exercise, submissions, officer = create_opened_exercise(vendors=1, criteria=((50, 10), (50, 10)))
    panel, chair, members, _ = create_panel(exercise, officer, members=3)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members[:2]):
        declare_all(panel, user)
    score_and_submit(panel, chair, submissions[0], values={c1.id: 6, c2.id: 5})
    assert "not submitted" in " ".join(sign_off_problems(panel))
    with pytest.raises(ResultsError, match="cannot be signed off yet"):
        sign_off_technical(panel, actor=chair)
    db.session.rollback()
    score_and_submit(panel, members[0], submissions[0], values={c1.id: 7, c2.id: 5})
    score_and_submit(panel, members[1], submissions[0], values={c1.id: 6, c2.id: 6})
    declare_all(panel, members[2])
    score_and_submit(panel, members[2], submissions[0], values={c1.id: 1, c2.id: 5})  # an outlier on criterion 1
    assert sign_off_problems(panel) == ["Criteria with an outlying score and no consensus yet (record one on the "
                                        "proposal's moderation page): 1."]
    record_consensus(panel, submissions[0], c1, actor=chair, value=Decimal(6), rationale="Agreed at the meeting.")
    assert sign_off_problems(panel) == []
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    assert results_of(panel)["recommended"] == [submissions[0].id]  # an EOI: the shortlist


def test_prices_stay_sealed_before_the_sign_off_refused_and_audited(tender):
    panel, chair, members, submissions, officer, second = tender
    with pytest.raises(ExerciseError, match="signed the technical evaluation off"):
        start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.rollback()
    from app.boundary import record_refusal
    try:
        start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    except ExerciseError as refusal:
        db.session.rollback()
        record_refusal(refusal)
    assert _events("exercise.price_opening_refused")[-1]["reason"].startswith("The price envelopes are opened only")
    for submission in submissions:
        with pytest.raises(sealed.SealedContent):
            sealed.prices_for_system(submission, purpose="test")
    assert results_of(panel)["recommended"] is None and results_of(panel)["combined"] is None


def test_a_panel_member_or_one_officer_alone_cannot_open_the_prices(tender):
    from app.boundary import record_refusal
    panel, chair, members, submissions, officer, second = tender
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    for attempt in (lambda: start_price_opening(panel, actor=chair, passphrase=OPENING_PASSPHRASE),
                    lambda: start_price_opening(panel, actor=members[0], passphrase=OPENING_PASSPHRASE)):
        with pytest.raises(ExerciseError, match="Only procurement officers") as caught:
            attempt()
        db.session.rollback()
        record_refusal(caught.value)
    start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    with pytest.raises(ExerciseError, match="second, different officer") as caught:
        confirm_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.rollback()
    record_refusal(caught.value)
    outsider = create_staff(Role.officer)  # an officer not named at publication
    with pytest.raises(ExerciseError, match="named"):
        confirm_price_opening(panel, actor=outsider, passphrase=OPENING_PASSPHRASE)
    db.session.rollback()
    refused = _events("exercise.price_opening_refused")
    assert len(refused) == 3 and "second, different officer" in refused[-1]["reason"]
    assert db.session.get(Exercise, panel.exercise_id).price_opened_at is None


def test_only_the_compliant_tenders_prices_are_opened_and_combined(tender):
    panel, chair, members, submissions, officer, second = tender
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    _open_prices(panel, second, officer)
    exercise = db.session.get(Exercise, panel.exercise_id)
    assert exercise.price_opened_at is not None
    # every line at the unit price: 1 × set-up + 5 × yearly fee
    assert sealed.prices_for_system(submissions[1], purpose="test").total(exercise.price_items) == Decimal("480")
    with pytest.raises(sealed.SealedContent):  # the non-compliant tender's key was never unwrapped
        sealed.prices_for_system(submissions[2], purpose="test")
    assert sealed.price_content_for(officer, submissions[2]).sealed
    opened = _events("exercise.price_opened")[-1]
    assert opened["opened"] == [submissions[0].id, submissions[1].id] and opened["kept_sealed"] == [submissions[2].id]
    view = results_of(panel)
    assert view["prices"] == {submissions[0].id: Decimal("600"), submissions[1].id: Decimal("480")}
    by_id = {int(c.proposal): c for c in view["combined"]}
    # technical totals 76 and 60; price points 80 (480/600 × 100) and 100; combined 0.7 × t + 0.3 × p
    assert (by_id[submissions[0].id].combined, by_id[submissions[1].id].combined) == (Decimal("77.2000"), Decimal("72.0000"))
    assert by_id[submissions[0].id].rank == 1 and by_id[submissions[2].id].rank is None
    assert by_id[submissions[2].id].price is None
    assert view["recommended"] == submissions[0].id
    assert {"results", "sentences", "agreement", "criteria", "submissions", "overall_pass_mark"} <= set(view)


def test_the_cheaper_tender_wins_when_price_weighs_enough(app):
    exercise, submissions, officer, second = create_opened_tender(prices=(Decimal("100"), Decimal("50")),
                                                                  technical_weight=40)
    panel, chair, members, _ = create_panel(exercise, officer, members=1, secretary=False)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        for submission, (a, b) in zip(submissions, SCORES):
            score_and_submit(panel, user, submission, values={c1.id: a, c2.id: b})
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    _open_prices(panel, officer, second)
    view = results_of(panel)
    # 0.4 × 76 + 0.6 × 50 = 60.4 against 0.4 × 60 + 0.6 × 100 = 84
    assert view["recommended"] == submissions[1].id
    assert [int(c.proposal) for c in view["combined"]] == [submissions[1].id, submissions[0].id]


def test_prices_cannot_be_opened_when_no_tender_is_compliant(app):
    exercise, submissions, officer, second = create_opened_tender(prices=(Decimal("100"),))
    panel, chair, members, _ = create_panel(exercise, officer, members=1, secretary=False)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0], values={c1.id: 2, c2.id: 2})
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    assert panel.compliant == []
    with pytest.raises(ExerciseError, match="No tender passed"):
        start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    assert results_of(panel)["recommended"] is None


def test_an_officer_signs_off_when_the_chair_has_a_conflict(app):
    exercise, submissions, officer, second = create_opened_tender(prices=(Decimal("100"), Decimal("90")))
    panel, chair, members, _ = create_panel(exercise, officer, members=2, secretary=False)
    c1, c2 = technical_criteria_of(exercise)
    declare_all(panel, chair, conflicts={submissions[1].vendor_id: "My sister works for this company."})
    for user in members:
        declare_all(panel, user)
        for submission in submissions:
            score_and_submit(panel, user, submission, values={c1.id: 7, c2.id: 7})
    score_and_submit(panel, chair, submissions[0], values={c1.id: 7, c2.id: 7})
    with pytest.raises(ResultsError, match="chair"):
        sign_off_technical(panel, actor=chair)  # it sees nothing of the conflicted tender, so not the ranking
    db.session.rollback()
    sign_off_technical(panel, actor=officer)
    db.session.commit()
    assert panel.signed_off_by_id == officer.id and set(panel.compliant) == {s.id for s in submissions}


def test_the_sign_off_check_costs_the_same_statements_for_one_proposal_or_three(app):
    """sign_off_problems reads the whole panel at once: its statements do not grow with the proposals (1,000
    proposals were once 1,000 rounds of moderation queries)."""
    from tests.sql_counter import count_statements, fresh_session
    LAST = [""]

    def statements_for(vendors: int) -> int:
        exercise, submissions, officer = create_opened_exercise(vendors=vendors, criteria=((50, 10), (50, 10)))
        panel, chair, members, _ = create_panel(exercise, officer, members=2)
        c1, c2 = technical_criteria_of(exercise)
        for user in (chair, *members):
            declare_all(panel, user)
            for proposal in submissions:
                score_and_submit(panel, user, proposal, values={c1.id: 6, c2.id: 5})
        db.session.commit()
        panel_id = panel.id
        fresh_session()
        from scoring.models import Panel
        with count_statements() as seen:
            assert sign_off_problems(db.session.get(Panel, panel_id)) == []
        LAST[:] = [str(seen)]
        return len(seen)

    one, three = statements_for(1), statements_for(3)
    assert one == three <= 16, LAST[0]
