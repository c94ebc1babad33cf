"""Letters after an evaluation (contracts/letters.py): the debrief worked by hand, nothing of another vendor in a
regret letter, an idempotent batch, signed and verifiable PDFs, the download matrix, Chinese letters, the pages."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import tempfile

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.documents.models import Document, DocumentStatus
from app.documents.service import read_verified
from app.documents.signing import check_signature
from app.extensions import db
from app.notifications import Notification
from contracts.letter_models import Letter, LetterBatch, LetterKind
from contracts.decisions import (approve_decision, decision_outcomes, decline_award, proposal_for,
                                 recommendation_for, record_decision)
from contracts.letters import (LettersRefused, debrief_of, default_outcomes, issue_letters, ranking_of,
                               vendor_language)
from eoi.states import ExerciseKind
from scoring.queries import technical_criteria_of
from tests.factories import (create_opened_exercise, create_panel, create_staff, create_vendor_user, declare_all,
                             score_and_submit, sign_off, wait_for)

# Scores of the three scorers (chair and two members) per proposal: {criterion index: (s1, s2, s3)}.
# C1: weight 60, out of 10, pass mark 6; C2: weight 40, out of 5, pass mark 3.
#   A: C1 8,8,8 -> 8;  C2 4,4,4 -> 4   total 8/10*60 + 4/5*40 = 48 + 32 = 80, passes
#   B: C1 7,6,5 -> 6;  C2 2,3,4 -> 3   total 36 + 24 = 60, passes (exactly at both pass marks)
#   C: C1 5,5,5 -> 5;  C2 5,5,5 -> 5   total 30 + 40 = 70, fails C1 (5 < 6): ranked after the passing ones
SCORES = [((8, 8, 8), (4, 4, 4)), ((7, 6, 5), (2, 3, 4)), ((5, 5, 5), (5, 5, 5))]


def _scored(kind: ExerciseKind = ExerciseKind.eoi, *, chinese: int | None = None):
    exercise, submissions, officer = create_opened_exercise(vendors=3, criteria=((60, 10, 6), (40, 5, 3)))
    panel, chair, members, _ = create_panel(exercise, officer, members=2)
    c1, c2 = technical_criteria_of(exercise)
    for i, user in enumerate((chair, *members)):
        declare_all(panel, user)
        for submission, (s1, s2) in zip(submissions, SCORES):
            score_and_submit(panel, user, submission, values={c1.id: s1[i], c2.id: s2[i]})
    sign_off(panel, chair)
    if kind != exercise.kind:
        exercise.kind = kind  # harness shortcut: the same evaluation as a tender
    if chinese is not None:
        for user in submissions[chinese].vendor.users:
            user.locale = "zh_Hant"  # the company's user saved Traditional Chinese
    db.session.commit()
    return exercise, submissions, officer


def _ready(batch: LetterBatch) -> bool:
    db.session.expire_all()
    return all(letter.document.status == DocumentStatus.ready for letter in batch.letters)


def test_debrief_is_the_vendors_own_scores_against_the_pass_marks_and_the_successful_score(app):
    exercise, subs, officer = _scored()
    ranking = ranking_of(exercise)
    outcomes = default_outcomes(exercise, ranking)
    a, b, c = (s.vendor_id for s in subs)
    assert outcomes == {a: "shortlist", b: "shortlist", c: "regret"}
    debrief = debrief_of(ranking, c, outcomes)
    assert [(x["score"], x["max"], x["pass_mark"], x["passed"]) for x in debrief["criteria"]] == [
        ("5.00", 10, 6, False), ("5.00", 5, 3, True)]
    assert [x["weighted"] for x in debrief["criteria"]] == ["30.00", "40.00"]
    assert debrief["total"] == "70.00" and debrief["passed"] is False
    assert (debrief["rank"], debrief["proposals"]) == (3, 3)
    assert debrief["successful_total"] == "60.00"  # the lowest shortlisted total (B's), not the best (A's 80)

    exercise.kind = ExerciseKind.tender
    tender = default_outcomes(exercise, ranking)
    assert tender == {a: "award", b: "regret", c: "regret"}
    runner_up = debrief_of(ranking, b, tender)
    assert [x["score"] for x in runner_up["criteria"]] == ["6.00", "3.00"]
    assert runner_up["total"] == "60.00" and runner_up["passed"] is True and runner_up["rank"] == 2
    assert runner_up["successful_total"] == "80.00"


def test_letters_are_refused_before_results_exist(app, login):
    exercise, subs, officer = create_opened_exercise(vendors=2)
    with pytest.raises(LettersRefused, match="no assessment panel"):
        issue_letters(exercise, {subs[0].vendor_id: "award"}, actor=officer, reference="X/L")
    create_panel(exercise, officer, members=1)
    with pytest.raises(LettersRefused, match="not complete"):
        default_outcomes(exercise)
    page = login(officer).get(f"/contracts/letters/exercises/{exercise.id}")
    assert page.status_code == 200 and "once an approver has approved the decision" in page.get_data(as_text=True)
    refused = login(officer).post(f"/contracts/letters/exercises/{exercise.id}", follow_redirects=True)
    assert "once an approver has approved the decision" in refused.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 0


def test_batch_is_idempotent_and_a_second_issue_adds_only_what_is_missing(app):
    exercise, subs, officer = _scored(ExerciseKind.tender)
    outcomes = default_outcomes(exercise)
    first = dict(list(outcomes.items())[:2])
    batch = issue_letters(exercise, first, actor=officer, reference="T/L")
    db.session.commit()
    again = issue_letters(exercise, outcomes, actor=officer, reference="ignored")
    db.session.commit()
    third = issue_letters(exercise, outcomes, actor=officer, reference="ignored")
    db.session.commit()
    assert again.id == batch.id == third.id and batch.reference == "T/L"
    letters = db.session.scalars(sa.select(Letter).where(Letter.exercise_id == exercise.id)).all()
    assert sorted(letter.vendor_id for letter in letters) == sorted(outcomes)
    assert sorted(letter.number for letter in letters) == [1, 2, 3]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document).where(Document.kind == "letter")) == 3
    assert wait_for(lambda: _ready(batch))
    # a redelivered render task finds its document ready: nothing is rendered or stored again
    from app.documents.tasks import render_document
    doc = letters[0].document
    sha, rendered_at = doc.sha256, doc.rendered_at
    render_document.apply(args=(doc.id,))
    db.session.expire_all()
    assert (doc.sha256, doc.rendered_at) == (sha, rendered_at)
    # one notification per vendor user, not one per issue
    users = [u for s in subs for u in s.vendor.users]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id.in_([u.id for u in users]), Notification.subject.like("Letter issued%"))) == len(users)


def _pdftotext(pdf: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        return subprocess.run(["pdftotext", "-enc", "UTF-8", handle.name, "-"], capture_output=True, text=True,
                              check=True).stdout


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_regret_letter_shows_only_its_own_vendor_and_a_chinese_letter_is_in_chinese(app):
    exercise, subs, officer = _scored(ExerciseKind.tender, chinese=2)
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference=f"{exercise.reference}/L")
    db.session.commit()
    assert wait_for(lambda: _ready(batch))
    by_vendor = {letter.vendor_id: letter for letter in batch.letters}
    a, b, c = subs
    regret_b = by_vendor[b.vendor_id]
    assert regret_b.kind == LetterKind.regret and regret_b.language == "en"
    text = " ".join(_pdftotext(read_verified(regret_b.document)).split())
    assert b.vendor.name_en in text and "We regret to inform you" in text
    assert "Debrief: your scores" in text and "6 of 10" in text and "3 of 5" in text and "60 out of 100" in text
    assert "Successful score 80 out of 100" in text and "2 of 3 proposals" in text
    for other in (a, c):  # no other company's name, BR number or reference
        assert other.vendor.name_en not in text and other.vendor.name_zh not in text
        assert other.vendor.br_number not in text
    # C's total (70) appears nowhere as a number; the footer's hashes are hex and may hold any digits, and wrap across
    # lines; names and references carry database ids ("Vendor 1370 Limited"), which are not the number 70
    footer_free = re.sub(r"\b[0-9a-f]{6,}\b", " ", text.split("Reference ")[0])
    assert not re.search(r"(?<![\d.])70(?![\d.])", footer_free), footer_free
    assert re.search(r"(?<![\d.])60(?![\d.])", footer_free), "positive control: its own total is found as a number"
    stored = json.loads(regret_b.debrief)
    assert set(stored) == {"criteria", "total", "passed", "overall_pass_mark", "below_overall_pass_mark", "rank",
                           "proposals", "successful_total"}

    award = by_vendor[a.vendor_id]
    assert award.kind == LetterKind.award and award.debrief is None
    assert "decided to award the contract" in " ".join(_pdftotext(read_verified(award.document)).split())

    chinese = by_vendor[c.vendor_id]
    assert chinese.language == "zh_Hant" == chinese.document.language
    zh_text = "".join(_pdftotext(read_verified(chinese.document)).split())
    assert c.vendor.name_zh in zh_text and "準則1" in zh_text and "評分摘要" in zh_text


def test_every_letter_is_signed_and_verifies_and_a_changed_byte_fails(app):
    exercise, subs, officer = _scored(chinese=0)
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference=f"{exercise.reference}/L")
    db.session.commit()
    assert wait_for(lambda: _ready(batch))
    public = app.test_client()
    for letter in batch.letters:
        pdf = read_verified(letter.document)
        assert check_signature(pdf).is_signed_original
        page = public.post("/contracts/verify", data={"file": (io.BytesIO(pdf), "letter.pdf")},
                           content_type="multipart/form-data").get_data(as_text=True)
        assert f"This is the signed original of {letter.reference}." in page and letter.content_sha256 in page
        changed = bytearray(pdf)
        changed[len(pdf) // 3] ^= 0x01
        bad = public.post("/contracts/verify", data={"file": (io.BytesIO(bytes(changed)), "letter.pdf")},
                          content_type="multipart/form-data").get_data(as_text=True)
        assert "This file is not a signed original we issued" in bad
        assert "Do not rely on this copy." in bad  # and what to do instead
    by_reference = public.get(f"/contracts/verify?reference={batch.letters[0].reference}").get_data(as_text=True)
    assert "is on record" in by_reference and batch.letters[0].document.sha256 in by_reference


def test_vendors_download_only_their_own_letters(app, login):
    exercise, subs, officer = _scored()
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference=f"{exercise.reference}/L")
    db.session.commit()
    assert wait_for(lambda: _ready(batch))
    letters = {letter.vendor_id: letter for letter in batch.letters}
    outsider = create_vendor_user()
    approver, panel_user = create_staff(Role.approver), create_staff(Role.panel)
    for submission in subs:
        client = login(submission.vendor.users[0])
        mine = client.get("/contracts/letters").get_data(as_text=True)
        assert letters[submission.vendor_id].reference in mine
        for vendor_id, letter in letters.items():
            response = client.get(f"/contracts/letters/{letter.id}.pdf")
            if vendor_id == submission.vendor_id:
                assert response.status_code == 200 and response.data.startswith(b"%PDF")
                assert response.headers["Cache-Control"] == "private, no-store"
            else:
                assert response.status_code == 404
                assert letter.reference not in mine
    letter = next(iter(letters.values()))
    assert login(outsider).get(f"/contracts/letters/{letter.id}.pdf").status_code == 404
    assert login(panel_user).get(f"/contracts/letters/{letter.id}.pdf").status_code == 404
    assert login(officer).get(f"/contracts/letters/{letter.id}.pdf").status_code == 200
    assert login(approver).get(f"/contracts/letters/{letter.id}.pdf").status_code == 200
    assert app.test_client().get(f"/contracts/letters/{letter.id}.pdf").status_code in (302, 401)
    assert login(outsider).get(f"/contracts/letters/exercises/{exercise.id}").status_code in (403, 404)
    assert login(approver).post(f"/contracts/letters/exercises/{exercise.id}").status_code in (403, 404)


def approve_shortlist(exercise, officer) -> None:
    """The officer records the panel's recommended shortlist and an approver who took no part approves it: the
    letters go out at that approval (contracts.decisions)."""
    decision = record_decision(exercise, actor=officer, submission_ids=recommendation_for(exercise),
                               justification="The proposals that pass every pass mark, in the panel's rank order.")
    approve_decision(decision, actor=create_staff(Role.approver))
    db.session.commit()


def test_letters_go_out_at_the_decisions_approval_with_progress_and_the_public_notice_follows(app, login):
    exercise, subs, officer = _scored()
    client = login(officer)
    url = f"/contracts/letters/exercises/{exercise.id}"
    assert "once an approver has approved the decision" in client.get(url).get_data(as_text=True)
    refused = client.post(url, follow_redirects=True)
    assert "once an approver has approved the decision" in refused.get_data(as_text=True)
    public = app.test_client().get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "Shortlist notice" not in public
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 0

    approve_shortlist(exercise, officer)
    batch = db.session.scalar(sa.select(LetterBatch).where(LetterBatch.exercise_id == exercise.id))
    assert batch is not None and wait_for(lambda: _ready(batch))
    assert {letter.vendor_id: letter.kind.value for letter in batch.letters} == {
        subs[0].vendor_id: "shortlist", subs[1].vendor_id: "shortlist", subs[2].vendor_id: "regret"}
    page = client.get(url)
    text = page.get_data(as_text=True)
    assert "3 of 3 letters ready" in text and '<progress id="letters-progress" max="3" value="3">' in text
    assert "Refresh" not in page.headers  # done: no more reloading
    public = app.test_client().get(f"/exercises/{exercise.id}").get_data(as_text=True)
    assert "Shortlist notice" in public
    assert subs[0].vendor.name_en in public and subs[1].vendor.name_en in public
    assert subs[2].vendor.name_en not in public.split("Shortlist notice")[1].split("</section>")[0]
    # issuing again from the page changes nothing
    client.post(url)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 3


def test_progress_page_reloads_itself_while_letters_are_pending(app, login):
    exercise, subs, officer = _scored()
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference="P/L")
    db.session.commit()
    assert wait_for(lambda: _ready(batch))
    db.session.execute(sa.update(Document).where(Document.id == batch.letters[0].document_id)
                       .values(status=DocumentStatus.queued, sha256=None))  # as if its render were still waiting
    db.session.commit()
    page = login(officer).get(f"/contracts/letters/exercises/{exercise.id}")
    assert page.headers.get("Refresh") == "3" and "2 of 3 letters ready" in page.get_data(as_text=True)


def test_vendor_language_is_what_most_of_its_users_saved(app):
    user = create_vendor_user(locale="zh_Hant")
    assert vendor_language(user.vendor) == "zh_Hant"
    other = create_vendor_user(locale="en")
    assert vendor_language(other.vendor) == "en"


def _letter_emails(vendor) -> int:
    """Letter messages in the outbox for a company's users."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.user_id.in_([u.id for u in vendor.users]), Notification.subject.like("Letter issued%")))


