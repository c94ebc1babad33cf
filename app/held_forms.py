"""Text a user typed, kept when the server could not take the form (issue 8, "nothing a vendor typed is lost").

- A session that expired while the user typed: the POST is answered with the sign-in page. Before that, the posted
  text fields are *held*: encrypted with AES-256-GCM under a fresh key that only the user's browser receives (an
  HttpOnly cookie), the ciphertext written to STORAGE_DIR/held/<id>. After signing in again, the page the form came
  from *takes* them (once) and shows them, not saved yet. The server at rest holds only ciphertext whose key it does
  not keep, so a held proposal text is as unreadable in a copy of the server as a sealed one (issue 9 property 1).
  A held form is deleted when taken, and any older than HELD_FORM_TTL when another is held.
- A request over MAX_CONTENT_LENGTH: its text fields can still be read with the files thrown away as they stream
  past (form_fields_without_files), so the page can show them again.

A view opts in with @keeps_typed_text(restore_url), where restore_url(**view_args) is the page the text goes back to.
Chosen files are never held: a browser cannot be made to choose them again, the page says so.
"""
from __future__ import annotations

import base64
import io
import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import after_this_request, current_app, redirect, request, url_for
from werkzeug.datastructures import MultiDict

COOKIE = "tenderbox_held"
HELD_FORM_TTL = 24 * 3600  # seconds
MAX_HELD_BYTES = 4 * 1024 * 1024
_NOT_HELD = {"csrf_token", "autosave"}


def keeps_typed_text(restore_url: Callable[..., str]):
    """Mark a POST view whose typed text is held across a sign-in and given back at restore_url(**view_args)."""
    def decorator(view):
        view.keeps_typed_text = restore_url
        return view
    return decorator


def _restore_url_of_request() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    restore = getattr(view, "keeps_typed_text", None)
    if request.method != "POST" or restore is None:
        return None
    return restore(**(request.view_args or {}))


def _folder() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "held"


def _aad(held_id: str, restore_to: str) -> bytes:
    return f"tenderbox/held-form/{held_id}/{restore_to}".encode()


def _sweep(folder: Path) -> None:
    cutoff = time.time() - HELD_FORM_TTL
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            pass


def hold(fields: MultiDict, restore_to: str) -> bool:
    """Hold the text fields (not csrf_token) for restore_to; the key goes to the browser only. False if nothing."""
    kept = [(name, value) for name, value in fields.items(multi=True)
            if name not in _NOT_HELD and isinstance(value, str)]
    if not any(value.strip() for name, value in kept if name_is_text(name)):
        return False
    plain = json.dumps(kept, ensure_ascii=False).encode()
    if len(plain) > MAX_HELD_BYTES:
        return False
    held_id, key = secrets.token_urlsafe(18), AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    _sweep(folder)
    target = folder / f"{held_id}.bin"
    target.write_bytes(nonce + AESGCM(key).encrypt(nonce, plain, _aad(held_id, restore_to)))
    cookie = f"{held_id}.{base64.urlsafe_b64encode(key).decode()}"

    @after_this_request
    def _give_key(response):
        response.set_cookie(COOKIE, cookie, max_age=HELD_FORM_TTL, httponly=True, samesite="Lax",
                            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), path="/")
        return response
    return True


def name_is_text(name: str) -> bool:
    """A field that holds what a person typed (not a hidden bookkeeping field)."""
    return name not in {"draft_version", "page_token", "at", "section_id"}


def take(restore_to: str) -> MultiDict | None:
    """The fields held for restore_to in this browser, once (the file is deleted and the cookie cleared)."""
    value = request.cookies.get(COOKIE, "")
    held_id, _, encoded = value.partition(".")
    if not held_id or not encoded or not held_id.replace("-", "").replace("_", "").isalnum():
        return None
    path = _folder() / f"{held_id}.bin"
    try:
        key = base64.urlsafe_b64decode(encoded.encode())
        blob = path.read_bytes()
        plain = AESGCM(key).decrypt(blob[:12], blob[12:], _aad(held_id, restore_to))
    except (OSError, ValueError, InvalidTag):
        return None  # another page's held form, or gone: left for its own page (or the sweep)
    path.unlink(missing_ok=True)

    @after_this_request
    def _forget(response):
        response.delete_cookie(COOKIE, path="/")
        return response
    return MultiDict([tuple(pair) for pair in json.loads(plain)])


def hold_and_sign_in():
    """For a POST of a view that keeps typed text, sent without a valid session: hold what was typed and send the
    user to sign in, then back to the page. None for any other request (the caller answers as usual)."""
    restore_to = _restore_url_of_request()
    if restore_to is None:
        return None
    try:
        fields = request.form
    except Exception:  # noqa: BLE001 - a body that cannot be read (too large, malformed): nothing to hold
        fields = MultiDict()
    if hold(fields, restore_to):
        from flask import flash
        from flask_babel import gettext as _
        flash(_("You were signed out before your changes reached us, so nothing was saved. Sign in again: what you "
                "typed will be back on the page, for you to check and save."), "warning")
    return redirect(url_for("auth.login", next=restore_to))


class _Discard(io.RawIOBase):
    """Where the files of a too-large request go while its text fields are read: nowhere."""

    def writable(self):
        return True

    def write(self, data):
        return len(data)

    def seekable(self):
        return True

    def seek(self, *_args):
        return 0

    def read(self, *_args):
        return b""


def form_fields_without_files(max_form_bytes: int = MAX_HELD_BYTES) -> MultiDict:
    """The text fields of this request's multipart body, read past MAX_CONTENT_LENGTH with every file discarded as
    it streams in (memory stays flat). An unreadable body gives an empty MultiDict."""
    from werkzeug.formparser import parse_form_data
    try:
        _stream, form, _files = parse_form_data(
            request.environ, stream_factory=lambda *_a, **_k: _Discard(), max_form_memory_size=max_form_bytes,
            max_content_length=None, silent=True)
    except Exception:  # noqa: BLE001 - nothing readable: show the page without the text
        return MultiDict()
    return form
