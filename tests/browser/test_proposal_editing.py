"""The proposal page is one editing model (issue 8, items 1 and 5, and its "Bad input" paragraph), in Chromium:
what is on screen is what is submitted; an upload keeps (and saves) answers and prices typed but not saved; a
refused upload keeps them on the page with the problem summarised at the top; autosave a few seconds after typing
stops; a warning before leaving with unsaved changes; a signed-out session loses nothing typed; price entry at
390 px with every input on screen. English and Traditional Chinese.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from eoi import operations as ops
from eoi.models import Submission, SubmissionVersion
from eoi.sealed import content_for_system, manifest_for_system, prices_for_system
from eoi.states import ExerciseKind
from tests.browser.conftest import read, sign_in
from tests.factories import PNG_BYTES, SMALL_PDF, create_published_exercise, create_vendor_user

PHONE = {"width": 390, "height": 844}
LABELS = {  # the buttons by their visible names, per language
    "en": {"submit": "Submit proposal", "upload": "Upload", "save_prices": "Save prices", "save": "Save draft",
           "receipt": "Receipt for your proposal"},
    "zh_Hant": {"submit": "提交建議書", "upload": "上載", "save_prices": "儲存價格", "save": "儲存草擬本",
                "receipt": "您的建議書收據"},
}
LANGUAGES = ["en", "zh_Hant"]


def _vendor_with_draft(locale: str, *, email: str, kind: ExerciseKind = ExerciseKind.eoi, price_items: int = 0):
    """A vendor (its language saved) with a complete, saved draft; returns (exercise id, section ids, item ids)."""
    vendor = create_vendor_user(email=email, locale=locale)
    exercise = create_published_exercise(sections=2, kind=kind, price_items=price_items,
                                         invited=(vendor,) if kind == ExerciseKind.tender else ())
    submission = ops.get_or_create_submission(exercise, actor=vendor)
    ops.save_draft(submission, actor=vendor, answers={s.id: f"Saved answer {s.position}." for s in exercise.sections})
    db.session.commit()
    return read(lambda: (exercise.id, [s.id for s in exercise.sections], [i.id for i in exercise.price_items]))


def _stored(exercise_id: int) -> tuple[dict, dict, int]:
    """(answers, prices, draft version) as stored now, read through the sealed box's system door."""
    def query():
        submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise_id))
        return (content_for_system(submission, purpose="test").answers,
                prices_for_system(submission, purpose="test").lines, submission.draft_version)
    return read(query)


def _button(page, locale: str, key: str, **kwargs):
    return page.get_by_role("button", name=LABELS[locale][key], **kwargs)


def _expect_language(page, locale: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant" if locale == "zh_Hant" else "en")


@pytest.mark.parametrize("locale,javascript", [("en", True), ("zh_Hant", True), ("en", False)])
def test_an_unsaved_edit_then_submit_submits_the_new_text(new_page, locale, javascript):
    exercise_id, sections, _items = _vendor_with_draft(locale, email=f"submit-{locale}-{javascript}@edit.example")
    page = new_page(java_script_enabled=javascript)
    sign_in(page, f"submit-{locale}-{javascript}@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")
    _expect_language(page, locale)

    typed = "Typed just now, never saved: 我們的方案。"
    page.locator(f"#answer_{sections[0]}").fill(typed)
    _button(page, locale, "submit").click()  # at once: before any autosave could run
    expect(page.get_by_role("heading", level=1)).to_have_text(LABELS[locale]["receipt"])

    def submitted():
        version = db.session.scalar(sa.select(SubmissionVersion).join(
            Submission, SubmissionVersion.submission_id == Submission.id).where(Submission.exercise_id == exercise_id))
        return manifest_for_system(version, purpose="test")["answers"] if version else None
    answers = read(submitted)
    assert answers == {str(sections[0]): typed, str(sections[1]): "Saved answer 2."}


@pytest.mark.parametrize("locale", LANGUAGES)
def test_an_upload_keeps_and_saves_answers_and_prices_typed_but_not_saved(new_page, locale):
    exercise_id, sections, items = _vendor_with_draft(locale, email=f"upload-{locale}@edit.example",
                                                      kind=ExerciseKind.tender, price_items=2)
    page = new_page()
    sign_in(page, f"upload-{locale}@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")

    answer, price = "Typed, then a file was uploaded.", "1,250,000.50"
    page.locator(f"#answer_{sections[1]}").fill(answer)
    page.locator(f"#price_{items[0]}").fill(price)
    page.locator(f"#upload-{sections[0]}").set_input_files(
        {"name": "method-statement.pdf", "mimeType": "application/pdf", "buffer": SMALL_PDF})
    page.get_by_role("button", name=re.compile(rf"^{LABELS[locale]['upload']}\W+1\.")).click()

    # Back where the vendor was, the message focused; what was typed is on the page and saved.
    expect(page).to_have_url(re.compile(r"at=files-\d+#message$"))
    message = page.locator("#message")
    expect(message).to_contain_text("method-statement.pdf")
    expect(message).to_be_focused()
    expect(page.get_by_role("table").filter(has_text="method-statement.pdf")).to_be_visible()
    expect(page.locator(f"#answer_{sections[1]}")).to_have_value(answer)
    expect(page.locator(f"#price_{items[0]}")).to_have_value("1,250,000.50")  # saved, shown as saved
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"\d:\d\d"))  # saved: nothing to put back
    answers, prices, _version = _stored(exercise_id)
    assert answers[sections[1]] == answer and str(prices[items[0]]) == "1250000.50"

    # Enter in a price field saves the page (the form's default button), never removes or uploads a file.
    page.locator(f"#price_{items[1]}").fill("99")
    page.locator(f"#price_{items[1]}").press("Enter")
    expect(page).to_have_url(re.compile(r"at=answers#message$"))
    expect(page.locator(f"#price_{items[1]}")).to_have_value("99.00")
    expect(page.locator("#autosave-status")).to_have_text(re.compile(r"\d:\d\d"))  # "99" is the saved 99.00
    expect(page.get_by_role("table").filter(has_text="method-statement.pdf")).to_be_visible()
    assert _stored(exercise_id)[1][items[1]] == 99


