"""Render task (idempotent, claims under a lease by compare-and-set) and the periodic sweeper for stuck jobs."""
from __future__ import annotations

import logging

from celery import shared_task

from app.celery import after_commit
from app.documents.models import Document
from app.documents.service import (build_pdf, claim_document, mark_failed, not_claimable_for, requeue_stale_documents,
                                   store_rendered)
from app.extensions import db
from app.outbox import Later

logger = logging.getLogger(__name__)


@shared_task(name="app.render_document", outboxed=True)
def render_document(doc_id: int):
    """Render, store, mark ready. Any failure (the builder, a full disk, the database) ends in `failed` with its
    reason, retried with back-off (the outbox row is due again then). A document another worker holds under a live
    lease, or whose retry is not due, is left for later (Later), never dropped."""
    attempt = claim_document(doc_id)
    if attempt is None:
        wait = not_claimable_for(doc_id)
        db.session.rollback()
        return None if wait is None else Later(wait)
    doc = db.session.get(Document, doc_id)
    try:
        pdf = build_pdf(doc)
        store_rendered(doc, pdf, attempt)
        db.session.commit()
        return None
    except Exception as exc:  # any failure becomes a failed Document with a reason, never a broken download
        logger.exception("rendering document %s failed", doc_id)
        db.session.rollback()
        doc = db.session.get(Document, doc_id, with_for_update=True)
        if doc is None or doc.attempts != attempt:  # taken over meanwhile: the new holder decides
            db.session.rollback()
            return None
        retry_in = mark_failed(doc, _reason(exc))
        db.session.commit()
        return None if retry_in is None else Later(retry_in)


def _reason(exc: Exception) -> str:
    import errno
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"No space left on the storage disk ({type(exc).__name__}: {exc})"
    return f"{type(exc).__name__}: {exc}"


@shared_task(name="app.sweep_documents")
def sweep_documents() -> int:
    """Re-queue documents whose render lease expired (a worker died mid-task) or that stayed queued too long, by
    compare-and-set so a document that became ready meanwhile is left alone; their renders go through the outbox."""
    ids = requeue_stale_documents()
    for doc_id in ids:
        after_commit(render_document, doc_id)
    db.session.commit()
    return len(ids)
