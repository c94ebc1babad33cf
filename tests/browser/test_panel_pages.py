"""The officer's panel page, the chair's moderation page and the results page in a real browser: axe-core clean
in English and Traditional Chinese at 1280 and 390 px, no sideways scrolling on the phone; the chair reopens a
sheet with a reason and records a consensus through the page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from scoring.queries import technical_criteria_of
from tests.browser.conftest import sign_in
from tests.browser.test_panel_journey import SCREENS, SHOTS, _axe_clean, _no_sideways_scroll
from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit


def _scored():
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((60, 10), (40, 10)))
    panel, chair, members, _ = create_panel(exercise, officer)
    c1, c2 = technical_criteria_of(exercise)
    for n, user in enumerate((chair, *members)):
        declare_all(panel, user)
        for submission, base in zip(submissions, (7, 4)):
            score_and_submit(panel, user, submission, values={c1.id: base + n % 2, c2.id: base - 1 + (3 if n == 2 else 0)})
    ids = dict(exercise=exercise.id, panel=panel.id, proposal=submissions[0].id, c1=c1.id, officer=officer.email,
               chair=chair.email)
    db.session.rollback()
    return ids


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", ["en", "zh_Hant"])
def test_panel_moderation_and_results_pages(new_page, app, lang, screen):
    ids = _scored()
    officer = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(officer, ids["officer"])
    officer.goto(f"/language/{lang}?next=/")
    for name, path in (("panel", f"/scoring/exercises/{ids['exercise']}/panel"),
                       ("results", f"/scoring/panels/{ids['panel']}/results"),
                       ("criteria", f"/scoring/exercises/{ids['exercise']}/criteria")):
        assert officer.goto(path).ok, path
        _axe_clean(officer)
        if screen == "phone":
            _no_sideways_scroll(officer)
        officer.screenshot(path=str(SHOTS / f"{name}-{lang}-{screen}.png"), full_page=True)
    chair = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(chair, ids["chair"])
    chair.goto(f"/language/{lang}?next=/")
    assert chair.goto(f"/scoring/panels/{ids['panel']}/proposals/{ids['proposal']}").ok
    _axe_clean(chair)
    if screen == "phone":
        _no_sideways_scroll(chair)
    chair.screenshot(path=str(SHOTS / f"moderation-{lang}-{screen}.png"), full_page=True)


def test_chair_reopens_a_sheet_and_records_consensus(new_page, app):
    ids = _scored()
    page = new_page()
    sign_in(page, ids["chair"])
    page.goto(f"/scoring/panels/{ids['panel']}/proposals/{ids['proposal']}")
    page.fill(f"#c{ids['c1']}-value", "7.5")
    page.fill(f"#c{ids['c1']}-rationale", "Agreed at the moderation meeting.")
    page.locator(f"form[action$='/criteria/{ids['c1']}/consensus'] button").click()
    expect(page.locator(".flash-success")).to_contain_text("consensus score was recorded")
    page.locator("textarea[name=reason]").first.fill("Please look again at criterion 2: far from the panel.")
    page.locator("form[action*='/reopen'] button").first.click()
    expect(page.locator(".flash-success")).to_contain_text("reopened")