def _awarded_to_the_first():
    """A scored tender whose award to the first-ranked tenderer (A) is approved, its letters issued on commit."""
    exercise, subs, officer = _scored(ExerciseKind.tender)
    approver = create_staff(Role.approver)
    first = record_decision(exercise, actor=officer, submission_ids=[subs[0].id], justification="Best proposal.")
    approve_decision(first, actor=approver)
    db.session.commit()
    return exercise, subs, officer, approver, first


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_replacement_award_after_a_decline_writes_to_the_new_awardee_only(app, login):
    """A (80) is awarded and declines; B (60, next-ranked) is awarded by a second decision. B's award letter belongs
    to that decision and replaces its regret letter; A keeps its award letter, C is not sent a second regret letter;
    issuing again adds nothing; every letter stays downloadable; the public notice names B."""
    exercise, (a, b, c), officer, approver, first = _awarded_to_the_first()
    batch = db.session.scalar(sa.select(LetterBatch).where(LetterBatch.exercise_id == exercise.id))
    assert wait_for(lambda: _ready(batch))
    regret_b = next(letter for letter in batch.letters if letter.vendor_id == b.vendor_id)
    assert regret_b.kind == LetterKind.regret and regret_b.decision_id == first.id
    assert _letter_emails(b.vendor) == len(b.vendor.users)
    public = app.test_client()
    assert a.vendor.name_en in public.get(f"/exercises/{exercise.id}").get_data(as_text=True).split("Award notice")[1]

    assert decline_award(first, actor=officer, reason="The tenderer withdrew its offer in writing.") == [b.id]
    db.session.commit()
    assert "Award notice" not in public.get(f"/exercises/{exercise.id}").get_data(as_text=True)  # the award lapsed

    second = record_decision(exercise, actor=officer, submission_ids=proposal_for(exercise),
                             justification="Next-ranked after the withdrawal.")
    approve_decision(second, actor=approver)
    db.session.commit()
    letters = db.session.scalars(sa.select(Letter).where(Letter.exercise_id == exercise.id)
                                 .order_by(Letter.number)).all()
    assert [(letter.vendor_id, letter.kind.value, letter.decision_id) for letter in letters] == [
        (a.vendor_id, "award", first.id), (b.vendor_id, "regret", first.id), (c.vendor_id, "regret", first.id),
        (b.vendor_id, "award", second.id)]
    award_b = letters[-1]
    assert award_b.replaces_id == regret_b.id and award_b.reference == f"{batch.reference}/0004"
    assert _letter_emails(b.vendor) == 2 * len(b.vendor.users)  # the award letter is announced by email too
    assert _letter_emails(a.vendor) == len(a.vendor.users) and _letter_emails(c.vendor) == len(c.vendor.users)
    assert wait_for(lambda: _ready(batch))
    text = " ".join(_pdftotext(read_verified(award_b.document)).split())
    assert "decided to award the contract" in text and f"replaces our letter {regret_b.reference}" in text
    assert check_signature(read_verified(award_b.document)).is_signed_original

    # issuing again, from the approval hook or the officer's page, adds no letter and no message
    issue_letters(exercise, decision_outcomes(second), actor=officer, reference="ignored", decision=second)
    db.session.commit()
    login(officer).post(f"/contracts/letters/exercises/{exercise.id}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 4
    assert _letter_emails(b.vendor) == 2 * len(b.vendor.users)

    # B sees both letters and downloads each, the older regret letter included; the notice names B alone
    client = login(b.vendor.users[0])
    mine = client.get("/contracts/letters").get_data(as_text=True)
    assert regret_b.reference in mine and award_b.reference in mine and f"Replaces {regret_b.reference}" in mine
    for letter in (regret_b, award_b):
        response = client.get(f"/contracts/letters/{letter.id}.pdf")
        assert response.status_code == 200 and response.data == read_verified(letter.document)
    notice = public.get(f"/exercises/{exercise.id}").get_data(as_text=True).split("Award notice")[1]
    notice = notice.split("</section>")[0]
    assert b.vendor.name_en in notice and a.vendor.name_en not in notice
    officer_page = login(officer).get(f"/contracts/letters/exercises/{exercise.id}").get_data(as_text=True)
    assert f"Replaces {regret_b.reference}" in officer_page and "Issue 1 letters" not in officer_page


def test_one_letter_per_decision_and_vendor_is_the_databases_rule(app):
    exercise, subs, officer = _scored(ExerciseKind.tender)
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer)  # harness: without a decision
    db.session.commit()

    def add(number, decision_id=None):
        db.session.add(Letter(batch_id=batch.id, exercise_id=exercise.id, vendor_id=subs[1].vendor_id, number=number,
                              decision_id=decision_id, kind=LetterKind.award, language="en", content_sha256="x"))
        db.session.flush()

    with pytest.raises(sa.exc.IntegrityError):  # a second undecided letter to one vendor: the partial unique index
        add(98)
    db.session.rollback()
    decision = record_decision(exercise, actor=officer, submission_ids=[subs[1].id], justification="Harness.")
    db.session.commit()
    add(97, decision.id)
    with pytest.raises(sa.exc.IntegrityError):
        add(96, decision.id)
    db.session.rollback()


