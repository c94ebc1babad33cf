"""Issue 8's remaining gaps: addendum documents with a Chinese title, a POST over the size limit answered in the
user's language, a colleague's change since the page was loaded, and text typed before the session expired."""
from __future__ import annotations

import io

import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi.models import Addendum, ExerciseDocument
from tests.factories import PDF_BYTES, create_published, create_staff


def text(response) -> str:
    return response.get_data(as_text=True)


# --- (d) addendum documents have a Chinese title ----------------------------------------------------------------

def test_an_addendum_issues_a_new_document_with_both_titles_shown_in_each_language(login, client):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    as_officer = login(officer)
    form = text(as_officer.get(f"/manage/exercises/{exercise.id}/addenda/new"))
    assert "Title of new document 1 (Chinese)" in form
    response = as_officer.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
        "text_en": "A site plan is added.", "text_zh": "新增地盤平面圖。",
        "new_document_1": (io.BytesIO(PDF_BYTES + b"% plan\n"), "plan-v3-final.pdf"),
        "new_document_1_title": "Site plan", "new_document_1_title_zh": "地盤平面圖"},
        content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    db.session.rollback()
    addendum = db.session.scalar(sa.select(Addendum).where(Addendum.exercise_id == exercise.id))
    doc = db.session.scalar(sa.select(ExerciseDocument).where(ExerciseDocument.addendum_id == addendum.id))
    assert (doc.title, doc.title_zh, doc.version) == ("Site plan", "地盤平面圖", 1)
    as_officer.post("/logout")
    assert "Site plan" in text(client.get(f"/exercises/{exercise.id}"))
    client.get("/language/zh_Hant")
    page = text(client.get(f"/exercises/{exercise.id}"))
    assert "地盤平面圖" in page and ">Site plan<" not in page


def test_an_addendum_document_without_its_chinese_title_or_a_new_file_as_a_version_is_refused(login):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    as_officer = login(officer)
    missing = as_officer.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
        "text_en": "A site plan is added.", "text_zh": "新增地盤平面圖。",
        "new_document_1": (io.BytesIO(PDF_BYTES), "plan.pdf"), "new_document_1_title": "Site plan"},
        content_type="multipart/form-data")
    assert missing.status_code == 400 and "Give the new document its title in both languages." in text(missing)
    unknown = as_officer.post(f"/manage/exercises/{exercise.id}/addenda/new", data={
        "text_en": "A site plan is added.", "text_zh": "新增地盤平面圖。",
        "documents": [(io.BytesIO(PDF_BYTES), "Unheard-of.pdf")]}, content_type="multipart/form-data")
    assert unknown.status_code == 400 and "Unheard-of.pdf is not a new version" in text(unknown)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Addendum.id))) == 0
