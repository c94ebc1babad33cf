"""Invariant 10: the audit log cannot be cut or rewritten unnoticed. Its head is checkpointed, signed with a key
outside the database, in an append-only file and on every opening record; `flask verify-audit` checks the chain
against the checkpoints and names truncation, rewriting and forged checkpoints.

The attacks are those of someone with full access to the database (not to the key): the append-only triggers are
dropped or disabled first, as such an attacker would."""
from __future__ import annotations

import base64
import json
import os
import stat
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from freezegun import freeze_time

from app.audit import AuditEvent, record, verify_chain
from app.audit.checkpoints import Checkpoint, latest_checkpoint, read_log, verify_audit, write_checkpoint
from app.audit.models import canonical_hash
from app.auth.models import Role
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from tests.app.test_audit import _events, _run, _some_activity, guards_lifted
from tests.factories import OPENING_PASSPHRASE, PASSWORD, create_staff


def _log_lines(app) -> list[str]:
    path = app.config["AUDIT_CHECKPOINT_FILE"]
    return path.read_text().splitlines() if path.exists() else []


def _more_activity(n: int = 4) -> None:
    for i in range(n):
        record(None, "test.more", None, i=i)
    db.session.commit()


def _checkpoint():
    result = write_checkpoint()
    db.session.rollback()
    assert result.report.ok and result.written, result
    return result.checkpoint


def _page(login) -> str:
    return login(create_staff(Role.admin)).get("/admin/audit").get_data(as_text=True)


# --------------------------------------------------------------------------------------------------------------------
# Writing checkpoints

def test_a_checkpoint_is_signed_outside_the_database_and_appended(app, login):
    _some_activity(login)
    head = _events()[-1]
    checkpoint = _checkpoint()
    assert (checkpoint.seq, checkpoint.hash) == (head.id, head.hash)

    key_file = app.config["AUDIT_SIGNING_KEY_FILE"]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600, "the private key is readable by its owner only"
    # The public key alone verifies a line.
    public_key = serialization.load_pem_public_key(key_file.with_name(key_file.name + ".pub").read_bytes())
    [line] = _log_lines(app)
    data = json.loads(line)
    assert data["seq"] == head.id and data["hash"] == head.hash
    assert Checkpoint(**data).verifies(public_key)
    assert not Checkpoint(**{**data, "seq": head.id - 1}).verifies(public_key), "the signature covers the sequence"

    # Nothing new: nothing written. New events: a second line, the first one untouched (append-only).
    assert write_checkpoint().written is False
    _more_activity()
    second = _checkpoint()
    lines = _log_lines(app)
    assert len(lines) == 2 and lines[0] == line and json.loads(lines[1])["seq"] == second.seq == head.id + 4


def test_the_beat_schedule_checkpoints_the_head(app):
    celery = app.extensions["celery"]
    schedule = {entry["task"] for entry in celery.conf.beat_schedule.values()}
    assert "app.checkpoint_audit" in schedule
    assert "app.checkpoint_audit" in celery.tasks
    _more_activity(3)
    from app.audit.tasks import checkpoint_audit
    assert checkpoint_audit.run() == 3
    assert latest_checkpoint().seq == 3


def test_a_broken_chain_is_never_signed(app, login):
    _some_activity(login)
    _checkpoint()
    _more_activity()
    target = _events()[-2].id
    with guards_lifted():
        db.session.execute(sa.text("UPDATE audit_events SET details = '{}' WHERE id = :id"), {"id": target})
        db.session.commit()
    lines = _log_lines(app)
    result = write_checkpoint()
    assert not result.report.ok and result.report.broken_at == target and result.checkpoint is None
    assert _log_lines(app) == lines


def test_the_cli_writes_a_checkpoint(app, login):
    _some_activity(login)
    result, output = _run(app, "audit-checkpoint")
    assert result.exit_code == 0 and f"event {_events()[-1].id}" in output, output
    assert len(_log_lines(app)) == 1


# --------------------------------------------------------------------------------------------------------------------
# The attacks

def test_a_clean_chain_with_checkpoints_verifies(app, login):
    """Positive control: activity, checkpoints, more activity: verify-audit says OK."""
    _some_activity(login)
    _checkpoint()
    _more_activity()
    _checkpoint()
    _more_activity(2)
    result, output = _run(app, "verify-audit")
    assert result.exit_code == 0, output
    assert "audit chain OK" in output and "checkpoints OK: 2 verified" in output
    assert "Hash chain verified from the signed checkpoint" in _page(login)


def test_truncating_the_newest_events_is_reported(app, login):
    _some_activity(login)
    _more_activity()
    checkpoint = _checkpoint()
    with guards_lifted():
        db.session.execute(sa.text("DELETE FROM audit_events WHERE id > :keep"), {"keep": checkpoint.seq - 3})
        db.session.commit()
    assert verify_chain().ok, "the cut chain is consistent in itself: only the checkpoint shows the cut"

    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1
    assert f"TRUNCATED: events {checkpoint.seq - 2} to {checkpoint.seq} are missing" in output, output
    assert f"The audit log was cut: event {checkpoint.seq}" in _page(login)


