"""axe-core on every page, on a desktop and a phone screen; no sideways scrolling on the phone.

Add a page to PAGES as (id, role, target): role None (anonymous), "vendor" or a staff role value ("admin", "officer", ...); target a path,
or a function(page) that gets the page into the state to check.
"""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.auth.models import Role, User
from app.db import now_utc, simulated_time
from app.extensions import db
from eoi import operations as ops
from eoi.models import Exercise
from eoi.operations import SubmissionClosed
from eoi.operations import setup
from eoi.states import ExerciseKind
from scoring.models import Envelope
from scoring.operations import add_criterion
from tests.browser.conftest import sign_in
from tests.factories import (
    OPENING_PASSPHRASE, attachment_upload, clusters, create_draft, create_published_exercise, create_staff, create_submission,
    create_vendor_user, issue_test_addendum)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 740}}


def _register_with_errors(page):
    page.goto("/register")
    page.get_by_role("button", name="Register").click()
    expect(page.locator(".error-summary")).to_be_visible()


def _not_found(page):
    assert page.goto("/no-such-page").status == 404


# --- data for the exercise pages (built through the operations; ids read, then the transaction ends) ----------

def _signed_in(role: str) -> User:
    return db.session.scalar(sa.select(User).where(User.email == f"{role}@a11y.example"))


def _visit(page, path: str) -> None:
    db.session.rollback()  # never leave a transaction open: on SQLite it would hold the server's write lock
    assert page.goto(path).ok, path


def _exercise_with_everything(submitters: int = 0) -> Exercise:
    """Published, with a tender document, submissions, an addendum, a published clarification and an unanswered one."""
    exercise = create_published_exercise(sections=2, word_limit=300, title_en="Operation of the Health cluster")
    for _n in range(submitters):
        create_submission(exercise, create_vendor_user())
    issue_test_addendum(exercise)
    asker = create_vendor_user()
    officer = create_staff(Role.officer)
    answered = ops.ask_clarification(exercise, actor=asker, question="Is a local data centre required?")
    ops.answer_clarification(answered, actor=officer, question_en="Is a local data centre required?",
                             question_zh="是否須設本地數據中心？", answer_en="Yes, in Hong Kong.", answer_zh="是，須設於香港。")
    ops.ask_clarification(exercise, actor=asker, question="May we subcontract the call centre?")
    db.session.commit()
    return exercise


def _exercise_list(page):
    create_published_exercise()
    _exercise_with_everything()
    _visit(page, "/exercises?q=Health")
    expect(page.get_by_role("table", name="1 exercise found")).to_be_visible()


def _exercise_detail(page):
    exercise_id = _exercise_with_everything().id
    _visit(page, f"/exercises/{exercise_id}")


def _tender_submission_edit(page):
    """A tender with a price schedule: a draft with an answer, a file and a price."""
    vendor = _signed_in("vendor")
    exercise = create_published_exercise(kind=ExerciseKind.tender, invited=(vendor,), price_items=2, sections=2,
                                         word_limit=100, attachment_required=True)
    issue_test_addendum(exercise)
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    ops.save_draft(submission, actor=vendor, answers={exercise.sections[0].id: "word " * 120})  # over the limit
    ops.add_submission_file(submission, attachment_upload(name="method-statement.pdf"), actor=vendor,
                            section=exercise.sections[0])
    ops.save_prices(submission, actor=vendor, prices={exercise.price_items[0].id: Decimal("1250000.00")})
    db.session.commit()
    _visit(page, f"/exercises/{exercise.id}/submission")
    expect(page.get_by_role("table", name="Price schedule")).to_be_visible()


