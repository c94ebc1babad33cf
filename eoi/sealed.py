"""The one door for sealed submission content (invariant 1), both ways.

Answers, attachment names and contents, prices and the manifests of submitted versions are read AND written
only here; nothing else touches the Answer, SubmissionFile and PriceLine rows or SubmissionVersion.manifest
(tests/invariants/test_sealed_box.py scans the code and templates for it). Callers get plain values (dicts, SealedFile),
never the rows. Everything sealed is encrypted here (issue 9, docs/sealing.md): each proposal has two data keys
(technical: answers, file names, file content keys, the manifest; price: the price lines), AES-256-GCM, with the
row it belongs to as associated data. The data keys are wrapped three ways (Submission.draft_keys by the server's
key until closing, sealed_keys to the exercise's opening public keys, opened_keys by the server's key after the
two-officer opening), so the server can read a proposal while the vendor drafts and after the opening, never
between closing and opening. Files are encrypted while streaming (eoi.crypto), never written in plain.

Reads for a user check the seal (can_read_*) and raise SealedContent; the *_for_system reads are the
system's own (completeness check, manifest, receipt) and name their purpose. Writes do not check who may
write: the operations that call them have done that (role, state, closing time) and hold the row lock.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.extensions import db
from app.storage import SavedUpload, StoredFile, save_upload, stored_path
from eoi import crypto
from eoi.crypto import SealBroken
from eoi.models import Answer, PriceLine, Submission, SubmissionFile, SubmissionVersion
from eoi.permissions import can_read_price, can_read_technical_content


class SealedContent(DomainError):
    default_message = _l("This submission is sealed until the tender box is opened.")
    status_code = 403


class DamagedContent(SealedContent):
    """An authentication tag failed: the stored ciphertext was altered (the opening record names the proposal)."""
    default_message = _l("This proposal's sealed content failed its integrity check; see the opening record.")
    status_code = 409


TECHNICAL, PRICE = "technical", "price"
RECEIPT = "receipt"  # the version manifest's part in clear: what the receipt PDF lists
ENVELOPES = (TECHNICAL, PRICE)


@dataclass
class SealedUpload(SavedUpload):
    """A received attachment, encrypted on disk under content_key (kept in memory until attach_file wraps it)."""
    content_key: bytes = field(default=b"", repr=False)


# --- keys -------------------------------------------------------------------------------------------------------

_server_keys: dict[str, bytes] = {}


def server_key() -> bytes:
    """The server's own sealing key (SEALING_KEY_FILE, created 0600 on first use). It wraps drafts' data keys until
    closing and opened proposals' keys after opening; it never wraps a key between closing and opening."""
    path = Path(current_app.config["SEALING_KEY_FILE"])
    cached = _server_keys.get(str(path))
    if cached is not None:
        return cached
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, crypto.b64e(crypto.new_key()).encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except FileExistsError:
            pass  # another process made it first
    key = crypto.b64d(path.read_text().strip())
    _server_keys[str(path)] = key
    return key


def _aad(kind: str, *ids) -> str:
    return "tenderbox/" + kind + "/" + "/".join(str(i) for i in ids)


def exercise_public_keys(exercise) -> dict:
    return json.loads(exercise.seal_public_keys) if exercise.seal_public_keys else {}


def _unwrap(column: str | None, kind: str, submission: Submission) -> dict[str, bytes]:
    if not column:
        return {}
    return {k: crypto.b64d(v) for k, v in json.loads(crypto.unseal(server_key(), column, _aad(kind, submission.id))).items()}


def _wrap(keys: dict[str, bytes], kind: str, submission: Submission) -> str:
    plain = json.dumps({k: crypto.b64e(v) for k, v in sorted(keys.items())}).encode()
    return crypto.seal(server_key(), plain, _aad(kind, submission.id))


def _wrap_for_opening(keys: dict[str, bytes], submission: Submission, public: dict) -> str:
    """Each data key sealed to its envelope's exercise public key (only two officers together rebuild its private key)."""
    generation = public.get("generation", 1)
    return json.dumps({"generation": generation, **{
        envelope: crypto.seal_to(crypto.b64d(public[envelope]), keys[envelope],
                                 _aad("sealed", submission.id, envelope, generation)) for envelope in ENVELOPES}})


