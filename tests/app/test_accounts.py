"""Account findings of the security test (issue 6 items 8, 11 and 13): each attack reproduced and refused, with a
positive control. BR numbers claimed only at verification; registrations expire; the reset and register forms do
not tell which accounts exist; invitations revocable and void once the inviter is disabled; no caching of
signed-in pages; wsgi.py serves the production configuration; staff account changes told to the other admins."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth import operations as ops
from app.auth.models import ColleagueInvitation, Role, User, Vendor
from app.auth.states import InvitationState
from app.auth.tasks import expire_registrations
from app.config import ROOT
from app.db import now_utc
from app.extensions import db
from app.notifications import Notification
from tests.factories import PASSWORD, create_staff, create_vendor_user

FORM = {"name_en": "Harbour Digital Services Limited", "name_zh": "海港數碼服務有限公司", "br_number": "12345678",
        "address": "18 Harbour Road, Wan Chai", "contact_name": "Wong Siu Ming", "contact_phone": "2123 4567",
        "name": "Wong Siu Ming", "email": "ming@harbour.example", "password": PASSWORD, "confirm": PASSWORD}


def _mails_to(email: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Notification).where(Notification.to_email == email)
                                   .order_by(Notification.id)))


def _link(note: Notification) -> str:
    return note.link.removeprefix("http://localhost")


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --------------------------------------------------------------------------------------------------------------------
# Item 11: a BR number cannot be squatted by an unverified sign-up.

def test_an_unverified_sign_up_does_not_hold_the_br_number(client):
    squatter = {**FORM, "email": "squatter@elsewhere.example", "name_en": "Squat Limited"}
    assert "Check your email" in client.post("/register", data=squatter).get_data(as_text=True)
    # The real company registers the same number (accepted: the squatter holds nothing) and verifies first.
    page = client.post("/register", data=FORM).get_data(as_text=True)
    assert "Check your email" in page and "already registered" not in page
    assert client.get(_link(_mails_to(FORM["email"])[-1])).status_code == 302
    owner = _user(FORM["email"])
    assert owner.vendor.verified_at is not None and owner.vendor.br_number == "12345678"
    # The squatter's link now fails, with a clear message, and its company stays unverified.
    response = client.get(_link(_mails_to("squatter@elsewhere.example")[-1]), follow_redirects=True)
    assert "Another company has already verified this Business Registration number" in response.get_data(as_text=True)
    assert _user("squatter@elsewhere.example").email_verified_at is None
    # Positive control: once verified, the number is refused to any further registration.
    page = client.post("/register", data={**FORM, "email": "third@other.example"}).get_data(as_text=True)
    assert "already registered" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor).where(Vendor.br_number == "12345678")) == 2


def test_the_database_holds_one_verified_company_per_br_number(app):
    a = create_vendor_user(verified=False, br_number="55555555")
    b = create_vendor_user(verified=False, br_number="55555555")  # two pending registrations: allowed
    a.vendor.verified_at = now_utc()
    db.session.commit()
    b.vendor.verified_at = now_utc()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_unverified_registrations_expire(app, client):
    app.config["REGISTRATION_EXPIRY"] = timedelta(hours=48)
    old = create_vendor_user(verified=False, email="old@pending.example", br_number="11111111")
    with freeze_time(now_utc() + timedelta(hours=47)):
        recent = create_vendor_user(verified=False, email="recent@pending.example")
    verified = create_vendor_user(email="done@vendor.example")
    old_vendor_id = old.vendor_id
    db.session.commit()  # end the test's read: on SQLite the task's transaction would wait for it
    with freeze_time(now_utc() + timedelta(hours=49)):
        assert ops.expire_registrations() == 1  # what the periodic task runs (see the schedule test below)
        db.session.commit()
    assert _user("old@pending.example") is None and db.session.get(Vendor, old_vendor_id) is None
    assert _user("recent@pending.example") is not None  # not yet 48 hours old
    assert _user("done@vendor.example") is not None  # verified: never expires
    released = _audit("vendor.registration_released")
    assert len(released) == 1 and released[0].details_dict["reason"] == "expired"
    # Its address and number are free again.
    assert "Check your email" in client.post("/register", data={
        **FORM, "email": "old@pending.example", "br_number": "11111111"}).get_data(as_text=True)
    assert _user("old@pending.example").vendor.br_number == "11111111"
    del recent, verified


def test_the_clean_up_is_scheduled(app):
    schedule = {entry["task"] for entry in app.extensions["celery"].conf.beat_schedule.values()}
    assert expire_registrations.name in schedule and expire_registrations.name in app.extensions["celery"].tasks


def test_an_expired_registration_cannot_be_verified_even_before_the_clean_up(app, client):
    app.config["REGISTRATION_EXPIRY"] = timedelta(hours=1)
    client.post("/register", data=FORM)
    link = _link(_mails_to(FORM["email"])[-1])
    with freeze_time(now_utc() + timedelta(hours=2)):
        response = client.get(link, follow_redirects=True)
    assert "This registration has expired" in response.get_data(as_text=True)
    assert _user(FORM["email"]).email_verified_at is None
    # Positive control: within the time the same link works.
    with freeze_time(now_utc() + timedelta(minutes=30)):
        assert client.get(link).status_code == 302
    assert _user(FORM["email"]).vendor.verified_at is not None


def test_registering_again_replaces_an_unverified_registration(client):
    """Someone who typed another's address cannot keep it: a new registration with it replaces theirs."""
    client.post("/register", data={**FORM, "name_en": "Wrong Company Limited", "br_number": "22222222"})
    client.post("/register", data=FORM)
    user = _user(FORM["email"])
    assert user.vendor.name_en == FORM["name_en"] and user.vendor.br_number == "12345678"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 1
    assert _audit("vendor.registration_released")[0].details_dict["reason"] == "registered_again"


