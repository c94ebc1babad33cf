"""Registration, verification, sign-in, sign-out, password reset and invitations through HTTP."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth.models import Role, User, Vendor
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from app.notifications import Notification
from tests.conftest import USING_WORKER
from tests.factories import PASSWORD, create_staff, create_vendor_user, wait_for

REGISTRATION = {
    "name_en": "Harbour Digital Services Limited", "name_zh": "海港數碼服務有限公司", "br_number": "12345678",
    "address": "18 Harbour Road, Wan Chai", "contact_name": "Wong Siu Ming", "contact_phone": "2123 4567",
    "name": "Wong Siu Ming", "email": "ming@harbour.example", "password": PASSWORD, "confirm": PASSWORD,
}


def _link_from_mail(to_email: str, path: str, other_than: str | None = None) -> str:
    """The newest emailed link to `path` for this address. Filtered by path: with a real worker, a task
    queued by an earlier test (same ids after the tables are emptied) may still deliver another mail."""
    def find():
        for note in db.session.scalars(sa.select(Notification).where(Notification.to_email == to_email)
                                       .order_by(Notification.id.desc())):
            found = re.search(r"http://localhost(" + re.escape(path) + r"\S+)", note.body)
            if found:  # the newest such link, once it is a new one
                return found.group(1) if found.group(1) != other_than else None
        return None
    link = wait_for(find)
    assert link is not None, f"no mail to {to_email} with a link to {path}"
    return link


def test_vendor_registers_verifies_and_signs_in(client):
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    user = db.session.scalar(sa.select(User).where(User.email == "ming@harbour.example"))
    assert user.vendor.br_number == "12345678" and user.email_verified_at is None

    # Not verified yet: sign-in is refused with a clear message.
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "verify your email" in response.get_data(as_text=True)

    assert client.get(_link_from_mail(user.email, "/verify/")).status_code == 302
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert "Harbour Digital Services Limited" in client.get("/account").get_data(as_text=True)


def test_registration_confirmation_pdf_is_rendered_for_that_vendor_only(client, login):
    client.post("/register", data=REGISTRATION)
    client.get(_link_from_mail("ming@harbour.example", "/verify/"))
    doc = wait_for(lambda: db.session.scalar(sa.select(Document).where(Document.status == DocumentStatus.ready)))
    assert doc is not None and doc.kind == "registration_confirmation" and len(doc.sha256) == 64
    owner = db.session.scalar(sa.select(User).where(User.email == "ming@harbour.example"))
    response = login(owner).get(f"/documents/{doc.id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment")
    other = create_vendor_user()
    assert login(other).get(f"/documents/{doc.id}").status_code == 404
    assert login(create_staff(Role.officer)).get(f"/documents/{doc.id}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "document.downloaded")) == 1


def test_registration_rejects_bad_input_next_to_the_field(client):
    create_vendor_user(br_number="87654321", email="taken@vendor.example")
    bad = {**REGISTRATION, "br_number": "87654321", "email": "not-an-email", "password": "short", "confirm": "short"}
    page = client.post("/register", data=bad).get_data(as_text=True)
    assert "already registered" in page
    assert "valid email address" in page
    assert "at least 12 characters" in page
    page = client.post("/register", data={**REGISTRATION, "br_number": "1234-567", "email": "taken@vendor.example"}).get_data(as_text=True)
    assert "8 digits" in page and "already exists" not in page  # the form never says which addresses have accounts
    page = client.post("/register", data={**REGISTRATION, "password": "password1234", "confirm": "password1234"}).get_data(as_text=True)
    assert "too common" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 1


def test_messages_are_in_the_users_language(client):
    client.get("/language/zh_Hant")
    page = client.post("/register", data={**REGISTRATION, "email": "bad"}).get_data(as_text=True)
    assert "請輸入有效的電郵地址" in page
    assert 'lang="zh-Hant"' in page


def test_same_message_for_unknown_account_and_wrong_password(client):
    user = create_vendor_user()
    wrong = client.post("/login", data={"email": user.email, "password": "wrong password 123"}).get_data(as_text=True)
    unknown = client.post("/login", data={"email": "nobody@x.example", "password": "wrong password 123"}).get_data(as_text=True)
    assert "Email address or password is incorrect." in wrong and "Email address or password is incorrect." in unknown
    failed = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")).all()
    assert len(failed) == 2


def test_sign_in_is_throttled_per_account(app):
    user = create_vendor_user()
    codes = [app.test_client().post("/login", data={"email": user.email, "password": "nope nope nope"},
                                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"}).status_code for i in range(7)]
    assert codes[:5] == [200] * 5 and codes[5:] == [429, 429]


def test_sign_out_invalidates_a_copied_session_cookie(app, login):
    user = create_vendor_user()
    c = login(user)
    cookie = c.get_cookie("session").value
    assert c.get("/account").status_code == 200
    c.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", cookie, domain="localhost")
    assert thief.get("/account").status_code == 302  # sent to sign-in


def test_password_reset_link_is_single_use_and_expires(client):
    user = create_vendor_user()
    client.post("/password/forgot", data={"email": user.email})
    link = _link_from_mail(user.email, "/password/reset/")
    new = "a much better passphrase 7"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.post("/login", data={"email": user.email, "password": new}).status_code == 302
    again = client.post(link, data={"password": "another passphrase 99", "confirm": "another passphrase 99"})
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)

    client.post("/password/forgot", data={"email": user.email})
    link = _link_from_mail(user.email, "/password/reset/", other_than=link)
    from datetime import datetime, timedelta, timezone
    with freeze_time(datetime.now(timezone.utc) + timedelta(hours=25)):
        expired = client.get(link)
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)


def test_unknown_email_reset_gives_same_answer_and_sends_nothing(client):
    page = client.post("/password/forgot", data={"email": "ghost@nowhere.example"}).get_data(as_text=True)
    assert "If an account exists" in page
    # the reset goes through the outbox: once its task has run (a real worker runs it later), nothing was sent
    from app.outbox import OutboxMessage
    assert wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0


def test_vendor_invites_a_colleague(client, login):
    owner = create_vendor_user()
    c = login(owner)
    assert c.post("/account/users", data={"name": "Lee Ka Yan", "email": "kayan@vendor.example"}).status_code == 302
    link = _link_from_mail("kayan@vendor.example", "/invite/")
    new = "colleague passphrase 2026"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    colleague = db.session.scalar(sa.select(User).where(User.email == "kayan@vendor.example"))
    assert colleague.vendor_id == owner.vendor_id and colleague.role == Role.vendor


def test_next_redirect_only_to_own_paths(client):
    user = create_vendor_user()
    for target, expected in [("https://evil.example/", "/"), ("//evil.example", "/"), ("/account", "/account")]:
        c = client.application.test_client()
        response = c.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
        assert response.headers["Location"] == expected


def test_email_links_ignore_a_forged_host_header(app, client):
    """A reset link built from the request's Host would send the token to the attacker's site."""
    user = create_vendor_user()
    app.config.update(SERVER_NAME=None)  # accept any Host, as in production
    response = client.post("/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"})
    assert response.status_code == 200
    # The mail may be built by a real worker, which reads the same PUBLIC_URL from the environment (.ci/run).
    # Registration already mailed a verify link: wait for the reset mail itself, whatever host it names.
    note = wait_for(lambda: db.session.scalar(sa.select(Notification).where(
        Notification.to_email == user.email, Notification.link.contains("/password/reset/"))))
    assert note is not None, "no password-reset mail was sent"
    assert note.link.startswith(app.config["PUBLIC_URL"].rstrip("/") + "/password/reset/")
    assert "evil.example" not in note.body


@pytest.mark.parametrize("environ, expected", [
    ({"SERVER_SOFTWARE": "Werkzeug/3.1", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5100"}, "http://127.0.0.1:5100"),
    ({"SERVER_SOFTWARE": "Werkzeug/3.1", "SERVER_NAME": "0.0.0.0", "SERVER_PORT": "80"}, "http://127.0.0.1"),
    ({"SERVER_NAME": "evil.example", "SERVER_PORT": "5100"}, "http://127.0.0.1:5000"),  # not known: the default
])
def test_without_public_url_email_links_follow_the_served_address_not_the_host_header(app, client, environ, expected):
    """PORT=5100 without PUBLIC_URL: links point at :5100, read from the server's own socket, never from Host."""
    if USING_WORKER:
        pytest.skip("a real worker builds the mail from its own PUBLIC_URL")
    user = create_vendor_user()
    app.config.update(SERVER_NAME=None, PUBLIC_URL="")
    client.post("/password/forgot", data={"email": user.email}, headers={"Host": "evil.example:5100"},
                environ_overrides=environ)
    note = db.session.scalar(sa.select(Notification).where(Notification.to_email == user.email)
                             .order_by(Notification.id.desc()))
    assert note.link.startswith(expected + "/password/reset/"), note.link
    assert "evil.example" not in note.link


