"""Issue 8's remaining gaps: addendum documents with a Chinese title, a POST over the size limit answered in the
user's language, a colleague's change since the page was loaded, and text typed before the session expired."""
from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi import sealed
from eoi.models import Addendum, ExerciseDocument, Submission
from tests.factories import (PASSWORD, PDF_BYTES, create_colleague, create_published, create_published_exercise,
                             create_staff, create_vendor_user)


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


# --- the proposal page as a browser without JavaScript sends it ----------------------------------------------------

class _FormFields(HTMLParser):
    """The named fields of the proposal form (#proposal-form) as a browser would send them: hidden inputs, text
    inputs and text areas with their current values."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside, self._textarea = False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "proposal-form":
            self._inside = True
        elif self._inside and tag == "input" and attrs.get("name") and attrs.get("type") in ("hidden", "text", None):
            self.fields.setdefault(attrs["name"], attrs.get("value") or "")
        elif self._inside and tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._inside = False

    def handle_data(self, data):
        if self._textarea:
            # a browser drops the line break that follows <textarea>
            self.fields[self._textarea] += data if self.fields[self._textarea] else data.removeprefix("\r").removeprefix("\n")


def page_fields(client, exercise) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(text(client.get(f"/exercises/{exercise.id}/submission")))
    assert "draft_version" in parser.fields and "page_token" in parser.fields
    parser.fields.pop("autosave", None)
    return parser.fields


def answer(exercise, position: int) -> str:
    return f"answer_{exercise.sections[position - 1].id}"


def stored_answers(exercise, user) -> dict[int, str]:
    db.session.rollback()
    submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                               Submission.vendor_id == user.vendor_id))
    content = sealed.content_for_system(submission, purpose="test")
    return {s.position: content.answers.get(s.id, "") for s in exercise.sections}


def started(client, exercise):
    assert client.post(f"/exercises/{exercise.id}/submission/start").status_code == 302


# --- (c) a colleague's change since the page was loaded ------------------------------------------------------------

def test_a_colleagues_change_elsewhere_is_kept_and_a_clash_shows_both_texts_and_loses_neither(login):
    first = create_vendor_user()
    colleague = create_colleague(first)
    exercise = create_published_exercise(sections=2)
    a, b = login(first), login(colleague)
    started(a, exercise)
    mine, theirs = page_fields(a, exercise), page_fields(b, exercise)
    theirs[answer(exercise, 1)] = "Colleague's section one"
    assert b.post(f"/exercises/{exercise.id}/submission", data=theirs).status_code == 302
    # A, still on the page it loaded before, changes only section 2: B's section 1 is kept, not blanked
    mine[answer(exercise, 2)] = "My section two"
    response = a.post(f"/exercises/{exercise.id}/submission", data=mine)
    assert response.status_code == 302
    assert stored_answers(exercise, first) == {1: "Colleague's section one", 2: "My section two"}
    assert "A colleague changed other parts of this proposal" in text(a.get(response.headers["Location"]))
    # Both change section 1 from the same loaded page: the second save is refused, both texts are on its page
    mine, theirs = page_fields(a, exercise), page_fields(b, exercise)
    theirs[answer(exercise, 1)] = "Colleague's newer section one"
    assert b.post(f"/exercises/{exercise.id}/submission", data=theirs).status_code == 302
    mine[answer(exercise, 1)] = "My own section one"
    clash = a.post(f"/exercises/{exercise.id}/submission", data=mine)
    page = text(clash)
    assert clash.status_code == 409 and f"{colleague.name} changed this proposal after you opened the page" in page
    assert "My own section one" in page and "Colleague&#39;s newer section one" in page
    assert stored_answers(exercise, first)[1] == "Colleague's newer section one"
    # ... and the combined text, sent from that page, is saved
    parser = _FormFields()
    parser.feed(page)
    parser.fields[answer(exercise, 1)] = "My own section one, and the colleague's newer one"
    parser.fields.pop("autosave", None)
    assert a.post(f"/exercises/{exercise.id}/submission", data=parser.fields).status_code == 302
    assert stored_answers(exercise, first)[1] == "My own section one, and the colleague's newer one"


def test_submit_after_a_colleagues_change_elsewhere_saves_but_does_not_submit_unseen_text(login):
    first = create_vendor_user()
    colleague = create_colleague(first)
    exercise = create_published_exercise(sections=2)
    a, b = login(first), login(colleague)
    started(a, exercise)
    mine, theirs = page_fields(a, exercise), page_fields(b, exercise)
    theirs[answer(exercise, 1)] = "Colleague's section one"
    assert b.post(f"/exercises/{exercise.id}/submission", data=theirs).status_code == 302
    mine[answer(exercise, 2)] = "My section two"
    response = a.post(f"/exercises/{exercise.id}/submission/submit", data=mine)
    assert response.status_code == 302 and "/receipt" not in response.headers["Location"]
    assert "Nothing was submitted" in text(a.get(response.headers["Location"]))
    assert stored_answers(exercise, first) == {1: "Colleague's section one", 2: "My section two"}
    db.session.rollback()
    assert db.session.scalar(sa.select(Submission.state).where(Submission.exercise_id == exercise.id)).value == "draft"


# --- (a) the session expired while typing -------------------------------------------------------------------------

TYPED = "Quokka-Meridian text typed while the session expired 7731"


def _expire_session(client) -> None:
    client.delete_cookie("session", domain="localhost")
    client.delete_cookie("remember_token", domain="localhost")


def test_text_typed_when_the_session_expired_is_back_after_signing_in_again_once_and_sealed_meanwhile(app, login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(sections=2)
    client = login(vendor)
    started(client, exercise)
    fields = page_fields(client, exercise)
    fields[answer(exercise, 1)] = TYPED
    _expire_session(client)
    response = client.post(f"/exercises/{exercise.id}/submission/submit", data=fields)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert response.headers["Location"].endswith(f"next=/exercises/{exercise.id}/submission")
    # Meanwhile the server holds only ciphertext whose key is in the browser's cookie
    storage = Path(app.config["STORAGE_DIR"])
    assert list((storage / "held").glob("*.bin")) and not any(
        b"Quokka-Meridian" in p.read_bytes() for p in storage.rglob("*") if p.is_file())
    login_page = text(client.get(response.headers["Location"]))
    assert "what you typed will be back on the page" in login_page
    signed_in = client.post(response.headers["Location"], data={"email": vendor.email, "password": PASSWORD})
    assert signed_in.headers["Location"] == f"/exercises/{exercise.id}/submission"
    page = text(client.get(signed_in.headers["Location"]))
    assert TYPED in page and "What you typed before you were signed out is back below" in page
    assert stored_answers(exercise, vendor)[1] == ""  # not saved: the vendor checks it and saves
    assert not list((storage / "held").glob("*.bin"))
    assert TYPED not in text(client.get(signed_in.headers["Location"]))  # given back once


def test_held_text_goes_back_only_into_the_submission_whose_page_sent_it(login, app):
    vendor, other = create_vendor_user(), create_vendor_user()
    exercise = create_published_exercise(sections=1)
    client = login(vendor)
    started(client, exercise)
    fields = page_fields(client, exercise)
    fields[answer(exercise, 1)] = TYPED
    _expire_session(client)
    client.post(f"/exercises/{exercise.id}/submission", data=fields)
    client.post("/login", data={"email": other.email, "password": PASSWORD})  # another company, same browser
    started(client, exercise)
    assert TYPED not in text(client.get(f"/exercises/{exercise.id}/submission"))


def test_with_csrf_on_an_expired_session_still_holds_the_text(app, login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(sections=1)
    client = login(vendor)
    started(client, exercise)
    fields = page_fields(client, exercise)
    fields[answer(exercise, 1)] = TYPED
    _expire_session(client)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/exercises/{exercise.id}/submission", data={**fields, "csrf_token": "stale"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    signed_in = client.post(response.headers["Location"], data={"email": vendor.email, "password": PASSWORD})
    assert TYPED in text(client.get(signed_in.headers["Location"]))


# --- (b) a POST over the size limit ---------------------------------------------------------------------------------

def test_a_proposal_post_over_the_size_limit_comes_back_with_the_typed_text_and_the_limit(app, login):
    vendor = create_vendor_user()
    exercise = create_published_exercise(sections=1)
    client = login(vendor)
    started(client, exercise)
    fields = page_fields(client, exercise)
    fields[answer(exercise, 1)] = TYPED
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    try:
        response = client.post(f"/exercises/{exercise.id}/submission/files", content_type="multipart/form-data",
                               data={**fields, "file-general": (io.BytesIO(b"%PDF-1.4\n" + bytes(400 * 1024)), "big.pdf")})
        page = text(response)
        assert response.status_code == 413 and TYPED in page
        assert "add up to more than 256\u00a0KB" in page and "press Save draft first" in page
        assert stored_answers(exercise, vendor)[1] == ""
        client.get("/language/zh_Hant")
        chinese = text(client.post(f"/exercises/{exercise.id}/submission/files", content_type="multipart/form-data",
                                   data={**fields, "file-general": (io.BytesIO(bytes(400 * 1024)), "big.pdf")}))
        assert TYPED in chinese and "256\u00a0KB" in chinese and "add up to more than" not in chinese
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024


def test_any_other_post_over_the_size_limit_says_the_limit_and_what_to_do(app, login):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    app.config["MAX_CONTENT_LENGTH"] = 256 * 1024
    try:
        response = login(officer).post(f"/manage/exercises/{exercise.id}/addenda/new", content_type="multipart/form-data",
                                       data={"text_en": "x", "text_zh": "x",
                                             "new_document_1": (io.BytesIO(bytes(400 * 1024)), "big.pdf")})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 60 * 1024 * 1024
    page = text(response)
    assert response.status_code == 413 and "larger than 256\u00a0KB" in page and "Back button" in page