# --------------------------------------------------------------------------------------------------------------------
# Item 13: the reset and register forms do not tell which addresses have accounts.

def _count_statements(fn) -> int:
    statements = []

    def count(*_args, **_kwargs):
        statements.append(1)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


@pytest.fixture
def queued_tasks(app):
    """Tasks are published to an in-memory broker instead of running in the request (as with a real worker)."""
    celery = app.extensions["celery"]
    eager, celery.conf.task_always_eager = celery.conf.task_always_eager, False
    yield
    celery.conf.task_always_eager = eager


def test_password_reset_request_does_the_same_work_for_known_and_unknown_addresses(app, client, queued_tasks):
    user = create_vendor_user()
    client.post("/password/forgot", data={"email": "warm-up@nowhere.example"})
    answers, counts = {}, {}
    for who, email in (("known", user.email), ("unknown", "ghost@nowhere.example")):
        db.session.commit()  # each request starts its own transaction, as in production
        counts[who] = _count_statements(lambda: answers.__setitem__(
            who, client.post("/password/forgot", data={"email": email}).get_data(as_text=True)))
    assert answers["known"] == answers["unknown"] and "If an account exists" in answers["known"]
    assert counts["known"] == counts["unknown"], counts


def test_the_reset_task_mails_only_an_existing_account(app):
    email = create_vendor_user().email
    before = len(_mails_to(email))
    ops.send_password_reset(email)  # what the task runs
    ops.send_password_reset("ghost@nowhere.example")
    db.session.commit()
    assert len(_mails_to(email)) == before + 1 and "/password/reset/" in _mails_to(email)[-1].link
    assert _mails_to("ghost@nowhere.example") == []


@pytest.mark.parametrize("role", [Role.admin, Role.officer, Role.vendor])
def test_the_register_form_does_not_reveal_existing_accounts(client, monkeypatch, role):
    existing = create_staff(role) if role != Role.vendor else create_vendor_user()
    hashes = []
    real_hash = ops.hash_password
    monkeypatch.setattr(ops, "hash_password", lambda p: hashes.append(p) or real_hash(p))

    fresh = client.post("/register", data={**FORM, "email": "fresh@new.example", "br_number": "33333333"})
    taken = client.post("/register", data={**FORM, "email": existing.email.upper(), "br_number": "44444444"})
    assert fresh.status_code == taken.status_code == 200
    assert fresh.get_data(as_text=True) == taken.get_data(as_text=True)  # same page, word for word
    assert "already" not in taken.get_data(as_text=True)
    assert len(hashes) == 2  # the same slow step on both paths (equal timing; the README gives the figures)
    # Nothing changed for the existing account; its owner is told instead.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Vendor).where(Vendor.br_number == "44444444")) == 0
    assert _user(existing.email).role == role
    assert "already has an account" in _mails_to(existing.email)[-1].body
    # Positive control: the fresh address did get a pending registration and a verification link.
    assert _user("fresh@new.example").vendor.br_number == "33333333"
    assert "/verify/" in _mails_to("fresh@new.example")[-1].link


