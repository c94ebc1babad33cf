"""Sign-in throttling: guessing is slowed, but nobody can lock an account's owner out (issue 6 item 10), and a
rate-limit store that is down degrades throttling instead of failing every sign-in (issue 7 item 8)."""
from __future__ import annotations

import socket

import pytest

from app.auth.throttle import DEVICE_COOKIE, throttle
from app.extensions import limiter
from tests.app.test_security import make_app  # noqa: F401  (fixture)
from tests.factories import PASSWORD, create_vendor_user, wait_for

WRONG = "not the password 123"
LIMIT = 5  # TestConfig: LOGIN_RATE_LIMIT and LOGIN_DEVICE_RATE_LIMIT are "5 per minute"


def _post(client, email, password, address):
    return client.post("/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": address})


def _owner_browser(app, user, address="10.1.1.1"):
    """The owner's browser: it signed in once (and got its device cookie), then signed out."""
    browser = app.test_client()
    assert _post(browser, user.email, PASSWORD, address).status_code == 302
    assert browser.get_cookie(DEVICE_COOKIE, path="/login") is not None
    browser.post("/logout")
    return browser


def test_an_attacker_cannot_lock_the_owner_out(app):
    user = create_vendor_user()
    owner = _owner_browser(app, user)
    attacker = app.test_client()
    codes = [_post(attacker, user.email, WRONG, "203.0.113.66").status_code for _ in range(LIMIT + 3)]
    assert codes == [200] * LIMIT + [429] * 3  # guessing is throttled

    # The owner's browser, with its device cookie, signs in (even from a new address).
    assert _post(owner, user.email, PASSWORD, "10.1.1.2").status_code == 302
    # A browser that never signed in to this account is throttled, right password or not.
    unknown = app.test_client()
    response = _post(unknown, user.email, PASSWORD, "10.9.9.9")
    assert response.status_code == 429 and "Too many failed sign-ins" in response.get_data(as_text=True)
    # The attacker stays throttled, and cannot get in with the right password either.
    assert _post(attacker, user.email, PASSWORD, "203.0.113.66").status_code == 429


def test_the_attacker_gains_nothing_from_another_accounts_or_a_forged_device_cookie(app):
    victim, own = create_vendor_user(), create_vendor_user()
    attacker = _owner_browser(app, own, "203.0.113.66")  # a device cookie, but for the attacker's own account
    for _ in range(LIMIT):
        _post(attacker, victim.email, WRONG, "203.0.113.66")
    assert _post(attacker, victim.email, PASSWORD, "203.0.113.66").status_code == 429
    forged = app.test_client()
    forged.set_cookie(DEVICE_COOKIE, attacker.get_cookie(DEVICE_COOKIE, path="/login").value + "x", path="/login")
    assert _post(forged, victim.email, PASSWORD, "198.51.100.7").status_code == 429
    # Positive control: the cookie does work for the account it was issued to.
    assert _post(attacker, own.email, PASSWORD, "203.0.113.66").status_code == 302


def test_a_device_cookie_has_its_own_limit(app):
    """A stolen device cookie does not give unlimited guesses: its own failures lock it (and only it)."""
    user = create_vendor_user()
    device = _owner_browser(app, user)
    codes = [_post(device, user.email, WRONG, "10.1.1.1").status_code for _ in range(LIMIT + 1)]
    assert codes == [200] * LIMIT + [429]
    assert _post(device, user.email, PASSWORD, "10.1.1.1").status_code == 429
    # Its failures did not lock other browsers out (they count as the device's, not the account's).
    assert _post(app.test_client(), user.email, PASSWORD, "10.1.1.1").status_code == 302


def test_guessing_many_accounts_from_one_address_is_throttled(app):
    app.config["LOGIN_IP_RATE_LIMIT"] = "3 per minute"
    users = [create_vendor_user() for _ in range(4)]
    codes = [_post(app.test_client(), u.email, WRONG, "203.0.113.9").status_code for u in users]
    assert codes == [200, 200, 200, 429]
    # Another address is not affected (positive control).
    assert _post(app.test_client(), users[3].email, PASSWORD, "198.51.100.1").status_code == 302


def test_successful_sign_ins_are_not_counted(app):
    user = create_vendor_user()
    for _ in range(LIMIT + 2):
        client = app.test_client()
        assert _post(client, user.email, PASSWORD, "10.2.2.2").status_code == 302


def test_a_password_reset_makes_the_browser_trusted(app):
    """The owner locked out on a new browser can get in by resetting the password: the link proves the address."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.notifications import Notification
    user = create_vendor_user()
    for _ in range(LIMIT):
        _post(app.test_client(), user.email, WRONG, "203.0.113.66")
    browser = app.test_client()
    assert _post(browser, user.email, PASSWORD, "10.3.3.3").status_code == 429
    browser.post("/password/forgot", data={"email": user.email})
    link = wait_for(lambda: db.session.scalar(sa.select(Notification.link).where(
        Notification.to_email == user.email, Notification.link.contains("/password/reset/"))))
    # A real worker builds the link from its own PUBLIC_URL (not the test's): keep the path only.
    from urllib.parse import urlsplit
    link = urlsplit(link).path
    new = "a brand new passphrase 77"
    assert browser.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert _post(browser, user.email, new, "10.3.3.3").status_code == 302


def test_device_cookie_flags(app, make_app):
    user = create_vendor_user()
    response = _post(app.test_client(), user.email, PASSWORD, "10.0.0.1")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE_COOKIE}="))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/login" in header
    assert "Secure" not in header  # plain http in the test config
    secure = make_app(SESSION_COOKIE_SECURE=True).test_client()
    response = secure.post("/login", data={"email": user.email, "password": PASSWORD}, base_url="https://localhost")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE_COOKIE}="))
    assert "Secure" in header


# --------------------------------------------------------------------------------------------------------------------
# The rate-limit store is down (issue 7 item 8): a closed port stands for a stopped Redis.

def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free now, and nothing listens on it once the socket closes


@pytest.fixture
def redis_down_app(make_app):
    app = make_app(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_closed_port()}")
    yield app
    limiter._storage_dead = False  # the extension object is shared by every app in the test run


def test_sign_in_works_while_the_limit_store_is_down(redis_down_app):
    user = create_vendor_user()
    client = redis_down_app.test_client()
    assert _post(client, user.email, PASSWORD, "10.4.4.4").status_code == 302
    with redis_down_app.app_context():
        assert throttle().degraded  # the store really was unreachable: this is the fallback at work
    # The password-reset form (a Flask-Limiter decorator) answers too.
    assert redis_down_app.test_client().post("/password/forgot", data={"email": user.email}).status_code == 200


def test_throttling_still_applies_in_memory_while_the_store_is_down(redis_down_app):
    user = create_vendor_user()
    codes = [_post(redis_down_app.test_client(), user.email, WRONG, "203.0.113.66").status_code
             for _ in range(LIMIT + 1)]
    assert codes == [200] * LIMIT + [429]