def test_in_app_notification_links_are_relative(app, login):
    user = create_vendor_user()
    db.session.add(Notification(user_id=user.id, to_email=user.email, subject="S", body="B",
                                link="http://127.0.0.1:5000/exercises/7?tab=docs#docs"))
    db.session.commit()
    page = login(user).get("/notifications").get_data(as_text=True)
    assert 'href="/exercises/7?tab=docs#docs"' in page
    assert 'href="http://127.0.0.1:5000/exercises/7' not in page


def _page_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_a_language_chosen_before_signing_in_is_kept_and_saved(client):
    """The last choice wins: chosen on the sign-in page, it stays after signing in and becomes the saved language
    that emails follow."""
    user = create_vendor_user(locale="en")
    client.get("/language/zh_Hant")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert _page_lang(client.get("/")) == "zh-Hant"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hant"


def test_without_a_choice_sign_in_uses_the_saved_language(client):
    user = create_vendor_user(locale="zh_Hant")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert _page_lang(client.get("/")) == "zh-Hant"


def test_the_language_is_kept_at_sign_out_but_not_imposed_on_the_next_user(client):
    first, second = create_vendor_user(locale="zh_Hant"), create_vendor_user(locale="en")
    client.post("/login", data={"email": first.email, "password": PASSWORD})
    client.post("/logout")
    assert _page_lang(client.get("/")) == "zh-Hant"  # signed out, still in Chinese
    client.post("/login", data={"email": second.email, "password": PASSWORD})  # nobody chose: the saved language
    assert _page_lang(client.get("/")) == "en"
    db.session.expire_all()
    assert db.session.get(User, second.id).locale == "en"


