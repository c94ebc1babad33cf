"""Test fixtures: a schema built by the migrations, fresh data per test, clients signed in per role.

SQLite (default): the migrated database file is copied for every test.
PostgreSQL (DATABASE_URL=postgresql+psycopg://...): migrated once, tables truncated after every test.
A real Celery worker (CELERY_BROKER_URL set): tasks leave the process; tests wait for their effects.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g
from flask.testing import FlaskClient
from flask_migrate import upgrade


from app import create_app
from app.config import TestConfig
from app.extensions import db


def _prime_certificate_datetime() -> None:
    """cryptography's Rust core remembers the datetime class it first converts: a first certificate built inside a
    test's frozen time (freezegun) would make every later one fail ("'datetime' object is not an instance of
    'FakeDatetime'") and no issued contract could be signed. Build one with the real clock before any test runs."""
    import tempfile
    from app.documents.signing import ensure_certificate
    with tempfile.TemporaryDirectory() as folder:
        ensure_certificate(Path(folder) / "prime.key", Path(folder) / "prime.crt")


_prime_certificate_datetime()

DATABASE_URL = os.environ.get("DATABASE_URL", "")
USING_POSTGRES = DATABASE_URL.startswith("postgresql")
USING_WORKER = bool(os.environ.get("CELERY_BROKER_URL"))


def _shared_path(name: str) -> Path | None:
    """A path the real worker uses too (set in the environment by .ci/run), when tests run with one."""
    return Path(os.environ[name]) if USING_WORKER and os.environ.get(name) else None


def _base_config(tmp: Path, uri: str) -> dict:
    # With a real worker, the worker and the tests must share storage; the CI script sets both dirs.
    shared = USING_WORKER and os.environ.get("STORAGE_DIR")
    return {
        "SQLALCHEMY_DATABASE_URI": uri,
        "STORAGE_DIR": Path(os.environ["STORAGE_DIR"]) if shared else tmp / "storage",
        "OUTBOX_DIR": Path(os.environ["OUTBOX_DIR"]) if shared else tmp / "outbox",
        # Each test its own checkpoint log and key; with a real worker, the worker's (see .ci/run), emptied
        # with the tables after each test (a truncated database is exactly what the checkpoints would report).
        "AUDIT_SIGNING_KEY_FILE": _shared_path("AUDIT_SIGNING_KEY_FILE") or tmp / "audit-signing.key",
        "AUDIT_CHECKPOINT_FILE": _shared_path("AUDIT_CHECKPOINT_FILE") or tmp / "audit-checkpoints.log",
        # The sealing key: a real worker reads drafts' manifests for receipts, so it shares the key file with the
        # tests (SEALING_KEY_FILE, else the worktree's instance/ default, which the worker uses too).
        "SEALING_KEY_FILE": _shared_path("SEALING_KEY_FILE") or (TestConfig.SEALING_KEY_FILE if USING_WORKER else tmp / "sealing.key"),
        # Issued PDFs are signed: each test its own generated certificate; with a real worker, the worker's default.
        **({} if USING_WORKER else {"DOCUMENT_SIGNING_KEY_FILE": tmp / "document-signing.key",
                                    "DOCUMENT_SIGNING_CERT_FILE": tmp / "document-signing.crt"}),
        "SERVER_NAME": "localhost",
        "PUBLIC_URL": "http://localhost",
        "RATELIMIT_KEY_PREFIX": f"t{uuid.uuid4().hex[:12]}",  # a shared Redis store must not carry counts between tests
        "PREFERRED_URL_SCHEME": "http",
    }


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """Run the migrations once: the schema under test is the one the migrations build."""
    if USING_POSTGRES:
        engine = sa.create_engine(DATABASE_URL)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        uri = DATABASE_URL
    else:
        uri = f"sqlite:///{tmp_path_factory.mktemp('template') / 'template.db'}"
    app = _make_app(tmp_path_factory.mktemp("migrate"), uri)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return uri


class IsolatedClient(FlaskClient):
    """Requests reuse the test's app context; drop Flask-Login's cached user so each client is itself."""

    def open(self, *args, **kwargs):
        for cached in ("_login_user", "_flask_babel"):
            g.pop(cached, None)
        try:
            return super().open(*args, **kwargs)
        finally:
            for cached in ("_login_user", "_flask_babel"):
                g.pop(cached, None)


def _make_app(tmp: Path, uri: str, **overrides):
    config = {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, **_base_config(tmp, uri), **overrides}
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(migrated_database, tmp_path):
    if USING_POSTGRES:
        uri = migrated_database
    else:
        path = tmp_path / "test.db"
        shutil.copyfile(migrated_database.removeprefix("sqlite:///"), path)
        uri = f"sqlite:///{path}"
    app = _make_app(tmp_path, uri)
    with app.app_context():
        yield app
        db.session.remove()
        if USING_POSTGRES:
            _truncate_all()
        db.engine.dispose()


def _truncate_all() -> None:
    if USING_WORKER:
        _wait_for_worker_idle()
        _discard_waiting_tasks()
    tables = ", ".join(t.name for t in db.metadata.sorted_tables)
    for attempt in range(5):
        try:
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            if shared_log := _shared_path("AUDIT_CHECKPOINT_FILE"):
                shared_log.unlink(missing_ok=True)  # its checkpoints name events that are gone now
            return
        except sa.exc.OperationalError:  # a worker transaction still running: let it finish
            if attempt == 4:
                raise
            time.sleep(0.5)


def _discard_waiting_tasks() -> None:
    """Tasks still queued for this test's rows (left pending on purpose, at a frozen time) would otherwise run on the
    next test's rows of the same ids once the tables restart their identities."""
    from flask import current_app
    try:
        current_app.extensions["celery"].control.purge()
    except Exception as error:  # noqa: BLE001 - the broker is the fault tests' to stop; the truncation goes on
        print(f"could not discard the waiting tasks: {error!r}")


def _wait_for_worker_idle(timeout: float = 30.0) -> None:
    """Let the worker finish this test's tasks, so truncation does not cut into its transactions.
    Rows a test left pending on purpose, at a frozen time, are not waited for."""
    from app.documents.models import Document, DocumentStatus
    from app.notifications import Notification
    from app.outbox import OutboxMessage
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = datetime.now(timezone.utc)
        recent = (now - timedelta(minutes=2), now + timedelta(seconds=5))
        busy = sa.union_all(
            sa.select(Document.id).where(Document.status.in_([DocumentStatus.queued, DocumentStatus.rendering]),
                                         Document.updated_at.between(*recent)),
            sa.select(Notification.id).where(Notification.sent_at.is_(None), Notification.failed_at.is_(None),
                                            Notification.created_at.between(*recent)),
            # a task that has not run to its end yet (e.g. the one that writes a mail) keeps its outbox row
            sa.select(OutboxMessage.id).where(OutboxMessage.created_at.between(*recent)),
        )
        with db.engine.connect() as conn:
            if conn.execute(sa.select(sa.func.count()).select_from(busy.subquery())).scalar() == 0:
                return
        time.sleep(0.2)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login(user) -> a test client signed in as user (through the real sign-in form)."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD):
        c = app.test_client()
        response = c.post("/login", data={"email": user.email, "password": password}, follow_redirects=False)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return c
    return _login
