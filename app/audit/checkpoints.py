"""Signed checkpoints of the chain's head, kept outside the database (invariant 10).

The chain alone proves only that the rows agree with each other: whoever can write to the database
can delete the newest rows, or edit one and recompute every later hash. A checkpoint (sequence
number, head hash, time) signed with an Ed25519 key that is not in the database, appended to a file
that is only ever appended to, and printed on every opening record, anchors what the chain was.
`verify_audit()` checks the chain against every checkpoint and names truncation and rewriting.

Key: AUDIT_SIGNING_KEY_FILE (PKCS#8 PEM, created 0600 on first use); its public key beside it (`.pub`),
or AUDIT_VERIFY_KEY_FILE on a machine that only verifies. Log: AUDIT_CHECKPOINT_FILE, one JSON line each.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Optional

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from app.audit.chain import ChainReport, verify_chain
from app.audit.models import AuditEvent
from app.db import now_utc
from app.extensions import db

logger = logging.getLogger(__name__)

_DOMAIN = "tenderbox-audit-checkpoint/v1"
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class Checkpoint:
    seq: int            # id of the chain's head event when signed
    hash: str           # its hash
    at: str             # when signed (ISO 8601, UTC)
    key: str            # fingerprint of the public key that signed
    sig: str            # Ed25519 signature of message(), base64
    line: int = 0       # line number in the log (1-based), when read from it

    @staticmethod
    def message(seq: int, head: str, at: str) -> bytes:
        return f"{_DOMAIN}\n{seq}\n{head}\n{at}".encode()

    @property
    def signed_at(self) -> datetime:
        return datetime.fromisoformat(self.at)

    @property
    def sig_fingerprint(self) -> str:
        """A short, printable fingerprint of the signature (SHA-256 of its bytes, 16 hex digits in groups)."""
        digest = hashlib.sha256(base64.b64decode(self.sig)).hexdigest()[:16]
        return " ".join(digest[i:i + 4] for i in range(0, 16, 4))

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "at": self.at, "key": self.key, "sig": self.sig},
                          sort_keys=True, separators=(",", ":"))

    def verifies(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.sig, validate=True), self.message(self.seq, self.hash, self.at))
        except (InvalidSignature, ValueError):
            return False
        return True


# --------------------------------------------------------------------------------------------------------------------
# Keys

def _key_path() -> Path:
    return Path(current_app.config["AUDIT_SIGNING_KEY_FILE"])


def _public_key_path() -> Path:
    configured = current_app.config.get("AUDIT_VERIFY_KEY_FILE")
    return Path(configured) if configured else _key_path().with_name(_key_path().name + ".pub")


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create path with data and mode, atomically, never replacing a file another process made first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def signing_key() -> Ed25519PrivateKey:
    """The checkpoint signing key, generated (mode 0600) with its public key on first use."""
    path = _key_path()
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        _write_new_file(path, pem, 0o600)
        logger.warning("generated the audit checkpoint signing key %s", path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    public = _public_key_path()
    if not public.exists() and not current_app.config.get("AUDIT_VERIFY_KEY_FILE"):
        _write_new_file(public, key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo), 0o644)
    return key


def verify_key() -> Optional[Ed25519PublicKey]:
    """The public key checkpoints are verified with (None if there is neither a public nor a private key)."""
    public = _public_key_path()
    if public.exists():
        key = serialization.load_pem_public_key(public.read_bytes())
    elif _key_path().exists():
        key = signing_key().public_key()
    else:
        return None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{public} is not an Ed25519 public key")
    return key


def key_fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# --------------------------------------------------------------------------------------------------------------------
# The append-only log

def log_path() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_FILE"])


def _append_line(line: str) -> None:
    path = log_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as log:  # append mode only: nothing here rewrites the log
        fcntl.flock(log, fcntl.LOCK_EX)  # writers in other processes never interleave their lines
        try:
            log.write(line + "\n")
            log.flush()
            os.fsync(log.fileno())
        finally:
            fcntl.flock(log, fcntl.LOCK_UN)


@dataclass
class LogLine:
    line: int
    checkpoint: Optional[Checkpoint]  # None: the line is not a checkpoint at all


def _parse(number: int, text: str) -> LogLine:
    try:
        data = json.loads(text)
        return LogLine(number, Checkpoint(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["key"]),
                                          str(data["sig"]), number))
    except (ValueError, KeyError, TypeError):
        return LogLine(number, None)


def read_log() -> Iterator[LogLine]:
    """Every non-empty line of the log, parsed."""
    path = log_path()
    if not path.exists():
        return
    with open(path, encoding="utf-8", errors="replace") as log:
        for number, text in enumerate(log, start=1):
            if text.strip():
                yield _parse(number, text)


def _read_tail() -> list[LogLine]:
    """The complete lines in the last 64 KB of the log (line numbers unknown: 0)."""
    path = log_path()
    if not path.exists():
        return []
    with open(path, "rb") as log:
        log.seek(0, os.SEEK_END)
        size = log.tell()
        log.seek(max(0, size - _TAIL_BYTES))
        data = log.read()
    lines = data.decode("utf-8", errors="replace").split("\n")
    if size > _TAIL_BYTES:
        lines = lines[1:]  # the first one is probably cut
    return [_parse(0, text) for text in lines if text.strip()]


def latest_checkpoint() -> Optional[Checkpoint]:
    """The valid checkpoint with the highest sequence number, looking at the end of the log first."""
    key = verify_key()
    if key is None:
        return None
    for lines in (_read_tail, lambda: list(read_log())):
        candidates = sorted((ln.checkpoint for ln in lines() if ln.checkpoint), key=lambda c: c.seq, reverse=True)
        for checkpoint in candidates:  # highest first: usually one signature to check
            if checkpoint.verifies(key):
                return checkpoint
    return None


# --------------------------------------------------------------------------------------------------------------------
# Writing

@dataclass
class CheckpointResult:
    checkpoint: Optional[Checkpoint]  # the one written now, or the latest if the head had not moved
    report: ChainReport               # the verification since the previous checkpoint
    written: bool = False


def write_checkpoint() -> CheckpointResult:
    """Sign the committed head after verifying the chain since the latest checkpoint; never sign a broken chain.

    Reads only committed events (events recorded in this session are appended at its commit).
    """
    previous = latest_checkpoint()
    report = verify_chain(previous.seq, previous.hash) if previous else verify_chain()
    if not report.ok:
        logger.error("audit chain not checkpointed: %s (event %s)", report.reason, report.broken_at)
        return CheckpointResult(None, report)
    if report.head_id == 0 or (previous and previous.seq == report.head_id):
        return CheckpointResult(previous, report)
    key = signing_key()
    at = now_utc().isoformat()
    signature = key.sign(Checkpoint.message(report.head_id, report.head, at))
    checkpoint = Checkpoint(report.head_id, report.head, at, key_fingerprint(key.public_key()),
                            base64.b64encode(signature).decode())
    _append_line(checkpoint.to_json())
    return CheckpointResult(checkpoint, report, written=True)


# --------------------------------------------------------------------------------------------------------------------
# Verifying

@dataclass
class AuditReport:
    chain: ChainReport
    head_id: int = 0
    latest: Optional[Checkpoint] = None
    checkpoints: int = 0                       # valid checkpoints checked
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.chain.ok and not self.problems


def verify_audit() -> AuditReport:
    """The whole chain, then every checkpoint in the log: signature, and the event it names still there, unchanged."""
    chain = verify_chain()
    head_id = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
    report = AuditReport(chain, head_id)
    key = verify_key()
    lines = list(read_log())
    if lines and key is None:
        report.problems.append(f"{len(lines)} checkpoints cannot be verified: no public key at {_public_key_path()}")
        return report
    valid: list[Checkpoint] = []
    for ln in lines:
        if ln.checkpoint is None:
            report.problems.append(f"checkpoint line {ln.line} is not a checkpoint")
        elif not ln.checkpoint.verifies(key):
            report.problems.append(f"checkpoint line {ln.line} (event {ln.checkpoint.seq}): BAD SIGNATURE")
        else:
            valid.append(ln.checkpoint)
    report.checkpoints = len(valid)
    if valid:
        report.latest = max(valid, key=lambda c: c.seq)
        report.problems.extend(_compare(valid, head_id))
    return report


def _compare(checkpoints: list[Checkpoint], head_id: int) -> list[str]:
    problems = []
    latest = max(checkpoints, key=lambda c: c.seq)
    if latest.seq > head_id:
        problems.append(f"TRUNCATED: events {head_id + 1} to {latest.seq} are missing (the checkpoint of "
                        f"{latest.at}, line {latest.line}, signed event {latest.seq})")
    present = [c for c in checkpoints if c.seq <= head_id]
    stored = _hashes({c.seq for c in present})
    differing = sorted((c for c in present if stored.get(c.seq) != c.hash), key=lambda c: c.seq)
    if differing:
        first = differing[0]
        matching = [c.seq for c in present if c.seq < first.seq and stored.get(c.seq) == c.hash]
        since = max(matching, default=0)
        problems.append(f"REWRITTEN: event {first.seq} has hash {stored.get(first.seq) or 'none'}, the checkpoint of "
                        f"{first.at} (line {first.line}) signed {first.hash}; the change is in events {since + 1} to "
                        f"{first.seq} ({len(differing)} checkpoints disagree)")
    return problems


def _hashes(seqs: set[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(seqs)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        found.update(db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(chunk))).all())
    return found


def verify_recent() -> tuple[ChainReport, Optional[Checkpoint]]:
    """What the audit page shows: the chain from the latest checkpoint to the head (the whole chain if none)."""
    latest = latest_checkpoint()
    if latest is None:
        return verify_chain(), None
    report = verify_chain(latest.seq, latest.hash)
    if report.problem == "truncated":
        head_id = db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0
        if head_id >= latest.seq:  # the checkpoint's event alone is gone: a hole, not a cut
            report.problem = "missing"
    return report, latest
