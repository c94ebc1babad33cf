"""Account actions: registration, verification, sign-in, password reset, invitations, staff users."""
from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth import queries
from app.auth.models import ColleagueInvitation, Role, User, Vendor
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.states import InvitationState
from app.auth.tokens import make_token
from app.celery import after_commit
from app.db import now_utc
from app.documents.service import queue_document
from app.errors import DomainError
from app.extensions import db
from app.notifications import Notification, external_url, notify
from app.states import transition

logger = logging.getLogger(__name__)


class AccountError(DomainError):
    pass


def _link(endpoint: str, **values) -> str:
    return external_url(endpoint, **values)


# --- registration and verification -----------------------------------------------------------------------------

def register_vendor(*, name_en, name_zh, br_number, address, contact_name, contact_phone,
                    name, email, password, locale="en") -> User | None:
    """Register a company and its first user, pending until the address is verified: the BR number is claimed
    only then (issue 6 item 11). An address that already has an account gets a note instead of a second
    account, after the same slow hash, so the form does not tell which addresses have accounts (item 13).
    Returns the new user, or None when the address already had an account."""
    email = email.strip().lower()
    password_hash = hash_password(password)  # first, for everyone: the slow step costs the same on every path
    existing = queries.user_by_email(email)
    if existing is not None and is_pending_registration(existing):
        release_registration(existing.vendor, reason="registered_again")  # unverified: it held nothing
        existing = None
    if queries.br_number_taken(br_number):
        raise AccountError(_l("A company with this Business Registration number is already registered."))
    if existing is not None:
        notify(to_email=existing.email, template="account_exists", locale=existing.locale or locale, user=existing,
               link=_link("auth.forgot_password"), name=existing.name)
        record(email, "vendor.registration_refused", existing, reason="email_has_account")
        return None
    vendor = Vendor(name_en=name_en.strip(), name_zh=name_zh.strip(), br_number=br_number, address=address.strip(),
                    contact_name=contact_name.strip(), contact_phone=contact_phone.strip(), contact_email=email)
    user = User(email=email, name=name.strip(), password_hash=password_hash, role=Role.vendor, vendor=vendor,
                locale=locale)
    db.session.add_all([vendor, user])
    db.session.flush()
    # The registrant is not an account holder yet: named by address, so an expired registration can be removed.
    record(email, "vendor.registered", vendor, br_number=vendor.br_number)
    send_verification(user)
    return user


def is_pending_registration(user: User) -> bool:
    """A vendor user whose company has not been verified yet (nobody proved an address)."""
    return (user.role == Role.vendor and user.email_verified_at is None and user.vendor is not None
            and user.vendor.verified_at is None)


def registration_expired(vendor: Vendor) -> bool:
    return vendor.verified_at is None and vendor.created_at <= now_utc() - current_app.config["REGISTRATION_EXPIRY"]


def send_verification(user: User) -> None:
    token = make_token("verify", {"user": user.id, "email": user.email})
    notify(to_email=user.email, template="verify_email", locale=user.locale or "en", user=user,
           link=_link("auth.verify_email", token=token), name=user.name, company=user.vendor.name_en,
           br_number=user.vendor.br_number)


def mark_email_verified(user: User, *, actor) -> None:
    """Record that the user controls its address; for a pending company this claims its BR number (item 11).
    Raises AccountError if the registration expired or a verified company already holds the number."""
    if user.email_verified_at is not None:
        return
    vendor = user.vendor
    if vendor is not None and vendor.verified_at is None:
        if registration_expired(vendor):
            raise AccountError(_l("This registration has expired. Please register again."))
        if queries.br_number_taken(vendor.br_number):
            raise AccountError(_l("Another company has already verified this Business Registration number. "
                                  "If it is yours, please contact the procurement office."))
        vendor.verified_at = now_utc()
    user.email_verified_at = now_utc()
    record(actor, "user.email_verified", user)


def verify_email(user: User, email: str) -> bool:
    """Mark the address verified (once) and queue the company's registration confirmation PDF."""
    if user.email != email:
        raise AccountError(_l("This link is not valid."))
    if user.email_verified_at is not None:
        return False
    first = user.role == Role.vendor and _is_first_user(user)
    mark_email_verified(user, actor=user)
    if first:
        queue_document("registration_confirmation", user.vendor, language=user.locale or "en",
                       vendor_id=user.vendor_id, actor=user)
    return True


def _is_first_user(user: User) -> bool:
    first = db.session.scalar(sa.select(sa.func.min(User.id)).where(User.vendor_id == user.vendor_id))
    return first == user.id