def test_editing_an_event_and_recomputing_every_later_hash_is_reported(app, login):
    _some_activity(login)
    first = _checkpoint()
    _more_activity(5)
    second = _checkpoint()
    target = first.seq + 2
    events = [e for e in _events() if e.id >= target]
    for event in events:
        db.session.expunge(event)
    prev = None
    for event in events:  # what a tamperer with the database does: edit one row, re-chain all that follow
        if prev is not None:
            event.prev_hash = prev
        if event.id == target:
            event.details = '{"i": 99}'
        event.hash = prev = canonical_hash(event)
    with guards_lifted():
        for event in events:
            db.session.execute(sa.text("UPDATE audit_events SET details = :d, prev_hash = :p, hash = :h WHERE id = :id"),
                               {"d": event.details, "p": event.prev_hash, "h": event.hash, "id": event.id})
        db.session.commit()
    assert verify_chain().ok, "the recomputed chain is consistent in itself: only the checkpoint shows the rewrite"

    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1
    assert f"REWRITTEN: event {second.seq} has hash {events[-1].hash}" in output, output
    assert f"the change is in events {first.seq + 1} to {second.seq}" in output, "named between two checkpoints"
    assert f"The audit log was rewritten: event {second.seq}" in _page(login)


def test_a_forged_checkpoint_is_reported_and_ignored(app, login):
    _some_activity(login)
    genuine = _checkpoint()
    impostor = Ed25519PrivateKey.generate()
    at = genuine.at
    forged = Checkpoint(genuine.seq + 50, "f" * 64, at, genuine.key,
                        base64.b64encode(impostor.sign(Checkpoint.message(genuine.seq + 50, "f" * 64, at))).decode())
    with open(app.config["AUDIT_CHECKPOINT_FILE"], "a") as log:
        log.write(forged.to_json() + "\n")
        log.write("not a checkpoint\n")
    assert latest_checkpoint() == genuine, "a line that does not verify is never taken as the latest checkpoint"

    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1
    assert f"checkpoint line 2 (event {genuine.seq + 50}): BAD SIGNATURE" in output, output
    assert "checkpoint line 3 is not a checkpoint" in output
    assert "TRUNCATED" not in output, "the forged line is not believed"
    assert "Hash chain verified from the signed checkpoint" in _page(login)


# --------------------------------------------------------------------------------------------------------------------
# The audit page verifies from the latest checkpoint only

def test_the_audit_page_verifies_from_the_latest_checkpoint(app, login):
    _some_activity(login)
    old = _events()[1].id
    _more_activity(3)
    checkpoint = _checkpoint()
    _more_activity(4)
    with guards_lifted():  # damage before the checkpoint: the page does not walk that far, the CLI does
        db.session.execute(sa.text("UPDATE audit_events SET details = '{}' WHERE id = :id"), {"id": old})
        db.session.commit()
    page = _page(login)
    since = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.id > checkpoint.seq))
    assert f"Hash chain verified from the signed checkpoint at event {checkpoint.seq}: {since} events since." in page
    assert f"Latest checkpoint: event {checkpoint.seq}" in page and checkpoint.sig_fingerprint in page
    result, output = _run(app, "verify-audit")
    assert result.exit_code == 1 and f"BROKEN at event {old}" in output

    # ... but damage after it is on the page at once (positive control)
    newest = _events()[-1].id
    with guards_lifted():
        db.session.execute(sa.text("UPDATE audit_events SET details = '{}' WHERE id = :id"), {"id": newest - 2})
        db.session.commit()
    assert f"Hash chain broken at event {newest - 2}." in _page(login)


# --------------------------------------------------------------------------------------------------------------------
# Every opening record prints a checkpoint

def test_every_opening_record_prints_a_signed_checkpoint(app, login, tmp_path):
    import shutil
    import subprocess
    from eoi import operations as ops
    from eoi.states import ExerciseKind
    from tests.factories import create_published, create_submission, create_vendor_user, wait_for

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (poppler-utils)")
    officer, second, vendor = create_staff(Role.officer), create_staff(Role.officer), create_vendor_user()
    tender = create_published(officer, kind=ExerciseKind.tender, vendors=[vendor])
    create_submission(tender, vendor)
    with freeze_time(tender.closes_at + timedelta(minutes=5)):
        ops.start_opening(tender, actor=officer, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(tender, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    opened = db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.action == "exercise.opened"))
    doc = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.kind == "opening_record", Document.status == DocumentStatus.ready)))
    assert doc is not None
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(login(officer).get(f"/documents/{doc.id}").data)
    content = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(content.split())

    db.session.rollback()
    hashes = dict(db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash)).all())
    printed = [seq for seq, h in hashes.items() if h in flat]
    assert printed and max(printed) >= opened, "the checkpoint printed includes the opening itself"
    assert "Signaturefingerprint" in flat
    checkpoint = [ln.checkpoint for ln in read_log()][-1]  # with a real worker, the log it shares with the tests
    assert checkpoint.hash in flat and checkpoint.sig_fingerprint.replace(" ", "") in flat
    assert verify_audit().ok
