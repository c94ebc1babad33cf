"""The demo data (issue 10 item 9): the 2006 EOI fully scored by a five-member panel, one declared conflict, one
reopened and revised sheet, consensus recorded; the restricted tender closed, opened and mid-scoring."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.audit import AuditEvent
from app.extensions import db
from eoi.models import Exercise
from eoi.states import ExerciseState
from scoring.models import Assignment, ConflictDeclaration, ConsensusScore, Panel, PanelMember, ScoreSheet
from scoring.queries import results_of
from scoring.states import ScoreSheetState


def test_demo_eoi_is_scored_by_a_five_member_panel(app):
    from demo import seed_demo
    seed_demo()
    panel = db.session.scalar(sa.select(Panel).join(Exercise).where(Exercise.reference == "OSP/EOI/2006/01"))
    assert len([m for m in panel.members if m.role.scores]) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConflictDeclaration)
                             .where(ConflictDeclaration.has_conflict.is_(True))) == 1
    sheets = sa.select(ScoreSheet).join(Assignment).join(PanelMember).where(PanelMember.panel_id == panel.id)
    states = {s.state for s in db.session.scalars(sheets)}
    assert states == {ScoreSheetState.submitted}
    assert len(db.session.scalars(sheets).all()) == 12 * 5 - 1
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "score_sheet.reopened")) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsensusScore)) == 4
    view = results_of(panel)
    assert len(view["results"]) == 12 and view["sentences"]


def test_demo_tender_is_closed_opened_and_mid_scoring(app):
    from demo import seed_demo
    from eoi import sealed
    seed_demo()
    tender = db.session.scalar(sa.select(Exercise).where(Exercise.reference == "OSP/T/BT/01"))
    assert tender.state == ExerciseState.evaluating and tender.opened_at and tender.price_opened_at is None
    panel = db.session.scalar(sa.select(Panel).where(Panel.exercise_id == tender.id))
    assert not panel.is_signed_off
    states = [s.state for s in db.session.scalars(sa.select(ScoreSheet).join(Assignment).join(PanelMember)
                                                  .where(PanelMember.panel_id == panel.id))]
    assert states.count(ScoreSheetState.submitted) == 6 and states.count(ScoreSheetState.draft) == 2
    from scoring.operations import sign_off_problems
    assert "not submitted yet: 10." in " ".join(sign_off_problems(panel))
    from eoi.queries import standing_submissions
    for submission in standing_submissions(tender):
        try:
            sealed.prices_for_system(submission, purpose="test")
        except sealed.SealedContent:
            continue
        raise AssertionError("a demo tender's price is readable before the sign-off")
    assert results_of(panel)["recommended"] is None
