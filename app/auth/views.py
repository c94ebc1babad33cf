"""Sign-in, registration, verification, password reset, company users and the vendor's account page."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import NotFound

from app.auth import bp
from app.auth import operations as ops
from app.auth.forms import (AcceptInvitationForm, ConfirmForm, ForgotPasswordForm, InviteForm, LoginForm,
                            RegistrationForm, ResetPasswordForm, normalise_br)
from app.auth.models import ColleagueInvitation, Role, User
from app.auth.permissions import can_revoke_invitation, role_required
from app.auth.queries import pending_invitations
from app.auth.throttle import set_device_cookie, sign_in_attempt, throttle
from app.auth.tokens import TokenInvalid, read_token
from app.documents.models import Document
from app.errors import DomainError
from app.extensions import db, limiter
from app.i18n import safe_next_url


def _locale() -> str:
    return str(get_locale() or "en")


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegistrationForm()
    if form.validate_on_submit():
        ops.register_vendor(**{f: getattr(form, f).data for f in (
            "name_en", "name_zh", "address", "contact_name", "contact_phone", "name", "email", "password")},
            br_number=normalise_br(form.br_number.data), locale=_locale())
        db.session.commit()
        return render_template("auth/check_email.html")
    return render_template("auth/register.html", form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        payload = read_token("verify", token)
        user = db.get_or_404(User, payload.get("user"))
        ops.verify_email(user, payload.get("email"))
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("auth.login"))
    db.session.commit()
    flash(_("Your email address is verified. You can sign in now."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        attempt = sign_in_attempt(form.email.data)
        if not throttle().allowed(attempt):
            flash(_("Too many failed sign-ins. Wait a few minutes, or sign in from a browser you have used for this "
                    "account before, or reset your password."), "error")
            return render_template("auth/login.html", form=form), 429
        user = ops.authenticate(form.email.data, form.password.data)
        if user is None or not user.is_active:
            if user is None:  # a wrong password (or no such account): counted the same way
                throttle().failed(attempt)
            db.session.commit()  # keep the audit record of the failed attempt
            message = _("Email address or password is incorrect.")
            if user is not None and user.is_enabled and user.email_verified_at is None:
                message = _("Please verify your email address first: follow the link we sent you.")
            flash(message, "error")
            return render_template("auth/login.html", form=form), 200
        session.clear()  # a fresh session at sign-in (no fixation)
        ops.sign_in(user)
        # Staff sessions have an idle timeout; a remember-me cookie would silently bypass it.
        login_user(user, remember=form.remember.data and user.role == Role.vendor)
        if user.locale:
            session["lang"] = user.locale
        db.session.commit()
        return set_device_cookie(redirect(safe_next_url(request.args.get("next")) or url_for("main.home")), user.email)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    ops.sign_out(current_user._get_current_object())
    db.session.commit()
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion
    flash(_("You are signed out."), "success")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        ops.request_password_reset(form.email.data)
        db.session.commit()
        return render_template("auth/check_email.html", reset=True)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        payload = read_token("reset", token)
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = ops.reset_password(payload, form.password.data)
        except DomainError as exc:
            return render_template("auth/link_invalid.html", expired=False, message=exc.message), 400
        db.session.commit()
        flash(_("Your password was changed. Please sign in."), "success")
        # The link proved control of the address: this browser is the owner's, whoever guesses elsewhere.
        return set_device_cookie(redirect(url_for("auth.login")), user.email)
    return render_template("auth/reset_password.html", form=form)


@bp.get("/account")
@login_required
def account():
    documents, invitations = [], []
    if current_user.vendor_id:
        documents = db.session.scalars(sa.select(Document).where(Document.vendor_id == current_user.vendor_id)
                                       .order_by(Document.created_at.desc()).limit(50)).all()
        invitations = pending_invitations(current_user.vendor)
    return render_template("auth/account.html", documents=documents, invite_form=InviteForm(),
                           invitations=invitations, confirm=ConfirmForm())


@bp.post("/account/users")
@role_required(Role.vendor)
def invite_user():
    form = InviteForm()
    if form.validate_on_submit():
        ops.invite_vendor_user(current_user.vendor, name=form.name.data, email=form.email.data, actor=current_user)
        db.session.commit()
        flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", documents=[], invite_form=form, invitations=[],
                           confirm=ConfirmForm()), 400


@bp.post("/account/invitations/<int:invitation_id>/revoke")
@role_required(Role.vendor)
def invitation_revoke(invitation_id: int):
    invitation = db.session.get(ColleagueInvitation, invitation_id)
    if invitation is None or not can_revoke_invitation(current_user, invitation):
        raise NotFound()  # another company's invitation: not even its existence is confirmed
    if ConfirmForm().validate_on_submit():
        try:
            ops.revoke_invitation(invitation, actor=current_user)
        except DomainError as exc:  # e.g. accepted meanwhile
            flash(exc.message, "error")
        else:
            db.session.commit()
            flash(_("The invitation to %(email)s was revoked.", email=invitation.email), "success")
    return redirect(url_for("auth.account"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = ops.invitation_from_token(read_token("invite", token))
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    if not ops.invitation_usable(invitation):
        return render_template("auth/link_invalid.html", expired=False,
                               message=_("This invitation has already been used or is no longer valid.")), 400
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            ops.accept_invitation(invitation, form.password.data, locale=_locale())
        except DomainError as exc:
            return render_template("auth/link_invalid.html", expired=False, message=exc.message), 400
        db.session.commit()
        flash(_("Your account is ready. Please sign in."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/accept_invitation.html", form=form, email=invitation.email)
