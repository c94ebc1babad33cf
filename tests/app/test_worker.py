"""With CELERY_BROKER_URL set, tasks run in a real Celery worker process on Redis (CI's second run).

Locally without a broker these tests skip; in CI (.ci/run sets TENDERBOX_REQUIRE_WORKER=1) a missing
broker or worker is a failure, never a quiet skip."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app.auth.models import Vendor
from app.documents.models import Document, DocumentStatus
from app.documents.service import queue_document
from app.extensions import db
from tests.factories import create_vendor_user, wait_for

pytestmark = pytest.mark.worker
WORKER_REQUIRED = os.environ.get("TENDERBOX_REQUIRE_WORKER") == "1"


@pytest.fixture
def celery_worker_app(app):
    if not os.environ.get("CELERY_BROKER_URL"):
        if WORKER_REQUIRED:
            pytest.fail("TENDERBOX_REQUIRE_WORKER=1 but CELERY_BROKER_URL is not set")
        pytest.skip("no broker configured: tasks run eagerly in this run")
    return app.extensions["celery"]


def test_a_worker_answers_on_the_broker(celery_worker_app):
    replies = celery_worker_app.control.ping(timeout=5.0)
    assert replies, "no Celery worker answered a ping on the configured broker"


def test_document_is_rendered_by_the_worker_after_commit(celery_worker_app):
    assert celery_worker_app.conf.task_always_eager is False
    user = create_vendor_user()
    vendor = db.session.get(Vendor, user.vendor_id)
    doc = queue_document("registration_confirmation", vendor, language="zh_Hant", vendor_id=vendor.id, actor=user)
    doc_id = doc.id
    # Not committed yet: the task has not been sent, so nothing can have rendered it.
    assert doc.status == DocumentStatus.queued
    db.session.commit()
    ready = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.id == doc_id, Document.status == DocumentStatus.ready)), timeout=90)
    assert ready is not None and ready.attempts == 1 and len(ready.sha256) == 64
