"""Argon2id password hashing and the password policy (length + common-password list)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_COMMON = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=2)
def _hasher(fast: bool) -> PasswordHasher:
    # Tests use cheap parameters; production uses argon2-cffi's RFC 9106 low-memory profile.
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher(bool(current_app.config.get("ARGON2_FAST")))


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    return frozenset(line.strip().lower() for line in _COMMON.read_text().splitlines() if line.strip())


def password_problem(password: str, *, email: str = "") -> str | None:
    """Returns the reason a password is too weak, or None. Messages are translated by the caller."""
    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        return "too_short"
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        return "common"
    if len(set(password)) < 5:
        return "repetitive"
    return None
