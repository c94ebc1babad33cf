"""Sign-in throttling that others cannot turn against an account's owner (OWASP's device-cookie scheme).

Failed sign-ins are counted, not requests. A browser that holds a valid device cookie for the account
(issued when it signed in, or reset the password, before) has its own failure counter and its own
lockout. Every other browser shares the account's "untrusted clients" counter and its address's counter.
Guessing an account's password from anywhere therefore locks out only browsers that never signed in to
it; the owner's browser keeps working. If the counter store (Redis) is unreachable, counting continues
in this process's memory: throttling degrades, sign-in never fails because of it.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from flask import Flask, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

DEVICE_COOKIE = "tb_device"
_RETRY_STORE_AFTER = 30.0  # seconds in memory before trying the shared store again


@dataclass(frozen=True)
class SignInAttempt:
    account: str  # keyed digest of the email typed (known or not: both are counted the same way)
    address: str
    device: str | None  # nonce of a valid device cookie for this very account, else None


class SignInThrottle:
    """Failure counters in the rate-limit store, with an in-memory fallback while the store is down."""

    def __init__(self, uri: str, options: dict, prefix: str):
        self._store = MovingWindowRateLimiter(storage_from_string(uri, wrap_exceptions=True, **options))
        self._memory = MovingWindowRateLimiter(MemoryStorage())
        self._prefix = f"{prefix}signin"
        self._store_down_until = 0.0

    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._store_down_until

    def _call(self, method: str, item: RateLimitItem, key: str) -> bool:
        if not self.degraded:
            try:
                return getattr(self._store, method)(item, self._prefix, key)
            except StorageError as exc:
                logger.warning("sign-in throttle store unreachable (%s): counting in memory for %.0f s",
                               exc.storage_error, _RETRY_STORE_AFTER)
                self._store_down_until = time.monotonic() + _RETRY_STORE_AFTER
        return getattr(self._memory, method)(item, self._prefix, key)

    def allowed(self, attempt: SignInAttempt) -> bool:
        return all(self._call("test", item, key) for item, key in _buckets(attempt))

    def failed(self, attempt: SignInAttempt) -> None:
        for item, key in _buckets(attempt):
            self._call("hit", item, key)


def _buckets(attempt: SignInAttempt) -> list[tuple[RateLimitItem, str]]:
    config = current_app.config
    if attempt.device:  # a browser this account signed in from: judged on its own failures only
        return [(parse(config["LOGIN_DEVICE_RATE_LIMIT"]), f"device:{attempt.device}")]
    return [(parse(config["LOGIN_RATE_LIMIT"]), f"account:{attempt.account}"),
            (parse(config["LOGIN_IP_RATE_LIMIT"]), f"address:{attempt.address}")]


def init_throttle(app: Flask) -> None:
    app.extensions["signin_throttle"] = SignInThrottle(
        app.config["RATELIMIT_STORAGE_URI"], dict(app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
        app.config.get("RATELIMIT_KEY_PREFIX", ""))


def throttle() -> SignInThrottle:
    return current_app.extensions["signin_throttle"]


def _account_digest(email: str) -> str:
    """The account key: the normalised email under the app's secret (no plain addresses in the store or cookie)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"signin:" + (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="tenderbox.device")


def sign_in_attempt(email: str) -> SignInAttempt:
    """Who is trying: the account typed, the client address, and the device cookie if it is this account's."""
    account = _account_digest(email)
    return SignInAttempt(account=account, address=request.remote_addr or "unknown", device=_device_nonce(account))


def _device_nonce(account: str) -> str | None:
    cookie = request.cookies.get(DEVICE_COOKIE)
    if not cookie:
        return None
    max_age = int(current_app.config["LOGIN_DEVICE_COOKIE_LIFETIME"].total_seconds())
    try:
        payload = _serializer().loads(cookie, max_age=max_age)
    except BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(payload, dict) or not hmac.compare_digest(str(payload.get("a", "")), account):
        return None  # a device cookie for another account is no cookie for this one
    return str(payload.get("n") or "") or None


def set_device_cookie(response, email: str):
    """Mark this browser as one the account signed in from (a fresh nonce each time, as OWASP advises)."""
    config = current_app.config
    value = _serializer().dumps({"a": _account_digest(email), "n": secrets.token_urlsafe(16)})
    response.set_cookie(DEVICE_COOKIE, value, max_age=int(config["LOGIN_DEVICE_COOKIE_LIFETIME"].total_seconds()),
                        path=url_for("auth.login"), secure=bool(config.get("SESSION_COOKIE_SECURE")), httponly=True, samesite="Strict")
    return response
