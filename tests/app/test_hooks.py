"""Declared hooks between areas: an area adds its checks, panels, documents and periodic tasks when the app
factory registers it, per app, never by import order, and registering twice does not double anything."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import scoring
from app.auth.models import Role
from app.extensions import db
from app.hooks import hooks, render_exercise_panels
from eoi.operations import publication_problems
from scoring.models import Envelope
from scoring.operations import add_criterion, criteria_problems
from tests.conftest import _make_app
from tests.factories import create_draft, create_staff

ROOT = Path(__file__).resolve().parents[2]


def _draft_with_criteria_adding_up_to_60():
    officer = create_staff(Role.officer)
    exercise = create_draft(officer)
    add_criterion(exercise, actor=officer, name_en="Approach", name_zh="方案", weight=Decimal(60), max_score=10,
                  pass_mark=None, envelope=Envelope.technical)
    db.session.commit()
    return exercise


def _weight_problems(exercise) -> list[str]:
    return [p for p in publication_problems(exercise) if "add up to" in p]


def test_an_app_without_scoring_has_no_criteria_check_panel_or_pages(app, tmp_path):
    exercise = _draft_with_criteria_adding_up_to_60()
    assert len(_weight_problems(exercise)) == 1  # positive control: the full app checks the weights
    with app.test_request_context():
        assert f"/scoring/exercises/{exercise.id}/criteria" in render_exercise_panels(exercise, "manage")[0]
        assert "How proposals are evaluated" in render_exercise_panels(exercise, "public")[0]
    exercise_id = exercise.id
    db.session.rollback()  # SQLite: end this app's transaction before the other app writes
    assert hooks(app).exercise_panels and "scoring" in app.blueprints
    bare = _make_app(tmp_path / "bare", app.config["SQLALCHEMY_DATABASE_URI"], AREAS=("eoi",))
    with bare.app_context():
        assert hooks(bare).publication_checks == {} and hooks(bare).exercise_panels == {}
        assert "scoring" not in bare.blueprints and "eoi" in bare.blueprints
        from eoi.models import Exercise
        bare_exercise = db.session.get(Exercise, exercise_id)
        assert _weight_problems(bare_exercise) == []
        with bare.test_request_context():  # scoring was imported by this test module: importing registers nothing
            assert render_exercise_panels(bare_exercise, "manage") == render_exercise_panels(bare_exercise, "public") == []
        db.session.rollback()
        assert bare.test_client().get(f"/scoring/exercises/{exercise_id}/criteria").status_code == 404


def test_registering_an_area_twice_does_not_double_its_hooks(app):
    exercise = _draft_with_criteria_adding_up_to_60()
    before = (dict(hooks(app).publication_checks), dict(hooks(app).exercise_panels))
    scoring.init_app(app)
    scoring.init_app(app)
    assert (hooks(app).publication_checks, hooks(app).exercise_panels) == before
    assert list(hooks(app).publication_checks.values()).count(criteria_problems) == 1
    assert len(_weight_problems(exercise)) == 1


def test_each_app_has_its_own_registry(app, tmp_path):
    other = _make_app(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"], AREAS=())
    assert hooks(other) is not hooks(app)
    assert "submission_receipt" in hooks(app).document_builders and "submission_receipt" not in hooks(other).document_builders
    assert "registration_confirmation" in hooks(other).document_builders  # the core's own document


def test_periodic_tasks_come_from_the_areas_not_the_configuration(app, tmp_path):
    assert app.extensions["celery"].conf.beat_schedule["close-due-exercises"]["task"] == "eoi.close_due_exercises"
    assert "sweep-documents" in app.extensions["celery"].conf.beat_schedule
    other = _make_app(tmp_path / "other", app.config["SQLALCHEMY_DATABASE_URI"], AREAS=())
    assert set(other.extensions["celery"].conf.beat_schedule) == {"sweep-documents", "checkpoint-audit", "expire-registrations", "relay-outbox", "clean-orphans"}  # the core's own
    assert "eoi." not in (ROOT / "app" / "config.py").read_text()


def test_the_demo_cli_comes_from_wsgi_not_from_the_app_factory(app):
    assert "seed-demo" not in app.cli.list_commands(None)
    import wsgi
    assert "seed-demo" in wsgi.app.cli.list_commands(None)
