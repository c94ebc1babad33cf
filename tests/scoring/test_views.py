"""Scoring pages: the officer's criteria page, and the criteria panel on the public exercise page."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi.operations import publish_exercise
from scoring.models import Criterion, Envelope
from scoring.operations import add_criterion
from tests.factories import create_draft, create_staff, opening_officers


def _add(exercise, officer, weight, envelope=Envelope.technical, **extra):
    return add_criterion(exercise, actor=officer, name_en=f"Criterion {weight}", name_zh=f"準則{weight}",
                         weight=Decimal(weight), max_score=extra.get("max_score", 10),
                         pass_mark=extra.get("pass_mark"), envelope=envelope)


def test_officer_adds_and_deletes_criteria_through_the_page(app, login):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    client = login(officer)
    response = client.post(f"/scoring/exercises/{exercise.id}/criteria", data={
        "name_en": "Technical approach", "name_zh": "技術方案", "weight": "70", "max_score": "10", "envelope": "technical"})
    assert response.status_code == 302
    bad = client.post(f"/scoring/exercises/{exercise.id}/criteria", data={
        "name_en": "X", "name_zh": "X", "weight": "150", "max_score": "10", "envelope": "technical"})
    assert bad.status_code == 400 and "between 0.01 and 100" in bad.get_data(as_text=True)
    page = client.get(f"/scoring/exercises/{exercise.id}/criteria").get_data(as_text=True)
    assert "Technical approach" in page and "add up to 70%" in page
    criterion = db.session.scalar(sa.select(Criterion))
    assert client.post(f"/scoring/criteria/{criterion.id}/delete").status_code == 302
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Criterion)) == 0


def test_published_criteria_are_shown_on_the_public_exercise_page(app, client):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    _add(exercise, officer, "65", pass_mark=5)
    _add(exercise, officer, "35")
    publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "How proposals are evaluated" in page and "Criterion 65" in page and "5 of 10" in page
    client.get("/language/zh_Hant")
    assert "準則35" in client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
