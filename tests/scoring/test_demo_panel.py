"""The demo data (issue 10 item 9): the 2006 EOI fully scored by a five-member panel, one declared conflict, one
reopened and revised sheet, consensus recorded."""
from __future__ import annotations

import json

import sqlalchemy as sa

from app.audit import AuditEvent
from app.extensions import db
from scoring.models import ConflictDeclaration, ConsensusScore, Panel, ScoreSheet
from scoring.queries import results_of
from scoring.states import ScoreSheetState


def test_demo_eoi_is_scored_by_a_five_member_panel(app):
    from demo import seed_demo
    seed_demo()
    panel = db.session.scalar(sa.select(Panel))
    assert len([m for m in panel.members if m.role.scores]) == 5
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConflictDeclaration)
                             .where(ConflictDeclaration.has_conflict.is_(True))) == 1
    states = set(db.session.scalars(sa.select(ScoreSheet.state)))
    assert states == {ScoreSheetState.submitted}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreSheet)) == 12 * 5 - 1
    assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "score_sheet.reopened")) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsensusScore)) == 4
    view = results_of(panel)
    assert len(view["results"]) == 12 and view["sentences"]
