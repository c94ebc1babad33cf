"""Invariant 1, by cryptography (issue 9; docs/sealing.md): before opening, a full copy of the database and of the
storage folder, and the logs, hold no answer, file name, file content or price; after closing, everything the server
holds cannot decrypt a proposal, one officer's passphrase cannot either, two can; the opening decrypts, checks every
tag and SHA-256 and names a damaged proposal; re-keying before closing names other officers; prices have a key of
their own; uploads are encrypted while streaming."""
from __future__ import annotations

import hashlib
import io
import json
import logging
import sqlite3
import re
import shutil
import subprocess
import time
import tracemalloc
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import current_app
from freezegun import freeze_time

from app.audit.checkpoints import signing_key
from app.auth.models import Role
from app.extensions import db
from eoi import crypto, sealed
from eoi import operations as ops
from eoi.models import Exercise, Opening, OpeningKey, OpeningKeyShare, Submission
from eoi.operations.common import ExerciseError
from eoi.states import ExerciseKind, ExerciseState, OpeningEnvelope
from tests.factories import (OPENING_PASSPHRASE, PASSWORD, create_draft, create_published, create_staff,
                             create_submission, create_vendor_user, wait_for)

ANSWER = "Okapi-Lantern submitted approach 6620"
DRAFT_ANSWER = "Okapi-Lantern unsubmitted draft 6621"
FILE_NAME = "okapi-lantern-blueprint-6622.pdf"
FILE_BODY = b"%PDF-1.4\n% Okapi-Lantern file body 6623\n%%EOF\n"
PRICE = Decimal("8765432.19")
MARKERS = (ANSWER, DRAFT_ANSWER, FILE_NAME, "okapi-lantern-blueprint", "Okapi-Lantern file body", "8765432.19",
           "8,765,432.19", "876543219")
TITLE_MARKER = "Public-Title-Marker-6624"  # not sealed: the positive control of the dump's grep


def _world(*, also_invited=()):
    """A tender with a price envelope: one proposal submitted (answer, file, price), one only drafted."""
    officers = [create_staff(Role.officer, name=f"Opening Officer {n}") for n in range(3)]
    submitter, drafter = create_vendor_user(), create_vendor_user()
    exercise = create_published(officers[0], kind=ExerciseKind.tender, vendors=[submitter, drafter, *also_invited],
                                price_envelope=True, title_en=TITLE_MARKER)
    submission = create_submission(exercise, submitter, answer=ANSWER, file_name=FILE_NAME, file_body=FILE_BODY,
                                   price=PRICE)
    draft = ops.get_or_create_submission(exercise, actor=drafter)
    ops.save_draft(draft, actor=drafter, answers={s.id: DRAFT_ANSWER for s in exercise.sections})
    ops.add_submission_file(draft, sealed.receive_file(io.BytesIO(FILE_BODY), FILE_NAME, max_bytes=10**6),
                            actor=drafter, section=None)
    ops.save_prices(draft, actor=drafter, prices={i.id: PRICE for i in exercise.price_items})
    db.session.commit()
    return exercise, submission, draft, officers, submitter


