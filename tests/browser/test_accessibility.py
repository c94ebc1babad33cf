"""axe-core on every page, on a desktop and a phone screen; no sideways scrolling on the phone.

Add a page to PAGES as (id, role, target): role None (anonymous), "vendor" or a staff role value ("admin", "officer", ...); target a path,
or a function(page) that gets the page into the state to check.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.auth.models import Role
from tests.browser.conftest import sign_in
from tests.factories import create_staff, create_vendor_user

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


def _register_with_errors(page):
    page.goto("/register")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".error-summary")).to_be_visible()


def _not_found(page):
    assert page.goto("/no-such-page").status == 404


PAGES = [
    ("home", None, "/"),
    ("login", None, "/login"),
    ("register", None, "/register"),
    ("register-errors", None, _register_with_errors),
    ("password-forgot", None, "/password/forgot"),
    ("account-vendor", "vendor", "/account"),
    ("admin-users", "admin", "/admin/users"),
    ("admin-audit", "admin", "/admin/audit"),
    ("not-found", None, _not_found),
]


def _sign_in_as(page, role: str) -> None:
    email = f"{role}@a11y.example"
    if role == "vendor":
        create_vendor_user(email=email)
    else:
        create_staff(Role(role), email=email)  # no ORM attribute is read afterwards: no open SQLite transaction
    sign_in(page, email)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role,target", [pytest.param(role, target, id=id_) for id_, role, target in PAGES])
def test_page_is_accessible(new_page, viewport, role, target):
    page = new_page(bypass_csp=True, viewport=VIEWPORTS[viewport])  # bypass_csp: axe is injected inline
    if role:
        _sign_in_as(page, role)
    if callable(target):
        target(page)
    else:
        assert page.goto(target).ok, target

    page.add_script_tag(path=str(AXE))
    results = page.evaluate("() => axe.run()")
    violations = [v for v in results["violations"] if v["impact"] in BLOCKING]
    if violations:
        pytest.fail(f"axe on {page.url}:\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes']]}" for v in violations))

    if viewport == "phone":
        widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] + 1, f"{page.url} scrolls sideways on a phone: {widths}"
