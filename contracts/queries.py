"""Read-side helpers of the contracts area, named for what they return."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from app.auth.models import Vendor
from app.db import now_utc
from app.extensions import db
from contracts import rules
from contracts.models import Contract, Kpi, KpiReport, KpiResult, Milestone, PerformanceReport
from contracts.operations import AWARDABLE, COMMITTING, committed_total
from contracts.states import ContractState
from eoi.models import Exercise, ServiceCluster, Submission
from eoi.states import SubmissionState


@dataclass
class RegisterTotals:
    count: int
    committed: Decimal
    paid: Decimal
    avoided: Decimal
    funding: Decimal
    benefits_case: Decimal
    programme_committed: Decimal  # every contract of the programme, whatever the filters

    @property
    def headroom(self) -> Decimal:
        return rules.headroom(self.funding, self.programme_committed)


def contract_register(*, state: str | None = None, cluster_id: int | None = None,
                      vendor: str | None = None) -> tuple[list[Contract], RegisterTotals]:
    """The contracts that match the filters, newest first, and their totals against the programme: committed
    (terminated contracts excluded), paid (milestones paid) and cost avoided so far (accrued over the term)."""
    query = (sa.select(Contract).options(so.selectinload(Contract.fees), so.selectinload(Contract.milestones),
                                         so.joinedload(Contract.vendor), so.joinedload(Contract.cluster))
             .order_by(Contract.created_at.desc(), Contract.id.desc()))
    if state:
        query = query.where(Contract.state == state)
    if cluster_id:
        query = query.where(Contract.cluster_id == cluster_id)
    if vendor:
        like = f"%{vendor.lower()}%"
        query = query.join(Vendor, Vendor.id == Contract.vendor_id).where(
            sa.or_(sa.func.lower(Vendor.name_en).like(like), Vendor.name_zh.like(f"%{vendor}%")))
    contracts = list(db.session.scalars(query).unique())
    today = now_utc().date()
    counted = [c for c in contracts if c.state in COMMITTING]
    totals = RegisterTotals(
        count=len(contracts), committed=sum((c.value for c in counted), Decimal("0.00")),
        paid=sum((c.paid for c in contracts), Decimal("0.00")),
        avoided=sum((rules.avoided_so_far(c.cost_avoidance, c.starts_on, c.ends_on, today) for c in contracts
                     if c.state != ContractState.draft), Decimal("0.00")),
        funding=current_app.config["PROGRAMME_FUNDING"], benefits_case=current_app.config["PROGRAMME_COST_AVOIDANCE"],
        programme_committed=committed_total())
    return contracts, totals


def contracts_of_vendor(vendor_id: int) -> list[Contract]:
    return list(db.session.scalars(sa.select(Contract).where(Contract.vendor_id == vendor_id,
                                                             Contract.state != ContractState.draft)
                                   .order_by(Contract.starts_on.desc())))


def awardable_submissions() -> list[Submission]:
    """Submitted proposals of opened exercises: an officer may start a contract from one of them."""
    return list(db.session.scalars(
        sa.select(Submission).join(Exercise, Exercise.id == Submission.exercise_id)
        .where(Exercise.state.in_(AWARDABLE), Submission.state == SubmissionState.submitted)
        .options(so.joinedload(Submission.vendor), so.joinedload(Submission.exercise))
        .order_by(Exercise.reference, Submission.id)))


def reports_of(contract: Contract) -> list[KpiReport]:
    return list(db.session.scalars(sa.select(KpiReport).where(KpiReport.contract_id == contract.id)
                                   .options(so.selectinload(KpiReport.results))
                                   .order_by(KpiReport.period_start)))


@dataclass
class KpiHistory:
    kpi: Kpi
    points: list[tuple[date, KpiResult]]
    trend: rules.Trend

    @property
    def credits(self) -> Decimal:
        return sum((r.credit for _d, r in self.points), Decimal("0.00"))

    @property
    def misses(self) -> int:
        return sum(1 for _d, r in self.points if not r.met)


def kpi_histories(contract: Contract) -> list[KpiHistory]:
    """Each KPI's reported figures over time (oldest first) with its trend flags."""
    rows = db.session.execute(sa.select(KpiReport.period_start, KpiResult).join(
        KpiResult, KpiResult.report_id == KpiReport.id).where(KpiReport.contract_id == contract.id)
        .order_by(KpiReport.period_start)).all()
    histories = []
    for kpi in contract.kpis:
        points = [(period, result) for period, result in rows if result.kpi_id == kpi.id]
        histories.append(KpiHistory(kpi, points, rules.trend([r.value for _p, r in points], kpi.target,
                                                              kpi.direction.value)))
    return histories


def open_periods(contract: Contract) -> list[date]:
    """Months that have ended and are not reported yet, newest first."""
    reported = set(db.session.scalars(sa.select(KpiReport.period_start).where(KpiReport.contract_id == contract.id)))
    periods = rules.reportable_periods(contract.starts_on, contract.ends_on, now_utc().date())
    return [p for p in reversed(periods) if p not in reported]


def milestone_of(contract: Contract, milestone_id: int) -> Milestone | None:
    return next((m for m in contract.milestones if m.id == milestone_id), None)


def service_clusters() -> list[ServiceCluster]:
    return list(db.session.scalars(sa.select(ServiceCluster).order_by(ServiceCluster.code)))


def performance_reports_of(contract: Contract) -> list[PerformanceReport]:
    """The contract's annual performance reports, newest request first, with their documents."""
    return list(db.session.scalars(sa.select(PerformanceReport).where(PerformanceReport.contract_id == contract.id)
                                   .options(so.joinedload(PerformanceReport.document))
                                   .order_by(PerformanceReport.requested_at.desc(), PerformanceReport.id.desc())))


def reportable_years(contract: Contract) -> list[int]:
    return rules.contract_years(contract.starts_on, contract.ends_on, now_utc().date())


def last_reported_year(contract: Contract) -> int | None:
    """The contract year of the latest KPI report (the year a performance report is most likely wanted for)."""
    latest = db.session.scalar(sa.select(sa.func.max(KpiReport.period_start))
                               .where(KpiReport.contract_id == contract.id))
    if latest is None:
        return None
    year = 1
    while rules.contract_year(contract.starts_on, year)[1] <= latest:
        year += 1
    return year