def test_the_migration_gives_existing_letters_their_decision_and_its_downgrade_keeps_the_first_letters(app):
    """Down to one letter per exercise and vendor (the replacement letter goes), up again: each letter is given the
    decision whose approval issued it, not the later replacement award."""
    from flask_migrate import downgrade, upgrade
    exercise, subs, officer = _scored(ExerciseKind.tender)
    approver = create_staff(Role.approver)
    first = record_decision(exercise, actor=officer, submission_ids=[subs[0].id], justification="Best.")
    approve_decision(first, actor=approver)
    db.session.commit()
    decline_award(first, actor=officer, reason="Withdrew.")
    second = record_decision(exercise, actor=officer, submission_ids=[subs[1].id], justification="Next-ranked.")
    approve_decision(second, actor=approver)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 4
    first_id = first.id
    db.session.remove()
    downgrade(revision="a7c3e5f1d2b9")
    with db.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM letters")).scalar() == 3
    upgrade()
    rows = db.session.execute(sa.select(Letter.number, Letter.decision_id, Letter.replaces_id)
                              .order_by(Letter.number)).all()
    assert [tuple(r) for r in rows] == [(1, first_id, None), (2, first_id, None), (3, first_id, None)]


def test_letters_deferred_at_a_replacement_approval_are_issued_from_the_officers_page(app, login, monkeypatch):
    import contracts.letters
    exercise, (a, b, c), officer, approver, first = _awarded_to_the_first()
    decline_award(first, actor=officer, reason="Rejected: its insurance lapsed.")
    second = record_decision(exercise, actor=officer, submission_ids=[b.id], justification="Next-ranked.")
    with monkeypatch.context() as patch:  # as if the results were unavailable at the approval
        patch.setattr(contracts.letters, "issue_letters", lambda *args, **kwargs: (_ for _ in ()).throw(
            LettersRefused("results unavailable")))
        approve_decision(second, actor=approver)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 3
    client = login(officer)
    url = f"/contracts/letters/exercises/{exercise.id}"
    assert "Issue 1 letters" in client.get(url).get_data(as_text=True)
    page = client.post(url, follow_redirects=True).get_data(as_text=True)
    assert "1 letters are being prepared" in page and "Issue 1 letters" not in page
    award = db.session.scalar(sa.select(Letter).where(Letter.decision_id == second.id))
    assert (award.vendor_id, award.kind, award.replaces.kind) == (b.vendor_id, LetterKind.award, LetterKind.regret)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Letter)) == 4


