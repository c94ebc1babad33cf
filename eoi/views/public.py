"""Public pages: the list of exercises, an exercise's page, and its tender documents."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import render_template, request, send_file
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.audit import record
from app.db import now_utc
from app.extensions import db
from app.hooks import render_exercise_panels
from app.public_cache import public_page
from app.storage import stored_path
from eoi import bp, queries
from eoi.forms_vendor import ClarificationForm, ExerciseSearchForm
from eoi.models import (Clarification, Exercise, ExerciseDocument, InterestRegistration,
                        ServiceCluster, Submission)
from eoi.operations import unacknowledged_addenda
from eoi.permissions import PUBLIC_STATES, can_download_exercise_documents, can_take_part, can_view_exercise
from eoi.states import ExerciseKind, ExerciseState

PAGE_SIZE = 20
_CLOSED_STATES = (ExerciseState.closed, ExerciseState.opened, ExerciseState.evaluating)


def _locale() -> str:
    return str(get_locale() or "en")


def _state_condition(name: str, now):
    """The public status filters; "open" and "closed" follow the server clock, not only the stored state."""
    published = Exercise.state == ExerciseState.published
    return {
        "open": sa.and_(published, Exercise.closes_at > now),
        "closed": sa.or_(sa.and_(published, Exercise.closes_at <= now), Exercise.state.in_(_CLOSED_STATES)),
        "decided": Exercise.state.in_((ExerciseState.decided, ExerciseState.concluded)),
        "cancelled": Exercise.state == ExerciseState.cancelled,
    }[name]


_ORDER = {
    "closing": (Exercise.closes_at.asc(), Exercise.id),
    "newest": (Exercise.published_at.desc(), Exercise.id.desc()),
    "reference": (Exercise.reference.asc(),),
}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def exercise_query(filters: dict[str, str], now):
    """Published (never draft) exercises matching the filters; every value is a bound parameter."""
    query = sa.select(Exercise).where(Exercise.state.in_(PUBLIC_STATES))
    if text := filters.get("q"):
        pattern = _like(text)
        query = query.where(sa.or_(Exercise.title_en.ilike(pattern, escape="\\"),
                                   Exercise.title_zh.ilike(pattern, escape="\\"),
                                   Exercise.reference.ilike(pattern, escape="\\")))
    if code := filters.get("cluster"):
        query = query.where(Exercise.clusters.any(ServiceCluster.code == code))
    if kind := filters.get("kind"):
        query = query.where(Exercise.kind == ExerciseKind(kind))
    if state := filters.get("state"):
        query = query.where(_state_condition(state, now))
    return query.order_by(*_ORDER.get(filters.get("sort") or "closing", _ORDER["closing"]))


def next_public_change(now):
    """The next moment the clock alone changes a public page: the earliest closing time still ahead of a published
    exercise (its status becomes "closed"; the "open" and "closed" filters change with it)."""
    return db.session.scalar(sa.select(sa.func.min(Exercise.closes_at)).where(
        Exercise.state == ExerciseState.published, Exercise.closes_at > now))


@bp.get("/exercises")
@public_page(next_change=next_public_change)
def exercise_list():
    clusters = db.session.scalars(sa.select(ServiceCluster).order_by(ServiceCluster.code)).all()
    form = ExerciseSearchForm(request.args, clusters=clusters, locale=_locale())
    now = now_utc()
    query = exercise_query(form.filters(), now).options(so.selectinload(Exercise.clusters))  # not one query per row
    page = db.paginate(query, page=request.args.get("page", 1, type=int),
                       per_page=PAGE_SIZE, max_per_page=PAGE_SIZE, error_out=False)
    return render_template("eoi/public/exercise_list.html", form=form, page=page)


def _vendor_panel(exercise: Exercise) -> dict:
    """What a vendor that may take part sees on the exercise page (nothing for anyone else)."""
    if not can_take_part(current_user, exercise):
        return {"can_take_part": False}
    vendor_id = current_user.vendor_id
    return {
        "can_take_part": True,
        "interested": db.session.get(InterestRegistration, (exercise.id, vendor_id)) is not None,
        "unacknowledged": unacknowledged_addenda(exercise, vendor_id),
        "submission": db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                                    Submission.vendor_id == vendor_id)),
        "own_questions": db.session.scalars(sa.select(Clarification).where(
            Clarification.exercise_id == exercise.id, Clarification.vendor_id == vendor_id)
            .order_by(Clarification.asked_at.desc())).all(),
    }


def load_public_exercise(exercise_id: int) -> Exercise:
    exercise = db.session.get(Exercise, exercise_id)
    if exercise is None or not can_view_exercise(current_user, exercise):
        raise NotFound()
    return exercise


def render_exercise_detail(exercise: Exercise, *, question_form: ClarificationForm | None = None, status: int = 200):
    now, panel = now_utc(), _vendor_panel(exercise)
    clarifications = db.session.scalars(sa.select(Clarification).where(
        Clarification.exercise_id == exercise.id, Clarification.published_at.is_not(None))
        .order_by(Clarification.number)).all()
    incidents = queries.incidents_of(exercise, effective_only=True)
    context = {
        "exercise": exercise, "clarifications": clarifications,
        "incidents": incidents, "can_download": can_download_exercise_documents(current_user, exercise),
        "is_open": exercise.effective_state == ExerciseState.published,
        "questions_open": exercise.state == ExerciseState.published and exercise.clarification_deadline is not None
        and now < exercise.clarification_deadline,
        **panel,
        # Only for vendors who may ask: building it puts a CSRF token in the session, which a public page must not.
        "question_form": question_form or (ClarificationForm() if panel["can_take_part"] else None),
        "panels": render_exercise_panels(exercise, "public"),
    }
    return render_template("eoi/public/exercise_detail.html", **context), status


@bp.get("/exercises/<int:exercise_id>")
@public_page(next_change=next_public_change)
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
        db.session.commit()
    response = send_file(path, mimetype=doc.file.content_type, as_attachment=True,
                         download_name=doc.file.original_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
