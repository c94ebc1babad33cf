"""The transactional outbox (issue 7, items 1 and 2): once a submission commits, the vendor gets the receipt
whatever the broker does, and the queued render and mail are not lost with the broker: a row written in the same
transaction keeps them until they have run, and the relay publishes them again.

The broker is made to fail by replacing the task's publishing in this process (delay), so these run on SQLite with
eager tasks and on PostgreSQL with the real worker alike; tests/faults/ stops a real Redis instead.
"""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from kombu.exceptions import OperationalError as BrokerDown

import app.celery as celery_wiring
from app import outbox
from app.documents.models import Document, DocumentStatus
from app.documents.tasks import render_document
from app.extensions import db
from app.notifications import Notification, notify, send_notification
from app.outbox import OutboxMessage
from eoi.models import Submission, SubmissionVersion
from eoi.operations import get_or_create_submission, save_draft
from eoi.states import SubmissionState
from tests.factories import SMALL_PDF, create_published_exercise, create_vendor_user, wait_for


@pytest.fixture(autouse=True)
def broker_breaker_reset(app):
    """Rows are due for the relay at once; the process-wide "broker is down" pause never leaks into other tests."""
    app.config["OUTBOX_GRACE_SECONDS"] = 0
    celery_wiring._broker_down_until = 0.0
    yield
    celery_wiring._broker_down_until = 0.0


def _broker_down(monkeypatch, task):
    def refuse(*args):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
    monkeypatch.setattr(task, "delay", refuse)


def _rows(task: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    return list(db.session.scalars(query.where(OutboxMessage.task == task) if task else query))


def _ready_to_submit(vendor):
    import io
    exercise = create_published_exercise(sections=1, attachment_required=True)
    submission = get_or_create_submission(exercise, actor=vendor)
    save_draft(submission, actor=vendor, answers={s.id: "See the attachment." for s in exercise.sections})
    db.session.commit()
    return exercise


def test_a_committed_submission_gets_its_receipt_while_the_broker_is_down_and_its_render_runs_after(app, login,
                                                                                                   monkeypatch):
    """Item 1: the broker refusing after the commit does not turn a saved submission into an error page; item 2:
    the render is kept in the outbox and done once the relay publishes it."""
    import io
    vendor = create_vendor_user()
    exercise = _ready_to_submit(vendor)
    client = login(vendor)
    base = f"/exercises/{exercise.id}/submission"
    assert client.post(f"{base}/files", data={"file": (io.BytesIO(SMALL_PDF), "proposal.pdf"),
                                              "section_id": str(exercise.sections[0].id)},
                       content_type="multipart/form-data").status_code == 302
    _broker_down(monkeypatch, render_document)
    draft_version = db.session.scalar(sa.select(Submission.draft_version))
    response = client.post(f"{base}/submit", data={"draft_version": str(draft_version)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{base}/receipt")
    page = client.get(f"{base}/receipt")
    version = db.session.scalar(sa.select(SubmissionVersion))
    assert page.status_code == 200 and version.receipt_number in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(Submission.state)) == SubmissionState.submitted
    doc_id = version.receipt_document_id
    # The render waits in the outbox (the "proposal received" mail may wait beside it).
    assert ("app.render_document", f"[{doc_id}]") in [(r.task, r.args) for r in _rows()]
    assert db.session.get(Document, doc_id).status == DocumentStatus.queued  # not rendered: never published

    monkeypatch.undo()  # the broker is back
    app.config["OUTBOX_GRACE_SECONDS"] = 0
    assert outbox.relay() >= 1
    doc = wait_for(lambda: (d := db.session.get(Document, doc_id)).status == DocumentStatus.ready and d)
    assert doc, f"the receipt was not rendered after the relay: {db.session.get(Document, doc_id).status}"
    assert wait_for(lambda: not _rows()), "the outbox row stayed after its task ran"


def test_mail_queued_while_the_broker_is_down_is_sent_by_the_relay(app, monkeypatch):
    """Item 2 for notification mail: the message waits in the outbox, is sent once, and its row goes."""
    _broker_down(monkeypatch, send_notification)
    note = notify(to_email="someone@example.org", template="account_exists", name="X", link="http://localhost/reset")
    db.session.commit()
    note_id = note.id
    assert [(r.task, r.args) for r in _rows()] == [("app.send_notification", f"[{note_id}]")]
    assert db.session.get(Notification, note_id).sent_at is None
    monkeypatch.undo()
    assert outbox.relay() == 1
    assert wait_for(lambda: db.session.get(Notification, note_id).sent_at is not None)
    assert wait_for(lambda: not _rows())


def test_a_transaction_that_rolls_back_writes_no_outbox_row_and_sends_nothing(app, monkeypatch):
    sent = []
    monkeypatch.setattr(send_notification, "delay", lambda *args: sent.append(args))
    notify(to_email="someone@example.org", template="account_exists", name="X", link="http://localhost/reset")
    db.session.rollback()
    assert _rows() == [] and sent == []


def test_the_relay_backs_off_and_a_task_that_never_finishes_is_given_up_after_its_attempts(app, monkeypatch):
    """Rows not done are published again with doubling delays, at most OUTBOX_MAX_ATTEMPTS times."""
    sent = []
    monkeypatch.setattr(send_notification, "delay", lambda *args: sent.append(args))  # published, never run
    notify(to_email="someone@example.org", template="account_exists", name="X", link="http://localhost/reset")
    db.session.commit()
    app.config.update(OUTBOX_GRACE_SECONDS=10, OUTBOX_MAX_ATTEMPTS=3)
    row = _rows()[0]
    row.available_at = row.created_at  # due now
    db.session.commit()
    delays = []
    for _ in range(5):
        before = outbox.now_utc()
        outbox.relay()
        row = _rows()[0] if _rows() else None
        delays.append(round((row.available_at - before).total_seconds()))
        row.available_at = before
        db.session.commit()
    assert len(sent) == 1 + 3  # after commit, then three relays; the fourth and fifth relay give up
    assert delays[:3] == [10, 20, 40]
    assert outbox.stuck_count() == 1


def test_a_duplicate_message_does_nothing_while_the_task_runs_and_a_done_reset_mail_is_not_sent_again(app):
    """A task claims its outbox row while it runs: a duplicate (the relay sent it again, the broker redelivered it)
    finds it busy; a task that is not idempotent by its own data does not run again once its row is gone."""
    from app.auth.tasks import send_password_reset
    from app.celery import _claim_outbox
    from tests.factories import create_vendor_user

    user = create_vendor_user()
    db.session.commit()
    mails = db.session.scalar(sa.select(sa.func.count()).select_from(Notification))
    db.session.execute(sa.insert(OutboxMessage), outbox.rows_for([("auth.send_password_reset", (user.email,))]))
    db.session.commit()
    assert outbox.claim("auth.send_password_reset", (user.email,)) == "claimed"
    assert _claim_outbox("auth.send_password_reset", (user.email,), True) is False  # busy: the duplicate stops
    outbox.done("auth.send_password_reset", (user.email,))
    assert outbox.claim("auth.send_password_reset", (user.email,)) == "absent"
    send_password_reset(user.email)  # a late duplicate: its row is gone, so no second mail
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == mails
