"""Contract operations: creation from an opened exercise, the life cycle, variations against the funding, KPI
reports with their credits, and refusals with the reason at the field."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from app.auth.models import Role
from app.documents.models import DocumentStatus
from app.extensions import db
from contracts import operations as cops
from contracts.operations import ContractRefused
from contracts.queries import contract_register, kpi_histories, open_periods
from contracts.states import ContractState, KpiReportState
from tests.factories import create_contract, create_opened_exercise_for, create_staff, create_vendor_user, wait_for


def test_a_contract_follows_only_a_vendor_that_submitted_to_an_opened_exercise(app):
    officer, vendor_user, stranger = create_staff(Role.officer), create_vendor_user(), create_vendor_user()
    exercise = create_opened_exercise_for((vendor_user,), officer=officer)
    kwargs = dict(actor=officer, cluster=exercise.clusters[0], title_en="T", title_zh="合約",
                  starts_on=date(2008, 1, 1), ends_on=date(2010, 12, 31))
    with pytest.raises(ContractRefused) as refused:
        cops.create_contract(exercise, stranger.vendor, **kwargs)
    assert refused.value.field == "submission"
    with pytest.raises(ContractRefused):
        cops.create_contract(exercise, vendor_user.vendor, **{**kwargs, "actor": vendor_user})
    contract = cops.create_contract(exercise, vendor_user.vendor, **kwargs)
    assert contract.state == ContractState.draft and contract.version == 1 and contract.versions[0].number == 1
    assert contract.reference.startswith(f"PPP/{exercise.clusters[0].code}/2008/")


def test_life_cycle_issue_sign_activate_and_the_signed_pdf(app):
    contract = create_contract(state="draft")
    from app.auth.models import User
    officer = db.session.get(User, contract.created_by_id)
    with pytest.raises(ContractRefused, match="Issue the contract"):
        cops.sign_contract(contract, actor=officer)
    doc = cops.issue_contract(contract, actor=officer)
    db.session.commit()  # the render task is sent after the commit (eager, or to the worker)
    assert wait_for(lambda: db.session.get(type(doc), doc.id).status == DocumentStatus.ready), doc.failure_reason
    with pytest.raises(ContractRefused, match="issued already"):
        cops.issue_contract(contract, actor=officer)
    cops.sign_contract(contract, actor=officer)
    cops.activate_contract(contract, actor=officer)
    assert contract.state == ContractState.active and contract.signed_at and contract.activated_at


def test_a_variation_is_a_numbered_version_with_its_reason(app):
    contract = create_contract(state="active")
    from app.auth.models import User
    officer = db.session.get(User, contract.created_by_id)
    before = contract.value
    version = cops.vary_contract(contract, actor=officer, reason="Add the e-payment gateway",
                                 extra_committed=D("3500000"), description_en="E-payment gateway",
                                 description_zh="電子繳費閘道", extend=True)
    assert (version.number, contract.version, version.reason) == (2, 2, "Add the e-payment gateway")
    assert contract.value == before + D("3500000.00") and version.value == contract.value
    assert contract.extensions_used == 1
    with pytest.raises(ContractRefused) as refused:
        cops.vary_contract(contract, actor=officer, reason="Again", extend=True)
    assert refused.value.field == "extend"


def test_a_variation_past_the_approved_funding_is_refused_at_the_field(app):
    contract = create_contract(state="active", committed=D("160000000"))
    from app.auth.models import User
    officer = db.session.get(User, contract.created_by_id)
    # committed now: 160M + 1.8M + 0.9M = 162.7M of 170.8M
    with pytest.raises(ContractRefused, match="approved funding") as refused:
        cops.vary_contract(contract, actor=officer, reason="More", extra_committed=D("8100000.01"),
                           description_en="More", description_zh="更多")
    assert refused.value.field == "extra_committed"
    cops.vary_contract(contract, actor=officer, reason="Exactly to the limit", extra_committed=D("8100000"),
                       description_en="More", description_zh="更多")
    _contracts, totals = contract_register()
    assert totals.committed == D("170800000.00") and totals.headroom == D("0.00")


def _officer(contract):
    from app.auth.models import User
    return db.session.get(User, contract.created_by_id)


def test_kpi_report_computes_met_missed_and_credits(app):
    contract = create_contract(state="active")
    from app.auth.models import User
    import sqlalchemy as sa
    user = db.session.scalar(sa.select(User).where(User.vendor_id == contract.vendor_id))
    availability, response = contract.kpis
    march = date(contract.starts_on.year, 3, 1)
    report = cops.file_kpi_report(contract, actor=user, period_start=march,
                                  figures={availability.id: D("98.6"), response.id: D("1.8")})
    results = {r.kpi_id: r for r in report.results}
    assert results[availability.id].met is False and results[availability.id].credit == D("40000.00")
    assert results[response.id].met is True and results[response.id].credit == D("0.00")
    assert report.total_credit == D("40000.00") and report.state == KpiReportState.submitted
    # February: the quarterly KPI is not due
    feb = cops.file_kpi_report(contract, actor=user, period_start=date(contract.starts_on.year, 2, 1),
                               figures={availability.id: D("99.9")})
    assert [r.kpi_id for r in feb.results] == [availability.id]
    assert march not in open_periods(contract)


@pytest.mark.parametrize("case", ["again", "future", "before_term", "missing_figure", "other_vendor", "not_active"])
def test_bad_kpi_reports_are_refused_with_the_reason(app, case):
    contract = create_contract(state="draft" if case == "not_active" else "active")
    import sqlalchemy as sa
    from app.auth.models import User
    user = db.session.scalar(sa.select(User).where(User.vendor_id == contract.vendor_id))
    availability, response = contract.kpis
    period = date(contract.starts_on.year, 1, 1)
    figures = {availability.id: D("99.9")}
    if case == "again":
        cops.file_kpi_report(contract, actor=user, period_start=period, figures=figures)
    elif case == "future":
        period = date.today().replace(day=1)
    elif case == "before_term":
        period = date(contract.starts_on.year - 1, 12, 1)
    elif case == "missing_figure":
        period, figures = date(contract.starts_on.year, 3, 1), {availability.id: D("99.9")}
    elif case == "other_vendor":
        user = create_vendor_user()
    with pytest.raises(ContractRefused) as refused:
        cops.file_kpi_report(contract, actor=user, period_start=period, figures=figures)
    expected = {"again": "already reported", "future": "has ended", "before_term": "has ended",
                "missing_figure": "every service level", "other_vendor": "contractor's users",
                "not_active": "active"}[case]
    assert expected in refused.value.message


def test_officer_queries_and_the_contractor_refiles(app):
    contract = create_contract(state="active")
    import sqlalchemy as sa
    from app.auth.models import User
    user = db.session.scalar(sa.select(User).where(User.vendor_id == contract.vendor_id))
    availability, _response = contract.kpis
    report = cops.file_kpi_report(contract, actor=user, period_start=date(contract.starts_on.year, 1, 1),
                                  figures={availability.id: D("97")})
    officer = _officer(contract)
    with pytest.raises(ContractRefused):
        cops.query_kpi_report(report, actor=officer, note="  ")
    cops.query_kpi_report(report, actor=officer, note="The outage of 12 January is missing.")
    cops.refile_kpi_report(report, actor=user, figures={availability.id: D("99.2")})
    assert report.state == KpiReportState.submitted and report.total_credit == D("20000.00")
    cops.accept_kpi_report(report, actor=officer)
    assert report.state == KpiReportState.accepted
    history = kpi_histories(contract)[0]
    assert history.credits == D("20000.00") and history.misses == 1


def test_terms_change_only_in_draft_and_termination_needs_a_reason(app):
    contract = create_contract(state="active")
    officer = _officer(contract)
    with pytest.raises(ContractRefused, match="variation"):
        cops.add_risk(contract, actor=officer, risk_en="x", risk_zh="x", bearer=contract.risks[0].bearer,
                      mitigation_en="", mitigation_zh="")
    with pytest.raises(ContractRefused):
        cops.terminate_contract(contract, actor=officer, reason="")
    cops.terminate_contract(contract, actor=officer, reason="Persistent failure")
    db.session.flush()
    _contracts, totals = contract_register()
    assert contract.state == ContractState.terminated and totals.committed == D("0.00")
