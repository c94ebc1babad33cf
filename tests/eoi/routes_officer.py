"""Who may use each officer route of the eoi area (merged into ROUTE_ACCESS in tests/app/test_access.py).

Every officer route is for procurement officers only; object checks (sealed box) happen inside the views.
None of them takes the id of a vendor-owned object on a route a vendor can reach (vendors get 403 first).
"""
from __future__ import annotations

from app.auth.models import Role

OFFICER = Role.officer
OFFICERS_ONLY = frozenset({OFFICER})

ROUTE_ACCESS_OFFICER: dict[str, object] = {
    "eoi.manage_exercises": {"GET": OFFICERS_ONLY},
    "eoi.exercise_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.exercise_edit": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.exercise_manage": {"GET": OFFICERS_ONLY},
    "eoi.exercise_publish": {"POST": OFFICERS_ONLY},
    "eoi.exercise_cancel": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.section_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.section_edit": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.section_move": {"POST": OFFICERS_ONLY},
    "eoi.section_delete": {"POST": OFFICERS_ONLY},
    "eoi.price_item_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.price_item_delete": {"POST": OFFICERS_ONLY},
    "eoi.exercise_document_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.exercise_document_file": {"GET": OFFICERS_ONLY},
    "eoi.exercise_invitations": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.exercise_invite_from_eoi": {"POST": OFFICERS_ONLY},
    "eoi.manage_clarifications": {"GET": OFFICERS_ONLY},
    "eoi.clarification_answer": {"POST": OFFICERS_ONLY},
    "eoi.addendum_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.incident_new": {"GET": OFFICERS_ONLY, "POST": OFFICERS_ONLY},
    "eoi.opening": {"GET": OFFICERS_ONLY},
    "eoi.opening_start": {"POST": OFFICERS_ONLY},
    "eoi.opening_confirm": {"POST": OFFICERS_ONLY},
    "eoi.manage_submission": {"GET": OFFICERS_ONLY},  # + sealed until opened (eoi.sealed)
    "eoi.manage_submission_file": {"GET": OFFICERS_ONLY},  # + sealed until opened (eoi.sealed)
}
