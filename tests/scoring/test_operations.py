"""scoring operations called directly: criteria are set in draft by officers, weights add up to 100 before
publication (a check scoring registers in app.hooks), positions stay without gaps."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi.operations import ExerciseError, publication_problems, publish_exercise
from eoi.states import ExerciseKind
from scoring.models import Criterion, Envelope
from scoring.operations import CriterionError, add_criterion, criteria_of, delete_criterion
from tests.factories import create_draft, create_published, create_staff, create_vendor_user, opening_officers


def _add(exercise, officer, weight, envelope=Envelope.technical, **extra):
    return add_criterion(exercise, actor=officer, name_en=f"Criterion {weight}", name_zh=f"準則{weight}",
                         weight=Decimal(weight), max_score=extra.get("max_score", 10),
                         pass_mark=extra.get("pass_mark"), envelope=envelope)


def test_weights_must_add_up_to_100_before_publication(app):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    _add(exercise, officer, "60")
    assert any("add up to 60%" in p for p in publication_problems(exercise))
    with pytest.raises(ExerciseError, match="add up to 60%"):
        publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    _add(exercise, officer, "40")
    assert publication_problems(exercise) == []
    publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))


def test_criteria_are_refused_after_publication_and_for_a_price_envelope_that_does_not_exist(app):
    officer = create_staff(Role.officer)
    with pytest.raises(CriterionError, match="price envelope"):
        _add(create_draft(officer), officer, "30", envelope=Envelope.price)
    with pytest.raises(CriterionError, match="pass mark"):
        _add(create_draft(officer), officer, "30", max_score=5, pass_mark=6)
    with pytest.raises(CriterionError, match="only while the exercise is a draft"):
        _add(create_published(officer), officer, "100")


def test_only_officers_change_criteria(app):
    exercise = create_draft()
    for outsider in (create_vendor_user(), create_staff(Role.panel), create_staff(Role.admin)):
        with pytest.raises(CriterionError, match="Only procurement officers"):
            _add(exercise, outsider, "50")
    assert _add(exercise, create_staff(Role.officer), "50").position == 1


def test_deleting_a_criterion_closes_the_gap_in_the_numbering_until_publication(app):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    first, second, third = _add(exercise, officer, "20"), _add(exercise, officer, "30"), _add(exercise, officer, "50")
    delete_criterion(second, actor=officer)
    assert [(c.id, c.position) for c in criteria_of(exercise)] == [(first.id, 1), (third.id, 2)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Criterion)) == 2
    _add(exercise, officer, "30")  # 20 + 50 + 30 = 100
    publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    with pytest.raises(CriterionError, match="only while the exercise is a draft"):
        delete_criterion(first, actor=officer)


def test_weights_add_up_to_100_within_each_envelope_and_the_split_is_set_in_draft(app):
    from scoring.operations import set_evaluation_settings
    from scoring.queries import settings_of
    officer = create_staff(Role.officer)
    exercise = create_draft(officer, kind=ExerciseKind.tender, has_price_envelope=True)
    _add(exercise, officer, "70")
    _add(exercise, officer, "30", envelope=Envelope.price)
    problems = publication_problems(exercise)
    assert any("Technical envelope" in p and "add up to 70%" in p for p in problems)
    assert any("Price envelope" in p and "add up to 30%" in p for p in problems)
    assert settings_of(exercise).technical_weight == 70  # the default split before it is set
    with pytest.raises(CriterionError, match="technical share"):
        set_evaluation_settings(exercise, actor=officer, overall_pass_mark=None, technical_weight=100,
                                price_formula="linear")
    settings = set_evaluation_settings(exercise, actor=officer, overall_pass_mark=Decimal(55), technical_weight=60,
                                       price_formula="linear")
    assert (settings.technical_weight, settings.price_weight, settings.price_formula) == (60, 40, "linear")


def test_guidance_groups_and_descriptors_are_shown_to_vendors(app, client):
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    add_criterion(exercise, actor=officer, name_en="Approach", name_zh="方案", weight=Decimal(100), max_score=10,
                  pass_mark=4, envelope=Envelope.technical, group_en="Quality", group_zh="質素",
                  guidance_en="Describe the method.", guidance_zh="說明方法。", descriptors_en="0: nothing\n10: excellent",
                  descriptors_zh="0：沒有\n10：卓越")
    publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "Quality" in page and "Describe the method." in page and "10: excellent" in page
    client.get("/language/zh_Hant")
    page = client.get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "質素" in page and "說明方法。" in page and "10：卓越" in page