def release_registration(vendor: Vendor, *, reason: str) -> None:
    """Remove a pending registration (the company and its unverified user), freeing its address (item 11)."""
    if vendor.verified_at is not None or any(u.email_verified_at for u in vendor.users):
        raise AccountError(_l("Only a registration nobody verified can be removed."))
    users = list(vendor.users)
    record(None, "vendor.registration_released", vendor, br_number=vendor.br_number,
           emails=[u.email for u in users], reason=reason)
    # The verification mail stays in the outbox record, no longer tied to an account.
    db.session.execute(sa.update(Notification).where(Notification.user_id.in_([u.id for u in users]))
                       .values(user_id=None))
    for user in users:
        db.session.delete(user)
    db.session.flush()
    db.session.delete(vendor)
    db.session.flush()


def expire_registrations() -> int:
    """Release every pending registration older than REGISTRATION_EXPIRY (periodic task). Returns the count."""
    released = 0
    for vendor in queries.expired_registrations(now_utc() - current_app.config["REGISTRATION_EXPIRY"]):
        try:
            with db.session.begin_nested():
                release_registration(vendor, reason="expired")
        except sa.exc.IntegrityError:  # something else refers to it (e.g. an officer's tender invitation)
            logger.warning("pending registration of vendor %s is referenced elsewhere; kept", vendor.id)
            continue
        released += 1
    return released


# --- sign-in and passwords ---------------------------------------------------------------------------------------

class SignInRefused(AccountError):
    default_message = _l("Email address or password is incorrect.")
    status_code = 401


def authenticate(email: str, password: str, *, on_wrong_password: Callable[[], object] | None = None) -> User:
    """The user if the password matches an active account. Raises SignInRefused otherwise, with the same message
    for an unknown account and a wrong password; a wrong password is audited after the rollback (its own commit),
    and on_wrong_password (the sign-in throttle's count) runs then too."""
    user = queries.user_by_email(email)
    # An unknown account costs the same hash as a known one, so timing does not reveal which exist.
    if not verify_password(user.password_hash if user else _unknown_account_hash(), password) or user is None:
        refusal = SignInRefused().record_after_rollback(
            lambda: record(None, "auth.sign_in_failed", None, email=(email or "")[:254]))
        raise refusal.record_after_rollback(on_wrong_password) if on_wrong_password else refusal
    if not user.is_active:
        if user.is_enabled and user.email_verified_at is None:
            raise SignInRefused(_l("Please verify your email address first: follow the link we sent you."))
        raise SignInRefused()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


_UNKNOWN_HASH: dict[bool, str] = {}


def _unknown_account_hash() -> str:
    fast = bool(current_app.config.get("ARGON2_FAST"))
    if fast not in _UNKNOWN_HASH:
        _UNKNOWN_HASH[fast] = hash_password("no account has this password")
    return _UNKNOWN_HASH[fast]


def set_locale(user: User, locale: str) -> None:
    """The user's language for pages and emails (a preference: not audited)."""
    user.locale = locale


def sign_in(user: User, *, locale: str | None = None) -> None:
    """locale: a language chosen in this browser before signing in, the user's last choice: it becomes the saved one."""
    if locale:
        set_locale(user, locale)
    user.last_login_at = now_utc()
    record(user, "auth.signed_in", user)


def sign_out(user: User) -> None:
    """Bumping the session version makes every copy of the old session cookie worthless."""
    user.session_version += 1
    record(user, "auth.signed_out", user)


def request_password_reset(email: str) -> None:
    """Record the request and queue the mail for whatever address was typed: the task looks the account up.
    The request does the same work whether or not the account exists (issue 6 item 13)."""
    from app.auth.tasks import send_password_reset
    email = (email or "").strip().lower()[:254]
    record(None, "auth.password_reset_requested", None, email=email)
    after_commit(send_password_reset, email)


def send_password_reset(email: str) -> None:
    """Send the reset link if the address has an account (run by a task, outside the request)."""
    user = queries.user_by_email(email)
    if user is None:
        return
    # The token carries the current hash prefix: once the password changes the link is spent.
    token = make_token("reset", {"user": user.id, "pw": user.password_hash[-16:]})
    notify(to_email=user.email, template="reset_password", locale=user.locale or "en", user=user,
           link=_link("auth.reset_password", token=token), name=user.name)


def reset_password(payload: dict, password: str) -> User:
    user = db.session.get(User, payload.get("user"))
    if user is None or user.password_hash[-16:] != payload.get("pw"):
        raise AccountError(_l("This link has already been used or is no longer valid."))
    mark_email_verified(user, actor=user)  # the link proved control of the address
    set_password(user, password, actor=user)
    return user


