"""The annual performance report of a contract year: each KPI's target against the figures reported per period,
met/missed, service credits, trend flags, charts (the same pygal SVG as the contract page) with data tables, and
the review status of the year's KPI reports. Rendered, signed and hashed by the document task (contracts.init_app
registers the builder); an issued report is checked on the public verification page (contracts/verification.py) by
its file or its reference."""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _

from app.documents.models import Document
from app.documents.service import DocumentSpec
from app.extensions import db
from app.notifications import external_url
from contracts import queries, rules
from contracts.charts import kpi_chart_svg
from contracts.models import Contract, Kpi, KpiReport, PerformanceReport
from contracts.states import KpiReportState


@dataclass
class KpiYear:
    kpi: Kpi
    history: queries.KpiHistory           # the year's points only (what the chart draws)
    states: dict[date, KpiReportState]    # each period's report status
    flags: rules.Trend                    # raised at any point of the year

    @property
    def met(self) -> int:
        return sum(1 for _d, r in self.history.points if r.met)

    @property
    def misses(self) -> int:
        return self.history.misses

    @property
    def credits(self) -> Decimal:
        return self.history.credits


@dataclass
class AnnualPerformance:
    contract: Contract
    year: int
    starts_on: date
    ends_before: date
    kpis: list[KpiYear]
    reports: list[KpiReport]
    periods_due: list[date] = field(default_factory=list)  # months of the year that ended (to be reported)

    @property
    def ends_on(self) -> date:
        return date.fromordinal(self.ends_before.toordinal() - 1)

    @property
    def total_credit(self) -> Decimal:
        return sum((r.total_credit for r in self.reports), Decimal("0.00"))

    @property
    def missing_periods(self) -> list[date]:
        reported = {r.period_start for r in self.reports}
        return [p for p in self.periods_due if p not in reported]

    def count(self, state: KpiReportState) -> int:
        return sum(1 for r in self.reports if r.state == state)


def annual_performance(contract: Contract, year: int, *, today: date) -> AnnualPerformance:
    """What the contract's KPI reports say about contract year `year` (periods starting within it)."""
    start, end = rules.contract_year(contract.starts_on, year)
    reports = [r for r in queries.reports_of(contract) if start <= r.period_start < end]
    states = {r.period_start: r.state for r in reports}
    kpis = []
    for history in queries.kpi_histories(contract):
        points = [(p, r) for p, r in history.points if start <= p < end]
        values = [r.value for _p, r in points]
        target, direction = history.kpi.target, history.kpi.direction.value
        year_history = queries.KpiHistory(history.kpi, points, rules.trend(values, target, direction))
        kpis.append(KpiYear(history.kpi, year_history, states, rules.trend_flags_over(values, target, direction)))
    due = [p for p in rules.reportable_periods(contract.starts_on, contract.ends_on, today) if start <= p < end]
    return AnnualPerformance(contract, year, start, end, kpis, reports, due)


def chart_data_uri(item: KpiYear, locale: str) -> str:
    svg = kpi_chart_svg(item.history, title=f"{item.kpi.name(locale)} ({item.kpi.unit})", reported=_("Reported"),
                        target=_("Target"), for_print=True)
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def build_performance_report(doc: Document) -> DocumentSpec:
    report = db.session.get(PerformanceReport, doc.subject_id)
    performance = annual_performance(report.contract, report.year, today=report.requested_at.date())
    with force_locale(doc.language):  # the charts' words in the document's language
        charts = {item.kpi.id: chart_data_uri(item, doc.language) for item in performance.kpis if item.history.points}
    return DocumentSpec("pdf/performance_report.html", {
        "report": report, "contract": report.contract, "performance": performance, "states": KpiReportState,
        "charts": charts, "verify_url": external_url("contracts.verify")},
        sign_reason=f"Annual performance report {report.reference}")


def performance_report_name(doc: Document) -> tuple[str, ...]:
    report = db.session.get(PerformanceReport, doc.subject_id)
    return (report.contract.reference, "performance", f"year{report.year}")
