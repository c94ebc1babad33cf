"""The end of a tender's evaluation in a real browser (issue 10, item 6): the chair signs the technical evaluation
off on the results page; two named officers open the compliant tenders' prices on the price opening page, each
with its opening passphrase; the results page shows the combined ranking and the recommended tenderer. Every page
axe-core clean in English and Traditional Chinese at 1280 and 390 px, no sideways scrolling on the phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from scoring.queries import technical_criteria_of
from tests.browser.conftest import sign_in
from tests.browser.test_panel_journey import SCREENS, SHOTS, _axe_clean, _no_sideways_scroll
from tests.factories import (OPENING_PASSPHRASE, create_opened_tender, create_panel, declare_all, score_and_submit)


def _scored_tender():
    exercise, submissions, officer, second = create_opened_tender()
    panel, chair, members, _ = create_panel(exercise, officer, members=1)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        for submission, (a, b) in zip(submissions, ((8, 7), (6, 6), (3, 9))):
            score_and_submit(panel, user, submission, values={c1.id: a, c2.id: b})
    ids = dict(exercise=exercise.id, panel=panel.id, officer=officer.email, second=second.email, chair=chair.email,
               compliant=submissions[1].id)
    db.session.rollback()
    return ids


def _check(page, name, lang, screen):
    _axe_clean(page)
    if screen == "phone":
        _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"{name}-{lang}-{screen}.png"), full_page=True)


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", ["en", "zh_Hant"])
def test_sign_off_price_opening_and_combined_results(new_page, app, lang, screen):
    ids = _scored_tender()
    chair = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(chair, ids["chair"])
    chair.goto(f"/language/{lang}?next=/")
    chair.goto(f"/scoring/panels/{ids['panel']}/results")
    _check(chair, "results-before-sign-off", lang, screen)
    chair.locator("#sign-off-heading ~ form button").click()
    expect(chair.locator(".flash")).to_be_visible()
    first = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(first, ids["officer"])
    first.goto(f"/language/{lang}?next=/")
    first.goto(f"/scoring/panels/{ids['panel']}/prices")
    _check(first, "price-opening", lang, screen)
    first.fill("input[name=passphrase]", OPENING_PASSPHRASE)
    first.locator("form.narrow button[type=submit]").click()
    second = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(second, ids["second"])
    second.goto(f"/language/{lang}?next=/")
    second.goto(f"/scoring/panels/{ids['panel']}/prices")
    second.fill("input[name=passphrase]", OPENING_PASSPHRASE)
    second.locator("form.narrow button[type=submit]").click()
    expect(second.locator("table")).to_contain_text("HK$480.00")
    _check(second, "price-opened", lang, screen)
    second.goto(f"/scoring/panels/{ids['panel']}/results")
    expect(second.locator(".badge")).to_be_visible()  # the recommended tenderer
    _check(second, "results-combined", lang, screen)
    second.goto(f"/scoring/panels/{ids['panel']}/prices/{ids['compliant']}")
    expect(second.locator("tfoot")).to_contain_text("HK$480.00")
    _check(second, "tender-prices", lang, screen)
