"""Site-wide pages: home, language switch, document downloads, health check."""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound

from app.admin.queries import admin_work
from app.audit import record
from app.auth.forms import ConfirmForm
from app.auth.models import Role
from app.auth.operations import set_locale
from app.boundary import commit, on_refusal
from app.documents.models import Document
from app.documents.permissions import can_download_document
from app.documents.service import download_name, read_verified, retry_document
from app.extensions import db
from app.hooks import home_panels_for, hooks, render_home_panels
from app.i18n import safe_next_url

bp = Blueprint("main", __name__)

# The signed-in menu by role: the base template lists what it is given and decides nothing.
MENU = {
    Role.officer: (("eoi.manage_exercises", _l("Manage exercises")),),
    Role.vendor: (("eoi.notifications", _l("Notifications")),),
    Role.admin: (("admin.users", _l("Users")), ("admin.audit_log", _l("Audit log"))),
    Role.panel: (("scoring.interests", _l("My interests")),),
}


@bp.app_template_global()
def menu_for(user) -> tuple:
    """(endpoint, label) of the menu entries for user's role: "My work" (the home page) that every role has, the
    core's, then those the areas added."""
    if not getattr(user, "is_authenticated", False):
        return ()
    role = getattr(user, "role", None)
    added = tuple((endpoint, label) for endpoint, (roles, label) in hooks().menu_items.items() if role in roles)
    return (("main.home", _l("My work")),) + MENU.get(role, ()) + added


# What will appear on the home page of a role whose area has not registered its panel yet (app.hooks, HomePanel):
# the scoring area fills the panel members' queue and the decisions area the approvers' (issue 8 item 10).
EMPTY_QUEUES = {
    Role.panel: _l("Your evaluation queue is empty. When an officer names you to an exercise's evaluation panel, "
                   "the proposals you are to score, your conflict-of-interest declarations and the score sheets due "
                   "will appear here, each with its deadline."),
    Role.approver: _l("Your approval queue is empty. When an evaluation is complete, the recommendations and "
                      "award decisions awaiting your approval will appear here, each with the exercise and its deadline."),
}


@bp.get("/")
def home():
    """The public welcome, and for a signed-in user "My work": the panels the areas registered for the user's role,
    or what will appear there when no area has registered one yet."""
    panels, empty_queue = [], None
    if current_user.is_authenticated:
        user = current_user._get_current_object()
        panels = render_home_panels(user)
        if not home_panels_for(user.role):
            empty_queue = EMPTY_QUEUES.get(user.role)
    return render_template("home.html", panels=panels, empty_queue=empty_queue)


def admin_home(user) -> dict:
    """The administrator's panel on the home page (registered by the app factory through app.hooks)."""
    return {"work": admin_work()}


@bp.route("/language/<code>", methods=["GET", "POST"])
def set_language(code: str):
    """The language switch. A signed-in user's switch is a POST (CSRF-checked): it changes this browser's pages and
    saves the choice as the user's language, which emails follow. The plain link (GET) changes only this browser's
    pages and writes nothing; a choice made before signing in becomes the saved language at sign-in (the last
    choice wins), and the language stays as it was when signing out."""
    if code not in current_app.config["LANGUAGES"]:
        raise NotFound()
    session["lang"] = code
    if not current_user.is_authenticated:
        session["lang_chosen"] = True  # saved as the user's language at sign-in (app/auth/views.py login)
    elif request.method == "POST" and ConfirmForm().validate_on_submit():
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
    response = send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=download_name(doc))
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