def test_the_switch_is_a_post_that_saves_and_the_plain_link_writes_nothing(login):
    user = create_vendor_user(locale="en")
    client = login(user)
    client.get("/language/zh_Hant")  # the plain link: this browser's pages only
    assert _page_lang(client.get("/")) == "zh-Hant"
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<form method="post" action="/language/en"', page)  # signed in, the switch is a form
    client.post("/language/en", data={"next": "/account"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    client.post("/language/zh_Hant")
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "zh_Hant"  # emails follow the saved language


def test_a_server_on_another_port_sends_links_to_that_port(app):
    """PORT=5100 without PUBLIC_URL, through a real development server: the link follows the port the server
    listens on, whatever Host header the client sends."""
    import threading
    import urllib.parse
    import urllib.request
    from werkzeug.serving import make_server
    if USING_WORKER:
        pytest.skip("a real worker builds the mail from its own PUBLIC_URL")
    email = create_vendor_user().email
    db.session.rollback()  # hold no SQLite lock while the server writes
    app.config.update(SERVER_NAME=None, PUBLIC_URL="")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/password/forgot",
                                         data=urllib.parse.urlencode({"email": email}).encode(),
                                         headers={"Host": "evil.example:5000"}, method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    db.session.rollback()
    note = db.session.scalar(sa.select(Notification).where(Notification.to_email == email)
                             .order_by(Notification.id.desc()))
    assert note.link.startswith(f"http://127.0.0.1:{server.port}/password/reset/"), note.link
