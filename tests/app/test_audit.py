"""The audit log: hash chain, append-only triggers, tamper detection by `flask verify-audit`, admin filters."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent, record, verify_chain
from app.auth.models import Role
from app.extensions import db
from tests.app.test_access import is_login_redirect
from tests.factories import create_staff, create_vendor_user

SQLITE_GUARDS = {
    verb: f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
          "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;"
    for verb in ("UPDATE", "DELETE")
}


def _is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _events() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def _some_activity(login) -> None:
    """A realistic sequence: staff created, a vendor registers, people sign in, a task is recorded."""
    admin = create_staff(Role.admin)
    officer = create_staff(Role.officer)
    vendor = create_vendor_user()
    login(admin).get("/admin/users")
    login(vendor).post("/account/users", data={"name": "Colleague", "email": "colleague@vendor.example"})
    record(officer, "test.note", vendor.vendor, text="中文 and ünïcode")
    db.session.commit()


def _run(app, *args):
    db.session.commit()  # the CLI reuses the test's app context and session: start it clean
    result = app.test_cli_runner().invoke(args=list(args))
    return result, result.output  # Click >= 8.2: stdout and stderr interleaved


@contextmanager
def guards_lifted():
    """What a tamperer with database access does: turn the append-only trigger off (and back on after)."""
    db.session.commit()
    if _is_postgres():
        db.session.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_events_no_delete"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        if _is_postgres():
            db.session.execute(sa.text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update"))
        else:
            for sql in SQLITE_GUARDS.values():
                db.session.execute(sa.text(sql))
        db.session.commit()


def _assert_refused(sql: str, **params) -> None:
    with pytest.raises(sa.exc.DBAPIError) as refused:
        db.session.execute(sa.text(sql), params)
        db.session.flush()
    db.session.rollback()
    assert "append-only" in str(refused.value)


# --------------------------------------------------------------------------------------------------------------------


def test_concurrent_appends_keep_one_chain(app):
    db.session.commit()
    errors = []

    def append(n: int) -> None:
        try:
            with app.app_context():
                for i in range(8):
                    record(f"thread{n}", "test.concurrent", None, i=i)
                    db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
    threads = [threading.Thread(target=append, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    events = _events()
    assert sum(e.action == "test.concurrent" for e in events) == 24
    assert verify_chain().ok


# --------------------------------------------------------------------------------------------------------------------
# Admin audit page

def _row_ids(page: str) -> set[int]:
    return {int(i) for i in re.findall(r"<tr><td>(\d+)</td>", page)}


@pytest.fixture
def dated_events(app):
    alice = create_staff(Role.officer, email="alice.audit@gov.example")
    bob = create_staff(Role.officer, email="bob.audit@gov.example")
    with freeze_time("2020-03-10 04:00:00"):  # 12:00 HKT on 10 March
        e1 = record(alice, "exercise.published", alice, title="OSP EOI").id
    with freeze_time("2020-03-11 15:30:00"):  # 23:30 HKT on 11 March
        e2 = record(bob, "exercise.cancelled", bob).id
    with freeze_time("2020-03-11 16:30:00"):  # 00:30 HKT on 12 March (still 11 March in UTC)
        e3 = record(alice, "submission.received", alice).id
    e4 = record(bob, "exercise.published", bob).id  # today
    db.session.commit()
    return {"e1": e1, "e2": e2, "e3": e3, "e4": e4}


@pytest.mark.parametrize("query, expected", [
    ("action=exercise.", {"e1", "e2", "e4"}),
    ("action=exercise.published", {"e1", "e4"}),
    ("action=submission", {"e3"}),
    ("actor=alice.audit", {"e1", "e3"}),
    ("actor=bob.audit&action=exercise.cancelled", {"e2"}),
    ("action=exercise.&from=2020-03-11&to=2020-03-11", {"e2"}),
    ("actor=audit@gov.example&from=2020-03-11&to=2020-03-11", {"e2"}),  # Hong Kong days, not UTC days
    ("actor=audit@gov.example&from=2020-03-12&to=2020-03-12", {"e3"}),
    ("actor=audit@gov.example&to=2020-03-10", {"e1"}),
    ("actor=audit@gov.example&from=2020-03-10&to=2020-03-12", {"e1", "e2", "e3"}),
    ("actor=audit@gov.example&from=2020-03-13", {"e4"}),
    ("action=nothing.like.this", set()),
])
def test_admin_audit_filters(app, login, dated_events, query, expected):
    response = login(create_staff(Role.admin)).get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert _row_ids(response.get_data(as_text=True)) == {dated_events[k] for k in expected}


def test_admin_audit_page_tolerates_bad_parameters(app, login, dated_events):
    client = login(create_staff(Role.admin))
    page = client.get("/admin/audit?from=not-a-date&to=2020-13-45&action=exercise.published").get_data(as_text=True)
    assert _row_ids(page) == {dated_events["e1"], dated_events["e4"]}
    assert client.get("/admin/audit?page=0").status_code == 404
    assert client.get("/admin/audit?actor=%25' OR 1=1 --").status_code == 200


@pytest.mark.parametrize("role", [Role.officer, Role.approver, Role.panel, Role.vendor])
def test_audit_page_is_for_administrators_only(app, login, role):
    user = create_vendor_user() if role == Role.vendor else create_staff(role)
    assert login(user).get("/admin/audit").status_code == 403
    assert is_login_redirect(app.test_client().get("/admin/audit"))
