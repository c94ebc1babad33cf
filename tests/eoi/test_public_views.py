"""Public exercise pages: the list with search and filters, an exercise's page, and tender document downloads."""
from __future__ import annotations

import re

import hashlib
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from babel.dates import format_datetime

from app.auth.models import Role
from app.extensions import db
from eoi.models import Clarification, Exercise
from eoi.operations import answer_clarification, ask_clarification, create_exercise, record_deadline_incident
from eoi.states import ExerciseKind
from tests.factories import (
    SMALL_PDF, clusters, create_published_exercise, create_staff, create_vendor_user, issue_test_addendum)


def _titles(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- the list --------------------------------------------------------------------------------------------

def test_list_shows_published_exercises_but_never_drafts(client):
    published = create_published_exercise(title_en="Health cluster operation")
    officer = create_staff(Role.officer)
    create_exercise(actor=officer, kind=ExerciseKind.eoi, reference="DRAFT-001", title_en="Secret draft plan",
                    title_zh="草稿", clusters=clusters()[:1])
    db.session.commit()
    page = _titles(client.get("/exercises"))
    assert "Health cluster operation" in page
    assert published.reference in page
    assert "Secret draft plan" not in page
    draft_id = db.session.scalar(sa.select(Exercise.id).where(Exercise.reference == "DRAFT-001"))
    assert client.get(f"/exercises/{draft_id}").status_code == 404


def test_a_draft_cancelled_before_its_publication_stays_private(client, login):
    """Cancelling a draft does not publish it: its texts, its documents and its open data stay with the officers."""
    from eoi.operations import cancel_exercise, set_subscriptions
    from tests.factories import create_draft
    from app.notifications import Notification
    officer = create_staff(Role.officer)
    published = create_published_exercise(title_en="Cancelled after publication", officer=officer)
    draft = create_draft(officer, title_en="Withdrawn plan before publication", clusters=list(published.clusters))
    subscriber = create_vendor_user()
    set_subscriptions(subscriber.vendor, {draft.clusters[0].id}, actor=subscriber)
    cancel_exercise(draft, actor=officer, reason="Not going ahead.")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.to_email == subscriber.email, Notification.subject.contains(draft.reference))) == 0
    document = draft.documents[0]
    assert "Withdrawn plan before publication" not in _titles(client.get("/exercises?state=cancelled"))
    assert client.get(f"/exercises/{draft.id}").status_code == 404
    assert client.get(f"/exercises/{draft.id}/documents/{document.id}").status_code == 404
    assert draft.reference not in client.get("/contracts/open-data/releases.json").get_data(as_text=True)
    assert login(officer).get(f"/exercises/{draft.id}").status_code == 200  # officers still see it
    # positive control: a published exercise, once cancelled, stays public with its reason
    cancel_exercise(published, actor=officer, reason="Funding withdrawn.")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.to_email == subscriber.email, Notification.subject.contains(published.reference))) == 1
    assert "Cancelled after publication" in _titles(client.get("/exercises?state=cancelled"))
    assert client.get(f"/exercises/{published.id}").status_code == 200


def test_search_matches_english_chinese_title_and_reference(client):
    create_published_exercise(title_en="Business licensing portal", title_zh="商業牌照入口", reference="OSP-BIZ-7")
    create_published_exercise(title_en="Hospital appointments", title_zh="醫院預約", reference="OSP-MED-9")
    for q in ("licensing", "牌照", "biz-7"):
        page = _titles(client.get("/exercises", query_string={"q": q}))
        assert "Business licensing portal" in page, q
        assert "Hospital appointments" not in page, q


def test_search_text_is_a_bound_parameter_and_wildcards_are_literal(client):
    create_published_exercise(title_en="Business licensing portal")
    page = _titles(client.get("/exercises", query_string={"q": "%"}))
    assert "Business licensing portal" not in page
    page = _titles(client.get("/exercises", query_string={"q": "' OR 1=1 --"}))
    assert "Business licensing portal" not in page


def test_filters_by_cluster_kind_and_state(client):
    vendor = create_vendor_user()
    create_published_exercise(title_en="Trade EOI", cluster_code="BIZ")
    create_published_exercise(title_en="Health tender", cluster_code="HEALTH", kind=ExerciseKind.tender, invited=(vendor,))
    create_published_exercise(title_en="Old trade EOI", cluster_code="BIZ", closes_in=-timedelta(days=2))

    page = _titles(client.get("/exercises", query_string={"cluster": "HEALTH"}))
    assert "Health tender" in page and "Trade EOI" not in page
    page = _titles(client.get("/exercises", query_string={"kind": "tender"}))
    assert "Health tender" in page and "Trade EOI" not in page
    page = _titles(client.get("/exercises", query_string={"state": "open", "cluster": "BIZ"}))
    assert "Trade EOI" in page and "Old trade EOI" not in page
    page = _titles(client.get("/exercises", query_string={"state": "closed"}))
    assert "Old trade EOI" in page and "Health tender" not in page


def test_unknown_filter_values_are_ignored_with_a_message(client):
    create_published_exercise(title_en="Trade EOI")
    page = _titles(client.get("/exercises", query_string={"sort": "id; DROP TABLE exercises", "kind": "nope"}))
    assert "Trade EOI" in page
    assert "Not a valid choice" in page


