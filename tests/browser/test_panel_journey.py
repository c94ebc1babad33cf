"""A panel member in a real browser (issue 10): declares no conflict for every vendor, scores with autosave (the
status says saved; a reload keeps every keystroke), sees the running weighted total, submits; in English and
Traditional Chinese, on a desktop and a phone screen, axe-core clean on each page."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from scoring.models import Score
from scoring.queries import assignment_for, seat_of, technical_criteria_of
from tests.browser.conftest import read, sign_in
from tests.factories import create_opened_exercise, create_panel

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
SAVED = {"en": "Saved at", "zh_Hant": "已於"}
SUBMITTED = {"en": "The other members", "zh_Hant": "其他成員的評分"}
SHOTS = Path(__file__).resolve().parents[2] / "instance" / "screenshots"


def _axe_clean(page) -> None:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run()")
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}" for v in bad)


def _no_sideways_scroll(page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, widths


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", ["en", "zh_Hant"])
def test_member_declares_scores_with_autosave_and_submits(new_page, app, lang, screen):
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((60, 10), (40, 5)))
    panel, chair, members, _ = create_panel(exercise, officer)
    member = members[0]
    criteria = [c.id for c in technical_criteria_of(exercise)]
    panel_id, email = panel.id, member.email
    db.session.rollback()

    page = new_page(bypass_csp=True, viewport=SCREENS[screen])  # bypass_csp: axe is injected inline
    sign_in(page, email)
    page.goto(f"/language/{lang}?next=/")
    declare = page.locator(f"a[href='/scoring/panels/{panel_id}/declarations']").first
    expect(declare).to_be_visible()
    _axe_clean(page)
    declare.click()
    for radio in page.locator("input[type=radio][value=none]").all():
        radio.check()
    _axe_clean(page)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(rf"/scoring/panels/{panel_id}$"))

    assignment_id = read(lambda: assignment_for(seat_of(member, panel), submissions[0]).id)
    page.goto(f"/scoring/assignments/{assignment_id}")
    expect(page.locator("#sheet-total")).to_have_text("0.00")
    page.fill(f"#s{criteria[0]}", "7")
    page.fill(f"#j{criteria[0]}", "A clear plan for staffing the counters.")
    expect(page.locator("#sheet-total")).to_have_text("42.00")
    expect(page.locator("#autosave-status")).to_contain_text(SAVED[lang], timeout=10_000)
    _axe_clean(page)
    if screen == "phone":
        _no_sideways_scroll(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"sheet-{lang}-{screen}.png"), full_page=True)

    # The score may be saved on its own first (its change event); wait until the justification is saved too.
    justification_saved = lambda: db.session.scalar(sa.select(Score.justification).where(  # noqa: E731
        Score.criterion_id == criteria[0], Score.justification != "")) is not None
    for _ in range(40):
        if read(justification_saved):
            break
        page.wait_for_timeout(250)
    page.reload()  # nothing typed is lost
    expect(page.locator(f"#s{criteria[0]}")).to_have_value("7")
    expect(page.locator(f"#j{criteria[0]}")).to_have_value("A clear plan for staffing the counters.")
    page.fill(f"#s{criteria[1]}", "4")
    page.fill(f"#j{criteria[1]}", "The risk register covers outages well.")
    expect(page.locator("#sheet-total")).to_have_text("74.00")
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator("main")).to_contain_text(SUBMITTED[lang])
    _axe_clean(page)
    page.screenshot(path=str(SHOTS / f"sheet-submitted-{lang}-{screen}.png"), full_page=True)
    assert read(lambda: assignment_for(seat_of(member, panel), submissions[0]).sheet.submitted_at is not None)


def test_refused_submit_in_the_browser_keeps_the_input(new_page, app):
    exercise, submissions, officer = create_opened_exercise(vendors=1, criteria=((100, 10),))
    panel, chair, members, _ = create_panel(exercise, officer)
    from tests.factories import declare_all
    declare_all(panel, members[0])
    assignment_id = assignment_for(seat_of(members[0], panel), submissions[0]).id
    criterion = technical_criteria_of(exercise)[0].id
    email = members[0].email
    db.session.rollback()
    page = new_page(bypass_csp=True)
    sign_in(page, email)
    page.goto(f"/scoring/assignments/{assignment_id}")
    page.fill(f"#s{criterion}", "8")
    page.fill(f"#j{criterion}", "short")
    page.locator("button[name=action][value=submit]").click()
    expect(page.locator(f"#s{criterion}-error")).to_contain_text("Justify")
    expect(page.locator(f"#j{criterion}")).to_have_value("short")
    _axe_clean(page)
