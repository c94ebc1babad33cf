"""Outgoing mail: a Notification row per message (also the in-app list), sent by a task to the outbox."""
from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
import sqlalchemy.orm as so
from celery import shared_task
from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale

from app.audit import record
from app.celery import after_commit
from app.db import now_utc
from app.extensions import db
from app.text import clean_line, header_value

logger = logging.getLogger(__name__)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    to_email: so.Mapped[str] = so.mapped_column(sa.String(254))
    subject: so.Mapped[str] = so.mapped_column(sa.String(250))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    link: so.Mapped[Optional[str]] = so.mapped_column(sa.String(500))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    sent_at: so.Mapped[Optional[datetime]]
    # A message that could not be sent stays unsent, with when and why (logged and audited too).
    failed_at: so.Mapped[Optional[datetime]]
    failure: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))
    read_at: so.Mapped[Optional[datetime]]

    def __repr__(self) -> str:
        return f"<Notification {self.id} to {self.to_email}>"

    @property
    def path(self) -> str | None:
        """The link relative to this site, for the in-app list."""
        return in_app_path(self.link)


def notify(*, to_email: str, template: str, locale: str = "en", user=None, link: str | None = None, **context) -> Notification:
    """Render templates/email/<template>.txt in the recipient's language and queue it for sending.
    String values (names, titles, references) are put on one line: the first line of the text is the subject."""
    context = {k: clean_line(v) if isinstance(v, str) else v for k, v in context.items()}
    with force_locale(locale or "en"):
        text = render_template(f"email/{template}.txt", link=link, **context)
    subject, _, body = text.partition("\n")
    note = Notification(user_id=getattr(user, "id", None), to_email=to_email, subject=header_value(subject)[:250],
                        body=body.strip(), link=link)
    db.session.add(note)
    db.session.flush()
    after_commit(send_notification, note.id)
    return note


def mark_all_read(user) -> int:
    """The user's own reading marks on the user's own rows: not a procurement action, so not audited."""
    result = db.session.execute(sa.update(Notification).where(Notification.user_id == user.id,
                                                              Notification.read_at.is_(None)).values(read_at=now_utc()))
    return result.rowcount


def outbox_path(note_id: int) -> Path:
    return Path(current_app.config["OUTBOX_DIR"]) / f"{note_id:08d}.eml"


@shared_task(name="app.send_notification")
def send_notification(note_id: int) -> None:
    """Write the message to the outbox once (idempotent: a sent message is not written again).
    A failure is logged, recorded on the notification and in the audit log, and raised (the task fails)."""
    note = db.session.get(Notification, note_id)
    if note is None or note.sent_at is not None:
        return
    try:
        _write_to_outbox(note.id, compose_message(note))
    except Exception as exc:
        _record_failure(note_id, exc)
        raise
    note.sent_at, note.failed_at, note.failure = now_utc(), None, None
    db.session.commit()


def compose_message(note: Notification) -> EmailMessage:
    """The message; every header value is one line (a CR or LF, e.g. in a company name, is folded to a space),
    so a header can neither break composing nor add headers."""
    msg = EmailMessage()
    msg["From"] = header_value(current_app.config["MAIL_FROM"])
    msg["To"] = header_value(note.to_email)
    msg["Subject"] = header_value(note.subject)
    msg["Date"] = format_datetime(now_utc())
    msg["Message-ID"] = make_msgid(domain="tenderbox.example")
    msg.set_content(note.body)
    return msg


def _write_to_outbox(note_id: int, msg: EmailMessage) -> None:
    path = outbox_path(note_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(msg))
    tmp.replace(path)


def _record_failure(note_id: int, exc: Exception) -> None:
    logger.exception("notification %s could not be sent", note_id)
    db.session.rollback()
    note = db.session.get(Notification, note_id)
    note.failed_at, note.failure = now_utc(), f"{type(exc).__name__}: {exc}"[:300]
    record(None, "notification.failed", note, error=type(exc).__name__)  # no address or text: visible to admins
    db.session.commit()


def served_url(environ: dict) -> str | None:
    """The address this server listens on, read from its own socket, never from the request's Host header (which
    a client chooses: a reset link sent to an attacker's host would hand over the account). Werkzeug's development
    server puts its bound address in SERVER_NAME/SERVER_PORT; gunicorn gives the connection's socket (its
    SERVER_NAME may come from the Host header on a unix socket, so it is not read). None when not known."""
    sock = environ.get("gunicorn.socket")
    if sock is not None:
        try:
            address = sock.getsockname()
        except OSError:
            return None
        if not isinstance(address, tuple):  # a unix socket: only a proxy in front knows the public address
            return None
        host, port = str(address[0]), int(address[1])
    elif str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/") and environ.get("SERVER_PORT"):
        host, port = str(environ.get("SERVER_NAME", "")), int(environ["SERVER_PORT"])
    else:
        return None
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
    default_port = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + ("" if port == default_port else f":{port}")


def public_url() -> str:
    """The base of links in emails: PUBLIC_URL when set (production, and a worker in its own process, must set it);
    otherwise the address this server is served at (e.g. PORT=5100 gives http://127.0.0.1:5100), outside a
    request DEFAULT_PUBLIC_URL."""
    configured = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        served = served_url(request.environ)
        if served:
            return served
    return current_app.config.get("DEFAULT_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")


def external_url(endpoint: str, **values) -> str:
    """An absolute link for emails (public_url()), never built from the request's Host header."""
    return public_url() + current_app.url_map.bind("localhost").build(endpoint, values)


def in_app_path(link: str | None) -> str | None:
    """A notification's link as a relative path for the in-app list: it works on whatever address the app is
    being used at, whichever base the email carried."""
    if not link:
        return None
    parts = urlsplit(link)
    return urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
