"""What the audit log's action codes and object types mean, in the reader's language.

The codes themselves stay as recorded (they are part of the hash chain and what the audit filter matches); pages
show these labels beside them. The core's codes are here; each area adds its own through
app.hooks.Hooks.add_audit_labels. tests/app/test_translations.py checks that every code recorded in the code and
every model class has a label, translated.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTIONS = {
    # recorded only by the benchmark's floor routes (app/bench_routes.py, BENCH_ROUTES=1)
    "bench.floor_submit": _l("Benchmark: floor submission"),
    "bench.floor_upload": _l("Benchmark: floor upload"),
    "storage.full": _l("Upload refused: storage disk full"),
    "auth.password_reset_requested": _l("Password reset requested"),
    "auth.sign_in_failed": _l("Sign-in failed"),
    "auth.signed_in": _l("Signed in"),
    "auth.signed_out": _l("Signed out"),
    "document.downloaded": _l("Document downloaded"),
    "document.failed": _l("Document could not be prepared"),
    "document.queued": _l("Document queued"),
    "document.ready": _l("Document ready"),
    "document.retried": _l("Document queued again"),
    "notification.failed": _l("Email could not be sent"),
    "user.created": _l("Account created"),
    "user.enabled": _l("Account enabled"),
    "user.disabled": _l("Account disabled"),
    "user.email_verified": _l("Email address verified"),
    "user.password_changed": _l("Password changed"),
    "vendor.invitation_revoked": _l("Colleague invitation revoked"),
    "vendor.registered": _l("Company registered"),
    "vendor.registration_refused": _l("Company registration refused"),
    "vendor.registration_released": _l("Unverified registration removed"),
    "vendor.user_invited": _l("Colleague invited"),
    "vendor.user_joined": _l("Colleague joined"),
}

OBJECTS = {
    "AuditEvent": _l("Audit event"),
    "CacheVersion": _l("Cache version"),
    "ColleagueInvitation": _l("Colleague invitation"),
    "Document": _l("Document"),
    "Notification": _l("Notification"),
    "OutboxMessage": _l("Queued task"),
    "StoredFile": _l("Stored file"),
    "User": _l("User account"),
    "Vendor": _l("Company"),
}
