"""The results pages (issue 10, item 6) through HTTP: the chair signs off on the results page, two named officers
open the compliant tenders' prices on the price opening page, the combined ranking and the recommended tenderer
are shown; the role matrix of every route, and refusals with their reason, audited."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.auth.models import Role
from app.extensions import db
from eoi.models import Exercise
from scoring.models import Panel
from scoring.states import PanelState
from tests.factories import OPENING_PASSPHRASE, create_staff, create_vendor_user
from tests.scoring.test_results import tender  # noqa: F401  (fixture)


def _refusals():
    return [json.loads(e.details) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "exercise.price_opening_refused").order_by(AuditEvent.id))]


def _text(response) -> str:
    return response.get_data(as_text=True)


def test_the_whole_flow_through_the_pages(tender, login):
    panel, chair, members, submissions, officer, second = tender
    chair_client, first, other = login(chair), login(officer), login(second)
    page = _text(chair_client.get(f"/scoring/panels/{panel.id}/results"))
    assert "Sign off the technical evaluation" in page and "Technical evaluation in progress" in page
    assert chair_client.post(f"/scoring/panels/{panel.id}/sign-off").status_code == 302
    db.session.expire_all()
    assert db.session.get(Panel, panel.id).state == PanelState.signed_off
    page = _text(first.get(f"/scoring/panels/{panel.id}/prices"))
    assert "Start the price opening" in page and "Not technically compliant (prices stay sealed)" in page
    assert first.post(f"/scoring/panels/{panel.id}/prices/start", data={"passphrase": OPENING_PASSPHRASE}).status_code == 302
    assert "A different officer must sign in and confirm it" in _text(first.get(f"/scoring/panels/{panel.id}/prices"))
    assert "Confirm and open the price envelopes" in _text(other.get(f"/scoring/panels/{panel.id}/prices"))
    assert other.post(f"/scoring/panels/{panel.id}/prices/confirm", data={"passphrase": OPENING_PASSPHRASE}).status_code == 302
    page = _text(first.get(f"/scoring/panels/{panel.id}/prices"))
    assert "every price line matches the receipt" in page and "HK$600.00" in page and "HK$480.00" in page
    results = _text(first.get(f"/scoring/panels/{panel.id}/results"))
    assert "Combined ranking" in results and "Recommended" in results and "77.2" in results
    assert "Not technically compliant: price envelope kept sealed" in results
    chair_view = _text(chair_client.get(f"/scoring/panels/{panel.id}/results"))
    assert "Combined ranking" in chair_view and "Sign off the technical evaluation</h2>" not in chair_view
    schedule = first.get(f"/scoring/panels/{panel.id}/prices/{submissions[1].id}")
    assert schedule.status_code == 200 and "HK$400.00" in _text(schedule)  # 5 years × 80


def test_refusals_are_shown_with_their_reason_and_audited(tender, login):
    panel, chair, members, submissions, officer, second = tender
    first = login(officer)
    response = first.post(f"/scoring/panels/{panel.id}/prices/start", data={"passphrase": OPENING_PASSPHRASE},
                          follow_redirects=True)
    assert "opened only after the panel&#39;s chair has signed" in _text(response)
    member = login(members[0])
    assert member.post(f"/scoring/panels/{panel.id}/prices/start",
                       data={"passphrase": OPENING_PASSPHRASE}).status_code == 302
    login(chair).post(f"/scoring/panels/{panel.id}/sign-off")
    first.post(f"/scoring/panels/{panel.id}/prices/start", data={"passphrase": OPENING_PASSPHRASE})
    alone = first.post(f"/scoring/panels/{panel.id}/prices/confirm", data={"passphrase": OPENING_PASSPHRASE},
                       follow_redirects=True)
    assert "A second, different officer must confirm the opening." in _text(alone)
    sealed_one = first.get(f"/scoring/panels/{panel.id}/prices/{submissions[2].id}", follow_redirects=True)
    assert "stays sealed" in _text(sealed_one)
    reasons = [r["reason"] for r in _refusals()]
    assert len(reasons) == 4
    assert reasons[0].startswith("The price envelopes are opened only after")
    assert reasons[1].startswith("Only procurement officers")
    assert reasons[2] == "A second, different officer must confirm the opening."
    assert _refusals()[3]["submission_id"] == submissions[2].id
    assert db.session.get(Exercise, panel.exercise_id).price_opened_at is None


@pytest.mark.parametrize("who, results, prices, sign_off", [
    ("officer", 200, 200, 302), ("chair", 200, 403, 302), ("member", 404, 403, 404), ("secretary", 404, 403, 404),
    ("other_panel", 404, 403, 404), ("admin", 403, 403, 403), ("approver", 403, 403, 403), ("vendor", 403, 403, 403)])
def test_role_matrix(tender, login, who, results, prices, sign_off):
    panel, chair, members, submissions, officer, second = tender
    clerk = next(m.user for m in panel.members if m.role.value == "secretary")
    user = {"officer": officer, "chair": chair, "member": members[0], "secretary": clerk}.get(who) or {
        "other_panel": lambda: create_staff(Role.panel), "admin": lambda: create_staff(Role.admin),
        "approver": lambda: create_staff(Role.approver),
        "vendor": create_vendor_user,
    }[who]()
    client = login(user)
    assert client.get(f"/scoring/panels/{panel.id}/results").status_code == results
    assert client.get(f"/scoring/panels/{panel.id}/prices").status_code == prices
    assert client.get(f"/scoring/panels/{panel.id}/prices/{submissions[0].id}").status_code in (prices, 302)
    assert client.post(f"/scoring/panels/{panel.id}/sign-off").status_code == sign_off
    db.session.expire_all()
    signed = db.session.get(Panel, panel.id).state == PanelState.signed_off
    # only the chair signs off (an officer only when the chair has a conflict): the officer's post is refused
    assert signed == (who == "chair")


def test_results_page_in_traditional_chinese_and_the_eoi_shortlist(app, login):
    from scoring.operations import sign_off_technical
    from scoring.queries import technical_criteria_of
    from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((50, 10), (50, 10)))
    panel, chair, members, _ = create_panel(exercise, officer, members=1)
    c1, c2 = technical_criteria_of(exercise)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0], values={c1.id: 8, c2.id: 7})
        score_and_submit(panel, user, submissions[1], values={c1.id: 6, c2.id: 6})
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    client = login(officer)
    client.get("/language/zh_Hant")
    page = _text(client.get(f"/scoring/panels/{panel.id}/results"))
    assert f"由{chair.name}簽署確認" in page and "建議入圍名單" in page
    assert page.index(submissions[0].vendor.name_zh) < page.rindex(submissions[1].vendor.name_zh)
    assert client.get(f"/scoring/panels/{panel.id}/prices").status_code == 403  # an EOI has no price envelope


def _first_place_hangs_on_one_member(hide_identities: bool):
    """An EOI scored so that leaving out either member changes the first place: the robustness sentence then names
    the proposal that would be first instead."""
    from scoring.queries import technical_criteria_of
    from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit
    exercise, submissions, officer = create_opened_exercise(vendors=2, criteria=((50, 10), (50, 10)))
    panel, chair, members, _ = create_panel(exercise, officer, members=2, hide_identities=hide_identities)
    c1, c2 = technical_criteria_of(exercise)
    for user, (a, b) in zip((chair, *members), ((10, 0), (0, 6), (0, 6))):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0], values={c1.id: a, c2.id: a})
        score_and_submit(panel, user, submissions[1], values={c1.id: b, c2.id: b})
    db.session.commit()
    return panel, chair, officer, submissions


def _robustness_section(page: str) -> str:
    start = page.index("Can this result be defended?")
    return page[start:page.index("</ul>", start)]


@pytest.mark.parametrize("language", ["en", "zh_Hant"])
def test_a_chair_of_a_hidden_identity_panel_reads_no_vendor_name_in_the_robustness_sentences(app, login, language):
    panel, chair, officer, submissions = _first_place_hangs_on_one_member(hide_identities=True)
    client = login(chair)
    client.get(f"/language/{language}")
    page = _text(client.get(f"/scoring/panels/{panel.id}/results"))
    section = _robustness_section(page) if language == "en" else page
    letter = "Proposal A" if language == "en" else "建議書 A"
    assert letter in section  # positive control: the sentence does name the proposal that would be first
    for s in submissions:
        for name in (s.vendor.name_en, s.vendor.name_zh):
            assert name not in page, f"{name} leaked to the chair of a panel that hides identities"


def test_an_officer_reads_the_vendor_names_in_the_robustness_sentences(app, login):
    panel, chair, officer, submissions = _first_place_hangs_on_one_member(hide_identities=True)
    section = _robustness_section(_text(login(officer).get(f"/scoring/panels/{panel.id}/results")))
    assert "would not be first without the scores of" in section
    assert submissions[0].vendor.name_en in section


def test_the_moderation_page_says_whether_the_ranking_can_be_defended_in_the_readers_names(app, login):
    """Issue 10, item 7: the robustness sentences on the moderation page too; the chair of a panel hiding
    identities reads letters there as on the results page, the officer reads names."""
    panel, chair, officer, submissions = _first_place_hangs_on_one_member(hide_identities=True)
    url = f"/scoring/panels/{panel.id}/proposals/{submissions[0].id}"
    chair_page = _text(login(chair).get(url))
    start = chair_page.index("Can the ranking be defended?")
    section = chair_page[start:chair_page.index("</ul>", start)]
    assert "would not be first without the scores of" in section and "Proposal" in section
    for s in submissions:
        assert s.vendor.name_en not in chair_page
    officer_page = _text(login(officer).get(url))
    assert submissions[0].vendor.name_en in officer_page[officer_page.index("Can the ranking be defended?"):]
