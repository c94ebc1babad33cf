"""The operator's command line: create-admin and verify-audit."""
from __future__ import annotations

import sqlalchemy as sa

from app.audit import AuditEvent, record
from app.auth.models import Role, User
from app.extensions import db
from tests.factories import PASSWORD, create_vendor_user


def _invoke(app, *args, **kwargs):
    db.session.commit()  # the command reuses the test's app context (and session): start it clean
    return app.test_cli_runner().invoke(args=list(args), **kwargs)


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_create_admin_creates_an_administrator_who_can_sign_in(app, login):
    result = _invoke(app, "create-admin", "--email", "Root@Gov.Example", "--name", "Chief Administrator",
                     "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "administrator root@gov.example created" in result.output
    admin = _user("root@gov.example")
    assert admin.role == Role.admin and admin.name == "Chief Administrator" and admin.is_active
    assert admin.password_hash.startswith("$argon2id$") and PASSWORD not in admin.password_hash
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.created"))
    assert event.actor_label == "cli" and event.object_id == str(admin.id) and event.details_dict["role"] == "admin"
    assert login(admin).get("/admin/users").status_code == 200


def test_create_admin_prompts_for_the_password_twice(app):
    result = _invoke(app, "create-admin", "--email", "prompted@gov.example", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert _user("prompted@gov.example").role == Role.admin


def test_create_admin_refuses_a_weak_password(app):
    for weak, reason in (("short pw 1", "too short"), ("password1234", "common"), ("aaaaaaaaaaaaaaaa", "repetitive"),
                         ("weak.admin@gov.example", "common")):
        result = _invoke(app, "create-admin", "--email", "weak.admin@gov.example", "--password", weak)
        assert result.exit_code != 0, weak
        assert f"password rejected: {reason}" in result.output, result.output
    assert _user("weak.admin@gov.example") is None
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_create_admin_refuses_an_existing_email(app):
    vendor = create_vendor_user()
    result = _invoke(app, "create-admin", "--email", vendor.email.upper(), "--password", PASSWORD)
    assert result.exit_code == 1 and f"an account with the email address {vendor.email} already exists" in result.output
    assert "Traceback" not in result.output
    assert _user(vendor.email).role == Role.vendor
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_verify_audit_ok(app):
    result = _invoke(app, "verify-audit")
    assert result.exit_code == 0 and "audit chain OK: 0 events" in result.output
    create_vendor_user()
    for i in range(3):
        record(None, "test.cli", None, i=i)
    db.session.commit()
    events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    result = _invoke(app, "verify-audit")
    assert result.exit_code == 0, result.output
    assert f"audit chain OK: {len(events)} events, head {events[-1].hash}" in result.output
