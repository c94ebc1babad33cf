"""Queue, render, store and verify documents. Areas register a builder per document kind (app.hooks)."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.celery import after_commit
from app.db import now_utc
from app.documents.models import Document, DocumentStatus
from app.errors import DomainError
from app.extensions import db
from app.hooks import hooks

logger = logging.getLogger(__name__)


#: The render task, named rather than imported: tasks.py imports this module, not the other way round.
RENDER_TASK = "app.render_document"


@dataclass
class DocumentSpec:
    template: str
    context: dict
    #: issued documents (letters, contracts) are signed with the organisation's certificate (app/documents/signing.py)
    sign_reason: str | None = None


class DocumentNotReady(DomainError):
    default_message = _l("This document is not ready yet.")


class DocumentCorrupted(DomainError):
    default_message = _l("This document failed its integrity check and cannot be served.")


def storage_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "documents"


def queue_document(kind: str, subject, *, language: str, vendor_id: int | None, actor=None) -> Document:
    """Create a queued Document and send its render task after commit."""
    doc = Document(kind=kind, language=language, vendor_id=vendor_id, created_by_id=getattr(actor, "id", None),
                   subject_type=type(subject).__name__, subject_id=subject.id)
    db.session.add(doc)
    db.session.flush()
    record(actor, "document.queued", doc, kind=kind, language=language)
    after_commit(RENDER_TASK, doc.id)
    return doc


def retry_document(doc: Document, *, actor) -> Document:
    """Put a failed document back in the queue."""
    if doc.status != DocumentStatus.failed:
        raise DocumentNotReady(_l("Only a failed document can be retried."))
    doc.status, doc.failure_reason, doc.updated_at = DocumentStatus.queued, None, now_utc()
    record(actor, "document.retried", doc)
    after_commit(RENDER_TASK, doc.id)
    return doc


def claim_document(doc_id: int) -> bool:
    """Compare-and-set queued -> rendering, so one worker renders a document exactly once."""
    result = db.session.execute(
        sa.update(Document)
        .where(Document.id == doc_id, Document.status == DocumentStatus.queued)
        .values(status=DocumentStatus.rendering, attempts=Document.attempts + 1, updated_at=now_utc())
    )
    db.session.commit()
    return result.rowcount == 1


def build_pdf(doc: Document) -> bytes:
    from app.documents.render import render_pdf

    spec = hooks().document_builders[doc.kind](doc)
    with force_locale(doc.language):
        html = render_template(spec.template, lang="zh-Hant" if doc.language == "zh_Hant" else "en", **spec.context)
    pdf = render_pdf(html)
    if spec.sign_reason:
        from app.documents.signing import sign_pdf
        pdf = sign_pdf(pdf, reason=spec.sign_reason)
    return pdf


def store_rendered(doc: Document, pdf: bytes) -> None:
    """Write to a temporary name, then move into place and mark ready in one commit."""
    digest = hashlib.sha256(pdf).hexdigest()
    key = f"{doc.id:08d}-{digest[:12]}.pdf"
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{key}.tmp"
    tmp.write_bytes(pdf)
    tmp.replace(root / key)
    doc.sha256, doc.size, doc.storage_key = digest, len(pdf), key
    doc.status, doc.rendered_at, doc.updated_at = DocumentStatus.ready, now_utc(), now_utc()
    record(None, "document.ready", doc, sha256=digest, size=len(pdf))


def mark_failed(doc: Document, reason: str) -> None:
    doc.status, doc.failure_reason, doc.updated_at = DocumentStatus.failed, reason[:500], now_utc()
    record(None, "document.failed", doc, reason=reason[:500])


def document_path(doc: Document) -> Path:
    return storage_root() / doc.storage_key


def read_verified(doc: Document) -> bytes:
    """The stored bytes, refusing to serve a file whose hash no longer matches (invariant 9)."""
    if doc.status != DocumentStatus.ready:
        raise DocumentNotReady()
    try:
        data = document_path(doc).read_bytes()
    except FileNotFoundError as exc:
        raise DocumentCorrupted() from exc
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        raise DocumentCorrupted()
    return data


def verify_documents() -> list[tuple[Document, str]]:
    """Re-hash every ready document; returns (document, problem) for each that fails."""
    problems = []
    for doc in db.session.scalars(sa.select(Document).where(Document.status == DocumentStatus.ready).order_by(Document.id)):
        try:
            read_verified(doc)
        except DomainError:
            problems.append((doc, "missing file" if not document_path(doc).exists() else "hash mismatch"))
    return problems


def requeue_stale_documents(older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Set documents stuck in queued/rendering back to queued; returns their ids."""
    cutoff = now_utc() - older_than
    result = db.session.execute(
        sa.update(Document)
        .where(Document.status.in_([DocumentStatus.queued, DocumentStatus.rendering]), Document.updated_at < cutoff)
        .values(status=DocumentStatus.queued, updated_at=now_utc())
        .returning(Document.id)
    )
    return [row.id for row in result]