def set_password(user: User, password: str, *, actor) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    user.session_version += 1
    record(actor, "user.password_changed", user)


# --- colleague invitations ---------------------------------------------------------------------------------------

def invite_vendor_user(vendor: Vendor, *, name: str, email: str, actor: User) -> ColleagueInvitation:
    """Invite a colleague to the company; the invitation can be revoked and dies with the inviter's account."""
    invitation = ColleagueInvitation(vendor=vendor, email=email.strip().lower(), name=name.strip(), invited_by=actor)
    db.session.add(invitation)
    db.session.flush()
    token = make_token("invite", {"invitation": invitation.id})
    notify(to_email=invitation.email, template="invitation", locale=actor.locale or "en",
           link=_link("auth.accept_invitation", token=token), company=vendor.name_en, inviter=actor.name, name=name)
    record(actor, "vendor.user_invited", vendor, email=invitation.email, invitation_id=invitation.id)
    return invitation


def invitation_from_token(payload: dict) -> ColleagueInvitation | None:
    invitation_id = payload.get("invitation")
    return db.session.get(ColleagueInvitation, invitation_id) if isinstance(invitation_id, int) else None


def invitation_usable(invitation: ColleagueInvitation | None) -> bool:
    """Pending, and its inviter still an enabled user of the same company."""
    if invitation is None or invitation.state != InvitationState.pending:
        return False
    inviter = invitation.invited_by
    return inviter.is_enabled and inviter.vendor_id == invitation.vendor_id


def accept_invitation(invitation: ColleagueInvitation | None, password: str, locale: str = "en") -> User:
    """Create the colleague's account. Raises AccountError if the invitation was used or revoked, its inviter
    was disabled or left the company, or the address has an account by now."""
    if not invitation_usable(invitation) or queries.user_by_email(invitation.email) is not None:
        raise AccountError(_l("This invitation has already been used or is no longer valid."))
    user = User(email=invitation.email, name=invitation.name or invitation.email, password_hash=hash_password(password),
                role=Role.vendor, vendor=invitation.vendor, locale=locale, email_verified_at=now_utc())
    db.session.add(user)
    db.session.flush()
    invitation.closed_at = now_utc()
    transition(invitation, InvitationState.accepted, actor=user, action="vendor.user_joined", email=user.email,
               vendor_id=invitation.vendor_id)
    return user


def revoke_invitation(invitation: ColleagueInvitation, *, actor, reason: str | None = None) -> None:
    """Withdraw a pending invitation (any user of the company may: see can_revoke_invitation)."""
    if invitation.state != InvitationState.pending:
        raise AccountError(_l("This invitation is no longer pending."))
    invitation.closed_at = now_utc()
    transition(invitation, InvitationState.revoked, actor=actor, action="vendor.invitation_revoked", reason=reason,
               email=invitation.email)


# --- staff accounts ----------------------------------------------------------------------------------------------

def create_staff_user(*, name: str, email: str, password: str, role: Role, actor) -> User:
    """Officers, approvers, panel members and administrators are only ever created here; the other
    administrators are told (issue 6 item 8: one administrator must not add staff unnoticed)."""
    if role == Role.vendor:
        raise AccountError(_l("Vendor users register themselves."))
    user = User(email=email.strip().lower(), name=name.strip(), password_hash=hash_password(password), role=role,
                email_verified_at=now_utc())
    db.session.add(user)
    db.session.flush()
    record(actor, "user.created", user, role=role.value, email=user.email)
    _tell_other_admins(user, created=True, actor=actor)
    return user


def set_user_enabled(user: User, enabled: bool, *, actor) -> None:
    """Enable or disable an account. Disabling revokes the invitations it sent; enabling a staff account is
    told to the other administrators."""
    if user.id == getattr(actor, "id", None) and not enabled:
        raise AccountError(_l("You cannot disable your own account."))
    user.is_enabled = enabled
    user.session_version += 1
    record(actor, "user.enabled" if enabled else "user.disabled", user)
    if not enabled:
        for invitation in queries.invitations_by(user):
            revoke_invitation(invitation, actor=actor, reason="inviter_disabled")
    elif user.is_staff:
        _tell_other_admins(user, created=False, actor=actor)


def _tell_other_admins(user: User, *, created: bool, actor) -> None:
    by = getattr(actor, "name", None) or (actor if isinstance(actor, str) else "system")
    for admin in queries.other_admins(user, actor if isinstance(actor, User) else None):
        notify(to_email=admin.email, template="staff_account_changed", locale=admin.locale or "en", user=admin,
               link=_link("main.home"), name=admin.name, account_name=user.name, account_email=user.email,
               role=user.role, created=created, by=by)
