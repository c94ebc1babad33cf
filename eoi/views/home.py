"""The eoi area's panels on the home page ("My work", issue 8 item 10): a vendor's proposals, addenda to
acknowledge, re-confirmations due and unread notifications; an officer's exercises by stage and what waits for them.
Registered in eoi.init_app through app.hooks (add_home_panel); the context functions only read."""
from __future__ import annotations

from app.db import now_utc
from eoi import queries
from eoi.permissions import can_edit_submission, can_withdraw_submission


def vendor_home(user) -> dict:
    work = queries.vendor_work(user, now_utc())
    return {"work": work,
            "can_edit": {s.id for s in work.proposals if can_edit_submission(user, s)},
            "can_withdraw": {s.id for s in work.proposals if can_withdraw_submission(user, s)}}


def officer_home(user) -> dict:
    return {"work": queries.officer_work(now_utc())}
