"""The sealed box's cryptography (issue 9; docs/sealing.md): pure functions over bytes, no database, no Flask.

- AES-256-GCM envelopes (`seal`/`unseal`) with associated data naming what the ciphertext is, so a ciphertext
  moved to another row or purpose fails its tag;
- X25519 sealed boxes (`seal_to`/`open_sealed`): an ephemeral key, HKDF-SHA256 of the shared secret, AES-GCM;
- Argon2id passphrase keys (`derive_passphrase_key`), parameters stored with what they protect;
- 2-of-n Shamir secret sharing of a 32-byte X25519 private key, as two 16-byte halves each split by
  PyCryptodome's reviewed `Crypto.Protocol.SecretSharing.Shamir` (GF(2^128)) with the same share indices;
- files as chunked AES-GCM (the STREAM construction: a nonce per chunk from a counter and a last-chunk flag, so
  a reordered, dropped or truncated chunk fails), written and read while streaming.
"""
from __future__ import annotations

import base64
import io
import os
import struct
from typing import BinaryIO

from argon2.low_level import Type, hash_secret_raw
# PyCryptodome (maintained) installs under the old PyCrypto's package name, which bandit's B413 blacklists by name.
from Crypto.Protocol.SecretSharing import Shamir  # nosec B413
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
FILE_MAGIC = b"TBX1"
FILE_CHUNK = 64 * 1024
_TAG = 16
_RAW = serialization.Encoding.Raw


class SealBroken(Exception):
    """An authentication tag did not verify: a wrong key (passphrase) or altered ciphertext."""


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


# --- symmetric envelopes --------------------------------------------------------------------------------------

def seal(key: bytes, plaintext: bytes, aad: str) -> str:
    nonce = os.urandom(12)
    return b64e(nonce + AESGCM(key).encrypt(nonce, plaintext, aad.encode()))


def unseal(key: bytes, token: str, aad: str) -> bytes:
    raw = b64d(token)
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode())
    except InvalidTag as exc:
        raise SealBroken(aad) from exc


# --- X25519 sealed boxes --------------------------------------------------------------------------------------

def new_keypair() -> tuple[bytes, bytes]:
    """(private, public), 32 raw bytes each."""
    private = X25519PrivateKey.generate()
    return (private.private_bytes(_RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()),
            private.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw))


def public_of(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)


def _box_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=ephemeral + recipient, info=b"tenderbox sealed box v1").derive(shared)


def seal_to(public: bytes, plaintext: bytes, aad: str) -> str:
    """Encrypt for the holder of public's private key (an ephemeral X25519 key; the sender keeps nothing)."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    return b64e(ephemeral_public) + "." + seal(_box_key(shared, ephemeral_public, public), plaintext, aad)


def open_sealed(private: bytes, token: str, aad: str) -> bytes:
    ephemeral_b64, _, rest = token.partition(".")
    ephemeral_public = b64d(ephemeral_b64)
    key = X25519PrivateKey.from_private_bytes(private)
    shared = key.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    return unseal(_box_key(shared, ephemeral_public, public_of(private)), rest, aad)


# --- passphrase keys ------------------------------------------------------------------------------------------

def derive_passphrase_key(passphrase: str, salt: bytes, params: dict) -> bytes:
    """Argon2id (RFC 9106) of the passphrase; params {"t": passes, "m": KiB, "p": lanes} are kept with the result."""
    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=params["t"], memory_cost=params["m"],
                           parallelism=params["p"], hash_len=KEY_BYTES, type=Type.ID)


def lock_private_key(private: bytes, passphrase: str, params: dict, aad: str) -> dict:
    """The private key encrypted under a key derived from passphrase: what the server keeps (with the public key)."""
    salt = os.urandom(16)
    return {"salt": b64e(salt), "kdf": dict(params), "key": seal(derive_passphrase_key(passphrase, salt, params),
                                                                  private, aad)}


def unlock_private_key(locked: dict, passphrase: str, aad: str) -> bytes:
    """SealBroken if the passphrase is wrong (the tag does not verify)."""
    key = derive_passphrase_key(passphrase, b64d(locked["salt"]), locked["kdf"])
    return unseal(key, locked["key"], aad)


# --- 2-of-n Shamir --------------------------------------------------------------------------------------------

def split_secret(secret: bytes, n: int, threshold: int = 2) -> list[tuple[int, bytes]]:
    """n shares (index 1..n, 32 bytes) of a 32-byte secret, any threshold of which give it back."""
    if len(secret) != KEY_BYTES:
        raise ValueError("the secret must be 32 bytes")
    low, high = Shamir.split(threshold, n, secret[:16]), Shamir.split(threshold, n, secret[16:])
    return [(i, a + b) for (i, a), (j, b) in zip(low, high) if i == j]


def combine_shares(shares: list[tuple[int, bytes]]) -> bytes:
    """The secret from threshold shares. Wrong shares give a wrong secret (no error): check it against a public key."""
    return (Shamir.combine([(i, s[:16]) for i, s in shares]) + Shamir.combine([(i, s[16:]) for i, s in shares]))


# --- files, encrypted while streaming -------------------------------------------------------------------------

def _chunk_nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """Write plaintext in, ciphertext goes to out in FILE_CHUNK pieces; close() writes the final chunk (always,
    even empty, so a truncated file fails). Memory: one chunk."""

    def __init__(self, out: BinaryIO, key: bytes):
        self._out, self._aes, self._prefix = out, AESGCM(key), os.urandom(7)
        self._header = FILE_MAGIC + self._prefix
        self._counter, self._buffer, self._closed = 0, bytearray(), False
        out.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > FILE_CHUNK:  # keep at least one byte back: the last chunk is flagged
            self._emit(bytes(self._buffer[:FILE_CHUNK]), last=False)
            del self._buffer[:FILE_CHUNK]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        self._out.write(self._aes.encrypt(_chunk_nonce(self._prefix, self._counter, last), chunk, self._header))
        self._counter += 1


class DecryptingReader(io.RawIOBase):
    """Read plaintext from a file written by EncryptingWriter; SealBroken on any altered, missing or reordered
    chunk (checked chunk by chunk, so nothing unverified is ever returned)."""

    def __init__(self, raw: BinaryIO, key: bytes):
        super().__init__()
        self._raw, self._aes = raw, AESGCM(key)
        self._header = raw.read(len(FILE_MAGIC) + 7)
        if len(self._header) != len(FILE_MAGIC) + 7 or not self._header.startswith(FILE_MAGIC):
            raise SealBroken("not a sealed file")
        self._prefix = self._header[len(FILE_MAGIC):]
        self._counter, self._pending, self._done = 0, b"", False
        self._ahead = raw.read(FILE_CHUNK + _TAG)

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        current = self._ahead
        if not current:
            raise SealBroken("the file was cut short")
        self._ahead = self._raw.read(FILE_CHUNK + _TAG)
        last = not self._ahead
        try:
            self._pending = self._aes.decrypt(_chunk_nonce(self._prefix, self._counter, last), current, self._header)
        except InvalidTag as exc:
            raise SealBroken(f"chunk {self._counter}") from exc
        self._counter += 1
        self._done = last

    def readinto(self, buffer) -> int:
        while not self._pending and not self._done:
            self._next_chunk()
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_encrypted(raw: BinaryIO, key: bytes) -> io.BufferedReader:
    return io.BufferedReader(DecryptingReader(raw, key), buffer_size=FILE_CHUNK)
