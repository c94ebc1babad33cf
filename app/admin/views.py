"""Administrator pages: users (create staff, enable/disable) and the audit log with filters."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.admin import bp
from app.admin.forms import AuditFilterForm
from app.admin.queries import audited_object_types, sealed_summary, visible_events
from app.audit.checkpoints import verify_recent
from app.auth import operations as ops
from app.auth.forms import ConfirmForm, StaffUserForm
from app.auth.models import Role, User
from app.auth.permissions import role_required
from app.auth.queries import users_by_role
from app.boundary import commit, on_refusal
from app.extensions import db

PAGE_SIZE = 50


@bp.get("/users")
@role_required(Role.admin)
def users():
    return render_template("admin/users.html", users=users_by_role(), confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.admin)
def user_new():
    form = StaffUserForm()
    on_refusal(render=lambda _error: render_template("admin/user_new.html", form=form))
    if form.validate_on_submit():  # the role is one of the form's choices (a SelectField refuses others)
        ops.create_staff_user(name=form.name.data, email=form.email.data, password=form.password.data,
                              role=Role(form.role.data), actor=current_user)
        commit(_("The account was created."))
        return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>/enabled", methods=["GET", "POST"])
@role_required(Role.admin)
def user_toggle(user_id: int):
    """GET: what disabling or enabling this account does, with the button that does it (issue 8 item 11: nothing
    so consequential happens on one click from a list). POST: do it."""
    user = db.get_or_404(User, user_id)
    form = ConfirmForm()
    on_refusal(redirect_to=url_for("admin.users"))
    if form.validate_on_submit():
        ops.set_user_enabled(user, not user.is_enabled, actor=current_user)
        commit(_("The account was disabled.") if not user.is_enabled else _("The account was enabled."))
        return redirect(url_for("admin.users"))
    return render_template("admin/user_toggle.html", user=user, confirm=form,
                           is_self=user.id == current_user.id)


@bp.get("/audit")
@role_required(Role.admin)
def audit_log():
    page = request.args.get("page", 1, type=int)
    if page < 1 or page > 10_000:
        raise NotFound()
    form = AuditFilterForm(request.args, object_types=audited_object_types())
    filters = form.filters()
    events = visible_events(filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    chain, checkpoint = verify_recent()
    return render_template("admin/audit.html", events=events[:PAGE_SIZE], has_next=len(events) > PAGE_SIZE,
                           page=page, args=request.args, form=form, sealed=sealed_summary(filters),
                           chain=chain, checkpoint=checkpoint)
