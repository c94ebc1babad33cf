"""Access decisions for the public and vendor routes of eoi, to merge into tests/app/test_access.py.

ROUTE_ACCESS_VENDOR   -> ROUTE_ACCESS
VENDOR_OBJECTS_VENDOR -> VENDOR_OBJECTS (URL argument -> that company's values, for the vendor A / vendor B test)
NOT_VENDOR_OWNED_VENDOR -> NOT_VENDOR_OWNED
"""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.models import Role, User
from app.extensions import db
from eoi.models import Submission, SubmissionFile

PUBLIC = "public"
VENDOR = Role.vendor

ROUTE_ACCESS_VENDOR = {
    # eoi/views/public.py
    "eoi.exercise_list": PUBLIC,
    "eoi.exercise_detail": PUBLIC,  # drafts: 404 except for officers
    "eoi.exercise_document_download": PUBLIC,  # restricted tenders: 404 except for invited vendors and officers
    # eoi/views/vendor.py (submission URLs are keyed by the signed-in user's company: no other company's object)
    "eoi.interest_register": {VENDOR},
    "eoi.clarification_ask": {VENDOR},
    "eoi.addendum_acknowledge": {VENDOR},
    "eoi.subscriptions": {VENDOR},
    "eoi.notifications": {VENDOR},
    "eoi.notifications_read": {VENDOR},
    "eoi.submission_edit": {VENDOR},
    "eoi.submission_upload": {VENDOR},
    "eoi.submission_file_download": {VENDOR},  # object check: another company's file id -> 404
    "eoi.submission_file_remove": {VENDOR},  # object check: another company's file id -> 404
    "eoi.submission_prices": {VENDOR},
    "eoi.submission_submit": {VENDOR},
    "eoi.submission_receipt": {VENDOR},
    "eoi.submission_withdraw": {VENDOR},
    "eoi.submission_reconfirm": {VENDOR},
}


def _files_of(user: User) -> list[dict]:
    rows = db.session.execute(sa.select(Submission.exercise_id, SubmissionFile.id)
                              .join(SubmissionFile, SubmissionFile.submission_id == Submission.id)
                              .where(Submission.vendor_id == user.vendor_id)).all()
    return [{"exercise_id": exercise_id, "file_id": file_id} for exercise_id, file_id in rows]


VENDOR_OBJECTS_VENDOR = {
    "file_id": _files_of,
}
# exercise_id: public objects (the company's own submission is found from the signed-in user, never from the URL);
# document_id: a tender document; addendum_id: an addendum, public like its exercise.
NOT_VENDOR_OWNED_VENDOR = {"exercise_id", "document_id", "addendum_id"}