def test_sort_and_page_size_are_capped(client, monkeypatch):
    from eoi.views import public
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    for days in (5, 3, 4):
        create_published_exercise(title_en=f"Closing in {days} days", closes_in=timedelta(days=days))
    page = _titles(client.get("/exercises", query_string={"sort": "closing", "per_page": "1000"}))
    assert page.index("Closing in 3 days") < page.index("Closing in 4 days")
    assert "Closing in 5 days" not in page
    assert "page=2" in page
    page2 = _titles(client.get("/exercises", query_string={"sort": "closing", "page": "2"}))
    assert "Closing in 5 days" in page2


# --- an exercise's page -------------------------------------------------------------------------------------

def test_detail_shows_documents_addenda_answers_and_incidents_in_hong_kong_time(client):
    exercise = create_published_exercise()
    vendor = create_vendor_user()
    item = ask_clarification(exercise, actor=vendor, question="Does Acme Secret Co need a licence?")
    officer = create_staff(Role.officer)
    answer_clarification(item, actor=officer, question_en="Is a licence needed?", question_zh="是否需要牌照？",
                         answer_en="No licence is needed.", answer_zh="不需要牌照。")
    db.session.commit()
    issue_test_addendum(exercise)
    record_deadline_incident(exercise, actor=officer, new_closes_at=exercise.closes_at + timedelta(days=1),
                             reason_en="Platform outage on Monday", reason_zh="星期一系統故障", evidence="ticket 42")
    db.session.commit()

    page = _titles(client.get(f"/exercises/{exercise.id}"))
    doc = exercise.documents[0]
    assert doc.file.sha256 in page and f"/exercises/{exercise.id}/documents/{doc.id}" in page
    assert "Addendum no. 1" in page and "staffing plan" in page
    assert "Question 1" in page and "Is a licence needed?" in page and "No licence is needed." in page
    assert "Acme Secret Co" not in page  # the vendor's own wording, naming it, is never published
    assert "Platform outage on Monday" in page
    closes_hk = format_datetime(exercise.closes_at, "d MMM y, HH:mm", tzinfo=ZoneInfo("Asia/Hong_Kong"), locale="en")
    closes_utc = format_datetime(exercise.closes_at, "d MMM y, HH:mm", tzinfo=ZoneInfo("UTC"), locale="en")
    assert closes_hk in page and closes_utc not in page


def test_detail_is_in_the_users_language(client):
    exercise = create_published_exercise(title_en="Business portal", title_zh="商業入口網站")
    client.get("/language/zh_Hant")
    page = _titles(client.get(f"/exercises/{exercise.id}"))
    assert "商業入口網站" in page and "Business portal" not in page


def test_document_download_streams_the_file_with_nosniff(client):
    exercise = create_published_exercise()
    doc = exercise.documents[0]
    response = client.get(f"/exercises/{exercise.id}/documents/{doc.id}")
    assert response.status_code == 200
    assert response.data == SMALL_PDF and hashlib.sha256(response.data).hexdigest() == doc.file.sha256
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in response.headers["Content-Disposition"]


def test_document_of_another_exercise_is_404(client):
    one, other = create_published_exercise(), create_published_exercise()
    assert client.get(f"/exercises/{one.id}/documents/{other.documents[0].id}").status_code == 404
    assert client.get(f"/exercises/{other.id}/documents/{other.documents[0].id}").status_code == 200  # its own


def test_restricted_tender_documents_only_for_invited_vendors(client, login):
    invited, outsider = create_vendor_user(), create_vendor_user()
    tender = create_published_exercise(kind=ExerciseKind.tender, invited=(invited,))
    url = f"/exercises/{tender.id}/documents/{tender.documents[0].id}"
    page = _titles(client.get(f"/exercises/{tender.id}"))
    assert "available only to the vendors invited" in page and url not in page
    assert client.get(url).status_code == 404
    assert login(outsider).get(url).status_code == 404
    assert login(invited).get(url).status_code == 200
    assert login(create_staff(Role.officer)).get(url).status_code == 200


# --- clarifications -------------------------------------------------------------------------------------------

def test_clarification_rows_are_not_listed_before_publication(client):
    exercise = create_published_exercise()
    vendor = create_vendor_user()
    ask_clarification(exercise, actor=vendor, question="Unpublished question text")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Clarification.id))) == 1
    assert "Unpublished question text" not in _titles(client.get(f"/exercises/{exercise.id}"))
    item = db.session.scalar(sa.select(Clarification))
    answer_clarification(item, actor=create_staff(Role.officer), question_en="Published question text",
                         question_zh="已公布的問題", answer_en="The answer.", answer_zh="答覆。")
    db.session.commit()
    assert "Published question text" in _titles(client.get(f"/exercises/{exercise.id}"))  # positive control


def test_document_titles_and_price_units_are_shown_in_the_readers_language(client):
    """Bilingual fields (issue 8 item 12): a Chinese page shows the Chinese title and unit, an English page the English."""
    from tests.factories import PASSWORD, create_vendor_user
    exercise = create_published_exercise(price_items=1)
    page = _titles(client.get(f"/exercises/{exercise.id}"))
    assert "Invitation document" in page and "邀請文件" not in page
    client.get("/language/zh_Hant")
    page = _titles(client.get(f"/exercises/{exercise.id}"))
    assert "邀請文件" in page and "Invitation document" not in page
    vendor = create_vendor_user(locale="zh_Hant")
    as_vendor = client.application.test_client()
    as_vendor.post("/login", data={"email": vendor.email, "password": PASSWORD})
    as_vendor.post(f"/exercises/{exercise.id}/submission/start")
    page = as_vendor.get(f"/exercises/{exercise.id}/submission").get_data(as_text=True)
    assert re.search(r"<td[^>]*>年</td>", page) and not re.search(r"<td[^>]*>year</td>", page)
