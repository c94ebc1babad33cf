"""Security headers, CSRF on every POST route, escaping, error pages, session cookies, idle timeout, hashing."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent, record
from app.auth.models import Role, User
from app.auth.passwords import hash_password
from app.extensions import db
from tests.app.test_access import ROUTE_ACCESS, allowed_role, build, dummy_values, is_login_redirect
from tests.conftest import USING_WORKER, IsolatedClient, _make_app
from tests.factories import PASSWORD, create_staff, create_vendor_user, create_vendor_with_document, wait_for

CSRF_MESSAGE = "Your form expired or was sent twice. Please reload the page and try again."
XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _OtherAppClient(IsolatedClient):
    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite every transaction holds the write lock
        # (BEGIN IMMEDIATE), and the other app's request would wait for it.
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(app, tmp_path):
    """A second app on the same database with some settings changed (e.g. CSRF on, secure cookies)."""
    made = []

    def _make(**overrides):
        other = _make_app(tmp_path, app.config["SQLALCHEMY_DATABASE_URI"], **overrides)
        other.test_client_class = _OtherAppClient
        made.append(other)
        return other
    yield _make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _user(role: Role) -> User:
    return create_vendor_user() if role == Role.vendor else create_staff(role)


# --------------------------------------------------------------------------------------------------------------------
# Headers

def assert_security_headers(response, where: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert csp, f"{where}: no Content-Security-Policy"
    directives = {}
    for part in filter(None, (p.strip() for p in csp.split(";"))):
        name, *sources = part.split()
        directives[name] = sources
    assert directives.get("frame-ancestors") == ["'none'"], f"{where}: frame-ancestors is {directives.get('frame-ancestors')}"
    assert "default-src" in directives and "script-src" in directives, f"{where}: CSP lacks default-src/script-src: {csp}"
    for name, sources in directives.items():
        for source in sources:
            assert source.lower() not in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'"), f"{where}: {name} {source}"
            # Only keywords ('self', 'none') and data: -- no host, scheme or wildcard source.
            assert source.startswith("'") or source == "data:", f"{where}: CSP {name} allows origin {source!r}"
    assert "'self'" in directives["script-src"] and len(directives["script-src"]) == 1, f"{where}: script-src {directives['script-src']}"
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin"), where
    assert headers.get("X-Frame-Options") == "DENY", where


def test_security_headers_on_every_page_type(app, login, monkeypatch):
    responses = []
    admin, vendor = login(_user(Role.admin)), login(_user(Role.vendor))
    anonymous = app.test_client()
    for client, who in ((anonymous, "anonymous"), (admin, "admin"), (vendor, "vendor")):
        for rule in _rules(app):
            if "GET" in rule.methods:
                url = build(app, rule, dummy_values(rule), "GET")
                responses.append((client.get(url), f"GET {url} as {who}"))
    responses.append((anonymous.get("/no/such/page"), "404 page"))
    responses.append((anonymous.get("/no/such/page", headers={"Accept": "application/json"}), "JSON 404"))
    responses.append((anonymous.post("/logout"), "redirect"))
    responses.append((vendor.get("/admin/users"), "403 page"))
    responses.append((anonymous.get("/static/css/site.css"), "static file"))
    monkeypatch.setitem(app.view_functions, "main.home", _boom)
    responses.append((anonymous.get("/"), "500 page"))
    codes = {r.status_code for r, _ in responses}
    assert {200, 302, 403, 404, 500} <= codes, codes
    for response, where in responses:
        assert_security_headers(response, where)


def test_a_pdf_download_carries_the_headers_too(app, login):
    from app.documents.models import Document
    owner = create_vendor_with_document()
    doc = db.session.scalar(sa.select(Document).where(Document.vendor_id == owner.vendor_id))
    response = login(owner).get(f"/documents/{doc.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    assert_security_headers(response, "PDF download")


# --------------------------------------------------------------------------------------------------------------------
# CSRF

def _token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "no csrf_token in the page"
    return match.group(1)


def _csrf_login(app, user):
    client = app.test_client()
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _row_counts() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def test_every_post_route_refuses_a_request_without_csrf_token(app, make_app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    clients: dict = {None: csrf_app.test_client()}
    post_rules = [(r, m) for r in _rules(csrf_app) for m in sorted(r.methods & {"POST", "PUT", "PATCH", "DELETE"})]
    assert post_rules
    def role_for(rule, method):  # CSRF is checked before the view, but use an allowed user anyway
        return allowed_role(rule.endpoint, method) if rule.endpoint in ROUTE_ACCESS else Role.vendor

    for rule, method in post_rules + [(None, None)]:
        role = role_for(rule, method) if rule else Role.vendor
        if role not in clients:
            clients[role] = _csrf_login(csrf_app, _user(role))
    if USING_WORKER:  # tasks queued while the users were set up finish in the worker, which deletes their outbox rows
        from app.outbox import pending_count
        assert wait_for(lambda: pending_count() == 0), "the worker left outbox rows before the check"
    before = _row_counts()
    failures = []
    for rule, method in post_rules:
        url = build(csrf_app, rule, dummy_values(rule), method)
        response = clients[role_for(rule, method)].open(url, method=method, data={"name": "x", "email": "x@x.example"})
        if response.status_code != 400 or CSRF_MESSAGE not in response.get_data(as_text=True):
            failures.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert not failures, "POST accepted without a CSRF token:\n" + "\n".join(failures)
    assert _row_counts() == before, "a refused request changed the database"
    # Still signed in: the token-less sign-out was refused. With the token it works (the check can pass).
    vendor = clients[Role.vendor]
    assert vendor.get("/account").status_code == 200
    token = _token(vendor.get("/account").get_data(as_text=True))
    assert vendor.post("/logout", data={"csrf_token": token}).status_code == 302
    assert is_login_redirect(vendor.get("/account"))


def test_csrf_json_client_gets_a_json_error(app, make_app):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = client.post("/password/forgot", data={"email": "a@b.example"}, headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.is_json
    assert response.get_json() == {"error": CSRF_MESSAGE, "status": 400}


# --------------------------------------------------------------------------------------------------------------------
# Escaping

def test_html_in_text_fields_is_shown_as_text(app, login):
    vendor_user = create_vendor_user(name_en=XSS, name_zh=XSS, name="<img src=x onerror=alert(2)>")
    page = login(vendor_user).get("/account").get_data(as_text=True)
    assert XSS not in page and "<img src=x" not in page
    assert XSS_ESCAPED in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    page = login(_user(Role.admin)).get("/admin/users").get_data(as_text=True)
    assert XSS not in page and "<img src=x" not in page
    assert XSS_ESCAPED in page


def test_html_in_audit_details_is_escaped_on_the_audit_page(app, login):
    record(None, "test.xss", None, note=XSS)
    db.session.commit()
    page = login(_user(Role.admin)).get("/admin/audit?action=test.xss").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --------------------------------------------------------------------------------------------------------------------
# Error pages

SECRET_DETAIL = "db-password-hunter2 in /srv/tenderbox/secret.py"


def _boom():
    record(None, "test.half_done", None)  # written, then the request crashes: must not be kept
    raise RuntimeError(SECRET_DETAIL)


def test_friendly_404_without_trace(client):
    response = client.get("/exercises/999999/nothing-here")
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "We could not find that page" in page and "Traceback" not in page


def test_forced_500_shows_friendly_page_no_trace_and_saves_nothing(app, client, monkeypatch):
    monkeypatch.setitem(app.view_functions, "main.home", _boom)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = client.get("/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "An unexpected error happened. Nothing was saved." in page
    assert "Traceback" not in page and "hunter2" not in page and "RuntimeError" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
    assert not db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "test.half_done"))


def test_json_client_gets_json_errors_with_status(app, client, login, monkeypatch):
    accept = {"Accept": "application/json"}
    response = client.get("/no/such/page", headers=accept)
    assert response.status_code == 404 and response.is_json and response.get_json()["status"] == 404
    assert response.get_json()["error"]
    response = login(_user(Role.vendor)).get("/admin/users", headers=accept)
    assert response.status_code == 403 and response.get_json()["status"] == 403
    response = client.get("/logout", headers=accept)
    assert response.status_code == 405 and response.get_json()["status"] == 405
    monkeypatch.setitem(app.view_functions, "main.home", _boom)
    response = client.get("/", headers=accept)
    assert response.status_code == 500 and response.get_json()["status"] == 500
    assert "hunter2" not in response.get_data(as_text=True)
    # A browser still gets HTML for the same error.
    assert client.get("/no/such/page").mimetype == "text/html"


# --------------------------------------------------------------------------------------------------------------------
# Session cookies

def _set_cookie(response, name: str) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return header
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def _flags(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_session_cookie_is_httponly_and_samesite_lax(app):
    user = create_vendor_user()
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    header = _set_cookie(response, "session")
    assert "httponly" in _flags(header) and "SameSite=Lax" in header
    assert "secure" not in _flags(header)  # the test config serves plain http


def test_cookies_are_secure_when_configured(app, make_app):
    secure_app = make_app(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    user = create_vendor_user()
    response = secure_app.test_client().post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"},
                                             base_url="https://localhost")
    for name in ("session", "remember_token"):
        header = _set_cookie(response, name)
        assert {"secure", "httponly"} <= _flags(header) and "SameSite=Lax" in header, header
    assert response.headers.get("Strict-Transport-Security", "").startswith("max-age=")


def test_remember_me_cookie_is_httponly_and_short_lived(app):
    user = create_vendor_user()
    response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    header = _set_cookie(response, "remember_token")
    assert "httponly" in _flags(header) and "SameSite=Lax" in header
    expires = re.search(r"Expires=([^;]+)", header).group(1)
    lifetime = datetime.strptime(expires, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)
    assert timedelta(0) < lifetime <= timedelta(days=14)
    # Without "remember me" there is no such cookie.
    plain = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD})
    assert not any(h.startswith("remember_token=") for h in plain.headers.getlist("Set-Cookie"))


def test_session_is_renewed_at_sign_in(app):
    user = create_vendor_user()
    client = app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "chosen by an attacker"
    before = client.get_cookie("session").value
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session and session.get("_user_id")


# --------------------------------------------------------------------------------------------------------------------
# Idle timeout, disabled accounts

def _idle_limit(app) -> timedelta:
    return app.config["STAFF_IDLE_TIMEOUT"]


@pytest.mark.parametrize("role", [Role.officer, Role.panel, Role.admin, Role.approver])
def test_idle_staff_are_signed_out(app, login, role):
    limit = _idle_limit(app)
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client = login(_user(role))
        assert client.get("/account").status_code == 200
        frozen.tick(limit - timedelta(minutes=1))
        assert client.get("/account").status_code == 200  # activity keeps the session alive
        frozen.tick(limit - timedelta(minutes=1))
        assert client.get("/account").status_code == 200
        frozen.tick(limit + timedelta(minutes=1))
        response = client.get("/account")
        assert is_login_redirect(response), response.status_code
        assert is_login_redirect(client.get("/account"))  # and stays signed out


def test_idle_clock_starts_at_sign_in(app, login):
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client = login(_user(Role.officer))  # no request after the sign-in itself
        frozen.tick(_idle_limit(app) + timedelta(minutes=1))
        assert is_login_redirect(client.get("/account"))


def test_idle_timeout_is_not_undone_by_the_remember_me_cookie(app):
    officer = _user(Role.officer)
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client = app.test_client()
        assert client.post("/login", data={"email": officer.email, "password": PASSWORD, "remember": "y"}).status_code == 302
        assert client.get("/account").status_code == 200
        frozen.tick(_idle_limit(app) + timedelta(minutes=1))
        assert is_login_redirect(client.get("/account"))
        assert is_login_redirect(client.get("/account")), "the remember-me cookie signed the idle officer back in"


def test_vendors_are_not_idle_timed_out(app, login):
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        client = login(_user(Role.vendor))
        assert client.get("/account").status_code == 200
        frozen.tick(timedelta(hours=3))
        assert client.get("/account").status_code == 200


def test_disabled_user_cannot_sign_in_and_loses_the_session(app, login):
    officer = _user(Role.officer)
    officer_client = login(officer)
    assert officer_client.get("/account").status_code == 200
    admin_client = login(_user(Role.admin))
    assert admin_client.post(f"/admin/users/{officer.id}/enabled").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, officer.id).is_enabled is False
    assert is_login_redirect(officer_client.get("/account"))
    response = app.test_client().post("/login", data={"email": officer.email, "password": PASSWORD})
    assert response.status_code == 200 and "Email address or password is incorrect." in response.get_data(as_text=True)
    # Re-enabled, the account works again (the refusal above was about the flag).
    assert admin_client.post(f"/admin/users/{officer.id}/enabled").status_code == 302
    assert login(officer).get("/account").status_code == 200


# --------------------------------------------------------------------------------------------------------------------
# Password hashing

def _argon2_params(hash_: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r"([mtp])=(\d+)", hash_)}


def test_passwords_are_hashed_with_argon2id(app):
    user = create_vendor_user()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    staff = create_staff(Role.officer)
    assert staff.password_hash.startswith("$argon2id$")


def test_production_argon2_parameters_meet_owasp_minimum_and_rehash_on_sign_in(app, monkeypatch):
    user = create_vendor_user()
    fast = _argon2_params(user.password_hash)
    monkeypatch.setitem(app.config, "ARGON2_FAST", False)
    params = _argon2_params(hash_password("some long passphrase 1"))
    # OWASP: Argon2id with at least 19 MiB memory and 2 iterations (or equivalent memory x time).
    assert params["m"] * params["t"] >= 19 * 1024 * 2, params
    assert app.test_client().post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    db.session.expire_all()
    rehashed = db.session.get(User, user.id).password_hash
    assert rehashed.startswith("$argon2id$") and _argon2_params(rehashed) == params != fast


def test_staff_get_no_remember_me_cookie(app):
    """Staff sessions end after the idle timeout; a remember-me cookie would restore them silently."""
    officer = create_staff(Role.officer)
    response = app.test_client().post("/login", data={"email": officer.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    assert not any(h.startswith("remember_token=") for h in response.headers.getlist("Set-Cookie"))
