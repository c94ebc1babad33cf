"""Stored files (any area's attachments and documents): the StoredFile row, and uploads streamed to a
temporary file while hashed and size-checked, type decided by content, moved into place only when the
transaction commits (deleted if it rolls back)."""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Callable, Optional

import filetype
import sqlalchemy as sa
import sqlalchemy.orm as so
from celery import shared_task
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import now_utc
from app.errors import DomainError
from app.extensions import db
from app.i18n import file_size
from app.text import clean_file_name

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024
_PENDING_KEY = "tenderbox_pending_files"

#: extension -> MIME types the content may have. Office files are ZIP containers, text has no magic.
ALLOWED_TYPES = {
    "pdf": {"application/pdf"},
    "docx": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/zip"},
    "xlsx": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/zip"},
    "pptx": {"application/vnd.openxmlformats-officedocument.presentationml.presentation", "application/zip"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "txt": {"text/plain"},
    "csv": {"text/plain"},
}
CANONICAL_TYPE = {"pdf": "application/pdf",
                  "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                  "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "txt": "text/plain", "csv": "text/csv"}


class UploadRejected(DomainError):
    default_message = _l("The file was not accepted.")


class StorageFull(DomainError):
    """The storage disk is full (ENOSPC) or over quota: not the user's fault, and trying again soon fails the same
    way. The refusal is recorded (audited) so administrators see it; their home page shows the condition."""
    default_message = _l("The server cannot store files at the moment because its storage is full. Your draft and "
                         "everything you saved before are safe. The administrators have been alerted; please try "
                         "again later, and if the closing time is near, contact the procurement officer of the "
                         "exercise.")
    status_code = 503


def _storage_full(exc: OSError) -> StorageFull:
    from app.audit import record

    logger.error("storage full: %s", exc)
    return StorageFull().record_after_rollback(lambda: record(None, "storage.full", None, error=str(exc)[:200]))


@dataclass
class SavedUpload:
    storage_key: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def files_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "files"


def safe_display_name(name: str | None) -> str:
    """A name to show (never used as a path): no directories, no control or bidi control characters (which could
    show "invoice\\u202efdp.exe" as "invoiceexe.pdf"), bounded length."""
    name = clean_file_name((name or "").replace("\\", "/").split("/")[-1]).strip().strip(".") or "file"
    stem, dot, ext = name.rpartition(".")
    return (stem[:120] + dot + ext[:10]) if dot else name[:120]


def _extension(name: str) -> str:
    return name.rpartition(".")[2].lower() if "." in name else ""


def _sniff(head: bytes, ext: str) -> str | None:
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if ext in {"txt", "csv"}:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A cut multi-byte character at the end of the sniffed head is fine.
            if exc.start < len(head) - 4:
                return None
        return "text/plain" if b"\x00" not in head else None
    return None


def save_upload(stream: BinaryIO, filename: str | None, *, max_bytes: int, allowed: set[str] | None = None,
                wrap_output: Callable[[BinaryIO], BinaryIO] | None = None) -> SavedUpload:
    """Stream to a temporary name, hashing as it goes; reject by size (while streaming) or by content type.
    wrap_output, if given, wraps the file written (its close() is called at the end): an area that seals its
    files encrypts them there, so no plaintext reaches the disk, even in the temporary file. Size, type and
    SHA-256 are of the plaintext."""
    name = safe_display_name(filename)
    ext = _extension(name)
    allowed = allowed or set(ALLOWED_TYPES)
    if ext not in allowed:
        raise UploadRejected(_l("Files of type .%(ext)s are not accepted. Accepted: %(list)s.",
                                ext=ext or "?", list=", ".join(sorted(allowed))))
    root = files_root()
    try:
        (root / "tmp").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _storage_full(exc) from exc
        raise
    key = uuid.uuid4().hex
    tmp = root / "tmp" / key
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(tmp, "wb") as raw:
            out = wrap_output(raw) if wrap_output else raw
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(_l("The file is larger than the %(size)s limit.", size=file_size(max_bytes)))
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
            if wrap_output:
                out.close()
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        detected = _sniff(head, ext)
        if detected is None or detected not in ALLOWED_TYPES[ext]:
            raise UploadRejected(_l("The file's content does not match its .%(ext)s extension.", ext=ext))
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _storage_full(exc) from exc
        raise
    move_on_commit(tmp, root / key[:2] / key)
    return SavedUpload(f"{key[:2]}/{key}", name, CANONICAL_TYPE[ext], size, digest.hexdigest())


def move_on_commit(tmp: Path, final: Path) -> None:
    """Move tmp to final when the current transaction commits; delete tmp if it ends any other way."""
    session = db.session()
    session.connection()  # make sure a transaction is open, so its end (commit or not) is observed
    session.info.setdefault(_PENDING_KEY, []).append((tmp, final))


@event.listens_for(Session, "after_commit")
def _commit_files(session: Session) -> None:
    for tmp, final in session.info.pop(_PENDING_KEY, []):
        try:  # a rename in the same file system; never raised into the request, whose data is committed
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError:
            logger.exception("could not move %s into place as %s", tmp, final)


@event.listens_for(Session, "after_transaction_end")
def _discard_files(session: Session, transaction) -> None:
    """A transaction that ended without commit (rollback, close, error) takes its uploads with it."""
    if transaction.parent is None:
        for tmp, _final in session.info.pop(_PENDING_KEY, []):
            tmp.unlink(missing_ok=True)


def stored_path(storage_key: str) -> Path:
    path = (files_root() / storage_key).resolve()
    if files_root().resolve() not in path.parents:
        raise UploadRejected()
    return path


def clean_orphans(max_age_seconds: float | None = None) -> int:
    """Remove temporary files left by crashed requests and renders (uploads killed mid-way, renders whose worker
    died), older than max_age_seconds (ORPHAN_MAX_AGE_SECONDS): a file being written now is never that old.
    A temporary file whose row did commit (the process died between the commit and the rename) is moved into
    place instead. Returns how many files were removed or moved."""
    if max_age_seconds is None:
        max_age_seconds = float(current_app.config["ORPHAN_MAX_AGE_SECONDS"])
    root = Path(current_app.config["STORAGE_DIR"])
    cutoff = time.time() - max_age_seconds
    handled = 0
    for path in [*(root / "files" / "tmp").glob("*"), *(root / "documents").glob(".*.tmp")]:
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            target = _committed_target(path)
            if target is not None and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                logger.warning("moved %s into place as %s: its row had committed", path.name, target)
            else:
                path.unlink(missing_ok=True)
            handled += 1
        except FileNotFoundError:  # moved into place meanwhile
            continue
    if handled:
        logger.info("cleaned %d orphaned temporary files", handled)
    return handled


def _committed_target(tmp: Path) -> Path | None:
    """Where a temporary file belongs if the row naming it has committed: an upload's files/tmp/<key> goes to
    files/<key[:2]>/<key> (save_upload), a render's documents/.<key>.<attempt>.tmp to documents/<key>
    (store_rendered) when that document is ready."""
    from app.documents.models import Document, DocumentStatus  # here: app.documents imports this module
    if tmp.parent.name == "tmp":
        key = f"{tmp.name[:2]}/{tmp.name}"
        known = db.session.scalar(sa.select(StoredFile.id).where(StoredFile.storage_key == key).limit(1))
        return files_root() / key if known is not None else None
    key = tmp.name[1:].rsplit(".", 2)[0]
    known = db.session.scalar(sa.select(Document.id).where(Document.storage_key == key,
                                                           Document.status == DocumentStatus.ready).limit(1))
    return tmp.parent / key if known is not None else None


def storage_free_bytes() -> int | None:
    """Free space on the storage disk, or None when it cannot be read."""
    root = Path(current_app.config["STORAGE_DIR"])
    try:
        return shutil.disk_usage(root if root.exists() else root.parent).free
    except OSError:
        return None


def storage_is_low() -> bool:
    free = storage_free_bytes()
    return free is not None and free < int(current_app.config["STORAGE_LOW_FREE_BYTES"])


@shared_task(name="app.clean_orphans")
def clean_orphans_task() -> int:
    return clean_orphans()


class StoredFile(db.Model):
    """A file on disk under a generated name, with its SHA-256: tender documents and submission attachments."""
    __tablename__ = "stored_files"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    original_name: so.Mapped[str] = so.mapped_column(sa.String(255))
    content_type: so.Mapped[str] = so.mapped_column(sa.String(100))
    size: so.Mapped[int]
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    uploaded_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    # A file of sealed content (a submission's attachment) keeps its name and content key here, encrypted by the
    # area that sealed it (eoi.sealed); original_name is then empty and the bytes on disk are encrypted.
    sealed_meta: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.sha256[:8]}>"