def _submission_edit_errors(page):
    """The proposal page after a refused upload with unsaved answers and an invalid price: the error summary."""
    vendor = _signed_in("vendor")
    exercise = create_published_exercise(kind=ExerciseKind.tender, invited=(vendor,), price_items=2, sections=2)
    ops.get_or_create_submission(exercise, actor=vendor)
    db.session.commit()
    section_id, item_id = exercise.sections[1].id, exercise.price_items[0].id
    _visit(page, f"/exercises/{exercise.id}/submission")
    page.locator(f"#price_{item_id}").fill("twelve")
    page.locator(f"#upload-{section_id}").set_input_files({"name": "r.pdf", "mimeType": "application/pdf",
                                                           "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 40})
    page.get_by_role("button", name=re.compile(r"^Upload\W+2\.")).click()
    expect(page.locator(".error-summary")).to_be_focused()


def _receipt(page):
    exercise = create_published_exercise(sections=1)
    create_submission(exercise, _signed_in("vendor"), file_name="proposal.pdf")
    _visit(page, f"/exercises/{exercise.id}/submission/receipt")
    expect(page.get_by_role("heading", name="Receipt for your proposal")).to_be_visible()


def _notifications(page):
    vendor = _signed_in("vendor")
    ops.set_subscriptions(vendor.vendor, {c.id for c in clusters()}, actor=vendor)
    db.session.commit()
    exercise = create_published_exercise()  # tells the subscribers
    issue_test_addendum(exercise)
    _visit(page, "/notifications")
    expect(page.get_by_role("button", name="Mark all as read")).to_be_visible()


def _subscriptions(page):
    clusters()
    db.session.commit()
    _visit(page, "/account/subscriptions")


def _manage_exercises(page):
    create_published_exercise()
    _exercise_with_everything()
    _visit(page, "/manage/exercises")


def _exercise_dashboard(page):
    exercise = _exercise_with_everything(submitters=2)
    late = create_vendor_user()
    ops.record_late_attempt(SubmissionClosed("late", exercise=exercise, actor=late, action="submit",
                                             received=exercise.closes_at + timedelta(seconds=1)))
    db.session.commit()
    _visit(page, f"/manage/exercises/{exercise.id}")
    expect(page.get_by_role("table", name="Late attempts refused")).to_be_visible()


def _draft_dashboard(page):
    """A draft tender being set up: the publication checklist, section and price line actions."""
    exercise = create_draft(kind=ExerciseKind.tender, has_price_envelope=True)
    setup.add_section(exercise, actor=_signed_in("officer"), title_en="Staffing", title_zh="人手", guidance_en="",
                      guidance_zh="", word_limit=None, answer_required=True, attachment_required=True)
    setup.add_price_item(exercise, actor=_signed_in("officer"), description_en="Operation fee", description_zh="營運費",
                         unit="year", quantity=5)
    db.session.commit()
    _visit(page, f"/manage/exercises/{exercise.id}")
    # Not publishable yet (no invitation): the checklist says what to fix and no publish button is offered.
    expect(page.get_by_text("Fix these before publishing:")).to_be_visible()
    expect(page.get_by_role("link", name="Publish the exercise…")).to_have_count(0)


def _publish_form(page):
    """The publication page: what to fix, and the choice of the officers who may open the box."""
    exercise = create_draft()
    create_staff(Role.officer, name="Another Officer")
    db.session.commit()
    _visit(page, f"/manage/exercises/{exercise.id}/publish")
    expect(page.get_by_role("group", name="Officers who may open the box")).to_be_visible()


def _clarifications(page):
    exercise_id = _exercise_with_everything().id
    _visit(page, f"/manage/exercises/{exercise_id}/clarifications")
    expect(page.get_by_role("button", name="Publish the answer")).to_be_visible()


def _addendum_form(page):
    exercise_id = create_published_exercise().id
    _visit(page, f"/manage/exercises/{exercise_id}/addenda/new")


def _opening(page):
    """Closed, with submissions, the opening started by another officer: this officer sees the password form."""
    with simulated_time(now_utc() - timedelta(days=1)):  # submitted while open; closed a minute ago
        exercise = create_published_exercise(sections=1, closes_in=timedelta(days=1, minutes=-1))
        for _n in range(2):
            create_submission(exercise, create_vendor_user())
    starter = next(o.user for o in exercise.opening_officers if o.user_id != _signed_in("officer").id)
    ops.start_opening(exercise, actor=starter, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    _visit(page, f"/manage/exercises/{exercise.id}/opening")
    expect(page.get_by_label("Your opening passphrase")).to_be_visible()


def _criteria(page):
    """A draft tender's evaluation criteria, one technical and one price criterion (weights not yet 100 in either)."""
    exercise = create_draft(kind=ExerciseKind.tender, has_price_envelope=True)
    officer = _signed_in("officer")
    for name, weight, envelope in (("Operation plan", "60", Envelope.technical), ("Price", "30", Envelope.price)):
        add_criterion(exercise, actor=officer, name_en=name, name_zh=name, weight=Decimal(weight), max_score=10,
                      pass_mark=None, envelope=envelope)
    db.session.commit()
    _visit(page, f"/scoring/exercises/{exercise.id}/criteria")
    expect(page.get_by_text("add up to 60%")).to_be_visible()


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
    ("exercises", None, _exercise_list),
    ("exercise-detail", None, _exercise_detail),
    ("exercise-detail-vendor", "vendor", _exercise_detail),
    ("submission-edit-tender", "vendor", _tender_submission_edit),
    ("submission-edit-errors", "vendor", _submission_edit_errors),
    ("submission-receipt", "vendor", _receipt),
    ("notifications", "vendor", _notifications),
    ("subscriptions", "vendor", _subscriptions),
    ("manage-exercises", "officer", _manage_exercises),
    ("exercise-dashboard", "officer", _exercise_dashboard),
    ("exercise-dashboard-draft", "officer", _draft_dashboard),
    ("exercise-publish", "officer", _publish_form),
    ("exercise-new", "officer", "/manage/exercises/new"),
    ("clarifications", "officer", _clarifications),
    ("addendum-form", "officer", _addendum_form),
    ("opening", "officer", _opening),
    ("opening-key", "officer", "/manage/opening-key"),
    ("criteria", "officer", _criteria),
    ("contract-register", "officer", "/contracts/"),
    ("contract-verify", None, "/contracts/verify"),
    ("contract-verify-result", None, "/contracts/verify?reference=PPP/XX/2008/01"),
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
        # No control hidden off screen inside a table that scrolls sideways (issue 8, item 5).
        outside = page.evaluate("""() => Array.from(document.querySelectorAll("main input, main select, main textarea, main button"))
            .filter((el) => el.offsetParent !== null && el.type !== "hidden")
            .filter((el) => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > window.innerWidth + 1; })
            .map((el) => el.id || el.name || el.textContent.trim())""")
        assert not outside, f"{page.url}: controls outside the phone's screen: {outside}"
