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
        e1 = record(alice, "exercise.published", alice, title="OSP EOI")
    with freeze_time("2020-03-11 15:30:00"):  # 23:30 HKT on 11 March
        e2 = record(bob, "exercise.cancelled", bob)
    with freeze_time("2020-03-11 16:30:00"):  # 00:30 HKT on 12 March (still 11 March in UTC)
        e3 = record(alice, "submission.received", alice)
    e4 = record(bob, "exercise.published", bob)  # today
    db.session.commit()  # the events get their numbers in the chain when the transaction commits
    return {"e1": e1.id, "e2": e2.id, "e3": e3.id, "e4": e4.id}


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
    assert _row_ids(page) == {dated_events["e1"], dated_events["e4"]}, "a bad date is dropped, the other filters apply"
    assert page.count("Enter a date as YYYY-MM-DD, from 2000-01-01 to 2099-12-31.") == 2
    assert client.get("/admin/audit?page=0").status_code == 404
    assert client.get("/admin/audit?actor=%25' OR 1=1 --").status_code == 200


@pytest.mark.parametrize("query", ["from=9999-12-31", "to=9999-12-31", "from=0001-01-01", "to=0001-01-01",
                                   "from=0001-01-01&to=9999-12-31", "to=1999-12-31", "from=2100-01-01"])
def test_audit_dates_out_of_range_get_a_message_at_the_field(app, login, dated_events, query):
    """These overflowed converting Hong Kong days to UTC (a 500); now the field says what it accepts."""
    response = login(create_staff(Role.admin)).get(f"/admin/audit?action=exercise.published&{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter a date as YYYY-MM-DD, from 2000-01-01 to 2099-12-31." in page
    assert 'aria-invalid="true"' in page
    assert _row_ids(page) == {dated_events["e1"], dated_events["e4"]}


def test_audit_dates_at_the_ends_of_the_range_are_accepted(app, login, dated_events):
    """Positive control: the bounds themselves are valid dates and filter."""
    client = login(create_staff(Role.admin))
    page = client.get("/admin/audit?actor=audit@gov.example&from=2000-01-01&to=2099-12-31").get_data(as_text=True)
    assert "Enter a date" not in page and _row_ids(page) == set(dated_events.values())
    page = client.get("/admin/audit?actor=audit@gov.example&from=2020-03-12&to=2020-03-11").get_data(as_text=True)
    assert "The end date is before the start date." in page


@pytest.mark.parametrize("role", [Role.officer, Role.approver, Role.panel, Role.vendor])
def test_audit_page_is_for_administrators_only(app, login, role):
    user = create_vendor_user() if role == Role.vendor else create_staff(role)
    assert login(user).get("/admin/audit").status_code == 403
    assert is_login_redirect(app.test_client().get("/admin/audit"))


# --------------------------------------------------------------------------------------------------------------------
# Appending at commit: the chain's lock is held for the final append only

@contextmanager
def _statements():
    """The SQL statements the session's engine runs inside the block."""
    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)
    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)


def test_record_touches_the_database_only_at_commit(app):
    create_staff(Role.officer)
    with _statements() as seen:
        events = [record(None, "test.deferred", None, i=i) for i in range(5)]
    assert seen == [], "record() alone runs no SQL (no lock, no read of the head)"
    assert all(e.id is None and e.hash is None for e in events)
    with _statements() as seen:
        db.session.commit()
    audit_sql = [s for s in seen if "audit_events" in s or "advisory" in s]
    # one read of the head, one INSERT of the five (PostgreSQL: and the advisory lock)
    assert len(audit_sql) == (3 if _is_postgres() else 2), audit_sql
    assert [e.id for e in events] == list(range(events[0].id, events[0].id + 5))
    assert verify_chain().ok


def test_events_of_a_rolled_back_transaction_are_dropped(app):
    record(None, "test.kept", None)
    db.session.commit()
    record(None, "test.dropped", None)
    db.session.rollback()
    record(None, "test.kept", None)
    db.session.commit()
    assert [e.action for e in _events()] == ["test.kept", "test.kept"]
    assert verify_chain().ok


def test_events_follow_their_savepoint(app):
    record(None, "test.outer", None)
    with db.session.begin_nested():
        record(None, "test.released", None)
    savepoint = db.session.begin_nested()
    record(None, "test.rolled_back", None)
    savepoint.rollback()
    record(None, "test.after", None)
    db.session.commit()
    assert [e.action for e in _events()] == ["test.outer", "test.released", "test.after"]
    assert verify_chain().ok


def test_an_actor_and_object_flushed_late_get_their_ids(app):
    from app.auth.models import User
    officer = create_staff(Role.officer)
    newcomer = User(email="late.flush@gov.example", name="Late", role=Role.officer, password_hash="x")
    db.session.add(newcomer)
    record(newcomer, "test.late", newcomer)  # neither has an id yet
    db.session.commit()
    event = _events()[-1]
    assert event.actor_id == newcomer.id and event.object_id == str(newcomer.id) and officer.id != newcomer.id
    assert verify_chain().ok


def test_a_long_transaction_does_not_hold_the_chain(app):
    """Another transaction appends and commits while one that has recorded an event is still open
    (the lock used to be taken at the first record() and held to the commit)."""
    if not _is_postgres():
        pytest.skip("PostgreSQL run only: on SQLite every write transaction is serialised by BEGIN IMMEDIATE")
    db.session.commit()
    recorded, other_done, errors = threading.Event(), threading.Event(), []

    def long_request() -> None:
        try:
            with app.app_context():
                from app.auth.models import User
                db.session.add(User(email="long.request@gov.example", name="Long", role=Role.officer, password_hash="x"))
                record(None, "test.long", None)
                db.session.flush()  # the request has written: its transaction is open
                recorded.set()
                assert other_done.wait(20), "the other transaction was blocked by this one"
                db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
            recorded.set()

    def short_request() -> None:
        try:
            with app.app_context():
                assert recorded.wait(20)
                record(None, "test.short", None)
                db.session.commit()
                other_done.set()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
    threads = [threading.Thread(target=long_request), threading.Thread(target=short_request)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert [e.action for e in _events()][-2:] == ["test.short", "test.long"], "chained in commit order"
    assert verify_chain().ok


def test_many_concurrent_writers_keep_one_chain(app):
    """Several threads, each committing transactions of several events, interleaved: one unbroken chain."""
    db.session.commit()
    errors, threads_n, txns, per_txn = [], 6, 5, 3
    start = threading.Barrier(threads_n)

    def writer(n: int) -> None:
        try:
            with app.app_context():
                start.wait(30)
                for t in range(txns):
                    for i in range(per_txn):
                        record(f"writer{n}", "test.rush", None, txn=t, i=i)
                    db.session.commit()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(repr(exc))
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    events = [e for e in _events() if e.action == "test.rush"]
    assert len(events) == threads_n * txns * per_txn
    # each transaction's events are contiguous in the chain
    by_txn: dict = {}
    for e in events:
        by_txn.setdefault((e.actor_label, e.details_dict["txn"]), []).append(e.id)
    assert all(ids == list(range(ids[0], ids[0] + per_txn)) for ids in by_txn.values())
    report = verify_chain()
    assert report.ok and report.checked == len(_events())
