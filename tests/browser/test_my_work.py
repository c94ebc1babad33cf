"""Issue 8 item 10: each role's home ("My work") in a real browser, in English and in Traditional Chinese, at desktop
and phone width, with axe-core finding nothing serious or critical (and item 6: the vendor's re-confirmation banner).

Set SCREENSHOT_DIR to keep a PNG of every page looked at."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from app.extensions import db
from eoi import operations as ops
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import AXE, BLOCKING, VIEWPORTS
from tests.factories import (create_published_exercise, create_staff, create_submission, create_vendor_user,
                             issue_test_addendum)

# role -> (English heading of a section only that role's home has, its Traditional Chinese)
SECTIONS = {
    "vendor": ("Your company's proposals", "貴公司的建議書"),
    "officer": ("Exercises by stage", "按階段劃分的採購活動"),
    "admin": ("Accounts awaiting action", "待處理的帳戶"),
    "panel": ("Your panel work", "你的評審工作"),
    "approver": ("Decisions awaiting your approval", "等待你批准的決定"),
}
TITLES = {"en": "My work", "zh_Hant": "我的工作"}


def _user(role: str) -> str:
    """The signed-in user with something on each home; returns the email (no ORM object is kept)."""
    if role == "vendor":
        vendor = create_vendor_user(email="home@vendor.example")
        exercise = create_published_exercise(reference="OSP-EOI-MYWORK")
        create_submission(exercise, vendor)
        issue_test_addendum(exercise, changes_requirements=True)
    elif role == "officer":
        create_staff(Role.officer, email="home@gov.example")
        exercise = create_published_exercise(reference="OSP-EOI-SOON", closes_in=timedelta(days=2))
        ops.ask_clarification(exercise, actor=create_vendor_user(), question="Is there a site visit?")
    else:
        create_staff(Role(role), email="home@gov.example")
        if role == "admin":
            ops_user = create_staff(Role.officer)
            from app.auth import operations as auth_ops
            admin = create_staff(Role.admin)
            auth_ops.set_user_enabled(ops_user, False, actor=admin)
    db.session.commit()
    db.session.rollback()
    return "home@vendor.example" if role == "vendor" else "home@gov.example"


def _axe(page) -> None:
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run()")
    violations = [v for v in results["violations"] if v["impact"] in BLOCKING]
    assert not violations, "\n".join(f"- {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}"
                                     for v in violations)


@pytest.mark.parametrize("language", TITLES)
@pytest.mark.parametrize("role", SECTIONS)
def test_each_role_has_its_home_in_both_languages(new_page, role, language):
    email = _user(role)
    page = new_page(bypass_csp=True, viewport=VIEWPORTS["desktop"])
    sign_in(page, email)
    if language != "en":
        page.goto(f"/language/{language}?next=/")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[language])
    english, chinese = SECTIONS[role]
    expect(page.get_by_role("heading", name=english if language == "en" else chinese, exact=True)).to_be_visible()
    if role == "vendor":  # item 6: the banner, with the deadline, on the home
        banner = "Re-confirm your proposal for OSP-EOI-MYWORK by" if language == "en" else "重新確認您就 OSP-EOI-MYWORK"
        expect(page.locator(".banner h2")).to_contain_text(banner)
    for name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        if shots := os.environ.get("SCREENSHOT_DIR"):
            page.screenshot(path=str(Path(shots) / f"home-{role}-{language}-{name}.png"), full_page=True)
        _axe(page)
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"the {role} home scrolls sideways at {name} width: {widths}"


# --- axe-core on the other pages these items changed (desktop and phone) -------------------------------------

def _a11y_user(role: str):
    import sqlalchemy as sa
    from app.auth.models import User
    return db.session.scalar(sa.select(User).where(User.email == f"{role}@a11y.example"))


def _visit(page, path: str) -> None:
    db.session.rollback()
    assert page.goto(path).ok, path


def _user_toggle(page):
    other = create_staff(Role.officer, name="Officer To Disable")
    _visit(page, f"/admin/users/{other.id}/enabled")
    expect(page.get_by_role("button", name="Disable the account")).to_be_visible()


def _publish_ordered_for_a_date(page):
    from app.db import now_utc
    from eoi.models import ClusterSubscription
    from tests.factories import create_draft
    exercise = create_draft(publication_at=now_utc() + timedelta(days=1))
    subscriber = create_vendor_user(name_en="Subscribed Services Limited")
    db.session.add(ClusterSubscription(vendor_id=subscriber.vendor_id, cluster_id=exercise.clusters[0].id))
    create_staff(Role.officer)
    create_staff(Role.officer)
    db.session.commit()
    _visit(page, f"/manage/exercises/{exercise.id}/publish")
    expect(page.get_by_role("heading", name="Who is told")).to_be_visible()


def _invitations_published(page):
    from eoi.states import ExerciseKind
    from tests.factories import create_published
    tender = create_published(kind=ExerciseKind.tender, vendors=[create_vendor_user()])
    _visit(page, f"/manage/exercises/{tender.id}/invitations")
    expect(page.get_by_text("The invitation list can no longer change")).to_be_visible()


def _reconfirm(path: str):
    def target(page):
        exercise = create_published_exercise(sections=1)
        create_submission(exercise, _a11y_user("vendor"))
        issue_test_addendum(exercise, changes_requirements=True)
        _visit(page, path.format(id=exercise.id))
        expect(page.locator(".banner")).to_be_visible()
    return target


MY_PAGES = [
    ("admin-user-toggle", "admin", _user_toggle),
    ("exercise-publish-ordered", "officer", _publish_ordered_for_a_date),
    ("invitations-published", "officer", _invitations_published),
    ("exercise-detail-reconfirm", "vendor", _reconfirm("/exercises/{id}")),
    ("receipt-reconfirm", "vendor", _reconfirm("/exercises/{id}/submission/receipt")),
]


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role,target", [pytest.param(role, target, id=id_) for id_, role, target in MY_PAGES])
def test_changed_pages_are_accessible(new_page, viewport, role, target):
    from tests.browser.test_accessibility import _sign_in_as
    page = new_page(bypass_csp=True, viewport=VIEWPORTS[viewport])
    _sign_in_as(page, role)
    target(page)
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=str(Path(shots) / f"{page.url.rsplit('/', 1)[-1] or 'page'}-{role}-{viewport}.png"),
                        full_page=True)
    _axe(page)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, f"{page.url} scrolls sideways on a phone: {widths}"
