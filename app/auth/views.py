"""Sign-in, registration, verification, password reset, company users and the vendor's account page."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
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
from app.auth.queries import pending_invitations, vendor_documents
from app.auth.throttle import set_device_cookie, sign_in_attempt, throttle
from app.auth.tokens import TokenInvalid, read_token
from app.boundary import commit, on_refusal
from app.extensions import db, limiter
from app.i18n import safe_next_url


def _locale() -> str:
    return str(get_locale() or "en")


def _link_refused(error):
    """A link that worked when opened was refused on use (already used): the link page, with the reason."""
    return render_template("auth/link_invalid.html", refused=True)  # the reason is flashed by the boundary


@bp.route("/register", methods=["GET", "POST"])
def register():
    form = RegistrationForm()
    on_refusal(render=lambda _error: render_template("auth/register.html", form=form))
    if form.validate_on_submit():
        ops.register_vendor(**{f: getattr(form, f).data for f in (
            "name_en", "name_zh", "address", "contact_name", "contact_phone", "name", "email", "password")},
            br_number=normalise_br(form.br_number.data), locale=_locale())
        commit()
        return render_template("auth/check_email.html")
    return render_template("auth/register.html", form=form)


@bp.get("/verify/<token>")
def verify_email(token: str):
    on_refusal(redirect_to=url_for("auth.login"))
    try:
        payload = read_token("verify", token)
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    ops.verify_email(db.get_or_404(User, payload.get("user")), payload.get("email"))
    commit(_("Your email address is verified. You can sign in now."))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    on_refusal(render=lambda _error: render_template("auth/login.html", form=form), status=200)
    if form.validate_on_submit():
        attempt = sign_in_attempt(form.email.data)
        if not throttle().allowed(attempt):  # failures per account (untrusted browsers), address, device cookie
            flash(_("Too many failed sign-ins. Wait a few minutes, or sign in from a browser you have used for this "
                    "account before, or reset your password."), "error")
            return render_template("auth/login.html", form=form), 429
        # A refusal is audited by the boundary; a wrong password (or unknown account) is also counted.
        user = ops.authenticate(form.email.data, form.password.data,
                                on_wrong_password=lambda: throttle().failed(attempt))
        chosen = session.get("lang") if session.get("lang_chosen") else None  # switched before signing in
        session.clear()  # a fresh session at sign-in (no fixation)
        ops.sign_in(user, locale=chosen)
        # Staff sessions have an idle timeout; a remember-me cookie would silently bypass it.
        login_user(user, remember=form.remember.data and user.role == Role.vendor)
        if user.locale:
            session["lang"] = user.locale
        commit()
        return set_device_cookie(redirect(safe_next_url(request.args.get("next")) or url_for("main.home")), user.email)
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    ops.sign_out(current_user._get_current_object())
    commit()
    lang = session.get("lang")
    session.clear()
    logout_user()  # after clear(): it marks the remember-me cookie for deletion
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang  # the pages stay in the language they were in
    flash(_("You are signed out."), "success")
    return redirect(url_for("main.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        ops.request_password_reset(form.email.data)
        commit()
        return render_template("auth/check_email.html", reset=True)
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        payload = read_token("reset", token)
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    form = ResetPasswordForm()
    on_refusal(render=_link_refused)
    if form.validate_on_submit():
        user = ops.reset_password(payload, form.password.data)
        commit(_("Your password was changed. Please sign in."))
        # The link proved control of the address: this browser is the owner's, whoever guesses elsewhere.
        return set_device_cookie(redirect(url_for("auth.login")), user.email)
    return render_template("auth/reset_password.html", form=form)


@bp.get("/account")
@login_required
def account():
    documents = vendor_documents(current_user.vendor_id) if current_user.vendor_id else []
    invitations = pending_invitations(current_user.vendor) if current_user.vendor_id else []
    return render_template("auth/account.html", documents=documents, invite_form=InviteForm(),
                           invitations=invitations, confirm=ConfirmForm())


@bp.post("/account/users")
@role_required(Role.vendor)
def invite_user():
    form = InviteForm()
    on_refusal(render=lambda _error: render_template("auth/account.html", documents=[], invite_form=form,
                                                     invitations=[], confirm=ConfirmForm()))
    if form.validate_on_submit():
        ops.invite_vendor_user(current_user.vendor, name=form.name.data, email=form.email.data, actor=current_user)
        commit(_("Invitation sent to %(email)s.", email=form.email.data))
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", documents=[], invite_form=form, invitations=[],
                           confirm=ConfirmForm()), 400


@bp.post("/account/invitations/<int:invitation_id>/revoke")
@role_required(Role.vendor)
def invitation_revoke(invitation_id: int):
    invitation = db.session.get(ColleagueInvitation, invitation_id)
    if invitation is None or not can_revoke_invitation(current_user, invitation):
        raise NotFound()  # another company's invitation: not even its existence is confirmed
    on_refusal(redirect_to=url_for("auth.account"))
    if ConfirmForm().validate_on_submit():
        ops.revoke_invitation(invitation, actor=current_user)
        commit(_("The invitation to %(email)s was revoked.", email=invitation.email))
    return redirect(url_for("auth.account"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = ops.invitation_from_token(read_token("invite", token))
    except TokenInvalid as exc:
        return render_template("auth/link_invalid.html", expired=exc.expired), 400
    if not ops.invitation_usable(invitation):  # revoked, used, or its inviter disabled
        flash(_("This invitation has already been used or is no longer valid."), "error")
        return render_template("auth/link_invalid.html", refused=True), 400
    form = AcceptInvitationForm()
    on_refusal(render=_link_refused)
    if form.validate_on_submit():
        ops.accept_invitation(invitation, form.password.data, locale=_locale())
        commit(_("Your account is ready. Please sign in."))
        return redirect(url_for("auth.login"))
    return render_template("auth/accept_invitation.html", form=form, email=invitation.email)
