"""Browser tests: the app served on a real port (live_server) and driven by Chromium through Playwright.

The server runs the test's own app (the `app` fixture of tests/conftest.py: same database set-up and
clean-up) in a background thread. The test may read the database through its app context, but with
`read()`: on SQLite every transaction takes the write lock (BEGIN IMMEDIATE), so a read left open
would block the server's writes.
"""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.extensions import db
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def live_server(app):
    """The test's app on http://127.0.0.1:<free port>; links in emails point at it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.port}"
    # Email links are built from PUBLIC_URL; CSRF on, as in production.
    app.config.update(SERVER_NAME=f"127.0.0.1:{server.port}", PUBLIC_URL=f"http://127.0.0.1:{server.port}",
                      WTF_CSRF_ENABLED=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield base_url
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def read(query, timeout: float = 0.0, interval: float = 0.2):
    """query() on a fresh snapshot of the test's session, then roll back (never hold the SQLite lock).

    With timeout, poll until the result is truthy (a real Celery worker works asynchronously).
    Return plain values from query, not ORM objects: they are expired by the rollback.
    """
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        try:
            value = query()
        finally:
            db.session.rollback()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per session (the system's; Playwright never downloads one)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium for the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must not skip them)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """new_page(**context_options) -> a page in a fresh context (own cookies) on the live server."""
    contexts = []

    def _new_page(**options):
        context = browser.new_context(base_url=live_server, accept_downloads=True, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()
    yield _new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form, by its labels."""
    page.goto("/login")
    page.get_by_label("Email address", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: not url.endswith("/login"))