def _readable_keys(submission: Submission) -> dict[str, bytes]:
    """The data keys the server can use now: the opened ones (after the opening), else the draft's (before closing)."""
    opened = _unwrap(submission.opened_keys, "opened", submission)
    return opened or _unwrap(submission.draft_keys, "draft", submission)


def _key(submission: Submission, envelope: str) -> bytes | None:
    return _readable_keys(submission).get(envelope)


def _keys_for_write(submission: Submission) -> dict[str, bytes]:
    """The draft's data keys, made on the first write (wrapped by the server's key and to the exercise's opening
    keys at once). After closing the draft keys are gone: nothing can be written (or read) until the opening."""
    keys = _unwrap(submission.draft_keys, "draft", submission)
    if keys:
        return keys
    if submission.sealed_keys is not None:
        raise SealedContent(_l("This proposal was sealed when the exercise closed; it can no longer be changed."))
    public = exercise_public_keys(submission.exercise)
    if not public:
        raise SealedContent(_l("This exercise has no opening keys, so nothing can be submitted to it."))
    keys = {envelope: crypto.new_key() for envelope in ENVELOPES}
    submission.draft_keys = _wrap(keys, "draft", submission)
    submission.sealed_keys = _wrap_for_opening(keys, submission, public)
    return keys


def _decrypt_text(key: bytes | None, token: str | None, aad: str) -> str:
    if key is None:
        raise SealedContent()
    try:
        return crypto.unseal(key, token or "", aad).decode("utf-8")
    except (SealBroken, ValueError) as exc:
        raise DamagedContent() from exc


@dataclass(frozen=True)
class SealedFile:
    """One attachment of a submission, as shown to whoever may read it (its bytes: open_file_for)."""
    id: int                    # the attachment's id within the submission (SubmissionFile.id)
    section_id: int | None
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    file_id: int               # the stored file's id (listed in the version manifest)


@dataclass
class TechnicalContent:
    answers: dict[int, str]           # section id -> text
    files: list[SealedFile]
    sealed: bool = False              # the vendor's own, unreadable between closing and opening (nothing shown)


@dataclass
class PriceContent:
    lines: dict[int, Decimal] = field(default_factory=dict)  # price item id -> unit price
    sealed: bool = False  # the vendor's own, unreadable until its envelope is opened (nothing shown)

    def total(self, items) -> Decimal:
        return sum((self.lines.get(i.id, Decimal(0)) * i.quantity for i in items), Decimal(0))


# --- reading ------------------------------------------------------------------------------------

def _attachments(submission: Submission) -> list[tuple[SubmissionFile, StoredFile]]:
    # SubmissionFile.file is loaded in the same query (lazy="joined"): selecting StoredFile as well would join it twice
    return [(item, item.file) for item in db.session.scalars(
        sa.select(SubmissionFile).where(SubmissionFile.submission_id == submission.id).order_by(SubmissionFile.id))]


def _file_meta(stored: StoredFile, key: bytes | None) -> dict:
    """The sealed file's name and content key."""
    return json.loads(_decrypt_text(key, stored.sealed_meta, _aad("file", stored.storage_key)))


def _sealed_file(item: SubmissionFile, stored: StoredFile, key: bytes | None) -> SealedFile:
    return SealedFile(item.id, item.section_id, _file_meta(stored, key)["name"], stored.content_type, stored.size,
                      stored.sha256, stored.uploaded_at, stored.id)


def _technical(submission: Submission) -> TechnicalContent:
    key = _key(submission, TECHNICAL)
    if key is None:
        raise SealedContent()
    answers = {a.section_id: _decrypt_text(key, a.text, _aad("answer", submission.id, a.section_id))
               for a in db.session.scalars(sa.select(Answer).where(Answer.submission_id == submission.id))}
    return TechnicalContent(answers, [_sealed_file(item, stored, key) for item, stored in _attachments(submission)])


