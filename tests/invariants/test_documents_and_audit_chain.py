"""Invariant 9 (every generated document is stored with its SHA-256 and can be re-verified; the audit log is
append-only and its hash chain verifies end to end). Each tamper test first shows the untouched state passing."""
from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from app.audit import GENESIS, AuditEvent, chain_head, record, verify_chain
from app.auth.models import Role
from app.documents.service import DocumentCorrupted, document_path, read_verified
from app.extensions import db
from tests.app.test_audit import _assert_refused, _events, _run, _some_activity, guards_lifted
from tests.app.test_documents import _doc, _ready_document
from tests.app.test_documents import _events as _document_events
from tests.factories import create_staff, create_vendor_user


def test_render_marks_ready_with_the_sha256_and_size_of_the_stored_file(app):
    user = create_vendor_user()
    doc = _ready_document(user)
    stored = document_path(doc).read_bytes()
    assert stored.startswith(b"%PDF")
    assert doc.sha256 == hashlib.sha256(stored).hexdigest() and doc.size == len(stored)
    assert doc.attempts == 1 and doc.rendered_at is not None and doc.failure_reason is None
    assert read_verified(doc) == stored
    ready = _document_events("document.ready", doc.id)
    assert len(ready) == 1 and ready[0].details_dict == {"sha256": doc.sha256, "size": doc.size}
    assert not list(document_path(doc).parent.glob(".*.tmp")), "temporary file left behind"


def test_a_tampered_file_is_refused_and_reported(app, login):
    user = create_vendor_user()
    doc = _ready_document(user)
    doc_id = doc.id
    result = app.test_cli_runner().invoke(args=["verify-documents"])
    assert result.exit_code == 0 and "all stored documents match" in result.output

    path = document_path(doc)
    original = path.read_bytes()
    path.write_bytes(original.replace(b"Registration", b"Registrati0n", 1) if b"Registration" in original
                     else original[:-10] + b"tampered!!")
    with pytest.raises(DocumentCorrupted, match="integrity check"):
        read_verified(_doc(doc_id))
    response = login(user).get(f"/documents/{doc_id}", follow_redirects=True)
    assert response.mimetype == "text/html" and b"%PDF" not in response.data
    assert "failed its integrity check" in response.get_data(as_text=True)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["verify-documents"])
    assert result.exit_code == 1
    assert f"document {doc_id} (registration_confirmation): hash mismatch" in result.output

    path.unlink()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["verify-documents"])
    assert result.exit_code == 1 and f"document {doc_id} (registration_confirmation): missing file" in result.output

    path.write_bytes(original)  # restored: verifies again
    db.session.commit()
    assert app.test_cli_runner().invoke(args=["verify-documents"]).exit_code == 0


def test_events_are_hash_chained(app, login):
    _some_activity(login)
    events = _events()
    assert len(events) >= 7
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash, f"event {event.id} does not link to {previous.id}"
    for event in events:
        assert event.hash == event.compute_hash() and re.fullmatch(r"[0-9a-f]{64}", event.hash)
    assert len({e.hash for e in events}) == len(events)
    report = verify_chain()
    assert report.ok and report.checked == len(events) and report.head == events[-1].hash == chain_head()


def test_the_hash_covers_content_and_the_previous_link(app):
    event = record(None, "test.one", None, amount="100.00")
    assert event.hash is None  # chained at commit
    db.session.commit()
    original = event.hash
    assert original == event.compute_hash()
    if event in db.session:  # on PostgreSQL the chained INSERT leaves the event out of the session
        db.session.expunge(event)
    event.details = '{"amount": "1000.00"}'
    assert event.compute_hash() != original
    event.details, event.prev_hash = '{"amount": "100.00"}', "f" * 64
    assert event.compute_hash() != original


def test_the_database_refuses_update_and_delete(app):
    event = record(None, "test.guarded", None)
    db.session.commit()
    _assert_refused("UPDATE audit_events SET action = 'test.forged' WHERE id = :id", id=event.id)
    _assert_refused("DELETE FROM audit_events WHERE id = :id", id=event.id)
    assert db.session.get(AuditEvent, event.id).action == "test.guarded"


def test_verify_audit_names_the_edited_event(app, login):
    _some_activity(login)
    events = _events()
    target = events[len(events) // 2]
    assert target.id != events[-1].id
    result, output = _run(app, "verify-audit")
    assert result.exit_code == 0, output

    _assert_refused("UPDATE audit_events SET details = :d WHERE id = :id", d='{"forged": true}', id=target.id)
    with guards_lifted():
        db.session.execute(sa.text("UPDATE audit_events SET details = :d WHERE id = :id"),
                           {"d": '{"br_number": "99999999"}', "id": target.id})
        db.session.commit()
    # The guard is back after the tamperer left.
    _assert_refused("UPDATE audit_events SET action = 'x' WHERE id = :id", id=target.id)

    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1
    assert f"BROKEN at event {target.id}:" in output and "content does not match its hash" in output
    page = login(create_staff(Role.admin)).get("/admin/audit").get_data(as_text=True)
    assert f"Hash chain broken at event {target.id}." in page


def test_verify_audit_catches_a_tamperer_who_recomputes_the_hash(app, login):
    _some_activity(login)
    events = _events()
    target = events[3]
    forged = db.session.get(AuditEvent, target.id)
    db.session.expunge(forged)
    forged.actor_label = "someone.else@gov.example"
    new_hash = forged.compute_hash()
    with guards_lifted():
        db.session.execute(sa.text("UPDATE audit_events SET actor_label = :a, hash = :h WHERE id = :id"),
                           {"a": forged.actor_label, "h": new_hash, "id": target.id})
        db.session.commit()
    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1
    assert f"BROKEN at event {target.id + 1}:" in output and "link to the previous event" in output


def test_verify_audit_catches_a_deleted_event(app, login):
    _some_activity(login)
    target = _events()[2].id
    with guards_lifted():
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id = :id"), {"id": target})
        db.session.commit()
    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1 and f"BROKEN at event {target}: event {target} is missing" in output
