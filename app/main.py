"""Site-wide pages: home, language switch, document downloads, health check."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.admin.queries import recent_staff_account_changes
from app.audit import record
from app.auth.models import Role
from app.auth.forms import ConfirmForm
from app.documents.models import Document
from app.documents.service import read_verified, retry_document
from app.errors import DomainError
from app.extensions import db
from app.i18n import safe_next_url

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    staff_changes = None
    if current_user.is_authenticated and current_user.role == Role.admin:
        staff_changes = recent_staff_account_changes()  # issue 6 item 8: no staff account appears unnoticed
    return render_template("home.html", staff_changes=staff_changes)


@bp.get("/language/<code>")
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        raise NotFound()
    session["lang"] = code
    if current_user.is_authenticated and current_user.locale != code:
        current_user.locale = code
        db.session.commit()
    return redirect(safe_next_url(request.args.get("next")) or url_for("main.home"))


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return jsonify(status="ok")


def can_download_document(user, doc: Document) -> bool:
    """Vendor documents go to that vendor's users only (invariant 8); staff documents to officers."""
    if doc.vendor_id is not None:
        return user.vendor_id == doc.vendor_id
    return user.role.value in {"officer", "admin", "approver"}


def _load_document(doc_id: int) -> Document:
    doc = db.session.get(Document, doc_id)
    # 404 rather than 403, so another company cannot even confirm that an id exists.
    if doc is None or not can_download_document(current_user, doc):
        raise NotFound()
    return doc


@bp.get("/documents/<int:doc_id>")
@login_required
def document_download(doc_id: int):
    doc = _load_document(doc_id)
    try:
        data = read_verified(doc)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.account"))
    record(current_user, "document.downloaded", doc, kind=doc.kind)
    db.session.commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=doc.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/documents/<int:doc_id>/retry")
@login_required
def document_retry(doc_id: int):
    doc = _load_document(doc_id)
    if ConfirmForm().validate_on_submit():
        try:
            retry_document(doc, actor=current_user)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The document is being prepared again."), "success")
    return redirect(url_for("auth.account"))
