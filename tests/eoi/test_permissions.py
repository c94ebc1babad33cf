"""Officer routes check the object, not only the role: each loads its exercise (or the section, line, document,
question or submission of one) and asks can_manage_exercise(user, exercise); scoring asks can_manage_criteria."""
from __future__ import annotations

import pytest

from app.auth.models import Role
from eoi.permissions import can_edit_setup, can_manage_exercise

from tests.factories import create_draft, create_staff, create_vendor_user


def _urls(exercise) -> list[tuple[str, str]]:
    section = exercise.sections[0]
    document = exercise.documents[0]
    return [
        ("GET", f"/manage/exercises/{exercise.id}"),
        ("GET", f"/manage/exercises/{exercise.id}/edit"),
        ("POST", f"/manage/exercises/{exercise.id}/publish"),
        ("GET", f"/manage/exercises/{exercise.id}/sections/new"),
        ("GET", f"/manage/sections/{section.id}/edit"),
        ("POST", f"/manage/sections/{section.id}/delete"),
        ("GET", f"/manage/documents/{document.id}/file"),
        ("GET", f"/manage/exercises/{exercise.id}/clarifications"),
        ("GET", f"/manage/exercises/{exercise.id}/opening"),
        ("POST", f"/manage/exercises/{exercise.id}/opening/start"),
        ("GET", f"/scoring/exercises/{exercise.id}/criteria"),
    ]


@pytest.fixture
def officer_client(login):
    officer = create_staff(Role.officer)
    return officer, login(officer)


def test_officer_routes_ask_about_the_exercise_itself(monkeypatch, officer_client):
    officer, client = officer_client
    exercise = create_draft(officer)
    asked = []

    def nobody_manages(user, obj):
        asked.append(obj.id)
        return False
    monkeypatch.setattr("eoi.views.officer.can_manage_exercise", nobody_manages)
    monkeypatch.setattr("scoring.views.criteria.can_manage_criteria", nobody_manages)
    for method, url in _urls(exercise):
        assert client.open(url, method=method).status_code == 403, url
    assert set(asked) == {exercise.id} and len(asked) == len(_urls(exercise))


def test_positive_control_the_same_routes_answer_the_officer_who_manages(officer_client):
    officer, client = officer_client
    exercise = create_draft(officer)
    for method, url in _urls(exercise):
        if method == "GET":
            assert client.get(url).status_code == 200, url


def test_can_manage_exercise_takes_the_exercise(app):
    officer, vendor = create_staff(Role.officer), create_vendor_user()
    exercise = create_draft(officer)
    assert can_manage_exercise(officer, exercise) and can_edit_setup(officer, exercise)
    assert not can_manage_exercise(vendor, exercise) and not can_edit_setup(vendor, exercise)
    assert not can_manage_exercise(officer, None)