def test_a_letter_names_a_verification_address_a_reader_can_type_even_without_public_url(app):
    """Printed on paper, "/contracts/verify" leads nowhere: the letter carries the full address (the server's own
    when PUBLIC_URL is not set, as on a demo instance)."""
    from contracts.documents import build_letter
    exercise, subs, officer = _scored()
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference=f"{exercise.reference}/L")
    db.session.commit()
    app.config["PUBLIC_URL"] = ""
    with app.test_request_context():
        url = build_letter(batch.letters[0].document).context["verify_url"]
    assert url.startswith("http://") and url.endswith("/contracts/verify")


def test_my_letters_keeps_the_file_size_beside_the_link_on_a_phone(app, login):
    """Each cell holds one element: on a phone a cell is a two-column grid (label, value) and a second element would
    fall under the label."""
    exercise, subs, officer = _scored()
    batch = issue_letters(exercise, default_outcomes(exercise), actor=officer, reference=f"{exercise.reference}/L")
    db.session.commit()
    assert wait_for(lambda: _ready(batch))
    vendor_user = next(u for u in subs[0].vendor.users)
    page = login(vendor_user).get("/contracts/letters").get_data(as_text=True)
    assert re.search(r'<td><span><a href="[^"]+\.pdf">Download the PDF</a>\s*<span class="hint">\([^)]+\)</span></span>',
                     page)


