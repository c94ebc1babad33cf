"""Site-wide pages: home, language switch, document downloads, health check."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.admin.queries import recent_staff_account_changes
from app.audit import record
from app.auth.models import Role
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.operations import set_locale
from app.boundary import commit, on_refusal
from app.documents.models import Document
from app.documents.permissions import can_download_document
from app.documents.service import read_verified, retry_document
from app.extensions import db
from app.hooks import hooks
from app.i18n import safe_next_url

bp = Blueprint("main", __name__)

# The signed-in menu by role: the base template lists what it is given and decides nothing.
MENU = {
    Role.officer: (("eoi.manage_exercises", _l("Manage exercises")),),
    Role.vendor: (("eoi.notifications", _l("Notifications")),),
    Role.admin: (("admin.users", _l("Users")), ("admin.audit_log", _l("Audit log"))),
}


@bp.app_template_global()
def menu_for(user) -> tuple:
    """(endpoint, label) of the menu entries for user's role: the core's, then those the areas added."""
    if not getattr(user, "is_authenticated", False):
        return ()
    role = getattr(user, "role", None)
    added = tuple((endpoint, label) for endpoint, (roles, label) in hooks().menu_items.items() if role in roles)
    return MENU.get(role, ()) + added


@bp.get("/")
def home():
    staff_changes = None
    if current_user.is_authenticated and current_user.role == Role.admin:
        staff_changes = recent_staff_account_changes()  # issue 6 item 8: no staff account appears unnoticed
    return render_template("home.html", staff_changes=staff_changes)


@bp.route("/language/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """The language of this browser's pages (GET: the session only, nothing stored). Signed-in users POST the
    switch (CSRF-checked), which also saves it as the language of their emails."""
    if code not in current_app.config["LANGUAGES"]:
        raise NotFound()
    session["lang"] = code
    if request.method == "POST" and current_user.is_authenticated and ConfirmForm().validate_on_submit():
        set_locale(current_user._get_current_object(), code)
        commit()
    return redirect(safe_next_url(request.values.get("next")) or url_for("main.home"))


@bp.get("/healthz")
def healthz():
    db.session.execute(db.text("SELECT 1"))
    return jsonify(status="ok")


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
    on_refusal(redirect_to=url_for("auth.account"))
    data = read_verified(doc)
    record(current_user, "document.downloaded", doc, kind=doc.kind)
    commit()
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=doc.filename)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/documents/<int:doc_id>/retry")
@login_required
def document_retry(doc_id: int):
    doc = _load_document(doc_id)
    on_refusal(redirect_to=url_for("auth.account"))
    if ConfirmForm().validate_on_submit():
        retry_document(doc, actor=current_user)
        commit(_("The document is being prepared again."))
    return redirect(url_for("auth.account"))