@pytest.mark.parametrize("locale", LANGUAGES)
def test_a_refused_upload_keeps_what_was_typed_and_summarises_the_problem_at_the_top(new_page, locale):
    exercise_id, sections, _items = _vendor_with_draft(locale, email=f"refused-{locale}@edit.example")
    before = _stored(exercise_id)
    page = new_page()
    sign_in(page, f"refused-{locale}@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")

    answer = "Typed before a refused upload."
    page.locator(f"#answer_{sections[0]}").fill(answer)
    page.locator(f"#upload-{sections[1]}").set_input_files(
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": PNG_BYTES})  # a PNG named .pdf
    page.get_by_role("button", name=re.compile(rf"^{LABELS[locale]['upload']}\W+2\.")).click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    assert summary.evaluate("el => el.getBoundingClientRect().top") < 400  # at the top, not 2,700 px down
    link = summary.get_by_role("link").first
    expect(link).to_have_attribute("href", f"#upload-{sections[1]}")
    expect(link).to_contain_text(".pdf")
    expect(page.locator(f"#answer_{sections[0]}")).to_have_value(answer)
    assert _stored(exercise_id) == before  # nothing half-saved: the refused request saved nothing
    link.click()
    expect(page.locator(f"#upload-{sections[1]}")).to_be_in_viewport()
    # The page knows the text is not saved: autosave saves it a few seconds later.
    expect(page.locator("#autosave-status")).to_contain_text(re.compile(r"\d:\d\d"), timeout=15_000)
    assert _stored(exercise_id)[0][sections[0]] == answer


def test_autosave_after_typing_stops_and_a_warning_before_leaving(new_page):
    exercise_id, sections, _items = _vendor_with_draft("en", email="autosave@edit.example")
    page = new_page()
    sign_in(page, "autosave@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")

    area = page.locator(f"#answer_{sections[0]}")
    area.fill("Autosaved text.")
    status = page.locator("#autosave-status")
    expect(status).to_have_text("Not saved yet")
    expect(status).to_have_text(re.compile(r"^Saved at \d{1,2}:\d\d"), timeout=15_000)
    assert _stored(exercise_id)[0][sections[0]] == "Autosaved text."

    area.fill("Typed, then the vendor tries to leave.")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.get_by_role("link", name=re.compile("^Exercise page")).click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(re.compile(r"/submission$"))
    expect(area).to_have_value("Typed, then the vendor tries to leave.")


def test_text_typed_when_the_session_ended_is_back_after_signing_in_again(new_page):
    exercise_id, sections, _items = _vendor_with_draft("en", email="expired@edit.example")
    page = new_page()
    sign_in(page, "expired@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")

    page.context.clear_cookies()  # the session ends (expired, or signed out in another tab)
    typed = "Typed while signed out."
    page.locator(f"#answer_{sections[0]}").fill(typed)
    status = page.locator("#autosave-status")
    expect(status).to_contain_text("you are signed out, or this page expired", timeout=15_000)
    assert _stored(exercise_id)[0][sections[0]] == "Saved answer 1."

    sign_in(page, "expired@edit.example")  # in the same tab
    page.goto(f"/exercises/{exercise_id}/submission")
    expect(page.locator(f"#answer_{sections[0]}")).to_have_value(typed)
    expect(status).to_contain_text(re.compile(r"\d:\d\d"), timeout=15_000)
    assert _stored(exercise_id)[0][sections[0]] == typed


@pytest.mark.parametrize("locale", LANGUAGES)
def test_price_entry_on_a_390_px_phone(new_page, locale):
    exercise_id, _sections, items = _vendor_with_draft(locale, email=f"phone-{locale}@edit.example",
                                                       kind=ExerciseKind.tender, price_items=3)
    page = new_page(viewport=PHONE)
    sign_in(page, f"phone-{locale}@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")
    _expect_language(page, locale)

    for n, item_id in enumerate(items, start=1):
        price = page.locator(f"#price_{item_id}")
        price.scroll_into_view_if_needed()
        box = price.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (item_id, box)
        assert box["width"] >= 120, f"unit price input {n} is too narrow to type in: {box}"
        price.fill(f"{n}000")
    expect(page.locator("#price-live-total")).to_contain_text("14,000")  # 1000x1 + 2000x2 + 3000x3
    _button(page, locale, "save_prices").click()
    expect(page.locator("#message")).to_be_visible()
    assert _stored(exercise_id)[1] == {items[0]: 1000, items[1]: 2000, items[2]: 3000}
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the proposal page scrolls sideways on a phone: {widths}"


@pytest.mark.parametrize("locale", LANGUAGES)
def test_the_public_list_reads_as_cards_on_a_390_px_phone(new_page, locale):
    create_published_exercise(title_en="Operation of the Business and Trade cluster", title_zh="工商業服務組別的營運")
    page = new_page(viewport=PHONE)
    page.goto("/exercises" if locale == "en" else "/language/zh_Hant?next=/exercises")
    _expect_language(page, locale)
    title = page.get_by_role("rowheader").first
    box = title.bounding_box()
    assert box and box["width"] > PHONE["width"] * 0.7, f"the title is squeezed into a narrow column: {box}"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


def test_a_card_cell_of_several_parts_keeps_them_together_beside_its_label(new_page):
    """On a phone each row is a card and each cell a label beside its content: a price item's unit and its Chinese on
    the next line both sit in the content column (the Chinese wrapped under the label, detached from its row)."""
    from app.auth.models import Role
    from tests.factories import create_staff
    exercise = create_published_exercise(kind=ExerciseKind.tender, price_items=2, invited=(create_vendor_user(),))
    exercise_id = exercise.id
    create_staff(Role.officer, email="cards@gov.example")
    page = new_page(viewport=PHONE)
    sign_in(page, "cards@gov.example")
    page.goto(f"/manage/exercises/{exercise_id}")
    chinese = page.locator("td span[lang=zh-Hant]", has_text="年").first
    expect(chinese).to_be_visible()
    cell = chinese.locator("xpath=ancestor::td[1]")
    label_right = cell.evaluate("td => td.getBoundingClientRect().left + td.getBoundingClientRect().width * 0.4")
    english_left = cell.evaluate("""td => {
        const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
        while (walker.nextNode()) if (walker.currentNode.textContent.trim() === "year") {
            const range = document.createRange(); range.selectNodeContents(walker.currentNode);
            return range.getBoundingClientRect().left; }
    }""")
    assert english_left >= label_right - 1, (english_left, label_right)
    assert chinese.bounding_box()["x"] >= label_right - 1, (chinese.bounding_box(), label_right)
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths


@pytest.mark.parametrize("locale", LANGUAGES)
def test_submit_pressed_after_the_session_ended_loses_nothing_typed(new_page, locale):
    exercise_id, sections, _items = _vendor_with_draft(locale, email=f"ended-{locale}@edit.example")
    page = new_page()
    sign_in(page, f"ended-{locale}@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")

    typed = "Typed, then Submit pressed after the session ended. 會話結束後按下提交。"
    page.locator(f"#answer_{sections[0]}").fill(typed)
    page.context.clear_cookies()
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if r.url.endswith("/submit") else None)
    _button(page, locale, "submit").click()  # the session and its form token are gone: to sign in, nothing saved
    page.wait_for_load_state()
    assert response_status == [302]  # to the sign-in page, the typed text held for after it (app.held_forms)
    assert _stored(exercise_id)[0][sections[0]] == "Saved answer 1."

    sign_in(page, f"ended-{locale}@edit.example")  # in the same tab
    page.goto(f"/exercises/{exercise_id}/submission")
    expect(page.locator(f"#answer_{sections[0]}")).to_have_value(typed)
    _button(page, locale, "submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LABELS[locale]["receipt"])

    def submitted():
        version = db.session.scalar(sa.select(SubmissionVersion).join(
            Submission, SubmissionVersion.submission_id == Submission.id).where(Submission.exercise_id == exercise_id))
        return manifest_for_system(version, purpose="test")["answers"] if version else None
    assert read(submitted)[str(sections[0])] == typed


def test_signing_out_forgets_the_copy_kept_in_the_tab(new_page):
    """The copy of what was typed is kept across a button press (until a page shows it saved); signing out drops
    it, so a shared computer keeps no proposal text."""
    exercise_id, sections, _items = _vendor_with_draft("en", email="signout@edit.example")
    page = new_page()
    sign_in(page, "signout@edit.example")
    page.goto(f"/exercises/{exercise_id}/submission")
    page.locator(f"#answer_{sections[0]}").fill("Typed on a shared computer.")
    _button(page, "en", "submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(LABELS["en"]["receipt"])
    kept = "() => Object.keys(sessionStorage).filter((k) => k.startsWith('proposal-')).length"
    assert page.evaluate(kept) == 1
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/receipt" not in url)
    assert page.evaluate(kept) == 0