def test_letters_waiting_for_results_link_the_officer_to_the_step_that_gives_them(app, login, monkeypatch):
    """An approved decision on an exercise without a panel (recorded before a decision had to follow the signed-off
    evaluation, as in databases of that time): the page says why no letter can be issued and links to forming the
    panel; once a panel exists, to its results."""
    import contracts.decisions
    monkeypatch.setattr(contracts.decisions, "evaluation_outstanding", lambda exercise: None)
    exercise, subs, officer = create_opened_exercise(vendors=2)
    decision = record_decision(exercise, actor=officer, submission_ids=[subs[0].id],
                               justification="The better operation plan.")
    approve_decision(decision, actor=create_staff(Role.approver))
    db.session.commit()
    page = login(officer).get(f"/contracts/letters/exercises/{exercise.id}").get_data(as_text=True)
    assert "no assessment panel" in page
    assert f'href="/scoring/exercises/{exercise.id}/panel">Form the assessment panel</a>' in page
    panel = create_panel(exercise, officer, members=1)[0]
    page = login(officer).get(f"/contracts/letters/exercises/{exercise.id}").get_data(as_text=True)
    assert "not complete" in page and f'href="/scoring/panels/{panel.id}/results">Results</a>' in page
    approver_page = login(create_staff(Role.approver)).get(f"/contracts/letters/exercises/{exercise.id}")
    assert "Form the assessment panel" not in approver_page.get_data(as_text=True)
