"""Uploads: streamed with a size limit enforced while reading, typed by content, moved into place only on commit."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.extensions import db
from app.storage import CHUNK, UploadRejected, files_root, safe_display_name, save_upload

PDF = b"%PDF-1.4\n% small\n%%EOF\n"


def _all_files(kind: str) -> set[Path]:
    root = files_root()
    if not root.exists():
        return set()
    return {p for p in root.rglob("*") if p.is_file() and (p.relative_to(root).parts[0] == "tmp") == (kind == "tmp")}


_BEFORE: dict[str, set[Path]] = {}


@pytest.fixture(autouse=True)
def _storage_before(app):
    """Storage is shared with other tests in the worker run: look only at files this test adds."""
    _BEFORE.update({kind: _all_files(kind) for kind in ("", "tmp")})


def _files(kind: str = "") -> list[Path]:
    return sorted(_all_files(kind) - _BEFORE[kind])


class CountingStream(io.RawIOBase):
    """An endless body that counts what was read, to prove the limit stops the read early."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, size=-1):
        size = CHUNK if size is None or size < 0 else size
        self.read_bytes += size
        return (b"%PDF-1.4\n" + b"x" * size)[:size]


class DisconnectingStream(io.RawIOBase):
    def __init__(self):
        self.calls = 0

    def read(self, size=-1):
        self.calls += 1
        if self.calls > 2:
            raise ConnectionResetError("client went away")
        return b"%PDF-1.4\n" + b"y" * 1000


def test_a_committed_upload_is_moved_into_place_with_its_hash(app):
    saved = save_upload(io.BytesIO(PDF), "proposal.pdf", max_bytes=10**6)
    assert _files("tmp") and not _files()
    db.session.commit()
    stored = files_root() / saved.storage_key
    assert stored.read_bytes() == PDF and not _files("tmp")
    import hashlib
    assert saved.sha256 == hashlib.sha256(PDF).hexdigest() and saved.size == len(PDF)


def test_a_rolled_back_upload_leaves_nothing(app):
    save_upload(io.BytesIO(PDF), "proposal.pdf", max_bytes=10**6)
    db.session.rollback()
    assert not _files("tmp") and not _files()


def test_the_size_limit_stops_reading_early(app):
    stream = CountingStream()
    with pytest.raises(UploadRejected, match="larger than"):
        save_upload(stream, "big.pdf", max_bytes=5 * CHUNK)
    assert stream.read_bytes <= 6 * CHUNK
    assert not _files("tmp")


def test_an_interrupted_upload_leaves_no_half_saved_file(app):
    with pytest.raises(ConnectionResetError):
        save_upload(DisconnectingStream(), "cut.pdf", max_bytes=10**6)
    db.session.commit()
    assert not _files("tmp") and not _files()


@pytest.mark.parametrize("name, body, reason", [
    ("report.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "does not match"),
    ("report.pdf", b"<html><script>alert(1)</script></html>", "does not match"),
    ("setup.exe", b"MZ" + b"0" * 64, "not accepted"),
    ("noextension", PDF, "not accepted"),
    ("empty.pdf", b"", "empty"),
])
def test_disallowed_or_mismatched_files_are_refused_with_the_reason(app, name, body, reason):
    with pytest.raises(UploadRejected) as exc:
        save_upload(io.BytesIO(body), name, max_bytes=10**6)
    assert reason in exc.value.message
    assert not _files("tmp")


@pytest.mark.parametrize("raw, shown", [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("C:\\Users\\x\\plan.pdf", "plan.pdf"), ("a\x00b.pdf", "ab.pdf"),
    ("", "file"), ("x" * 300 + ".pdf", "x" * 120 + ".pdf"),
])
def test_client_names_are_only_displayed_never_used_as_paths(app, raw, shown):
    assert safe_display_name(raw) == shown
    saved = save_upload(io.BytesIO(PDF), raw or "file.pdf", max_bytes=10**6) if raw.endswith(".pdf") else None
    if saved:
        assert ".." not in saved.storage_key and "/" in saved.storage_key and saved.original_name == shown


def test_an_interrupted_http_upload_saves_no_record(app, login):
    """A body shorter than its Content-Length (the client disconnected) is refused; nothing is stored."""
    import sqlalchemy as sa
    from eoi.models import SubmissionFile
    from tests.factories import create_published
    from tests.factories import create_vendor_user
    vendor = create_vendor_user()
    exercise = create_published()
    client = login(vendor)
    client.post(f"/exercises/{exercise.id}/submission/start")
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + PDF + b"y" * 5000
    response = client.post(f"/exercises/{exercise.id}/submission/files", data=body,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                    "Content-Length": str(len(body) + 100_000)})
    assert response.status_code in (400, 413)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionFile)) == 0
    assert not _files("tmp")


def test_clean_orphans_moves_in_a_committed_file_whose_rename_a_crash_prevented_and_removes_the_rest(app):
    """A process killed between the commit and the rename leaves a row naming a file that is still a temporary
    file: the periodic clean-up puts it in place (for uploads and for rendered documents) instead of deleting it;
    temporary files no committed row names are removed."""
    import os
    import time

    from app.documents.models import Document, DocumentStatus
    from app.documents.service import storage_root
    from app.storage import _PENDING_KEY, StoredFile, clean_orphans

    saved = save_upload(io.BytesIO(PDF), "proposal.pdf", max_bytes=10**6)
    db.session.info.pop(_PENDING_KEY)  # the crash: the commit happens, the rename never does
    db.session.add(StoredFile(storage_key=saved.storage_key, original_name="proposal.pdf",
                              content_type="application/pdf", size=saved.size, sha256=saved.sha256))
    db.session.commit()
    stray = save_upload(io.BytesIO(PDF), "other.pdf", max_bytes=10**6)
    db.session.info.pop(_PENDING_KEY)
    db.session.rollback()  # no row names this one

    storage_root().mkdir(parents=True, exist_ok=True)
    doc = Document(kind="registration_confirmation", language="en", subject_type="Vendor", subject_id=1,
                   status=DocumentStatus.ready, storage_key="00000099-abcdefabcdef.pdf", sha256="0" * 64, size=4)
    db.session.add(doc)
    db.session.commit()
    rendered = storage_root() / f".{doc.storage_key}.1.tmp"
    rendered.write_bytes(b"%PDF")
    abandoned = storage_root() / ".00000100-abcdefabcdef.pdf.1.tmp"
    abandoned.write_bytes(b"%PDF")
    old = time.time() - 3600
    for path in [*_files("tmp"), rendered, abandoned]:
        os.utime(path, (old, old))

    assert clean_orphans(60) == 4
    assert (files_root() / saved.storage_key).read_bytes() == PDF
    assert not (files_root() / stray.storage_key).exists() and not _files("tmp")
    assert (storage_root() / doc.storage_key).read_bytes() == b"%PDF"
    assert not rendered.exists() and not abandoned.exists()
    assert not (storage_root() / "00000100-abcdefabcdef.pdf").exists()
