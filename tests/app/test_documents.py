"""Generated documents: render -> ready with SHA-256, failures, retry, idempotence, tampering, the sweeper.

Tests that register a temporary document kind run the render task in this process (render_document.run),
with the task sending intercepted: a real Celery worker would not know the temporary kind.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth.models import User, Vendor
from app.documents import service
from app.documents.models import Document, DocumentStatus
from app.documents.service import DocumentNotReady, DocumentSpec, claim_document, queue_document, read_verified
from app.documents.tasks import render_document, sweep_documents
from app.extensions import db
from app.hooks import hooks
from tests.factories import create_vendor_user, wait_for

KIND = "test_kind"


@pytest.fixture
def sent(monkeypatch):
    """Intercept after-commit task sending; the test runs the tasks itself."""
    calls: list = []
    monkeypatch.setattr(service, "after_commit", lambda task, *args: calls.append((getattr(task, "name", task), args)))
    return calls


@pytest.fixture
def builder(app):
    """A temporary document kind whose builder can be made to fail, counting its calls."""
    state = {"calls": 0, "fail": None}

    def build(doc: Document) -> DocumentSpec:
        state["calls"] += 1
        if state["fail"]:
            raise state["fail"]
        vendor = db.session.get(Vendor, doc.subject_id)
        return DocumentSpec("pdf/registration_confirmation.html", {"vendor": vendor, "document": doc})
    hooks(app).add_document_builder(KIND, "Test document", build)  # this test's app only
    return state


def _queue(user: User, kind: str = KIND) -> int:
    doc = queue_document(kind, user.vendor, language="en", vendor_id=user.vendor_id, actor=user)
    db.session.commit()
    return doc.id


def _doc(doc_id: int) -> Document:
    db.session.expire_all()
    return db.session.get(Document, doc_id)


def _events(action: str, doc_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action,
                                                               AuditEvent.object_id == str(doc_id))))


def _ready_document(user: User) -> Document:
    """A registration confirmation rendered the normal way (eagerly, or by the real worker)."""
    doc_id = _queue(user, "registration_confirmation")
    doc = wait_for(lambda: (d := _doc(doc_id)).status == DocumentStatus.ready and d)
    assert doc, f"document {doc_id} never became ready: {_doc(doc_id).status} {_doc(doc_id).failure_reason}"
    return doc


# --------------------------------------------------------------------------------------------------------------------


def test_a_builder_that_raises_leaves_the_document_failed_with_a_reason(app, login, sent, builder):
    user = create_vendor_user()
    builder["fail"] = RuntimeError("subject data missing: registered address")
    doc_id = _queue(user)
    assert sent == [("app.render_document", (doc_id,))]
    client = login(user)

    # Queued: nothing served.
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 302 and response.mimetype != "application/pdf" and not response.data.startswith(b"%PDF")

    render_document.run(doc_id)
    doc = _doc(doc_id)
    assert doc.status == DocumentStatus.failed and doc.attempts == 1
    assert doc.failure_reason == "RuntimeError: subject data missing: registered address"
    assert doc.sha256 is None and doc.storage_key is None
    assert len(_events("document.failed", doc_id)) == 1

    # Failed: nothing served, the owner is told why instead.
    response = client.get(f"/documents/{doc_id}", follow_redirects=True)
    assert response.mimetype == "text/html" and b"%PDF" not in response.data
    assert "This document is not ready yet." in response.get_data(as_text=True)
    with pytest.raises(DocumentNotReady, match="not ready yet"):
        read_verified(doc)

    # The builder is fixed; the owner retries; the task renders it.
    builder["fail"] = None
    sent.clear()
    assert client.post(f"/documents/{doc_id}/retry").status_code == 302
    doc = _doc(doc_id)
    assert doc.status == DocumentStatus.queued and doc.failure_reason is None
    assert sent == [("app.render_document", (doc_id,))]
    render_document.run(doc_id)
    doc = _doc(doc_id)
    assert doc.status == DocumentStatus.ready and doc.attempts == 2 and builder["calls"] == 2
    response = client.get(f"/documents/{doc_id}")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert hashlib.sha256(response.data).hexdigest() == doc.sha256


def test_only_a_failed_document_can_be_retried(app, login, sent, builder):
    user = create_vendor_user()
    doc_id = _queue(user)
    render_document.run(doc_id)
    sent.clear()
    response = login(user).post(f"/documents/{doc_id}/retry", follow_redirects=True)
    assert "Only a failed document can be retried." in response.get_data(as_text=True)
    assert _doc(doc_id).status == DocumentStatus.ready and not sent


def test_running_the_task_again_does_not_render_again(app, sent, builder):
    user = create_vendor_user()
    doc_id = _queue(user)
    render_document.run(doc_id)
    first = _doc(doc_id)
    sha, key, rendered_at = first.sha256, first.storage_key, first.rendered_at
    render_document.run(doc_id)
    render_document.apply(args=[doc_id])  # also through Celery's own (local) call path
    doc = _doc(doc_id)
    assert builder["calls"] == 1 and doc.attempts == 1
    assert (doc.sha256, doc.storage_key, doc.rendered_at) == (sha, key, rendered_at)
    assert len(_events("document.ready", doc_id)) == 1


def test_a_document_claimed_by_another_worker_or_failed_is_left_alone(app, sent, builder):
    user = create_vendor_user()
    claimed = _queue(user)
    assert claim_document(claimed) is True
    assert claim_document(claimed) is False  # compare-and-set: the second claim loses
    render_document.run(claimed)
    assert _doc(claimed).status == DocumentStatus.rendering and builder["calls"] == 0

    builder["fail"] = ValueError("broken")
    failed = _queue(user)
    render_document.run(failed)
    render_document.run(failed)
    assert _doc(failed).status == DocumentStatus.failed and _doc(failed).attempts == 1 and builder["calls"] == 1


def test_the_sweeper_requeues_documents_stuck_for_more_than_ten_minutes(app):
    user = create_vendor_user()
    start = datetime.now(timezone.utc).replace(microsecond=0)

    def stuck_document(claim: bool) -> int:
        # Created directly (no task sent): a worker took it and died, or its task was lost.
        doc = Document(kind="registration_confirmation", language="en", vendor_id=user.vendor_id,
                       subject_type="Vendor", subject_id=user.vendor_id)
        db.session.add(doc)
        db.session.commit()
        if claim:
            assert claim_document(doc.id)
        return doc.id

    with freeze_time(start):
        died = stuck_document(claim=True)
        lost = stuck_document(claim=False)
    with freeze_time(start + timedelta(minutes=6)):
        busy = stuck_document(claim=True)  # a worker is still on this one
    with freeze_time(start + timedelta(minutes=9, seconds=59)):
        assert sweep_documents.run() == 0
    assert _doc(died).status == DocumentStatus.rendering
    with freeze_time(start + timedelta(minutes=11)):
        assert sweep_documents.run() == 2
    for doc_id in (died, lost):
        doc = wait_for(lambda: (d := _doc(doc_id)).status == DocumentStatus.ready and d)
        assert doc, f"document {doc_id} was not rendered after the sweep: {_doc(doc_id).status}"
    assert _doc(died).attempts == 2 and _doc(lost).attempts == 1
    busy_doc = _doc(busy)
    assert busy_doc.status == DocumentStatus.rendering and busy_doc.attempts == 1


# --- download names for people (issue 8, item 13) ----------------------------------------------------------------

def test_downloads_are_named_for_people(app, login):
    """The receipt names the exercise, the receipt number and the language; the confirmation names the company."""
    from eoi.models import SubmissionVersion
    from tests.factories import create_published_exercise, create_submission

    vendor = create_vendor_user(locale="zh_Hant", name_en="Harbour Digital Services Limited")
    exercise = create_published_exercise(reference="OSP/T/BT/01")
    submission = create_submission(exercise, vendor)
    version = db.session.get(SubmissionVersion, submission.current_version_id)
    receipt = db.session.get(Document, version.receipt_document_id)
    number = version.receipt_number.removeprefix("OSP/T/BT/01-")
    assert service.download_name(receipt) == f"OSP-T-BT-01_receipt_{number}_zh.pdf"
    assert number.startswith("R") and "/" not in number

    doc = wait_for(lambda: (d := _doc(receipt.id)).status == DocumentStatus.ready and d)
    assert doc, "the receipt was never rendered"
    response = login(vendor).get(f"/documents/{doc.id}")
    assert response.status_code == 200
    assert f'filename=OSP-T-BT-01_receipt_{number}_zh.pdf' in response.headers["Content-Disposition"]

    confirmation = _doc(_queue(vendor, "registration_confirmation"))
    assert service.download_name(confirmation) == "Harbour-Digital-Services-Limited_registration-confirmation_en.pdf"
