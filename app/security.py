"""Security headers (CSP with no third-party origin), no caching of signed-in pages, and the idle timeout for staff
sessions."""
from __future__ import annotations

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_logged_in

from app.db import now_utc

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def forbid_caching_signed_in_pages(response):
    """A signed-in user's pages are never stored by the browser or a proxy (the back button after sign-out, a
    shared computer). Decided from the session, not by loading the user: this also runs on error pages."""
    signed_in = "_user_id" in session or getattr(g.get("_login_user"), "is_authenticated", False)
    if signed_in and request.endpoint != "static" and "no-store" not in response.headers.get("Cache-Control", ""):
        response.headers["Cache-Control"] = "no-store"
    return response


def enforce_staff_idle_timeout():
    """Officers and panel members are signed out after a period without requests."""
    if request.endpoint == "static" or not current_user.is_authenticated or not current_user.is_staff:
        return None
    now = int(now_utc().timestamp())
    last = session.get("seen_at", now)
    if now - last > current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds():
        session.clear()
        logout_user()  # after clear(): it marks the remember-me cookie for deletion in the session
        flash(_("You were signed out after a period of inactivity."), "info")
        return redirect(url_for("auth.login", next=request.path if request.method == "GET" else None))
    session["seen_at"] = now
    return None


def _start_idle_clock(_app, user, **_extra) -> None:
    """The idle period starts at sign-in, not at the first request after it."""
    session["seen_at"] = int(now_utc().timestamp())


def init_security(app: Flask) -> None:
    app.after_request(set_security_headers)
    app.after_request(forbid_caching_signed_in_pages)
    app.before_request(enforce_staff_idle_timeout)
    user_logged_in.connect(_start_idle_clock, app)
