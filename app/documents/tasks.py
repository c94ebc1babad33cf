"""Render task (idempotent, claims by compare-and-set) and the periodic sweeper for stuck jobs."""
from __future__ import annotations

import logging

from celery import shared_task

from app.documents.models import Document
from app.documents.service import build_pdf, claim_document, mark_failed, requeue_stale_documents, store_rendered
from app.extensions import db

logger = logging.getLogger(__name__)


@shared_task(name="app.render_document")
def render_document(doc_id: int) -> None:
    if not claim_document(doc_id):
        return  # already rendered, being rendered, or failed: nothing to do
    doc = db.session.get(Document, doc_id)
    try:
        pdf = build_pdf(doc)
    except Exception as exc:  # any failure becomes a failed Document with a reason, never a broken download
        logger.exception("rendering document %s failed", doc_id)
        db.session.rollback()
        doc = db.session.get(Document, doc_id)
        mark_failed(doc, f"{type(exc).__name__}: {exc}")
        db.session.commit()
        return
    store_rendered(doc, pdf)
    db.session.commit()


@shared_task(name="app.sweep_documents")
def sweep_documents() -> int:
    """Re-queue documents stuck in queued/rendering (a worker died mid-task), by compare-and-set so a
    document that became ready meanwhile is left alone."""
    ids = requeue_stale_documents()
    db.session.commit()
    for doc_id in ids:  # sent after the commit, so the worker sees them queued
        render_document.delay(doc_id)
    return len(ids)
