"""Service levels asked as structured questions of a questionnaire: set up by an officer, answered by the vendor
with its committed level (sealed like every answer), and a contract's KPIs pre-filled from the awarded vendor's
levels, which the officer edits before signing."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from app.auth.models import Role
from app.db import now_utc, simulated_time
from app.extensions import db

from contracts import operations as cops
from contracts.models import KpiDirection, ReportingFrequency
from contracts.operations import ContractRefused
from eoi import operations as ops
from eoi.operations.common import ExerciseError
from eoi.operations.setup import add_section
from eoi.models import Submission
from eoi.sealed import SealedContent, technical_content_for
from eoi.states import ExerciseKind
from tests.factories import (OPENING_PASSPHRASE, clusters, create_published_exercise, create_staff,
                             create_submission, create_vendor_user)

LEVELS = (("Portal availability", "入門網站可用率", "%", "at_least"),
          ("Average page response time", "平均網頁回應時間", "s", "at_most"),
          ("User satisfaction", "用戶滿意度", "%", "at_least"))


def _closed_tender(officer, vendors, levels):
    exercise = create_published_exercise(closes_in=timedelta(hours=-1), officer=officer, service_levels=LEVELS)
    with simulated_time(exercise.closes_at - timedelta(hours=3)):
        for user, answer in zip(vendors, levels):
            create_submission(exercise, user, levels=answer)
    ops.close_exercise(exercise, actor=officer)
    db.session.commit()
    return exercise


def _open(exercise, officer):
    second = next(o.user for o in exercise.opening_officers if o.user_id != officer.id)
    ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
    ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()


def _create(exercise, vendor_user, officer):
    return cops.create_contract(exercise, vendor_user.vendor, actor=officer, cluster=exercise.clusters[0],
                                title_en="Operation", title_zh="營運", starts_on=date(2008, 1, 1),
                                ends_on=date(2010, 12, 31))


def test_a_contract_s_kpis_are_pre_filled_from_the_awarded_vendor_s_committed_levels(app):
    officer, harbour, lionrock = create_staff(Role.officer), create_vendor_user(), create_vendor_user()
    exercise = _closed_tender(officer, (harbour, lionrock), (
        {"Portal availability": "99.9", "Average page response time": "1.5", "User satisfaction": "85"},
        {"Portal availability": "99.0", "Average page response time": "3", "User satisfaction": "70"}))
    _open(exercise, officer)
    contract = _create(exercise, harbour, officer)
    got = [(k.name_en, k.name_zh, k.unit, k.target, k.committed_level, k.direction) for k in contract.kpis]
    assert got == [("Portal availability", "入門網站可用率", "%", D("99.9"), D("99.9"), KpiDirection.at_least),
                   ("Average page response time", "平均網頁回應時間", "s", D("1.5"), D("1.5"), KpiDirection.at_most),
                   ("User satisfaction", "用戶滿意度", "%", D("85"), D("85"), KpiDirection.at_least)]
    # the other vendor's levels stay its own: a contract with it gets its figures, not Harbour's
    other = _create(exercise, lionrock, officer)
    assert [k.target for k in other.kpis] == [D("99.0"), D("3"), D("70")]
    # the officer edits a pre-filled KPI in draft; the committed level stays on record
    availability = contract.kpis[0]
    cops.update_kpi(availability, actor=officer, name_en="Portal availability", name_zh="入門網站可用率", unit="%",
                    target=D("99.5"), direction=KpiDirection.at_least, frequency=ReportingFrequency.monthly,
                    credit_step=D("0.5"), credit_amount=D("20000"), credit_cap=D("100000"))
    assert (availability.target, availability.committed_level, availability.credit_amount) == (
        D("99.5"), D("99.9"), D("20000.00"))
    cops.remove_kpi(contract.kpis[2], actor=officer)
    assert [k.name_en for k in contract.kpis] == ["Portal availability", "Average page response time"]


def test_sealed_levels_are_not_read_before_the_opening(app):
    officer, harbour = create_staff(Role.officer), create_vendor_user()
    exercise = _closed_tender(officer, (harbour,), ({"Portal availability": "99.9"},))
    submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id))
    with pytest.raises(SealedContent):  # closed, not opened: nobody reads the committed levels
        technical_content_for(officer, submission)
    with pytest.raises(ContractRefused):  # and no contract follows a box that was not opened
        _create(exercise, harbour, officer)
    _open(exercise, officer)
    assert technical_content_for(officer, submission).answers[exercise.sections[-3].id] == "99.9"
    assert _create(exercise, harbour, officer).kpis[0].target == D("99.9")


def test_a_level_that_is_not_one_number_stops_the_submission(app):
    officer, vendor_user = create_staff(Role.officer), create_vendor_user()
    exercise = create_published_exercise(officer=officer, service_levels=LEVELS[:1])
    submission = ops.get_or_create_submission(exercise, actor=vendor_user)
    level = exercise.sections[-1]
    ops.save_draft(submission, actor=vendor_user, answers={s.id: "About 99.9 %" if s.id == level.id else "Plan"
                                                           for s in exercise.sections})
    problems = ops.completeness_problems(submission)
    assert any("one number" in p for p in problems), problems
    ops.save_draft(submission, actor=vendor_user, answers={level.id: "99.9"})
    assert not any("one number" in p for p in ops.completeness_problems(submission))


def test_an_officer_sets_up_a_service_level_question_and_bad_input_is_refused(app, login):
    officer = create_staff(Role.officer)
    exercise = ops.create_exercise(actor=officer, **_draft_fields())
    db.session.commit()
    client = login(officer)
    url = f"/manage/exercises/{exercise.id}/sections/new"
    page = client.post(url, data={"title_en": "Availability", "title_zh": "可用率", "kind": "service_level",
                                  "kpi_unit": "", "kpi_direction": "at_least", "answer_required": "y"})
    assert page.status_code in (200, 400) and "Give the unit of the service level" in page.get_data(as_text=True)
    response = client.post(url, data={"title_en": "Availability", "title_zh": "可用率", "kind": "service_level",
                                      "kpi_unit": "%", "kpi_direction": "at_least", "answer_required": "y",
                                      "word_limit": "300"})
    assert response.status_code == 302
    db.session.expire_all()
    section = exercise.sections[-1]
    assert (section.kind, section.kpi_unit, section.kpi_direction, section.word_limit) == (
        "service_level", "%", "at_least", None)
    with pytest.raises(ExerciseError):
        add_section(exercise, actor=officer, title_en="X", title_zh="X", kind="service_level", kpi_unit="%",
                    kpi_direction="sideways")


def _draft_fields():
    now = now_utc()
    return {"kind": ExerciseKind.tender, "reference": "OSP-T-SL-01", "title_en": "Tender", "title_zh": "招標",
            "description_en": "D", "description_zh": "說明", "clusters": clusters()[:1],
            "publication_at": now + timedelta(days=1), "closes_at": now + timedelta(days=20),
            "clarification_deadline": now + timedelta(days=10)}


def test_the_officer_edits_a_pre_filled_kpi_on_its_page_and_bad_input_stays_at_the_field(app, login):
    officer, harbour = create_staff(Role.officer), create_vendor_user()
    exercise = _closed_tender(officer, (harbour,), ({"Portal availability": "99.9"},))
    _open(exercise, officer)
    contract = _create(exercise, harbour, officer)
    db.session.commit()
    kpi = contract.kpis[0]
    url = f"/contracts/{contract.id}/kpis/{kpi.id}/edit"
    client = login(officer)
    page = client.get(url).get_data(as_text=True)
    assert "which committed to 99.9 %" in page and 'value="Portal availability"' in page
    detail = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "Committed in the proposal: 99.9 %" in detail and "No service credit" in detail
    form = {"name_en": "Portal availability", "name_zh": "入門網站可用率", "unit": "%", "target": "99.5",
            "direction": "at_least", "frequency": "monthly", "credit_step": "0", "credit_amount": "20000",
            "credit_cap": "100000"}
    bad = client.post(url, data=form)
    assert bad.status_code in (200, 400) and 'id="credit_step-error"' in bad.get_data(as_text=True)
    db.session.expire_all()
    assert kpi.target == D("99.9")
    assert client.post(url, data=form | {"credit_step": "0.5"}).status_code == 302
    db.session.expire_all()
    assert (kpi.target, kpi.credit_step, kpi.committed_level) == (D("99.5"), D("0.5"), D("99.9"))
    assert login(harbour).get(url).status_code == 403
    assert login(create_vendor_user()).post(url, data=form).status_code in (403, 404)
    remove = client.post(f"/contracts/{contract.id}/kpis/{contract.kpis[1].id}/remove")
    assert remove.status_code == 302
    db.session.expire_all()
    assert len(contract.kpis) == 2


def test_a_committed_level_reads_with_its_unit_and_direction_for_the_officer(app, login):
    officer = create_staff(Role.officer)
    vendor = create_vendor_user()
    exercise = _closed_tender(officer, [vendor], [{"Portal availability": "99.9", "Average page response time": "1.5",
                                                   "User satisfaction": "85"}])
    _open(exercise, officer)
    submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == exercise.id))
    client = login(officer)
    page = client.get(f"/manage/submissions/{submission.id}").get_data(as_text=True)
    assert "At least 99.9\u00a0%" in page and "At most 1.5\u00a0s" in page and "At least 85\u00a0%" in page
    client.get("/language/zh_Hant")
    chinese = client.get(f"/manage/submissions/{submission.id}").get_data(as_text=True)
    assert "不低於 99.9\u00a0%" in chinese and "不高於 1.5\u00a0s" in chinese
