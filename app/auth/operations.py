"""Account actions: registration, verification, sign-in, password reset, invitations, staff users."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User, Vendor
from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.tokens import make_token
from app.db import now_utc
from app.documents.service import queue_document
from app.errors import DomainError
from app.extensions import db
from app.notifications import external_url, notify


class AccountError(DomainError):
    pass


def _link(endpoint: str, **values) -> str:
    return external_url(endpoint, **values)


def register_vendor(*, name_en, name_zh, br_number, address, contact_name, contact_phone,
                    name, email, password, locale="en") -> User:
    """Create a vendor company with its first (unverified) user and send the verification email."""
    vendor = Vendor(name_en=name_en.strip(), name_zh=name_zh.strip(), br_number=br_number, address=address.strip(),
                    contact_name=contact_name.strip(), contact_phone=contact_phone.strip(), contact_email=email.strip().lower())
    user = User(email=email.strip().lower(), name=name.strip(), password_hash=hash_password(password),
                role=Role.vendor, vendor=vendor, locale=locale)
    db.session.add_all([vendor, user])
    db.session.flush()
    record(user, "vendor.registered", vendor, br_number=vendor.br_number)
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    token = make_token("verify", {"user": user.id, "email": user.email})
    notify(to_email=user.email, template="verify_email", locale=user.locale or "en", user=user,
           link=_link("auth.verify_email", token=token), name=user.name)


def verify_email(user: User, email: str) -> bool:
    """Mark the address verified (once) and queue the company's registration confirmation PDF."""
    if user.email != email:
        raise AccountError(_l("This link is not valid."))
    if user.email_verified_at is not None:
        return False
    user.email_verified_at = now_utc()
    record(user, "user.email_verified", user)
    if user.role == Role.vendor and _is_first_user(user):
        queue_document("registration_confirmation", user.vendor, language=user.locale or "en",
                       vendor_id=user.vendor_id, actor=user)
    return True


def _is_first_user(user: User) -> bool:
    first = db.session.scalar(sa.select(sa.func.min(User.id)).where(User.vendor_id == user.vendor_id))
    return first == user.id


class SignInRefused(AccountError):
    default_message = _l("Email address or password is incorrect.")
    status_code = 401


def authenticate(email: str, password: str) -> User:
    """The user if the password matches an active account. Raises SignInRefused otherwise, with the same message
    for an unknown account and a wrong password; a wrong password is audited after the rollback (its own commit)."""
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    # An unknown account costs the same hash as a known one, so timing does not reveal which exist.
    if not verify_password(user.password_hash if user else _unknown_account_hash(), password) or user is None:
        raise SignInRefused().record_after_rollback(
            lambda: record(None, "auth.sign_in_failed", None, email=(email or "")[:254]))
    if not user.is_active:
        if user.is_enabled and user.email_verified_at is None:
            raise SignInRefused(_l("Please verify your email address first: follow the link we sent you."))
        raise SignInRefused()
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


_UNKNOWN_HASH: dict[bool, str] = {}


def _unknown_account_hash() -> str:
    from flask import current_app
    fast = bool(current_app.config.get("ARGON2_FAST"))
    if fast not in _UNKNOWN_HASH:
        _UNKNOWN_HASH[fast] = hash_password("no account has this password")
    return _UNKNOWN_HASH[fast]


def set_locale(user: User, locale: str) -> None:
    """The user's language for pages and emails (a preference: not audited)."""
    user.locale = locale


def sign_in(user: User) -> None:
    user.last_login_at = now_utc()
    record(user, "auth.signed_in", user)


def sign_out(user: User) -> None:
    """Bumping the session version makes every copy of the old session cookie worthless."""
    user.session_version += 1
    record(user, "auth.signed_out", user)


def request_password_reset(email: str) -> None:
    user = db.session.scalar(sa.select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        return  # same answer whether or not the account exists
    # The token carries the current hash prefix: once the password changes the link is spent.
    token = make_token("reset", {"user": user.id, "pw": user.password_hash[-16:]})
    notify(to_email=user.email, template="reset_password", locale=user.locale or "en", user=user,
           link=_link("auth.reset_password", token=token), name=user.name)
    record(user, "auth.password_reset_requested", user)


def reset_password(payload: dict, password: str) -> User:
    user = db.session.get(User, payload.get("user"))
    if user is None or user.password_hash[-16:] != payload.get("pw"):
        raise AccountError(_l("This link has already been used or is no longer valid."))
    set_password(user, password, actor=user)
    if user.email_verified_at is None:
        user.email_verified_at = now_utc()  # the link proved control of the address
    return user


def set_password(user: User, password: str, *, actor) -> None:
    user.password_hash = hash_password(password)
    user.password_changed_at = now_utc()
    user.session_version += 1
    record(actor, "user.password_changed", user)


def invite_vendor_user(vendor: Vendor, *, name: str, email: str, actor: User) -> None:
    token = make_token("invite", {"vendor": vendor.id, "email": email.strip().lower(), "name": name.strip(), "by": actor.id})
    notify(to_email=email.strip().lower(), template="invitation", locale=actor.locale or "en",
           link=_link("auth.accept_invitation", token=token), company=vendor.name_en, inviter=actor.name, name=name)
    record(actor, "vendor.user_invited", vendor, email=email.strip().lower())


def accept_invitation(payload: dict, password: str, locale: str = "en") -> User:
    vendor = db.session.get(Vendor, payload.get("vendor"))
    email = payload.get("email", "")
    if vendor is None or db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise AccountError(_l("This invitation has already been used or is no longer valid."))
    user = User(email=email, name=payload.get("name") or email, password_hash=hash_password(password),
                role=Role.vendor, vendor=vendor, locale=locale, email_verified_at=now_utc())
    db.session.add(user)
    db.session.flush()
    record(user, "vendor.user_joined", vendor, email=email)
    return user


def create_staff_user(*, name: str, email: str, password: str, role: Role, actor) -> User:
    """Officers, approvers, panel members and administrators are only ever created here."""
    if role == Role.vendor:
        raise AccountError(_l("Vendor users register themselves."))
    user = User(email=email.strip().lower(), name=name.strip(), password_hash=hash_password(password), role=role,
                email_verified_at=now_utc())
    db.session.add(user)
    db.session.flush()
    record(actor, "user.created", user, role=role.value, email=user.email)
    return user


def set_user_enabled(user: User, enabled: bool, *, actor) -> None:
    if user.id == getattr(actor, "id", None) and not enabled:
        raise AccountError(_l("You cannot disable your own account."))
    user.is_enabled = enabled
    user.session_version += 1
    record(actor, "user.enabled" if enabled else "user.disabled", user)
