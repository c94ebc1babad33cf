"""Public pages: the list of exercises, an exercise's page, and its tender documents."""
from __future__ import annotations

import sqlalchemy.orm as so
from flask import render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.audit import record
from app.boundary import commit
from app.db import now_utc
from app.extensions import db
from app.hooks import render_exercise_panels
from app.public_cache import public_page
from app.storage import stored_path
from eoi import bp, queries
from eoi.forms.vendor import ClarificationForm, ExerciseSearchForm
from eoi.models import Exercise, ExerciseDocument
from eoi.operations import unacknowledged_addenda
from eoi.permissions import (can_acknowledge_addenda, can_ask_question, can_download_exercise_documents, can_take_part,
                             can_view_exercise, must_reconfirm)
from eoi.states import ExerciseState

PAGE_SIZE = 20


def _locale() -> str:
    return str(get_locale() or "en")


@bp.get("/exercises")
@public_page(next_change=queries.next_public_change)
def exercise_list():
    form = ExerciseSearchForm(request.args, clusters=queries.service_clusters(), locale=_locale())
    query = queries.public_exercises(form.filters(), now_utc()).options(so.selectinload(Exercise.clusters))  # not one query per row
    page = db.paginate(query, page=request.args.get("page", 1, type=int),
                       per_page=PAGE_SIZE, max_per_page=PAGE_SIZE, error_out=False)
    return render_template("eoi/public/exercise_list.html", form=form, page=page)


def _vendor_panel(exercise: Exercise) -> dict:
    """What a vendor that may take part sees on the exercise page (nothing for anyone else)."""
    if not can_take_part(current_user, exercise):
        return {"can_take_part": False}
    vendor_id = current_user.vendor_id
    submission = queries.submission_of(exercise, vendor_id)
    return {
        "can_take_part": True,
        "interested": queries.has_registered_interest(exercise, vendor_id),
        # Addenda are acknowledged while the exercise is open, by a company that takes part (issue 8 item 9).
        "unacknowledged": unacknowledged_addenda(exercise, vendor_id) if can_acknowledge_addenda(current_user, exercise) else [],
        "submission": submission,
        "must_reconfirm": submission is not None and must_reconfirm(current_user, submission),
        "own_questions": queries.questions_asked_by(exercise, vendor_id),
    }


def load_public_exercise(exercise_id: int, *options) -> Exercise:
    """The exercise if the user may view it (404 otherwise); options: loader options for what the caller uses."""
    exercise = db.session.get(Exercise, exercise_id, options=options)
    if exercise is None or not can_view_exercise(current_user, exercise):
        raise NotFound()
    return exercise


def render_exercise_detail(exercise: Exercise, *, question_form: ClarificationForm | None = None, status: int = 200):
    panel = _vendor_panel(exercise)
    context = {
        "exercise": exercise, "clarifications": queries.published_clarifications(exercise),
        "incidents": queries.incidents_of(exercise, effective_only=True),
        "can_download": can_download_exercise_documents(current_user, exercise),
        "is_open": exercise.is_open, "is_cancelled": exercise.state == ExerciseState.cancelled,
        "questions_open": can_ask_question(exercise, now_utc()),
        **panel,
        # Only for vendors who may ask: building it puts a CSRF token in the session, which a public page must not.
        "question_form": question_form or (ClarificationForm() if panel["can_take_part"] else None),
        "panels": render_exercise_panels(exercise, "public"),
    }
    return render_template("eoi/public/exercise_detail.html", **context), status


@bp.get("/exercises/<int:exercise_id>")
@public_page(next_change=queries.next_public_change)
def exercise_detail(exercise_id: int):
    return render_exercise_detail(load_public_exercise(exercise_id))


@bp.get("/exercises/<int:exercise_id>/documents/<int:document_id>")
def exercise_document_download(exercise_id: int, document_id: int):
    exercise = load_public_exercise(exercise_id)
    doc = db.session.get(ExerciseDocument, document_id)
    # 404 (not 403) for a restricted tender's documents, so uninvited users learn nothing about them.
    if doc is None or doc.exercise_id != exercise.id or not can_download_exercise_documents(current_user, exercise):
        raise NotFound()
    path = stored_path(doc.file.storage_key)
    if not path.is_file():
        raise NotFound()
    if current_user.is_authenticated:
        record(current_user, "exercise.document_downloaded", exercise, document_id=doc.id, version=doc.version)
        commit()
    response = send_file(path, mimetype=doc.file.content_type, as_attachment=True,
                         download_name=doc.file.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