# --------------------------------------------------------------------------------------------------------------------
# Item 13: invitations can be revoked and do not survive the inviter being disabled.

def _invite(login, inviter, email="colleague@vendor.example"):
    assert login(inviter).post("/account/users", data={"name": "Lee Ka Yan", "email": email}).status_code == 302
    return _link(_mails_to(email)[-1])


NEW = {"password": "colleague passphrase 2026", "confirm": "colleague passphrase 2026"}


def test_a_colleague_revokes_an_invitation(app, login, client):
    inviter = create_vendor_user()
    colleague = create_vendor_user()
    colleague.vendor_id = inviter.vendor_id  # a second user of the same company
    db.session.commit()
    link = _invite(login, inviter)
    invitation = db.session.scalar(sa.select(ColleagueInvitation))
    assert "colleague@vendor.example" in login(colleague).get("/account").get_data(as_text=True)
    assert login(colleague).post(f"/account/invitations/{invitation.id}/revoke").status_code == 302
    db.session.expire_all()
    assert invitation.state == InvitationState.revoked and _audit("vendor.invitation_revoked")
    again = login(colleague).post(f"/account/invitations/{invitation.id}/revoke", follow_redirects=True)
    assert again.status_code == 200 and "no longer pending" in again.get_data(as_text=True)
    assert client.get(link).status_code == 400
    assert client.post(link, data=NEW).status_code == 400 and _user("colleague@vendor.example") is None
    # Positive control: a new invitation to the same address works.
    assert client.post(_invite(login, inviter), data=NEW).status_code == 302
    assert _user("colleague@vendor.example").vendor_id == inviter.vendor_id


def test_another_company_cannot_revoke_an_invitation(app, login):
    inviter, outsider = create_vendor_user(), create_vendor_user()
    _invite(login, inviter)
    invitation = db.session.scalar(sa.select(ColleagueInvitation))
    assert login(outsider).post(f"/account/invitations/{invitation.id}/revoke").status_code == 404
    db.session.expire_all()
    assert invitation.state == InvitationState.pending


def test_an_invitation_dies_with_the_inviters_account(app, login, client):
    inviter = create_vendor_user()
    link = _invite(login, inviter)
    admin = create_staff(Role.admin)
    ops.set_user_enabled(inviter, False, actor=admin)
    db.session.commit()
    assert db.session.scalar(sa.select(ColleagueInvitation.state)) == InvitationState.revoked
    assert client.post(link, data=NEW).status_code == 400 and _user("colleague@vendor.example") is None
    # Even if the inviter is enabled again, the old invitation stays void.
    ops.set_user_enabled(inviter, True, actor=admin)
    db.session.commit()
    assert client.post(link, data=NEW).status_code == 400


def test_acceptance_checks_the_inviter_even_without_the_revocation(app, login, client):
    """Defence in depth: an inviter disabled by any path (not only set_user_enabled) voids its invitations."""
    inviter = create_vendor_user()
    link = _invite(login, inviter)
    inviter.is_enabled = False
    db.session.commit()
    assert client.post(link, data=NEW).status_code == 400
    inviter.is_enabled = True
    db.session.commit()
    assert client.post(link, data=NEW).status_code == 302  # positive control: the same link, inviter enabled


# --------------------------------------------------------------------------------------------------------------------
# Item 13: no caching of signed-in pages; wsgi.py serves the production configuration.

