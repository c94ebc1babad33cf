"""Error pages during outages (issue 7, items 1 and 7): while the database is unreachable every page answers a
styled 503 with Retry-After in both languages (the visitor's first), built without the database; a request whose
transaction committed is never told that nothing was saved.

The database is made unreachable by the user loader raising what SQLAlchemy raises when PostgreSQL is down;
tests/faults/ stops a real PostgreSQL instead.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.auth import permissions
from app.boundary import commit
from app.extensions import db
from tests.factories import create_vendor_user


def _database_down(*_args):
    raise sa.exc.OperationalError("SELECT users.id FROM users", {}, ConnectionRefusedError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'))


def test_every_page_answers_a_bilingual_503_with_retry_after_while_the_database_is_down(app, login, monkeypatch):
    vendor = create_vendor_user()
    client = login(vendor)
    monkeypatch.setattr(app.login_manager, "_user_callback", _database_down)
    for path in ("/", "/exercises", "/no/such/page"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, (path, response.status_code, page[:300])
        assert response.headers["Retry-After"] == "30" and response.mimetype == "text/html"
        assert "Tenderbox is temporarily unavailable" in page and "Tenderbox 暫時未能使用" in page
        assert page.index("temporarily unavailable") < page.index("暫時未能使用")  # English first for this visitor
        assert 'href="/static/css/site.css"' in page  # styled, not Werkzeug's bare page
        assert "Internal Server Error" not in page and "OperationalError" not in page and "5432" not in page


def test_the_503_page_is_in_the_visitors_language_first(app, client, monkeypatch):
    monkeypatch.setattr(app.login_manager, "_user_callback", _database_down)
    with client.session_transaction() as session:
        session["_user_id"] = "1.0"
    response = client.get("/", headers={"Accept-Language": "zh-HK,zh;q=0.9"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and page.index("暫時未能使用") < page.index("temporarily unavailable")
    assert '<html lang="zh-Hant">' in page
    json = client.get("/", headers={"Accept": "application/json"})
    assert json.status_code == 503 and json.get_json()["status"] == 503 and json.headers["Retry-After"] == "30"


def test_a_request_that_committed_then_failed_says_its_changes_were_saved(app, client, monkeypatch):
    def commits_then_fails():
        db.session.execute(sa.text("SELECT 1"))
        commit()
        raise RuntimeError("after the commit")
    monkeypatch.setitem(app.view_functions, "main.home", commits_then_fails)
    page = client.get("/").get_data(as_text=True)
    assert "Your changes were saved, but an error happened afterwards." in page
    assert "Nothing was saved" not in page


def test_a_full_storage_disk_tells_the_vendor_the_draft_is_safe_and_shows_the_condition_to_administrators(
        app, login, monkeypatch):
    """Item 6: ENOSPC while an upload is written is answered with what happened and what to do (not the generic
    500), nothing is half-saved, no temporary file is left, and administrators see the condition on their home."""
    import errno
    import io

    from app import storage
    from app.auth.models import Role
    from eoi.models import SubmissionFile
    from eoi.operations import get_or_create_submission
    from tests.factories import SMALL_PDF, create_published_exercise, create_staff

    class FullDisk(io.BytesIO):
        def write(self, _data):
            raise OSError(errno.ENOSPC, "No space left on device")

    vendor = create_vendor_user()
    exercise = create_published_exercise(sections=1)
    get_or_create_submission(exercise, actor=vendor)
    db.session.commit()
    client = login(vendor)
    real_open = open
    monkeypatch.setattr(storage, "open", lambda path, mode="r", *a, **k: FullDisk() if "w" in mode
                        else real_open(path, mode, *a, **k), raising=False)
    response = client.post(f"/exercises/{exercise.id}/submission/files", follow_redirects=True,
                           data={"file": (io.BytesIO(SMALL_PDF), "proposal.pdf"), "section_id": str(exercise.sections[0].id)},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and "cannot store files at the moment because its storage is full" in page
    assert "Your draft and everything you saved before are safe" in page and "Nothing was saved" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionFile)) == 0
    assert not list((storage.files_root() / "tmp").glob("*"))
    json = client.post(f"/exercises/{exercise.id}/submission/files", headers={"Accept": "application/json"},
                       data={"file": (io.BytesIO(SMALL_PDF), "proposal.pdf")}, content_type="multipart/form-data")
    assert json.status_code == 503 and "storage is full" in json.get_json()["error"]

    home = login(create_staff(Role.admin)).get("/").get_data(as_text=True)
    assert "The storage disk is full or nearly full" in home and "in the last hour: 2" in home
    assert "storage disk is full" not in login(create_staff(Role.officer)).get("/").get_data(as_text=True)
