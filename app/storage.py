"""Stored files (any area's attachments and documents): the StoredFile row, and uploads streamed to a
temporary file while hashed and size-checked, type decided by content, moved into place only when the
transaction commits (deleted if it rolls back)."""
from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Optional

import filetype
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db import now_utc
from app.errors import DomainError
from app.extensions import db
from app.i18n import file_size
from app.text import clean_file_name

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


def save_upload(stream: BinaryIO, filename: str | None, *, max_bytes: int, allowed: set[str] | None = None) -> SavedUpload:
    """Stream to a temporary name, hashing as it goes; reject by size (while streaming) or by content type."""
    name = safe_display_name(filename)
    ext = _extension(name)
    allowed = allowed or set(ALLOWED_TYPES)
    if ext not in allowed:
        raise UploadRejected(_l("Files of type .%(ext)s are not accepted. Accepted: %(list)s.",
                                ext=ext or "?", list=", ".join(sorted(allowed))))
    root = files_root()
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    key = uuid.uuid4().hex
    tmp = root / "tmp" / key
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with open(tmp, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise UploadRejected(_l("The file is larger than the %(size)s limit.", size=file_size(max_bytes)))
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRejected(_l("The file is empty."))
        detected = _sniff(head, ext)
        if detected is None or detected not in ALLOWED_TYPES[ext]:
            raise UploadRejected(_l("The file's content does not match its .%(ext)s extension.", ext=ext))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _move_on_commit(tmp, root / key[:2] / key)
    return SavedUpload(f"{key[:2]}/{key}", name, CANONICAL_TYPE[ext], size, digest.hexdigest())


def _move_on_commit(tmp: Path, final: Path) -> None:
    session = db.session()
    session.connection()  # make sure a transaction is open, so its end (commit or not) is observed
    session.info.setdefault(_PENDING_KEY, []).append((tmp, final))


@event.listens_for(Session, "after_commit")
def _commit_files(session: Session) -> None:
    for tmp, final in session.info.pop(_PENDING_KEY, []):
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)


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


def clean_orphans(max_age_seconds: int = 3600) -> int:
    """Remove temporary files left by crashed requests."""
    import time
    removed = 0
    for path in (files_root() / "tmp").glob("*"):
        if time.time() - path.stat().st_mtime > max_age_seconds:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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

    def __repr__(self) -> str:
        return f"<StoredFile {self.id} {self.sha256[:8]}>"