def _prices(submission: Submission) -> PriceContent:
    key = _key(submission, PRICE)
    if key is None:
        raise SealedContent(_l("The price envelope stays sealed until the technical evaluation is final."))
    rows = db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submission.id))
    return PriceContent({line.price_item_id: Decimal(_decrypt_text(
        key, line.sealed_amount, _aad("price", submission.id, line.price_item_id))) for line in rows})


def _sealed_name() -> str:
    return str(_l("(sealed until the opening)"))


def _sealed_placeholder(submission: Submission) -> TechnicalContent:
    """What the vendor sees of its own proposal between closing and opening, when no one (the server included) can
    decrypt it: no answers; its files by size and SHA-256 only (the receipt lists their names)."""
    name = _sealed_name()
    return TechnicalContent({}, [SealedFile(item.id, item.section_id, name, stored.content_type, stored.size,
                                            stored.sha256, stored.uploaded_at, stored.id)
                                 for item, stored in _attachments(submission)], sealed=True)


def _require_technical(user, submission: Submission) -> None:
    if not can_read_technical_content(user, submission):
        raise SealedContent()


def technical_content_for(user, submission: Submission) -> TechnicalContent:
    """Answers and files, or SealedContent if user may not read them now."""
    _require_technical(user, submission)
    if _key(submission, TECHNICAL) is None and submission.sealed_keys is not None:
        return _sealed_placeholder(submission)
    if submission.sealed_keys is None:  # nothing was ever written
        return TechnicalContent({}, [])
    return _technical(submission)


def price_content_for(user, submission: Submission) -> PriceContent:
    """The price envelope, or SealedContent until the user may read it (invariant 4)."""
    if not can_read_price(user, submission):
        raise SealedContent(_l("The price envelope stays sealed until the technical evaluation is final."))
    if submission.sealed_keys is None:
        return PriceContent()
    if _key(submission, PRICE) is None:
        return PriceContent(sealed=True)
    return _prices(submission)


def _attachment(submission: Submission, file_id: int) -> tuple[SubmissionFile, StoredFile] | None:
    return next(((item, stored) for item, stored in _attachments(submission) if item.id == file_id), None)


def file_for(user, submission: Submission, file_id: int) -> SealedFile | None:
    """One attachment's description (None if the submission has no such attachment); SealedContent if sealed."""
    _require_technical(user, submission)
    found = _attachment(submission, file_id)
    if found is None:
        return None
    return _sealed_file(*found, _key(submission, TECHNICAL))


def open_file_for(user, submission: Submission, file_id: int) -> tuple[SealedFile, BinaryIO] | None:
    """An attachment and its bytes, opened for reading (None if absent or missing on disk); SealedContent if sealed."""
    _require_technical(user, submission)
    found = _attachment(submission, file_id)
    if found is None:
        return None
    key = _key(submission, TECHNICAL)
    path = stored_path(found[1].storage_key)
    if not path.is_file():
        return None
    return _sealed_file(*found, key), _open_decrypting(path, _file_meta(found[1], key))


def _open_decrypting(path: Path, meta: dict) -> BinaryIO:
    raw = open(path, "rb")
    try:
        return crypto.open_encrypted(raw, crypto.b64d(meta["key"]))
    except SealBroken as exc:
        raw.close()
        raise DamagedContent() from exc


def content_for_system(submission: Submission, *, purpose: str) -> TechnicalContent:
    """The system's own read (completeness check, the manifest); purpose says why. SealedContent when the server
    cannot decrypt it (between closing and opening)."""
    if submission.sealed_keys is None:
        return TechnicalContent({}, [])
    return _technical(submission)


def prices_for_system(submission: Submission, *, purpose: str) -> PriceContent:
    if submission.sealed_keys is None:
        return PriceContent()
    return _prices(submission)


def open_file_for_system(submission: Submission, file_id: int, *, purpose: str) -> BinaryIO | None:
    """An attachment's bytes for the system's own checks (e.g. a benchmark re-hashing what it sent); None if
    the submission has no such attachment or its file is missing."""
    found = _attachment(submission, file_id)
    path = stored_path(found[1].storage_key) if found else None
    if path is None or not path.is_file():
        return None
    return _open_decrypting(path, _file_meta(found[1], _key(submission, TECHNICAL)))


