"""The one request boundary (app/boundary.py): a refused operation is rolled back, its refusal recorded in a
transaction of its own when it asks to be, and answered by a flash and a redirect, a re-rendered form, or JSON."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Blueprint, render_template_string
from flask_wtf import FlaskForm
from freezegun import freeze_time
from wtforms import StringField

from app.boundary import commit, on_refusal, rollback_refused
from app.errors import DomainError
from app.extensions import db
from eoi.models import LateAttempt, ServiceCluster
from eoi.operations import get_or_create_submission, save_draft

from tests.factories import create_published_exercise, create_vendor_user

class Refused(DomainError):
    pass


class Gone(DomainError):
    status_code = 410


class NameForm(FlaskForm):
    name = StringField()


def _write(code: str) -> None:
    db.session.add(ServiceCluster(code=code, name_en=code, name_zh=code))
    db.session.flush()


def _codes() -> set[str]:
    db.session.rollback()  # a fresh read of what is committed
    return set(db.session.scalars(sa.select(ServiceCluster.code)))


@pytest.fixture
def routes(app):
    bp = Blueprint("boundary_test", __name__)

    @bp.post("/t/refuse")
    def refuse():
        _write("HALF")
        raise Refused("Not now.")

    @bp.post("/t/back-to")
    def back_to():
        on_refusal(redirect_to="/exercises")
        _write("HALF")
        raise Refused("Not now.")

    @bp.post("/t/error-knows-better")
    def error_knows_better():
        on_refusal(redirect_to="/exercises")
        raise Refused("Not now.", redirect_to="/account")

    @bp.post("/t/gone")
    def gone():
        raise Gone("Gone.")

    @bp.post("/api/t/refuse")
    def api_refuse():
        _write("HALF")
        raise Refused("Not via the API either.")

    @bp.post("/t/form")
    def form_page():
        form = NameForm()
        page = lambda _error=None: render_template_string(  # noqa: E731
            '<input name="name" value="{{ form.name.data }}">{% for e in form.name.errors %}<p class="field-error">{{ e }}</p>{% endfor %}',
            form=form)
        on_refusal(render=page, field=form.name)
        if form.validate_on_submit():
            _write("HALF")
            raise Refused("That name is taken.")
        return page()

    @bp.post("/t/recorded")
    def recorded():
        _write("HALF")
        raise Refused("Refused, and kept on record.").record_after_rollback(lambda: _write("KEPT"))

    @bp.post("/t/recorder-fails")
    def recorder_fails():
        _write("HALF")
        raise Refused("Refused.").record_after_rollback(lambda: 1 / 0)

    @bp.post("/t/ok")
    def ok():
        _write("DONE")
        commit("Done.")
        return "ok"

    app.register_blueprint(bp)
    return app


def test_a_refusal_rolls_back_flashes_and_goes_back_to_the_referring_page(routes, client):
    response = client.post("/t/refuse", headers={"Referer": "http://localhost/exercises?q=x"})
    assert response.status_code == 302 and response.headers["Location"] == "/exercises?q=x"
    assert "Not now." in client.get("/exercises").get_data(as_text=True)  # flashed
    client.post("/t/ok")  # the next commit (the tests share one session) would carry anything not rolled back
    assert _codes() == {"DONE"}


def test_the_refused_page_goes_home_without_an_app_referrer(routes, client):
    assert client.post("/t/refuse").headers["Location"] == "/"
    assert client.post("/t/refuse", headers={"Referer": "https://evil.example/x"}).headers["Location"] == "/"


def test_the_view_and_the_error_can_name_where_to_go_back(routes, client):
    assert client.post("/t/back-to", headers={"Referer": "http://localhost/"}).headers["Location"] == "/exercises"
    assert client.post("/t/error-knows-better").headers["Location"] == "/account"
    assert "HALF" not in _codes()


def test_json_requests_and_the_api_get_the_error_and_a_status(routes, client):
    response = client.post("/t/refuse", headers={"Accept": "application/json"})
    assert response.status_code == 409 and response.get_json() == {"error": "Not now.", "status": 409}
    api = client.post("/api/t/refuse")
    assert api.status_code == 409 and api.get_json()["error"] == "Not via the API either."
    gone = client.post("/t/gone", headers={"Accept": "application/json"})
    assert gone.status_code == 410 and gone.get_json() == {"error": "Gone.", "status": 410}
    assert "HALF" not in _codes()


def test_a_refused_form_is_rendered_again_with_the_input_and_the_message_at_the_field(routes, client):
    response = client.post("/t/form", data={"name": "Harbour Digital"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="Harbour Digital"' in page and '<p class="field-error">That name is taken.</p>' in page
    assert "HALF" not in _codes()


def test_a_refusal_is_recorded_in_its_own_transaction_after_the_rollback(routes, client):
    assert client.post("/t/recorded").status_code == 302
    assert _codes() == {"KEPT"}  # the refused write is gone, the record of the refusal is committed


def test_a_failing_recorder_still_answers_the_refusal_and_writes_nothing(routes, client):
    assert client.post("/t/recorder-fails").status_code == 302
    assert _codes() == set()


def test_positive_control_a_view_that_succeeds_commits_once(routes, client):
    assert client.post("/t/ok").get_data(as_text=True) == "ok"
    assert _codes() == {"DONE"}


def test_a_late_draft_save_keeps_only_the_late_attempt(app):
    """The refusal recorder on a real operation: SubmissionClosed records a LateAttempt after the rollback."""
    exercise = create_published_exercise(closes_in=timedelta(hours=1))
    vendor = create_vendor_user()
    db.session.commit()
    submission = get_or_create_submission(exercise, actor=vendor)
    db.session.commit()
    version = submission.draft_version
    with freeze_time(exercise.closes_at + timedelta(seconds=1)):
        with pytest.raises(DomainError) as refusal:
            save_draft(submission, actor=vendor, answers={exercise.sections[0].id: "Too late."})
        rollback_refused(refusal.value)
    db.session.rollback()
    assert db.session.scalar(sa.select(LateAttempt.action)) == "save"
    assert db.session.get(type(submission), submission.id).draft_version == version
