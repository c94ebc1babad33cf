"""The evaluation report page and the moderation page's charts in a real browser, English and Traditional Chinese, at
1280 and 390 px: axe-core clean, no sideways scrolling on the phone; the officer prepares the report (rendered by the
task), downloads the PDF; the chart images load."""
from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_panel_journey import SCREENS, SHOTS, _axe_clean, _no_sideways_scroll
from tests.browser.test_panel_pages import _scored

PREPARE = {"en": "Prepare the report", "zh_Hant": "製備報告"}
DOWNLOAD = {"en": "Download the evaluation report (PDF)", "zh_Hant": "下載評審報告（PDF）"}


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("lang", ["en", "zh_Hant"])
def test_report_page_and_moderation_charts(new_page, app, lang, screen):
    ids = _scored()
    SHOTS.mkdir(parents=True, exist_ok=True)
    officer = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(officer, ids["officer"])
    officer.goto(f"/language/{lang}?next=/")
    assert officer.goto(f"/scoring/panels/{ids['panel']}/report").ok
    _axe_clean(officer)
    officer.get_by_role("button", name=PREPARE[lang], exact=True).click(timeout=120_000)  # eager task: renders in the request
    link = officer.get_by_role("link", name=DOWNLOAD[lang])
    link.wait_for(timeout=120_000)
    _axe_clean(officer)
    if screen == "phone":
        _no_sideways_scroll(officer)
    officer.screenshot(path=str(SHOTS / f"report-{lang}-{screen}.png"), full_page=True)
    with officer.expect_download() as download:
        link.click()
    path = SHOTS / f"evaluation-report-{lang}.pdf"
    download.value.save_as(str(path))
    assert path.read_bytes().startswith(b"%PDF")

    chair = new_page(bypass_csp=True, viewport=SCREENS[screen])
    sign_in(chair, ids["chair"])
    chair.goto(f"/language/{lang}?next=/")
    assert chair.goto(f"/scoring/panels/{ids['panel']}/proposals/{ids['proposal']}").ok
    loaded = chair.evaluate("() => [...document.querySelectorAll('img.chart')].map(i => i.complete && i.naturalWidth)")
    assert len(loaded) == 2 and all(loaded), loaded
    _axe_clean(chair)
    if screen == "phone":
        _no_sideways_scroll(chair)
    chair.screenshot(path=str(SHOTS / f"moderation-charts-{lang}-{screen}.png"), full_page=True)
