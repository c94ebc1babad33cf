"""Invariant 4 with the scoring area (issue 10, item 6): a tender's prices are unreadable on every route until the
chair has signed the technical evaluation off and two named officers have opened the price envelopes; even then a
tender that failed the technical evaluation keeps its prices sealed. Walks every registered GET route as each
role (the walk of tests/invariants/test_sealed_box.py), with a positive control that the walk finds opened prices."""
from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.extensions import db
from eoi.models import Submission
from scoring.models import Panel
from scoring.operations import confirm_price_opening, sign_off_technical, start_price_opening
from scoring.queries import technical_criteria_of
from tests.factories import (OPENING_PASSPHRASE, create_opened_tender, create_panel, create_staff, declare_all,
                             score_and_submit)
from tests.invariants.test_sealed_box import _urls, _walk

COMPLIANT_PRICE, FAILED_PRICE = Decimal("8765432.19"), Decimal("7654321.98")
# the unit price and the tender's total (1 × set-up + 5 × yearly fee = 6 × the unit price), as typed and as shown
COMPLIANT_MARKERS = ["8765432.19", "8,765,432.19", "52592593.14", "52,592,593.14"]
FAILED_MARKERS = ["7654321.98", "7,654,321.98", "45925931.88", "45,925,931.88"]


def _world():
    exercise, submissions, officer, second = create_opened_tender(prices=(COMPLIANT_PRICE, FAILED_PRICE))
    panel, chair, members, clerk = create_panel(exercise, officer, members=1)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0], values={c1.id: 8, c2.id: 7})
        score_and_submit(panel, user, submissions[1], values={c1.id: 2, c2.id: 9})  # fails criterion 1's pass mark
    return panel, submissions, officer, second, chair, members[0], clerk


def _viewers(officer, chair, member, clerk):
    return {"officer": officer, "chair": chair, "member": member, "secretary": clerk,
            "admin": create_staff(Role.admin), "approver": create_staff(Role.approver)}


def _max_id(panel):
    return max(8, panel.id, db.session.scalar(sa.select(sa.func.max(Submission.id))) or 0)


@pytest.mark.parametrize("stage", ["scored", "signed_off"])
def test_no_route_shows_a_price_before_the_price_opening(app, login, stage):
    panel, submissions, officer, second, chair, member, clerk = _world()
    if stage == "signed_off":
        sign_off_technical(panel, actor=chair)
        db.session.commit()
    urls = _urls(app, _max_id(panel))
    assert any("/prices" in u for u in urls) and any("/results" in u for u in urls)
    for name, viewer in _viewers(officer, chair, member, clerk).items():
        leaks = _walk(login(viewer), urls, COMPLIANT_MARKERS + FAILED_MARKERS)
        assert leaks == {}, f"{name} saw a price: {leaks}"


def test_after_the_price_opening_only_compliant_prices_reach_the_officers(app, login):
    panel, submissions, officer, second, chair, member, clerk = _world()
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    start_price_opening(panel, actor=officer, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    confirm_price_opening(db.session.get(Panel, panel.id), actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    urls = _urls(app, _max_id(panel))
    seen = _walk(login(officer), urls, COMPLIANT_MARKERS + FAILED_MARKERS)
    # positive control: the walk finds the compliant tender's price (the price opening page, its price schedule)
    assert any(set(found) & set(COMPLIANT_MARKERS) for found in seen.values())
    assert not [url for url, found in seen.items() if set(found) & set(FAILED_MARKERS)]
    for name, viewer in _viewers(officer, chair, member, clerk).items():
        if name == "officer":
            continue
        leaks = _walk(login(viewer), urls, FAILED_MARKERS)
        assert leaks == {}, f"{name} saw the non-compliant tender's price: {leaks}"