def test_signed_in_pages_are_not_stored(app, login, client):
    vendor = login(create_vendor_user())
    admin = login(create_staff(Role.admin))
    for c, url in ((vendor, "/"), (vendor, "/account"), (admin, "/admin/users"), (admin, "/admin/audit"),
                   (vendor, "/no/such/page"), (vendor, "/exercises")):
        assert "no-store" in c.get(url).headers.get("Cache-Control", ""), url
    assert "no-store" not in (client.get("/").headers.get("Cache-Control") or "")  # anonymous public pages may be
    assert "no-store" not in (vendor.get("/static/css/site.css").headers.get("Cache-Control") or "")


def _wsgi_config(tmp_path, **env) -> str:
    script = "import wsgi; c = wsgi.app.config; print(c['SESSION_COOKIE_SECURE'], c['REMEMBER_COOKIE_SECURE'])"
    environ = {k: v for k, v in os.environ.items() if k not in ("TENDERBOX_DEV", "SECURE_COOKIES")}
    environ.update(TENDERBOX_INSTANCE=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}",
                   CELERY_BROKER_URL="", **env)
    return subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=environ, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_wsgi_serves_the_production_configuration(tmp_path):
    assert _wsgi_config(tmp_path) == "True True"
    assert _wsgi_config(tmp_path, TENDERBOX_DEV="1") == "False False"  # only when asked, e.g. by scripts/dev.sh


def test_dev_script_asks_for_the_development_configuration():
    assert "export TENDERBOX_DEV=1" in (ROOT / "scripts" / "dev.sh").read_text()


# --------------------------------------------------------------------------------------------------------------------
# Item 8 (part): creating or enabling a staff account is told to the other administrators.

def test_a_new_staff_account_is_told_to_the_other_admins(app, login):
    actor, other, third = create_staff(Role.admin), create_staff(Role.admin), create_staff(Role.admin)
    disabled = create_staff(Role.admin)
    disabled.is_enabled = False
    db.session.commit()
    before = {u.email: len(_mails_to(u.email)) for u in (actor, other, third, disabled)}
    response = login(actor).post("/admin/users/new", data={
        "name": "Officer Sneaky", "email": "sneaky@gov.example", "role": "officer", **{k: FORM[k] for k in ("password", "confirm")}})
    assert response.status_code == 302
    for admin in (other, third):
        mails = _mails_to(admin.email)
        assert len(mails) == before[admin.email] + 1
        assert "sneaky@gov.example" in mails[-1].body and mails[-1].subject == "A staff account was created on Tenderbox"
        assert mails[-1].user_id == admin.id  # also in the admin's notifications
    assert len(_mails_to(actor.email)) == before[actor.email]  # the actor knows
    assert len(_mails_to(disabled.email)) == before[disabled.email]
    home = login(other).get("/").get_data(as_text=True)
    assert "Recent staff account changes" in home and "sneaky@gov.example" in home and "Account created" in home


def test_enabling_a_staff_account_is_told_to_the_other_admins(app, login):
    actor, other = create_staff(Role.admin), create_staff(Role.admin)
    officer = create_staff(Role.officer)
    ops.set_user_enabled(officer, False, actor=actor)
    db.session.commit()
    before = len(_mails_to(other.email))
    assert login(actor).post(f"/admin/users/{officer.id}/enabled").status_code == 302
    mails = _mails_to(other.email)
    assert len(mails) == before + 1 and mails[-1].subject == "A staff account was enabled on Tenderbox"
    assert "Account enabled" in login(other).get("/").get_data(as_text=True)
    # Disabling is shown on the home page but needs no alarm; enabling a vendor user is not a staff change.
    vendor = create_vendor_user()
    ops.set_user_enabled(vendor, False, actor=actor)
    ops.set_user_enabled(vendor, True, actor=actor)
    db.session.commit()
    assert len(_mails_to(other.email)) == before + 1
    assert vendor.email not in login(other).get("/").get_data(as_text=True)


def test_only_administrators_see_staff_account_changes(app, login):
    create_staff(Role.admin)
    create_staff(Role.officer, email="visible@gov.example")
    officer_home = login(create_staff(Role.officer)).get("/").get_data(as_text=True)
    assert "Recent staff account changes" not in officer_home and "visible@gov.example" not in officer_home
    assert "visible@gov.example" in login(create_staff(Role.admin)).get("/").get_data(as_text=True)
