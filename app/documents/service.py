"""Queue, render, store and verify documents. Areas register a builder per document kind (app.hooks)."""
from __future__ import annotations

import hashlib
import logging
import os
import re
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


def _name_part(text: str) -> str:
    """A part of a file name any system keeps: ASCII letters, digits, dots and hyphens ("OSP/T/BT/01" -> "OSP-T-BT-01")."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-.")


def download_name(doc: Document) -> str:
    """The file name a person gets, e.g. OSP-T-BT-01_receipt_R0014-01_zh.pdf: what it is about, what it is, which
    one, and its language (en or zh), from the kind's name function (app.hooks); kind-id otherwise."""
    namer = hooks().document_names.get(doc.kind)
    parts = namer(doc) if namer is not None else (doc.kind, str(doc.subject_id))
    language = "zh" if (doc.language or "").startswith("zh") else "en"
    return "_".join([*(p for p in map(_name_part, parts) if p), language]) + ".pdf"


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
    doc.status, doc.failure_reason, doc.updated_at, doc.next_attempt_at = DocumentStatus.queued, None, now_utc(), None
    record(actor, "document.retried", doc)
    after_commit(RENDER_TASK, doc.id)
    return doc


def claim_document(doc_id: int) -> int | None:
    """Compare-and-set to `rendering` under a lease of RENDER_LEASE_SECONDS, so one worker renders a document at
    a time: a queued document, one whose lease expired (its worker died: taken over), or a failed one whose retry is
    due. Returns the claim's number (the attempt, a fencing token for store_rendered), or None."""
    now = now_utc()
    config = current_app.config
    result = db.session.execute(
        sa.update(Document)
        .where(Document.id == doc_id, sa.or_(
            Document.status == DocumentStatus.queued,
            (Document.status == DocumentStatus.rendering)
            & (Document.lease_expires_at.is_(None) | (Document.lease_expires_at <= now)),
            (Document.status == DocumentStatus.failed) & (Document.attempts < config["RENDER_MAX_ATTEMPTS"])
            & Document.next_attempt_at.is_not(None) & (Document.next_attempt_at <= now)))
        .values(status=DocumentStatus.rendering, attempts=Document.attempts + 1, updated_at=now, next_attempt_at=None,
                lease_expires_at=now + timedelta(seconds=config["RENDER_LEASE_SECONDS"]))
        .returning(Document.attempts)
    )
    attempt = result.scalar()
    db.session.commit()
    return attempt


def not_claimable_for(doc_id: int) -> float | None:
    """Why a document could not be claimed: seconds until it may be (a live lease, a retry not yet due), or None
    when there is nothing left to do (ready, failed for good, gone)."""
    doc = db.session.get(Document, doc_id)
    if doc is None or doc.status == DocumentStatus.ready:
        return None
    if doc.status == DocumentStatus.rendering and doc.lease_expires_at is not None:
        return max((doc.lease_expires_at - now_utc()).total_seconds(), 0.0) + 1
    if doc.status == DocumentStatus.failed and doc.next_attempt_at is not None \
            and doc.attempts < current_app.config["RENDER_MAX_ATTEMPTS"]:
        return max((doc.next_attempt_at - now_utc()).total_seconds(), 0.0) + 1
    return None


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


def store_rendered(doc: Document, pdf: bytes, attempt: int | None = None) -> bool:
    """Write to a temporary file, mark ready, and move the file into place only when that commits (the temporary
    file is removed if it does not). attempt (the claim's number) fences a worker whose lease was taken over: it
    stores nothing. Returns whether it stored. Raises OSError (full disk) or a database error: the caller fails
    the render."""
    from app.storage import move_on_commit

    db.session.refresh(doc, with_for_update=True)
    if attempt is not None and (doc.status != DocumentStatus.rendering or doc.attempts != attempt):
        db.session.rollback()
        logger.warning("document %s: lease %s was taken over; this render is dropped", doc.id, attempt)
        return False
    digest = hashlib.sha256(pdf).hexdigest()
    key = f"{doc.id:08d}-{digest[:12]}.pdf"
    root = storage_root()
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{key}.{attempt or 0}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(pdf)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    move_on_commit(tmp, root / key)
    doc.sha256, doc.size, doc.storage_key, doc.lease_expires_at = digest, len(pdf), key, None
    doc.status, doc.rendered_at, doc.updated_at = DocumentStatus.ready, now_utc(), now_utc()
    record(None, "document.ready", doc, sha256=digest, size=len(pdf))
    return True


def mark_failed(doc: Document, reason: str) -> float | None:
    """Failed, with its reason. Returns the seconds before it is tried again (doubling from RENDER_RETRY_SECONDS)
    while attempts remain, else None (failed for good: someone retries it by hand)."""
    config = current_app.config
    retry_in = None
    if doc.attempts < config["RENDER_MAX_ATTEMPTS"]:
        retry_in = float(config["RENDER_RETRY_SECONDS"]) * 2 ** max(doc.attempts - 1, 0)
    doc.status, doc.failure_reason, doc.updated_at = DocumentStatus.failed, reason[:500], now_utc()
    doc.lease_expires_at = None
    doc.next_attempt_at = now_utc() + timedelta(seconds=retry_in) if retry_in is not None else None
    record(None, "document.failed", doc, reason=reason[:500])
    return retry_in


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
    """Set back to queued the documents whose render lease expired (the worker died) and those queued for longer
    than older_than (their message was lost and, before the outbox, never sent again); returns their ids."""
    now = now_utc()
    result = db.session.execute(
        sa.update(Document)
        .where(sa.or_((Document.status == DocumentStatus.queued) & (Document.updated_at < now - older_than),
                      (Document.status == DocumentStatus.rendering)
                      & sa.or_(Document.lease_expires_at < now,
                               Document.lease_expires_at.is_(None) & (Document.updated_at < now - older_than))))
        .values(status=DocumentStatus.queued, updated_at=now, lease_expires_at=None)
        .returning(Document.id)
    )
    return [row.id for row in result]