def _database_dump() -> str:
    """A full dump of the database, as a backup would take it (pg_dump on PostgreSQL, .dump on SQLite)."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as connection:
            return "\n".join(connection.iterdump())
    return subprocess.run(["pg_dump", "--no-owner", "-h", url.host or "127.0.0.1", "-p", str(url.port or 5432),
                           "-U", url.username or "postgres", url.database], capture_output=True, text=True,
                          check=True).stdout


def _storage_bytes() -> bytes:
    root = Path(current_app.config["STORAGE_DIR"])
    return b"\n".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def _rendered_text() -> str:
    """What a PDF text extractor reads out of every document stored under STORAGE_DIR (a grep of the folder does not
    see into the compressed streams; pdftotext does), and every mail written to the outbox folder."""
    root = Path(current_app.config["STORAGE_DIR"])
    texts = [subprocess.run(["pdftotext", "-enc", "UTF-8", str(p), "-"], capture_output=True, text=True).stdout
             for p in sorted(root.rglob("*")) if p.is_file() and p.read_bytes()[:5] == b"%PDF-"]
    outbox = Path(current_app.config["OUTBOX_DIR"])
    mails = [p.read_text(errors="replace") for p in sorted(outbox.rglob("*")) if p.is_file()] if outbox.exists() else []
    return "\n".join(texts + mails)


def _found_squashed(markers, text: str) -> list[str]:
    """Markers in extracted text, whatever the line breaks, soft hyphens and spaces a layout put in them."""
    def squash(value: str) -> str:
        return re.sub(r"[\s\-\u00ad,.]", "", value).lower()
    flat = squash(text)
    return [m for m in markers if squash(m) in flat]


def _found(markers, text: str, blob: bytes = b"") -> list[str]:
    return [m for m in markers if m in text or m.encode() in blob]


def _after_closing(exercise: Exercise):
    return freeze_time(exercise.closes_at + timedelta(minutes=1))


def _close(exercise: Exercise) -> None:
    with _after_closing(exercise):
        ops.close_due_exercises()
        db.session.commit()


def _open(exercise: Exercise, first, second, envelope=OpeningEnvelope.technical):
    ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE, envelope=envelope)
    ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE, envelope=envelope)
    db.session.commit()


# --- 1. at rest, nothing readable ---------------------------------------------------------------------------------

def test_a_full_copy_of_database_storage_and_logs_before_opening_holds_no_marker(app, caplog):
    caplog.set_level(logging.DEBUG)
    exercise, submission, _draft, officers, submitter = _world()
    dump, storage = _database_dump(), _storage_bytes()
    assert TITLE_MARKER in dump, "positive control: the dump holds what is not sealed"
    assert len(storage) > 2 * len(FILE_BODY), "the storage folder holds both proposals' files"
    assert _found(MARKERS, dump + caplog.text, storage) == []
    # ... still none after closing (the drafts' keys are destroyed) ...
    _close(exercise)
    assert _found(MARKERS, _database_dump() + caplog.text, _storage_bytes()) == []
    # ... and none after the opening either: reading decrypts on demand, nothing is stored decrypted.
    with _after_closing(exercise):
        _open(exercise, officers[0], officers[1])
    assert _found(MARKERS, _database_dump() + caplog.text, _storage_bytes()) == []
    # What the exercise runs on stays readable: who submitted, when, sizes and the SHA-256 of what was received.
    assert hashlib.sha256(FILE_BODY).hexdigest() in _database_dump()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed")
def test_stored_receipts_mails_notifications_and_audit_hold_no_file_name_or_answer(app, login):
    """The receipt PDF stored under STORAGE_DIR is read by any PDF text extractor: it lists the files by position,
    size and SHA-256, never by name (the receipt page shows the names to the vendor while they can be decrypted).
    The acknowledgement mail, the notification rows and the audit details carry no name or answer either."""
    exercise, submission, _draft, _officers, submitter = _world()
    version = submission.current_version
    # a real worker renders the receipt and writes the mail after the commit: read them once they are there
    from app.documents.models import Document, DocumentStatus
    from app.notifications import Notification
    receipt_id, email = version.receipt_document_id, submitter.email
    assert wait_for(lambda: db.session.get(Document, receipt_id).status == DocumentStatus.ready and not db.session.scalar(
        sa.select(sa.func.count()).select_from(Notification).where(Notification.to_email == email,
                                                                   Notification.sent_at.is_(None))))
    text = _rendered_text()
    assert version.receipt_number in text, "positive control: the receipt was rendered, the mail written"
    assert hashlib.sha256(FILE_BODY).hexdigest() in text, "the receipt lists the file by its SHA-256"
    assert _found_squashed(MARKERS, text) == []
    rows = "\n".join(str(row) for table in ("notifications", "outbox_messages", "audit_events")
                     for row in db.session.execute(sa.text(f"SELECT * FROM {table}")).all())
    assert version.receipt_number in rows and _found(MARKERS, rows) == []
    # The vendor still sees the names on its receipt page, next to the sizes and hashes.
    page = login(submitter).get(f"/exercises/{exercise.id}/submission/receipt").get_data(as_text=True)
    assert FILE_NAME in page and hashlib.sha256(FILE_BODY).hexdigest() in page


def test_a_receipt_whose_render_waits_past_the_closing_still_renders(app):
    """A proposal submitted in the last seconds: its receipt's render may run after closing has destroyed the keys.
    The receipt lists what it prints from the version's listing kept in clear (files by section, size and SHA-256,
    never by name), so it renders then too, and says the same as it would have before closing."""
    from app.documents.models import Document, DocumentStatus
    from app.documents.tasks import render_document
    exercise, submission, _draft, _officers, _submitter = _world()
    version = submission.current_version
    receipt_id = version.receipt_document_id
    before = sealed._receipt_listing(sealed._manifest_of(version))
    assert sealed.receipt_listing(version) == before and before["files"][0]["sha256"] == hashlib.sha256(
        FILE_BODY).hexdigest() and before["answer_count"] == 1 and before["priced"]
    assert wait_for(lambda: db.session.get(Document, receipt_id).status == DocumentStatus.ready)
    db.session.execute(sa.update(Document).where(Document.id == receipt_id)
                       .values(status=DocumentStatus.queued, sha256=None))  # as if its render were still waiting
    db.session.commit()
    _close(exercise)
    with pytest.raises(sealed.SealedContent):  # positive control: nobody can read the manifest now
        sealed.manifest_for_system(version, purpose="test")
    db.session.rollback()  # end this read: the render writes from its own session
    render_document.apply(args=(receipt_id,))
    db.session.expire_all()
    doc = db.session.get(Document, receipt_id)
    assert doc.status == DocumentStatus.ready, doc.failure_reason
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=(
        Path(current_app.config["STORAGE_DIR"]) / "documents" / doc.storage_key).read_bytes(),
        capture_output=True).stdout.decode()
    assert version.receipt_number in text and _found_squashed([hashlib.sha256(FILE_BODY).hexdigest()], text)
    assert _found_squashed(MARKERS, text) == []


def test_a_changed_receipt_listing_is_named_at_the_opening(app):
    """The listing kept in clear for the receipt is checked at the opening against the sealed manifest: a size
    changed in the database is a damaged proposal on the opening record, not a quiet difference."""
    exercise, submission, _draft, officers, _submitter = _world()
    version_id = submission.current_version.id
    stored = json.loads(db.session.scalar(sa.text("SELECT manifest FROM submission_versions WHERE id = :i"),
                                          {"i": version_id}))
    stored["receipt"]["files"][0]["size"] += 1
    db.session.execute(sa.text("UPDATE submission_versions SET manifest = :m WHERE id = :i"),
                       {"m": json.dumps(stored), "i": version_id})
    db.session.commit()
    with _after_closing(exercise):
        _open(exercise, officers[0], officers[1])
    [checked] = json.loads(db.session.scalar(sa.select(Opening.verification).where(Opening.exercise_id == exercise.id)))
    assert not checked["ok"] and checked["problems"] == [{"code": "receipt_listing"}]


def test_the_vendor_reads_its_own_draft_and_submission_before_closing(app):
    exercise, submission, draft, _officers, submitter = _world()
    content = sealed.technical_content_for(submitter, submission)
    assert list(content.answers.values()) == [ANSWER] and [f.name for f in content.files] == [FILE_NAME]
    assert list(sealed.price_content_for(submitter, submission).lines.values()) == [PRICE]
    with sealed.open_file_for(submitter, submission, content.files[0].id)[1] as stream:
        assert stream.read() == FILE_BODY
    manifest = sealed.manifest_for_system(submission.current_version, purpose="submission receipt")
    assert [(f["name"], f["size"], f["sha256"]) for f in manifest["files"]] == [
        (FILE_NAME, len(FILE_BODY), hashlib.sha256(FILE_BODY).hexdigest())]
    assert sealed.manifest_matches_hash(submission.current_version)


def test_between_closing_and_opening_the_vendor_sees_its_files_by_size_and_hash_only(app, login):
    exercise, submission, _draft, _officers, submitter = _world()
    _close(exercise)
    content = sealed.technical_content_for(submitter, submission)
    assert content.sealed and content.answers == {}
    assert [(f.size, f.sha256) for f in content.files] == [(len(FILE_BODY), hashlib.sha256(FILE_BODY).hexdigest())]
    assert sealed.price_content_for(submitter, submission).sealed
    page = login(submitter).get(f"/exercises/{exercise.id}/submission")
    assert page.status_code == 200 and ANSWER not in page.get_data(as_text=True)
    receipt = login(submitter).get(f"/exercises/{exercise.id}/submission/receipt")
    assert receipt.status_code == 200 and hashlib.sha256(FILE_BODY).hexdigest() in receipt.get_data(as_text=True)


def test_between_closing_and_opening_the_receipt_page_lists_the_versions_files_not_a_later_draft(app, login):
    """A vendor that withdrew, changed its draft's files and did not submit again: its receipt page (of the version
    it withdrew) lists that version's file, not the draft's replacement."""
    exercise, submission, _draft, _officers, submitter = _world()
    later = b"%PDF-1.4 a replacement never submitted 7731"
    [submitted] = sealed.technical_content_for(submitter, submission).files
    ops.withdraw_submission(submission, actor=submitter)
    ops.remove_submission_file(submission, submitted.id, actor=submitter)
    ops.add_submission_file(submission, sealed.receive_file(io.BytesIO(later), "later.pdf", max_bytes=10**6),
                            actor=submitter, section=None)
    db.session.commit()
    _close(exercise)
    page = login(submitter).get(f"/exercises/{exercise.id}/submission/receipt").get_data(as_text=True)
    assert hashlib.sha256(FILE_BODY).hexdigest() in page and hashlib.sha256(later).hexdigest() not in page
    assert "(sealed until the opening)" in page


# --- 2. after closing, no single party can read ---------------------------------------------------------------------

def test_every_server_secret_after_closing_fails_one_passphrase_fails_two_succeed(app):
    exercise, submission, _draft, officers, _submitter = _world()
    _close(exercise)
    db.session.expire_all()
    submission = db.session.get(Submission, submission.id)
    # Everything the server holds: the database, the storage, its sealing key, SECRET_KEY, the audit key.
    signing_key()  # made on first use: the server holds it
    server_secrets = [sealed.server_key(), current_app.config["SECRET_KEY"].encode(),
                      Path(current_app.config["AUDIT_SIGNING_KEY_FILE"]).read_bytes()]
    assert submission.draft_keys is None and submission.opened_keys is None
    with pytest.raises(sealed.SealedContent):
        sealed.content_for_system(submission, purpose="an attacker holding the server")
    wrapped = json.loads(submission.sealed_keys)
    for secret in server_secrets:
        for candidate in (secret, hashlib.sha256(secret).digest()):
            with pytest.raises((crypto.SealBroken, ValueError)):
                crypto.open_sealed(candidate[:32].ljust(32, b"\0"), wrapped["technical"],
                                   f"tenderbox/sealed/{submission.id}/technical/{wrapped['generation']}")
    public = sealed.exercise_public_keys(exercise)

    def share_of(officer, passphrase):
        locked = json.loads(db.session.get(OpeningKey, officer.id).locked_private_key)
        private = crypto.unlock_private_key(locked, passphrase, f"tenderbox/officer-key/{officer.id}")
        row = db.session.get(OpeningKeyShare, (exercise.id, officer.id, "technical"))
        plain = crypto.open_sealed(private, row.sealed_share,
                                   f"tenderbox/share/{exercise.id}/{officer.id}/technical/{row.generation}")
        return plain[0], plain[1:]

    with pytest.raises(crypto.SealBroken):  # the sign-in password is not the opening passphrase
        share_of(officers[0], PASSWORD)
    one = share_of(officers[0], OPENING_PASSPHRASE)
    alone = crypto.combine_shares([one, (one[0] % 3 + 1, bytes(32))])  # one real share and a guessed one
    assert crypto.b64e(crypto.public_of(alone)) != public["technical"]
    two = crypto.combine_shares([one, share_of(officers[2], OPENING_PASSPHRASE)])
    assert crypto.b64e(crypto.public_of(two)) == public["technical"]
    data_key = crypto.open_sealed(two, wrapped["technical"],
                                  f"tenderbox/sealed/{submission.id}/technical/{wrapped['generation']}")
    answer = db.session.execute(sa.text("SELECT section_id, text FROM answers WHERE submission_id = :s"),
                                {"s": submission.id}).first()
    assert crypto.unseal(data_key, answer.text, f"tenderbox/answer/{submission.id}/{answer.section_id}").decode() == ANSWER


def test_a_started_opening_keeps_no_share_in_plain(app):
    exercise, _submission, _draft, officers, _submitter = _world()
    with _after_closing(exercise):
        opening = ops.start_opening(exercise, actor=officers[0], passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    pending = json.loads(opening.pending_shares)
    assert sorted(pending) == sorted(str(o.id) for o in officers[1:])  # re-sealed to each other named officer
    with pytest.raises(crypto.SealBroken):
        crypto.open_sealed(sealed.server_key(), pending[str(officers[1].id)],
                           f"tenderbox/pending-share/{opening.id}/{officers[1].id}")


# --- 3. officers named at publication hold the shares --------------------------------------------------------------

def test_only_officers_with_an_opening_key_can_be_named(app):
    keyless = create_staff(Role.officer, name="No Key Officer", opening_passphrase="")
    with_keys = [create_staff(Role.officer) for _ in range(2)]
    exercise = create_draft(with_keys[0])
    with pytest.raises(ExerciseError, match="No Key Officer has not set an opening passphrase"):
        ops.publish_exercise(exercise, actor=with_keys[0], opening_officers=[keyless, *with_keys])


def test_the_opening_passphrase_page_sets_a_passphrase_never_stored(app, login):
    officer = create_staff(Role.officer, opening_passphrase="")
    client = login(officer)
    assert "New opening passphrase" in client.get("/manage/opening-key").get_data(as_text=True)
    refused = client.post("/manage/opening-key", data={"passphrase": PASSWORD, "confirm": PASSWORD})
    assert "different from your sign-in password" in refused.get_data(as_text=True)
    phrase = "a passphrase of my very own 81"
    assert client.post("/manage/opening-key", data={"passphrase": phrase, "confirm": phrase}).status_code == 302
    db.session.expire_all()
    key = db.session.get(OpeningKey, officer.id)
    assert key is not None and phrase not in key.locked_private_key and phrase not in _database_dump()
    changed = client.post("/manage/opening-key", data={"current": "wrong current phrase", "passphrase": phrase + "2",
                                                       "confirm": phrase + "2"})
    assert "current opening passphrase was not correct" in changed.get_data(as_text=True)


def test_rekeying_before_closing_names_other_officers_who_alone_then_open(app):
    exercise, submission, _draft, officers, _submitter = _world()
    newcomers = [create_staff(Role.officer, name=f"Newcomer {n}") for n in range(2)]
    with pytest.raises(ExerciseError, match="opening passphrase of"):
        ops.rekey_opening(exercise, [officers[0], *newcomers], actor=officers[0], passphrase=OPENING_PASSPHRASE,
                          second=officers[1], second_passphrase="not the passphrase 000")
    db.session.rollback()
    ops.rekey_opening(exercise, [officers[0], *newcomers], actor=officers[0], passphrase=OPENING_PASSPHRASE,
                      second=officers[1], second_passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    assert sealed.exercise_public_keys(exercise)["generation"] == 2
    with _after_closing(exercise):
        with pytest.raises(ExerciseError, match="not one of them"):
            ops.start_opening(exercise, actor=officers[1], passphrase=OPENING_PASSPHRASE)
        db.session.rollback()
        _open(exercise, newcomers[0], newcomers[1])
    assert list(sealed.technical_content_for(officers[0], submission).answers.values()) == [ANSWER]


def test_the_rekeying_command_takes_both_passphrases_and_audits_a_wrong_one(app):
    exercise, submission, _draft, officers, _submitter = _world()
    newcomer = create_staff(Role.officer, name="Command Newcomer")
    args = ["rekey-opening", "--exercise", exercise.reference, "--by", officers[0].email, "--second",
            officers[1].email, "--officer", officers[0].email, "--officer", officers[1].email, "--officer", newcomer.email]
    runner = app.test_cli_runner()
    refused = runner.invoke(args=args, input=f"{OPENING_PASSPHRASE}\nwrong passphrase 4242\n")
    assert refused.exit_code != 0 and f"opening passphrase of {officers[1].name}" in refused.output
    from app.audit import AuditEvent
    assert db.session.scalar(sa.select(AuditEvent.id).where(AuditEvent.actor_id == officers[1].id,
                                                            AuditEvent.action == "exercise.opening_reauth_failed"))
    done = runner.invoke(args=args, input=f"{OPENING_PASSPHRASE}\n{OPENING_PASSPHRASE}\n")
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert {o.user_id for o in db.session.get(Exercise, exercise.id).opening_officers} == {
        officers[0].id, officers[1].id, newcomer.id}
    with _after_closing(exercise):
        _open(exercise, newcomer, officers[1])
    assert list(sealed.technical_content_for(officers[0], submission).answers.values()) == [ANSWER]


def test_rekeying_is_refused_after_closing(app):
    exercise, _submission, _draft, officers, _submitter = _world()
    with _after_closing(exercise), pytest.raises(ExerciseError, match="only before closing"):
        ops.rekey_opening(exercise, officers, actor=officers[0], passphrase=OPENING_PASSPHRASE, second=officers[1],
                          second_passphrase=OPENING_PASSPHRASE)


# --- 5. opening decrypts and proves; two envelopes, two keys -------------------------------------------------------

def test_the_opening_decrypts_checks_and_then_officers_read_as_before(app, login):
    exercise, submission, _draft, officers, _submitter = _world()
    with _after_closing(exercise):
        _open(exercise, officers[0], officers[1])
        opening = db.session.scalar(sa.select(Opening).where(Opening.exercise_id == exercise.id))
        [checked] = json.loads(opening.verification)
        assert checked["ok"] and checked["files"] == 1 and checked["vendor"] == submission.vendor.name_en
        assert opening.pending_shares is None
        content = sealed.technical_content_for(officers[2], submission)
        assert list(content.answers.values()) == [ANSWER] and content.files[0].name == FILE_NAME
        with sealed.open_file_for(officers[2], submission, content.files[0].id)[1] as stream:
            assert stream.read() == FILE_BODY
        page = login(officers[2]).get(f"/manage/exercises/{exercise.id}/opening").get_data(as_text=True)
        assert "every tag and SHA-256 matches the receipt" in page


def test_a_damaged_proposal_is_named_on_the_opening_record_never_skipped(app, login):
    other = create_vendor_user()
    exercise, submission, _draft, officers, _submitter = _world(also_invited=[other])
    intact = create_submission(exercise, other, answer="Intact proposal", price=Decimal("1"))
    stored = sealed.content_for_system(submission, purpose="test").files[0]
    key = db.session.scalar(sa.text("SELECT storage_key FROM stored_files WHERE id = :i"), {"i": stored.file_id})
    target = Path(current_app.config["STORAGE_DIR"]) / "files" / key
    data = bytearray(target.read_bytes())
    data[-20] ^= 0x01  # one bit of the encrypted file flipped on disk
    target.write_bytes(bytes(data))
    with _after_closing(exercise):
        _open(exercise, officers[1], officers[2])
    results = {row["vendor"]: row for row in json.loads(db.session.scalar(
        sa.select(Opening.verification).where(Opening.exercise_id == exercise.id)))}
    assert results[intact.vendor.name_en]["ok"]
    damaged = results[submission.vendor.name_en]
    [problem] = damaged["problems"]
    assert not damaged["ok"] and problem["code"] == "file_integrity"
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.opened
    # the finding is worded in the reader's language on the opening page
    client = login(officers[2])
    english = client.get(f"/manage/exercises/{exercise.id}/opening").get_data(as_text=True)
    client.get("/language/zh_Hant")
    chinese = client.get(f"/manage/exercises/{exercise.id}/opening").get_data(as_text=True)
    assert f"Damaged:</strong> file {problem['file']} failed its integrity check" in english
    assert f"已損壞：</strong> 檔案 {problem['file']} 未能通過完整性檢查" in chinese


def test_an_opening_recorded_before_findings_were_coded_shows_its_english_sentences(app):
    with app.test_request_context():
        assert sealed.describe_damage(["file 3 is missing", {"code": "answers"}]) == (
            "file 3 is missing; the answers differ from the receipt")


def test_an_opening_interrupted_half_way_keeps_nothing_and_is_resumed(app, monkeypatch):
    other = create_vendor_user()
    exercise, submission, _draft, officers, _submitter = _world(also_invited=[other])
    create_submission(exercise, other, answer="Second proposal", price=Decimal("2"))
    real, calls = sealed.open_envelope, []

    def dies_on_the_second(proposal, envelope, key):
        calls.append(proposal.id)
        if len(calls) == 2:
            raise SystemExit("the worker was killed")
        return real(proposal, envelope, key)

    with _after_closing(exercise):
        ops.start_opening(exercise, actor=officers[0], passphrase=OPENING_PASSPHRASE)
        db.session.commit()
        monkeypatch.setattr(sealed, "open_envelope", dies_on_the_second)
        with pytest.raises(SystemExit):
            ops.confirm_opening(exercise, actor=officers[1], passphrase=OPENING_PASSPHRASE)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).where(Submission.exercise_id == exercise.id,
                                                                  Submission.opened_keys.is_not(None))) == 0
        monkeypatch.setattr(sealed, "open_envelope", real)
        ops.confirm_opening(exercise, actor=officers[1], passphrase=OPENING_PASSPHRASE)  # the same started opening
        db.session.commit()
    verification = json.loads(db.session.scalar(sa.select(Opening.verification).where(Opening.exercise_id == exercise.id)))
    assert len(calls) == 2 and [r["ok"] for r in verification] == [True, True]


def test_prices_have_their_own_key_and_a_second_two_officer_opening(app, monkeypatch):
    from app.hooks import PriceGate, hooks
    exercise, submission, _draft, officers, _submitter = _world()
    with _after_closing(exercise):
        _open(exercise, officers[0], officers[1])
        with pytest.raises(sealed.SealedContent):
            sealed.prices_for_system(submission, purpose="the technical opening does not decrypt prices")
        with pytest.raises(ops.ExerciseError, match="signed the technical evaluation off"):
            _open(exercise, officers[2], officers[0], envelope=OpeningEnvelope.price)  # the scoring area's gate
        db.session.rollback()
        # the envelope's own mechanics, as if the chair had signed off with this tender compliant (the gate itself:
        # tests/scoring/test_results.py)
        monkeypatch.setitem(hooks(app).price_opening_gates, "scoring.technical_sign_off",
                            lambda _exercise: PriceGate((), frozenset({submission.id})))
        _open(exercise, officers[2], officers[0], envelope=OpeningEnvelope.price)
    assert db.session.get(Exercise, exercise.id).price_opened_at is not None
    assert list(sealed.prices_for_system(submission, purpose="test").lines.values()) == [PRICE]
    price_opening = db.session.scalar(sa.select(Opening).where(Opening.exercise_id == exercise.id,
                                                               Opening.envelope == OpeningEnvelope.price))
    assert [row["ok"] for row in json.loads(price_opening.verification)] == [True]
    assert sealed.manifest_matches_hash(submission.current_version)


# --- 6. streams -----------------------------------------------------------------------------------------------------

class _Zeros(io.RawIOBase):
    """A PDF-looking stream of size bytes made on the fly (nothing held in memory)."""

    def __init__(self, size: int):
        self.left, self.head = size, b"%PDF-1.4\n"

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        chunk = (self.head + bytes(n))[:n]
        self.head = self.head[n:]
        buffer[:n] = chunk
        self.left -= n
        return n


def test_a_60_mb_upload_is_encrypted_while_streaming_in_flat_memory(app, capsys):
    size = 60 * 1024 * 1024
    tracemalloc.start()
    started = time.perf_counter()
    upload = sealed.receive_file(io.BufferedReader(_Zeros(size)), "large.pdf", max_bytes=size)
    encrypt_s = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert upload.size == size and peak < 4 * 1024 * 1024, f"peak {peak} bytes"
    tmp = Path(current_app.config["STORAGE_DIR"]) / "files" / "tmp" / upload.storage_key.split("/")[1]
    started, digest = time.perf_counter(), hashlib.sha256()
    with crypto.open_encrypted(open(tmp, "rb"), upload.content_key) as stream:
        while chunk := stream.read(crypto.FILE_CHUNK):
            digest.update(chunk)
    decrypt_s = time.perf_counter() - started
    assert digest.hexdigest() == upload.sha256
    with capsys.disabled():
        print(f"\nsealing: 60 MB upload encrypt+hash {encrypt_s:.2f} s, decrypt+hash {decrypt_s:.2f} s, "
              f"peak traced memory {peak / 1024:.0f} KiB")
    db.session.rollback()


def test_an_upload_waits_encrypted_while_the_request_is_parsed(app, login):
    """Werkzeug spools a file part over 500 KB to a temporary file before the view encrypts it: that spool holds
    ciphertext only (app.spool), and reads back exactly; the upload through the page still arrives intact."""
    from app.spool import EncryptedSpool
    marker = b"Okapi-Lantern spooled body 6625 "
    body = b"%PDF-1.4\n" + marker * 40_000  # 1.3 MB: on disk
    spool = EncryptedSpool()
    for start in range(0, len(body), 7_777):
        spool.write(body[start:start + 7_777])
    assert spool.on_disk
    spool._file.seek(0)
    assert marker not in spool._file.read()
    spool.seek(0)
    assert spool.read() == body
    spool.seek(100_003)
    assert spool.read(50) == body[100_003:100_053] and spool.tell() == 100_053
    stream = app.request_class._get_file_stream(None, len(body), "application/pdf", "x.pdf")  # what parsing uses
    assert isinstance(stream.raw, EncryptedSpool)
    stream.write(body)
    stream.seek(0)
    assert stream.read() == body
    # through the proposal page: the stored file decrypts to what was sent
    vendor = create_vendor_user()
    exercise = create_published(create_staff(Role.officer))
    client = login(vendor)
    assert client.post(f"/exercises/{exercise.id}/submission/start").status_code == 302
    response = client.post(f"/exercises/{exercise.id}/submission/files", content_type="multipart/form-data",
                           data={"file-general": (io.BytesIO(body), "spooled.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    db.session.expire_all()
    proposal = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id))
    [item] = sealed.technical_content_for(vendor, proposal).files
    with sealed.open_file_for(vendor, proposal, item.id)[1] as stream:
        assert stream.read() == body