def _manifest_parts(version: SubmissionVersion) -> dict:
    return json.loads(version.manifest)


def _manifest_of(version: SubmissionVersion, *, prices_required: bool = False) -> dict:
    """The decrypted manifest; its prices are {} (and "prices_sealed" true) while the price key is not readable."""
    submission, parts = version.submission, _manifest_parts(version)
    keys = _readable_keys(submission)
    manifest = json.loads(_decrypt_text(keys.get(TECHNICAL), parts["technical"],
                                        _aad("manifest", submission.id, version.number, TECHNICAL)))
    if parts.get(PRICE) is None:
        manifest["prices"] = {}
    elif PRICE in keys:
        manifest["prices"] = json.loads(_decrypt_text(keys[PRICE], parts[PRICE],
                                                      _aad("manifest", submission.id, version.number, PRICE)))
    elif prices_required:
        raise SealedContent()
    else:
        manifest["prices"], manifest["prices_sealed"] = {}, True
    return manifest


def _canonical(manifest: dict) -> str:
    return json.dumps(manifest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def version_manifest_for(user, version: SubmissionVersion) -> dict:
    """What one submitted version contained (answers, files with hashes, prices), under the same seal."""
    _require_technical(user, version.submission)
    if _key(version.submission, TECHNICAL) is None:  # the vendor's own, between closing and opening
        parts = _manifest_parts(version)
        if RECEIPT in parts:  # this version's own files (a draft changed since may hold others)
            listed = parts[RECEIPT]["files"]
        else:  # a version frozen before the listing was kept: the proposal's files now
            listed = [{"id": f.file_id, "size": f.size, "sha256": f.sha256, "section_id": f.section_id}
                      for f in _sealed_placeholder(version.submission).files]
        return {"answers": {}, "prices": {}, "sealed": True,
                "files": [listed_file | {"name": _sealed_name()} for listed_file in listed]}
    manifest = _manifest_of(version)
    if not can_read_price(user, version.submission):
        manifest["prices"] = {}
    manifest.pop("prices_sealed", None)
    return manifest


def manifest_for_system(version: SubmissionVersion, *, purpose: str) -> dict:
    """The system's own read of a version's manifest (the vendor's receipt lists its files)."""
    return _manifest_of(version)


def manifest_matches_hash(version: SubmissionVersion) -> bool:
    """The frozen manifest, decrypted, still hashes to the SHA-256 recorded with the version (and printed on the
    receipt). SealedContent while the server cannot decrypt it."""
    try:
        manifest = _manifest_of(version, prices_required=True)
    except DamagedContent:
        return False
    return hashlib.sha256(_canonical(manifest).encode()).hexdigest() == version.sha256


# --- writing ------------------------------------------------------------------------------------

def write_answers(submission: Submission, answers: dict[int, str]) -> None:
    """Store the answers (section id -> text) given; other sections keep theirs."""
    key = _keys_for_write(submission)[TECHNICAL]
    existing = {a.section_id: a for a in db.session.scalars(sa.select(Answer).where(Answer.submission_id == submission.id))}
    for section_id, text in answers.items():
        sealed_text = crypto.seal(key, text.encode("utf-8"), _aad("answer", submission.id, section_id))
        if section_id in existing:
            existing[section_id].text = sealed_text
        else:
            db.session.add(Answer(submission_id=submission.id, section_id=section_id, text=sealed_text))


def write_prices(submission: Submission, prices: dict[int, Decimal]) -> None:
    """Store unit prices (price item id -> amount) in the price envelope; other lines keep theirs."""
    key = _keys_for_write(submission)[PRICE]
    existing = {p.price_item_id: p for p in db.session.scalars(sa.select(PriceLine).where(PriceLine.submission_id == submission.id))}
    for item_id, amount in prices.items():
        # to the cent, as the Numeric(14, 2) column kept it before issue 9
        sealed_amount = crypto.seal(key, str(Decimal(amount).quantize(Decimal("0.01"))).encode(),
                                    _aad("price", submission.id, item_id))
        if item_id in existing:
            existing[item_id].sealed_amount = sealed_amount
        else:
            db.session.add(PriceLine(submission_id=submission.id, price_item_id=item_id, sealed_amount=sealed_amount))


def receive_file(stream: BinaryIO, filename: str | None, *, max_bytes: int) -> SealedUpload:
    """Take an attachment's bytes in (streamed, hashed, checked, encrypted under a new content key as they arrive,
    so no plaintext reaches the disk; kept only if the transaction commits)."""
    key = crypto.new_key()
    upload = save_upload(stream, filename, max_bytes=max_bytes,
                         wrap_output=lambda raw: crypto.EncryptingWriter(raw, key))
    return SealedUpload(**asdict(upload), content_key=key)


def attach_file(submission: Submission, upload: SealedUpload, *, section_id: int | None, uploaded_by_id: int) -> SealedFile:
    """Add a received file to the submission (under a section, or general when section_id is None). Its name and
    content key are kept encrypted under the proposal's technical data key."""
    key = _keys_for_write(submission)[TECHNICAL]
    meta = json.dumps({"name": upload.original_name, "key": crypto.b64e(upload.content_key)}).encode()
    stored = StoredFile(storage_key=upload.storage_key, original_name="", content_type=upload.content_type,
                        size=upload.size, sha256=upload.sha256, uploaded_by_id=uploaded_by_id,
                        sealed_meta=crypto.seal(key, meta, _aad("file", upload.storage_key)))
    item = SubmissionFile(submission_id=submission.id, file=stored, section_id=section_id)
    db.session.add(item)
    db.session.flush()
    return SealedFile(item.id, item.section_id, upload.original_name, stored.content_type, stored.size,
                      stored.sha256, stored.uploaded_at, stored.id)


def detach_file(submission: Submission, file_id: int) -> bool:
    """Remove an attachment from the submission; the stored file stays (an earlier version may list it).
    Returns False if the submission has no such attachment."""
    item = db.session.scalar(sa.select(SubmissionFile).where(SubmissionFile.submission_id == submission.id,
                                                             SubmissionFile.id == file_id))
    if item is None:
        return False
    db.session.delete(item)
    return True


def _manifest(submission: Submission, content: TechnicalContent, prices: PriceContent) -> dict:
    return {
        "exercise": submission.exercise.reference,
        "vendor_id": submission.vendor_id,
        "answers": {str(k): v for k, v in sorted(content.answers.items())},
        "files": [{"id": f.file_id, "name": f.name, "size": f.size, "sha256": f.sha256, "section_id": f.section_id}
                  for f in content.files],
        "prices": {str(k): str(v) for k, v in sorted(prices.lines.items())},
    }


def freeze_manifest(version: SubmissionVersion, submission: Submission, *, content: TechnicalContent | None = None,
                    prices: PriceContent | None = None) -> None:
    """Freeze what is being submitted (answers, files with their hashes, prices) into version, with the SHA-256 of
    the plain manifest (printed on the receipt). Stored encrypted: its technical part under the technical data key,
    its prices under the price key. A caller that has just read the content and prices for the system (submit)
    passes them, so they are read once."""
    with db.session.no_autoflush:  # version is not complete (no manifest) until this returns
        content = content if content is not None else _technical(submission)
        prices = prices if prices is not None else _prices(submission)
        keys = _keys_for_write(submission)
        manifest = _manifest(submission, content, prices)
    plain = _canonical(manifest)
    technical = {k: v for k, v in manifest.items() if k != "prices"}
    parts = {TECHNICAL: crypto.seal(keys[TECHNICAL], _canonical(technical).encode(),
                                    _aad("manifest", submission.id, version.number, TECHNICAL)),
             PRICE: crypto.seal(keys[PRICE], _canonical(manifest["prices"]).encode(),
                                _aad("manifest", submission.id, version.number, PRICE)) if manifest["prices"] else None}
    parts[RECEIPT] = _receipt_listing(manifest)
    version.manifest, version.sha256 = json.dumps(parts), hashlib.sha256(plain.encode()).hexdigest()


def _receipt_listing(manifest: dict) -> dict:
    """What the receipt PDF prints, which is stored in clear anyway: each file's section, size and SHA-256 (never
    its name), how many answers, whether priced. Kept in clear beside the sealed parts, so a receipt still renders
    after closing has destroyed the keys (a submission in the last seconds, its render queued behind others)."""
    return {"files": [{"id": f["id"], "section_id": f["section_id"], "size": f["size"], "sha256": f["sha256"]}
                      for f in manifest["files"]],
            "answer_count": len(manifest["answers"]),
            "priced": bool(manifest["prices"]) or bool(manifest.get("prices_sealed"))}


def receipt_listing(version: SubmissionVersion) -> dict:
    """The receipt's listing of a version, from its sealed (authenticated) manifest while the server can read it;
    after closing, from the copy kept in clear (which the opening checks against the manifest)."""
    try:
        return _receipt_listing(_manifest_of(version))
    except SealedContent:
        parts = _manifest_parts(version)
        if RECEIPT not in parts:  # frozen before the listing was kept: readable again at the opening
            raise
        return parts[RECEIPT]


# --- the key lifecycle: closing, re-keying, opening (called by eoi.operations.opening and .sealing) ---------------

def destroy_draft_keys(exercise) -> int:
    """At closing: forget the server-wrapped copy of every proposal's data keys, so from now on only the copy sealed
    to the exercise's opening keys remains (two named officers together). Returns how many were destroyed."""
    result = db.session.execute(sa.update(Submission).where(Submission.exercise_id == exercise.id,
                                                            Submission.draft_keys.is_not(None))
                                .values(draft_keys=None).execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def reseal_for_opening(exercise) -> int:
    """Re-keying before closing: wrap every proposal's data keys to the exercise's new opening public keys (the
    server still holds the drafts' copies). Returns how many proposals were re-sealed."""
    public = exercise_public_keys(exercise)
    count = 0
    for submission in db.session.scalars(sa.select(Submission).where(Submission.exercise_id == exercise.id,
                                                                      Submission.sealed_keys.is_not(None))):
        keys = _unwrap(submission.draft_keys, "draft", submission)
        if not keys:
            raise SealedContent(_l("A proposal's keys are no longer held by the server: re-keying is possible only "
                                   "before closing."))
        submission.sealed_keys = _wrap_for_opening(keys, submission, public)
        count += 1
    return count


# What an opening can find wrong with a proposal. Stored as a code (with the file's id) in the opening's verification
# and worded when shown, in the reader's language (a page, or the opening record in either language).
DAMAGE = {
    "technical_key": _l("the technical envelope's data key does not unwrap (altered or missing)"),
    "price_key": _l("the price envelope's data key does not unwrap (altered or missing)"),
    "manifest_integrity": _l("the manifest failed its integrity check"),
    "manifest_hash": _l("the manifest does not match the SHA-256 on the receipt"),
    "prices": _l("the price lines failed their integrity check or differ from the receipt"),
    "answers_integrity": _l("an answer or a file name failed its integrity check"),
    "answers": _l("the answers differ from the receipt"),
    "receipt_listing": _l("the listing kept for its receipt differs from the sealed manifest"),
    "file_missing": _l("file %(file)s is missing"),
    "file_not_stored": _l("file %(file)s is missing from storage"),
    "file_integrity": _l("file %(file)s failed its integrity check"),
    "file_hash": _l("file %(file)s does not match its SHA-256 on the receipt"),
}


def _damage(code: str, **params) -> dict:
    return {"code": code, **params}


def describe_damage(problems: list) -> str:
    """An opening's findings for one proposal as one phrase in the reader's language (an opening recorded before
    the findings were coded holds English sentences: shown as they are)."""
    from app.i18n import page_language
    return ("；" if page_language() == "zh_Hant" else "; ").join(_damage_text(problem) for problem in problems)


def _damage_text(problem: str | dict) -> str:
    if isinstance(problem, str):
        return problem
    if problem.get("code") not in DAMAGE:  # recorded by a version that knew more codes: shown as recorded
        return str(problem.get("code"))
    return str(DAMAGE[problem["code"]]) % {k: v for k, v in problem.items() if k != "code"}


@dataclass
class OpenedProposal:
    """What the opening found for one standing proposal (printed on the opening record)."""
    submission_id: int
    vendor: str
    receipt_number: str
    files: int
    ok: bool
    problems: list[dict] = field(default_factory=list)  # _damage(...) entries, worded by describe_damage


def open_envelope(submission: Submission, envelope: str, private_key: bytes) -> OpenedProposal:
    """Unwrap one proposal's data key for envelope with the exercise's opening private key, keep it wrapped by the
    server's key from now on (opened_keys: reads decrypt on demand), and check everything it protects: every tag
    (answers, file names, every chunk of every file, the manifest) and every file's SHA-256 and size against the
    receipt's manifest; for the last envelope, the manifest's own SHA-256. Never raises for damaged content: the
    problems are returned, so the opening record names the proposal. Idempotent (a resumed opening re-checks)."""
    version = submission.current_version
    problems: list[dict] = []
    result = OpenedProposal(submission.id, submission.vendor.name_en, version.receipt_number if version else "", 0, False,
                            problems)
    sealed = json.loads(submission.sealed_keys or "{}")
    try:
        key = crypto.open_sealed(private_key, sealed[envelope],
                                 _aad("sealed", submission.id, envelope, sealed.get("generation", 1)))
    except (KeyError, SealBroken, ValueError):
        problems.append(_damage(f"{envelope}_key"))
        return result
    opened = _unwrap(submission.opened_keys, "opened", submission)
    opened[envelope] = key
    submission.opened_keys = _wrap(opened, "opened", submission)
    try:
        manifest = _manifest_of(version, prices_required=envelope == PRICE)
    except DamagedContent:
        problems.append(_damage("manifest_integrity"))
        return result
    if envelope == TECHNICAL:
        _check_technical(submission, key, manifest, result)
        kept = _manifest_parts(version).get(RECEIPT)
        if kept is not None and kept != _receipt_listing(manifest):  # what the receipt printed after closing
            problems.append(_damage("receipt_listing"))
    if envelope == PRICE or not submission.exercise.has_price_envelope:
        if hashlib.sha256(_canonical({k: v for k, v in manifest.items() if k != "prices_sealed"}).encode()).hexdigest() \
                != version.sha256:
            problems.append(_damage("manifest_hash"))
    if envelope == PRICE:
        try:
            prices = {str(k): str(v) for k, v in _prices(submission).lines.items()}
        except DamagedContent:
            prices = None
        if prices != manifest["prices"]:
            problems.append(_damage("prices"))
    result.ok = not problems
    return result


def _check_technical(submission: Submission, key: bytes, manifest: dict, result: OpenedProposal) -> None:
    problems = result.problems
    try:
        content = _technical(submission)
    except DamagedContent:
        problems.append(_damage("answers_integrity"))
        return
    if {str(k): v for k, v in content.answers.items()} != manifest["answers"]:
        problems.append(_damage("answers"))
    stored = {f.file_id: f for f in content.files}
    for listed in manifest["files"]:
        result.files += 1
        item = stored.get(listed["id"])
        if item is None:
            problems.append(_damage("file_missing", file=listed["id"]))
            continue
        found = _attachment(submission, item.id)
        path = stored_path(found[1].storage_key)
        if not path.is_file():
            problems.append(_damage("file_not_stored", file=listed["id"]))
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with _open_decrypting(path, _file_meta(found[1], key)) as stream:
                while chunk := stream.read(crypto.FILE_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except (DamagedContent, SealBroken):
            problems.append(_damage("file_integrity", file=listed["id"]))
            continue
        if digest.hexdigest() != listed["sha256"] or size != listed["size"] or listed["sha256"] != item.sha256:
            problems.append(_damage("file_hash", file=listed["id"]))
