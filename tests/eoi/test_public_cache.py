"""The public exercise list and page under load (issue 6, item 16): conditional GET for anonymous visitors, a
rendered-page cache invalidated by every change of what the pages show and by the clock, never for signed-in users."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.auth.models import Role
from app.db import now_utc
from app.extensions import db
from app.public_cache import CacheVersion, public_version
from eoi.models import Clarification, Exercise
from eoi.operations import (add_exercise_document, answer_clarification, ask_clarification, cancel_exercise,
                            issue_addendum, record_deadline_incident)
from tests.factories import create_published_exercise, document_upload as saved_upload
from tests.factories import create_staff, create_vendor_user


def _get(client, url: str, etag: str | None = None, **headers):
    if etag:
        headers["If-None-Match"] = etag
    return client.get(url, headers=headers)


def _urls(exercise) -> list[str]:
    return ["/exercises", f"/exercises/{exercise.id}"]


@pytest.mark.parametrize("page", ["list", "detail"])
def test_anonymous_page_carries_an_etag_and_revalidates_to_304(client, page):
    exercise = create_published_exercise(title_en="Harbourfront kiosks")
    url = _urls(exercise)[page == "detail"]
    first = _get(client, url)
    assert first.status_code == 200 and "Harbourfront kiosks" in first.get_data(as_text=True)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in first.headers["Vary"].split(",")}
    assert "Set-Cookie" not in first.headers  # a public page puts nothing in a visitor's session
    again = _get(client, url, etag)
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "public, no-cache"
    other = _get(client, url, '"not-this-one"')  # positive control: another tag gets the page
    assert other.status_code == 200 and other.headers["ETag"] == etag


def test_the_second_anonymous_view_is_served_from_the_cache_with_one_statement(client):
    from tests.sql_counter import count_statements
    exercise = create_published_exercise()
    for url in _urls(exercise):
        assert _get(client, url).status_code == 200
        with count_statements() as seen:
            assert _get(client, url).status_code == 200
        assert len(seen) == 1 and seen.matching("cache_versions"), str(seen)


def _officer():
    return create_staff(Role.officer)


def _change_exercise(exercise):
    cancel_exercise(exercise, actor=_officer(), reason="The service is no longer needed.")


def _addendum(exercise):
    issue_addendum(exercise, actor=_officer(), text_en="Section 2 now asks for a staffing plan.",
                   text_zh="第2部分現須提交人手計劃。", changes_requirements=False)


def _clarification(exercise):
    vendor = create_vendor_user()
    item = ask_clarification(exercise, actor=vendor, question="Is a licence needed?")
    answer_clarification(item, actor=_officer(), question_en="Is a licence needed?", question_zh="需要牌照嗎？",
                         answer_en="No licence is needed.", answer_zh="不需要牌照。")


def _document(exercise):
    officer = _officer()
    addendum = issue_addendum(exercise, actor=officer, text_en="A revised schedule.", text_zh="修訂附表。",
                              changes_requirements=False)
    add_exercise_document(exercise, saved_upload(name="schedule.pdf"), title="Revised schedule", actor=officer,
                          addendum=addendum)


def _incident(exercise):
    record_deadline_incident(exercise, actor=_officer(), new_closes_at=exercise.closes_at + timedelta(days=2),
                             reason_en="The platform was down.", reason_zh="平台故障。", evidence="Monitoring log 42.")


@pytest.mark.parametrize("change, shown", [
    (_change_exercise, "The service is no longer needed."),
    (_addendum, "Section 2 now asks for a staffing plan."),
    (_clarification, "No licence is needed."),
    (_document, "Revised schedule"),
    (_incident, "The platform was down."),
])
def test_a_change_of_what_the_page_shows_gives_a_new_page_and_etag(client, change, shown):
    exercise = create_published_exercise()
    url = f"/exercises/{exercise.id}"
    before = _get(client, url)
    assert shown not in before.get_data(as_text=True)
    change(exercise)
    db.session.commit()
    after = _get(client, url, before.headers["ETag"])
    assert after.status_code == 200, "the visitor's copy is out of date and must not be confirmed with a 304"
    assert shown in after.get_data(as_text=True) and after.headers["ETag"] != before.headers["ETag"]


def test_the_list_follows_a_cancelled_exercise_too(client):
    exercise = create_published_exercise()
    before = _get(client, "/exercises")
    _change_exercise(exercise)
    db.session.commit()
    after = _get(client, "/exercises", before.headers["ETag"])
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]


def test_a_bulk_update_of_public_content_is_noticed(client):
    exercise = create_published_exercise(title_en="Old title")
    before = _get(client, "/exercises")
    db.session.execute(sa.update(Exercise).where(Exercise.id == exercise.id).values(title_en="New title"))
    db.session.commit()
    after = _get(client, "/exercises", before.headers["ETag"])
    assert after.status_code == 200 and "New title" in after.get_data(as_text=True)


def test_only_committed_public_changes_move_the_version(app):
    exercise = create_published_exercise()
    version = public_version()
    assert version is not None
    create_vendor_user()  # not public content
    db.session.commit()
    assert public_version() == version
    exercise.title_en = "Rolled back"
    db.session.flush()
    db.session.rollback()
    assert public_version() == version
    exercise = db.session.get(Exercise, exercise.id)
    exercise.title_en = "Committed"
    db.session.commit()
    assert public_version() != version  # positive control


def test_unpublished_question_is_not_shown_but_the_page_still_revalidates(client):
    exercise = create_published_exercise()
    url = f"/exercises/{exercise.id}"
    before = _get(client, url)
    ask_clarification(exercise, actor=create_vendor_user(), question="A private question")
    db.session.commit()
    after = _get(client, url, before.headers["ETag"])
    assert after.status_code == 304  # re-rendered (new version) to the same bytes: still the visitor's copy
    assert db.session.scalar(sa.select(sa.func.count(Clarification.id))) == 1


def test_the_clock_closes_the_exercise_on_a_cached_page(client):
    with freeze_time(now_utc()) as frozen:
        exercise = create_published_exercise(closes_in=timedelta(hours=1))
        etags = {}
        for url in _urls(exercise):
            before = _get(client, url)
            assert '<span class="badge">Open for submissions</span>' in before.get_data(as_text=True), url
            etags[url] = before.headers["ETag"]
            assert _get(client, url, etags[url]).status_code == 304
        frozen.tick(timedelta(minutes=59))
        assert all(_get(client, url, etags[url]).status_code == 304 for url in etags)
        frozen.tick(timedelta(minutes=1, seconds=1))  # past the closing time: no commit, only the clock
        for url in _urls(exercise):
            after = _get(client, url, etags[url])
            assert after.status_code == 200 and '<span class="badge">Closed</span>' in after.get_data(as_text=True), url


def test_languages_are_cached_apart(client):
    exercise = create_published_exercise(title_en="Harbourfront kiosks", title_zh="海濱小亭")
    url = f"/exercises/{exercise.id}"
    english = _get(client, url)
    chinese = _get(client, url, **{"Accept-Language": "zh-HK"})
    assert "海濱小亭" in chinese.get_data(as_text=True) and "海濱小亭" not in english.get_data(as_text=True)
    assert chinese.headers["ETag"] != english.headers["ETag"]
    assert _get(client, url, english.headers["ETag"], **{"Accept-Language": "zh-HK"}).status_code == 200


def test_signed_in_users_are_never_cached_nor_answered_304(client, login):
    exercise = create_published_exercise()
    vendor = create_vendor_user()
    for url in _urls(exercise):
        anonymous = _get(client, url)
        signed_in = _get(login(vendor), url, anonymous.headers["ETag"])
        assert signed_in.status_code == 200 and "ETag" not in signed_in.headers
        assert signed_in.headers["Cache-Control"] == "private, no-store"
        assert "Sign out" in signed_in.get_data(as_text=True)
    page = _get(login(vendor), f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "Register interest" in page  # the company's own panel, which an anonymous copy must never carry


def test_a_page_with_a_flashed_message_is_not_cached(client):
    exercise = create_published_exercise()
    url = f"/exercises/{exercise.id}"
    etag = _get(client, url).headers["ETag"]
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "A message for this visitor only")]
    shown = _get(client, url, etag)
    assert shown.status_code == 200 and "A message for this visitor only" in shown.get_data(as_text=True)
    assert "ETag" not in shown.headers and shown.headers["Cache-Control"] == "private, no-store"
    assert "A message for this visitor only" not in _get(client, url).get_data(as_text=True)


def test_a_missing_exercise_is_a_404_and_is_not_cached(client):
    response = _get(client, "/exercises/999999")
    assert response.status_code == 404 and "ETag" not in response.headers


def test_the_version_row_is_created_when_missing(app):
    db.session.execute(sa.delete(CacheVersion))
    db.session.commit()
    assert public_version() is None
    create_published_exercise()
    assert public_version() is not None
