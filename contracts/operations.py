"""Every state-changing action of the contracts area, each taking actor=, auditing and flushing, never committing.

Refusals raise ContractRefused (a DomainError) with the reason; `field` names the form field it belongs to, so
the page shows it there."""
from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User, Vendor
from app.db import now_utc
from app.documents.service import queue_document
from app.extensions import db
from app.guards import ActionRefused, require_role, require_state
from app.i18n import sentences
from app.states import transition
from contracts import rules
from contracts.models import (Contract, ContractFee, ContractVersion, FeeKind, Kpi, KpiDirection, KpiReport,
                              KpiResult, Milestone, PerformanceReport, ReportingFrequency, Risk, RiskBearer)
from contracts.states import ContractState, KpiReportState
from eoi import rules as eoi_rules
from eoi.models import Exercise, ServiceCluster, Submission
from eoi.sealed import technical_content_for
from eoi.states import ExerciseState, SubmissionState

#: The version of the contract template (articles and schedules in templates/pdf/contract.html); printed on every
#: contract and kept with each version, so a re-issue says which wording it used.
TEMPLATE_VERSION = "2026.1"
#: Exercises whose box was opened: a contract may follow from them.
AWARDABLE = (ExerciseState.opened, ExerciseState.evaluating, ExerciseState.decided, ExerciseState.concluded)
#: Contracts whose value counts against the programme's funding.
COMMITTING = (ContractState.draft, ContractState.signed, ContractState.active, ContractState.completed)


class ContractRefused(ActionRefused):
    def __init__(self, message=None, *, field: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.field = field


def _officer(actor: User) -> None:
    require_role(actor, Role.officer, error=ContractRefused)


def _draft(contract: Contract, actor: User) -> None:
    _officer(actor)
    require_state(contract, ContractState.draft, error=ContractRefused,
                  message=_l("The terms can change only while the contract is a draft; use a variation."))


def _both(en: str, zh: str, field: str) -> tuple[str, str]:
    if not (en or "").strip() or not (zh or "").strip():
        raise ContractRefused(_l("Give it in both English and Chinese."), field=field)
    return en.strip(), zh.strip()


def _next_position(items) -> int:
    return max((i.position for i in items), default=0) + 1


# --- programme money ----------------------------------------------------------------------------

def committed_total(*, excluding: Contract | None = None) -> Decimal:
    """What the programme's contracts commit (all but terminated ones), from the fee lines."""
    query = (sa.select(sa.func.coalesce(sa.func.sum(ContractFee.committed), 0))
             .join(Contract, Contract.id == ContractFee.contract_id).where(Contract.state.in_(COMMITTING)))
    if excluding is not None:
        query = query.where(Contract.id != excluding.id)
    return Decimal(db.session.scalar(query))


def _require_within_funding(extra: Decimal, *, field: str) -> None:
    """Refuse what would take the programme's commitments past its approved funding."""
    funding = current_app.config["PROGRAMME_FUNDING"]
    total = committed_total() + extra
    if total > funding:
        raise ContractRefused(_l("This would commit %(total)s, past the programme's approved funding of %(funding)s "
                                 "(%(headroom)s is left).", total=f"HK${total:,.2f}", funding=f"HK${funding:,.2f}",
                                 headroom=f"HK${rules.headroom(funding, committed_total()):,.2f}"), field=field)


# --- creating and drafting ----------------------------------------------------------------------

def submitted_vendor_ids(exercise: Exercise) -> set[int]:
    return set(db.session.scalars(sa.select(Submission.vendor_id).where(
        Submission.exercise_id == exercise.id, Submission.state == SubmissionState.submitted)))


def create_contract(exercise: Exercise, vendor: Vendor, *, actor: User, cluster: ServiceCluster, title_en: str,
                    title_zh: str, starts_on: date, ends_on: date, extension_months: int = 0,
                    extensions_allowed: int = 0, cost_avoidance: Decimal = Decimal("0")) -> Contract:
    """A draft contract for one cluster of an opened exercise with a vendor that submitted to it. The decisions
    work calls this from an approved award. Raises ContractRefused."""
    _officer(actor)
    if exercise.state not in AWARDABLE:
        raise ContractRefused(_l("A contract follows an exercise whose submissions were opened."), field="submission")
    if vendor.id not in submitted_vendor_ids(exercise):
        raise ContractRefused(_l("This company did not submit a proposal to the exercise."), field="submission")
    if cluster.id not in {c.id for c in exercise.clusters}:
        raise ContractRefused(_l("Choose one of the exercise's service clusters."), field="cluster")
    if ends_on <= starts_on:
        raise ContractRefused(_l("The term must end after it starts."), field="ends_on")
    if cost_avoidance < 0 or extension_months < 0 or extensions_allowed < 0:
        raise ContractRefused(_l("Enter zero or more."), field="cost_avoidance")
    title_en, title_zh = _both(title_en, title_zh, "title_en")
    count = db.session.scalar(sa.select(sa.func.count(Contract.id)).where(Contract.cluster_id == cluster.id))
    contract = Contract(reference=f"PPP/{cluster.code}/{starts_on.year}/{count + 1:02d}", exercise=exercise,
                        vendor=vendor, cluster=cluster, title_en=title_en, title_zh=title_zh, starts_on=starts_on,
                        ends_on=ends_on, extension_months=extension_months, extensions_allowed=extensions_allowed,
                        cost_avoidance=rules.money(cost_avoidance), created_by_id=actor.id)
    db.session.add(contract)
    contract.versions.append(ContractVersion(number=1, reason="Original contract", value=Decimal("0.00"),
                                             ends_on=ends_on, template_version=TEMPLATE_VERSION,
                                             created_by_id=actor.id))
    db.session.flush()
    record(actor, "contract.created", contract, reference=contract.reference, exercise_id=exercise.id,
           vendor_id=vendor.id)
    prefill_kpis(contract, actor=actor)
    return contract


def prefill_kpis(contract: Contract, *, actor: User) -> list[Kpi]:
    """KPIs from the service levels the contractor committed to in its proposal (the exercise's service-level
    questions), read through eoi.sealed as the officer: after the opening only (SealedContent before, invariant 1).
    Reported monthly, with no service credit until the officer sets the rule; the officer edits them in draft."""
    questions = [s for s in contract.exercise.sections if s.is_service_level]
    if not questions:
        return []
    submission = db.session.scalar(sa.select(Submission).where(Submission.exercise_id == contract.exercise_id,
                                                                Submission.vendor_id == contract.vendor_id))
    answers = technical_content_for(actor, submission).answers
    kpis = []
    for question in questions:
        level = eoi_rules.parse_level(answers.get(question.id))
        if level is None:
            continue
        kpi = Kpi(position=_next_position(contract.kpis), name_en=question.title_en, name_zh=question.title_zh,
                  unit=question.kpi_unit, target=level, committed_level=level,
                  direction=KpiDirection(question.kpi_direction), frequency=ReportingFrequency.monthly,
                  credit_step=Decimal("1"), credit_amount=Decimal("0.00"), credit_cap=Decimal("0.00"))
        contract.kpis.append(kpi)
        kpis.append(kpi)
    db.session.flush()
    if kpis:
        record(actor, "contract.kpis_prefilled", contract, submission_id=submission.id,
               kpi_ids=[k.id for k in kpis], section_ids=[q.id for q in questions])
    return kpis


def add_fee(contract: Contract, *, actor: User, kind: FeeKind, description_en: str, description_zh: str,
            rate: Decimal, committed: Decimal) -> ContractFee:
    """A line of the fee model (a mix is several lines); its committed amount counts against the funding."""
    _draft(contract, actor)
    description_en, description_zh = _both(description_en, description_zh, "description_en")
    if rate < 0 or committed < 0:
        raise ContractRefused(_l("Enter zero or more."), field="rate")
    if kind == FeeKind.revenue_share and rate > 100:
        raise ContractRefused(_l("A revenue share is a percentage from 0 to 100."), field="rate")
    _require_within_funding(committed, field="committed")
    fee = ContractFee(position=_next_position(contract.fees), kind=kind, description_en=description_en,
                      description_zh=description_zh, rate=rate, committed=rules.money(committed),
                      added_in_version=contract.version)
    contract.fees.append(fee)
    _sync_version_value(contract)
    db.session.flush()
    record(actor, "contract.fee_added", contract, kind=kind.value, committed=str(fee.committed))
    return fee


def add_milestone(contract: Contract, *, actor: User, title_en: str, title_zh: str, due_on: date,
                  amount: Decimal) -> Milestone:
    _draft(contract, actor)
    title_en, title_zh = _both(title_en, title_zh, "title_en")
    if not contract.starts_on <= due_on <= contract.ends_on:
        raise ContractRefused(_l("The milestone must fall within the contract's term."), field="due_on")
    if amount < 0:
        raise ContractRefused(_l("Enter zero or more."), field="amount")
    milestone = Milestone(position=_next_position(contract.milestones), title_en=title_en, title_zh=title_zh,
                          due_on=due_on, amount=rules.money(amount))
    contract.milestones.append(milestone)
    db.session.flush()
    record(actor, "contract.milestone_added", contract, milestone_id=milestone.id)
    return milestone


def add_kpi(contract: Contract, *, actor: User, name_en: str, name_zh: str, unit: str, target: Decimal,
            direction: KpiDirection, frequency: ReportingFrequency, credit_step: Decimal, credit_amount: Decimal,
            credit_cap: Decimal) -> Kpi:
    _draft(contract, actor)
    name_en, name_zh = _both(name_en, name_zh, "name_en")
    if credit_step <= 0:
        raise ContractRefused(_l("The step of shortfall must be more than zero."), field="credit_step")
    if credit_amount < 0 or credit_cap < 0:
        raise ContractRefused(_l("Enter zero or more."), field="credit_amount")
    kpi = Kpi(position=_next_position(contract.kpis), name_en=name_en, name_zh=name_zh, unit=unit.strip(),
              target=target, direction=direction, frequency=frequency, credit_step=credit_step,
              credit_amount=rules.money(credit_amount), credit_cap=rules.money(credit_cap))
    contract.kpis.append(kpi)
    db.session.flush()
    record(actor, "contract.kpi_added", contract, kpi_id=kpi.id)
    return kpi


def update_kpi(kpi: Kpi, *, actor: User, name_en: str, name_zh: str, unit: str, target: Decimal,
               direction: KpiDirection, frequency: ReportingFrequency, credit_step: Decimal, credit_amount: Decimal,
               credit_cap: Decimal) -> Kpi:
    """Change a service level of a draft contract (a pre-filled one keeps the level committed in the proposal).
    Raises ContractRefused once the contract is signed (a variation then) or for a malformed credit rule."""
    _draft(kpi.contract, actor)
    name_en, name_zh = _both(name_en, name_zh, "name_en")
    if credit_step <= 0:
        raise ContractRefused(_l("The step of shortfall must be more than zero."), field="credit_step")
    if credit_amount < 0 or credit_cap < 0:
        raise ContractRefused(_l("Enter zero or more."), field="credit_amount")
    before = {"target": str(kpi.target), "direction": kpi.direction.value, "credit_amount": str(kpi.credit_amount)}
    kpi.name_en, kpi.name_zh, kpi.unit, kpi.target = name_en, name_zh, unit.strip(), target
    kpi.direction, kpi.frequency, kpi.credit_step = direction, frequency, credit_step
    kpi.credit_amount, kpi.credit_cap = rules.money(credit_amount), rules.money(credit_cap)
    db.session.flush()
    record(actor, "contract.kpi_updated", kpi.contract, kpi_id=kpi.id, before=before,
           after={"target": str(target), "direction": direction.value, "credit_amount": str(kpi.credit_amount)})
    return kpi


def remove_kpi(kpi: Kpi, *, actor: User) -> None:
    """Take a service level out of a draft contract. Raises ContractRefused once it is signed."""
    contract = kpi.contract
    _draft(contract, actor)
    contract.kpis.remove(kpi)
    db.session.flush()
    record(actor, "contract.kpi_removed", contract, kpi_id=kpi.id, name=kpi.name_en)


def add_risk(contract: Contract, *, actor: User, risk_en: str, risk_zh: str, bearer: RiskBearer,
             mitigation_en: str, mitigation_zh: str) -> Risk:
    _draft(contract, actor)
    risk_en, risk_zh = _both(risk_en, risk_zh, "risk_en")
    risk = Risk(position=_next_position(contract.risks), risk_en=risk_en, risk_zh=risk_zh, bearer=bearer,
                mitigation_en=(mitigation_en or "").strip(), mitigation_zh=(mitigation_zh or "").strip())
    contract.risks.append(risk)
    db.session.flush()
    record(actor, "contract.risk_added", contract, risk_id=risk.id)
    return risk


def _sync_version_value(contract: Contract) -> None:
    version = contract.current_version
    if version is not None:
        version.value, version.ends_on = contract.value, contract.ends_on


def contract_problems(contract: Contract) -> list[str]:
    """What stops the contract from being issued (all of it, not the first): a fee model, KPIs, risks."""
    problems = []
    if not contract.fees:
        problems.append(str(_l("Add at least one line of the fee model.")))
    if not contract.kpis:
        problems.append(str(_l("Add at least one service level (KPI).")))
    if not contract.risks:
        problems.append(str(_l("Add the risk allocation.")))
    return problems


# --- issuing the document -----------------------------------------------------------------------

def content_digest(contract: Contract) -> str:
    """SHA-256 of the terms a version is rendered from (canonical JSON): printed in the PDF's footer, so a paper
    copy can be checked on the verification page without the file."""
    terms = {
        "reference": contract.reference, "version": contract.version, "template": TEMPLATE_VERSION,
        "vendor": contract.vendor.br_number, "cluster": contract.cluster.code,
        "term": [contract.starts_on.isoformat(), contract.ends_on.isoformat()],
        "fees": [[f.kind.value, str(f.rate), str(f.committed)] for f in contract.fees],
        "milestones": [[m.due_on.isoformat(), str(m.amount)] for m in contract.milestones],
        "kpis": [[k.name_en, str(k.target), k.direction.value, str(k.credit_step), str(k.credit_amount),
                  str(k.credit_cap)] for k in contract.kpis],
        "risks": [[r.risk_en, r.bearer.value] for r in contract.risks],
    }
    return hashlib.sha256(json.dumps(terms, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def issue_contract(contract: Contract, *, actor: User, language: str = "en"):
    """Issue the current version's PDF (rendered, signed and hashed by the document task). Once per version.
    Raises ContractRefused when the terms are incomplete or the version was issued already."""
    _officer(actor)
    if contract.state in (ContractState.completed, ContractState.terminated):
        raise ContractRefused(_l("A closed contract is not issued again."))
    if problems := contract_problems(contract):
        raise ContractRefused(sentences(problems))
    version = contract.current_version
    if version.document_id is not None:
        raise ContractRefused(_l("Version %(n)s was issued already.", n=version.number))
    version.content_sha256, version.issued_at = content_digest(contract), now_utc()
    version.value, version.ends_on = contract.value, contract.ends_on
    doc = queue_document("contract", version, language=language, vendor_id=None, actor=actor)
    version.document_id = doc.id
    record(actor, "contract.issued", contract, version=version.number, document_id=doc.id,
           content_sha256=version.content_sha256)
    return doc


# --- the life of the contract -------------------------------------------------------------------

def sign_contract(contract: Contract, *, actor: User) -> Contract:
    """Record that both parties signed the issued version. Raises ContractRefused before it is issued."""
    _officer(actor)
    if contract.current_version.document_id is None:
        raise ContractRefused(_l("Issue the contract before recording its signature."))
    _require_within_funding(Decimal(0), field=None)
    contract.signed_at = now_utc()
    transition(contract, ContractState.signed, actor=actor, action="contract.signed")
    db.session.flush()
    return contract


def activate_contract(contract: Contract, *, actor: User) -> Contract:
    """The service starts: KPI reports can be filed from now on."""
    _officer(actor)
    contract.activated_at = now_utc()
    transition(contract, ContractState.active, actor=actor, action="contract.activated")
    db.session.flush()
    return contract


def complete_contract(contract: Contract, *, actor: User) -> Contract:
    _officer(actor)
    contract.closed_at = now_utc()
    transition(contract, ContractState.completed, actor=actor, action="contract.completed")
    db.session.flush()
    return contract


def terminate_contract(contract: Contract, *, actor: User, reason: str) -> Contract:
    _officer(actor)
    if not (reason or "").strip():
        raise ContractRefused(_l("Give the reason for terminating the contract."), field="reason")
    contract.closed_at, contract.termination_reason = now_utc(), reason.strip()
    transition(contract, ContractState.terminated, actor=actor, action="contract.terminated", reason=reason.strip())
    db.session.flush()
    return contract


def vary_contract(contract: Contract, *, actor: User, reason: str, extra_committed: Decimal = Decimal("0"),
                  description_en: str = "", description_zh: str = "", extend: bool = False) -> ContractVersion:
    """A variation of a signed or active contract: the next numbered version, with its reason, adding to the
    committed value and/or using one extension option. Refused past the programme's approved funding."""
    _officer(actor)
    require_state(contract, ContractState.signed, ContractState.active, error=ContractRefused,
                  message=_l("Only a signed or active contract can be varied."))
    if not (reason or "").strip():
        raise ContractRefused(_l("Give the reason for the variation."), field="reason")
    if extra_committed < 0:
        raise ContractRefused(_l("Enter zero or more."), field="extra_committed")
    if extra_committed == 0 and not extend:
        raise ContractRefused(_l("A variation changes the value or the term."), field="extra_committed")
    if extend and contract.extensions_used >= contract.extensions_allowed:
        raise ContractRefused(_l("The contract has no extension option left."), field="extend")
    _require_within_funding(extra_committed, field="extra_committed")
    contract.version += 1
    if extra_committed > 0:
        en, zh = _both(description_en, description_zh, "description_en")
        contract.fees.append(ContractFee(position=_next_position(contract.fees), kind=FeeKind.fixed,
                                         description_en=en, description_zh=zh, rate=Decimal(0),
                                         committed=rules.money(extra_committed), added_in_version=contract.version))
    if extend:
        contract.extensions_used += 1
        contract.ends_on = _add_months(contract.ends_on, contract.extension_months)
    version = ContractVersion(number=contract.version, reason=reason.strip(), value=contract.value,
                              ends_on=contract.ends_on, template_version=TEMPLATE_VERSION, created_by_id=actor.id)
    contract.versions.append(version)
    db.session.flush()
    record(actor, "contract.varied", contract, version=version.number, reason=version.reason,
           extra_committed=str(extra_committed), extended=extend)
    return version


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def record_milestone_paid(milestone: Milestone, *, actor: User, paid_on: date) -> Milestone:
    _officer(actor)
    require_state(milestone.contract, ContractState.signed, ContractState.active, ContractState.completed,
                  error=ContractRefused)
    if milestone.paid_on is not None:
        raise ContractRefused(_l("This milestone is already recorded as paid."))
    milestone.paid_on = paid_on
    record(actor, "contract.milestone_paid", milestone.contract, milestone_id=milestone.id,
           amount=str(milestone.amount))
    db.session.flush()
    return milestone


# --- KPI reports --------------------------------------------------------------------------------

def due_kpis(contract: Contract, period_start: date) -> list[Kpi]:
    return [k for k in contract.kpis if rules.due_in_period(k.frequency.value, period_start)]


def _results(contract: Contract, period_start: date, figures: dict[int, Decimal]) -> list[KpiResult]:
    results = []
    for kpi in due_kpis(contract, period_start):
        if figures.get(kpi.id) is None:
            raise ContractRefused(_l("Give a figure for every service level due this period."), field=f"kpi_{kpi.id}")
        value = figures[kpi.id]
        credit = rules.service_credit(value, kpi.target, kpi.direction.value, step=kpi.credit_step,
                                      amount=kpi.credit_amount, cap=kpi.credit_cap)
        results.append(KpiResult(kpi_id=kpi.id, value=value,
                                 met=rules.kpi_met(value, kpi.target, kpi.direction.value), credit=credit))
    return results


def file_kpi_report(contract: Contract, *, actor: User, period_start: date, figures: dict[int, Decimal],
                    comment: str = "") -> KpiReport:
    """The contractor's figures for one month that has ended: met/missed and the service credit per KPI are
    computed here (contracts.rules). Refused for another company, a contract not active, a period outside the
    term or not over yet, and a period already reported."""
    if actor.vendor_id != contract.vendor_id:
        raise ContractRefused(_l("Only the contractor's users file its KPI reports."))
    require_state(contract, ContractState.active, error=ContractRefused,
                  message=_l("KPI reports are filed while the contract is active."))
    period_start = rules.month_start(period_start)
    today = now_utc().date()
    if period_start not in rules.reportable_periods(contract.starts_on, contract.ends_on, today):
        raise ContractRefused(_l("Choose a month of the contract's term that has ended."), field="period")
    if db.session.scalar(sa.select(KpiReport.id).where(KpiReport.contract_id == contract.id,
                                                       KpiReport.period_start == period_start)):
        raise ContractRefused(_l("This period was already reported."), field="period")
    results = _results(contract, period_start, figures)
    report = KpiReport(contract_id=contract.id, period_start=period_start, filed_by_id=actor.id,
                       comment=(comment or "").strip(), results=results,
                       total_credit=sum((r.credit for r in results), Decimal("0.00")))
    db.session.add(report)
    db.session.flush()
    record(actor, "kpi_report.filed", report, contract_id=contract.id, period=period_start.isoformat(),
           credit=str(report.total_credit))
    return report


def accept_kpi_report(report: KpiReport, *, actor: User) -> KpiReport:
    _officer(actor)
    report.reviewed_by_id, report.reviewed_at = actor.id, now_utc()
    transition(report, KpiReportState.accepted, actor=actor, action="kpi_report.accepted")
    db.session.flush()
    return report


def query_kpi_report(report: KpiReport, *, actor: User, note: str) -> KpiReport:
    """Send the report back to the contractor with a question; it files corrected figures."""
    _officer(actor)
    if not (note or "").strip():
        raise ContractRefused(_l("Say what is to be checked."), field="note")
    report.reviewed_by_id, report.reviewed_at, report.query_note = actor.id, now_utc(), note.strip()
    transition(report, KpiReportState.queried, actor=actor, action="kpi_report.queried", reason=note.strip())
    db.session.flush()
    return report


def refile_kpi_report(report: KpiReport, *, actor: User, figures: dict[int, Decimal], comment: str = "") -> KpiReport:
    """The contractor answers a query with corrected figures; credits are computed again."""
    if actor.vendor_id != report.contract.vendor_id:
        raise ContractRefused(_l("Only the contractor's users file its KPI reports."))
    results = _results(report.contract, report.period_start, figures)
    report.results.clear()
    db.session.flush()  # the old figures go before the corrected ones take their (report, KPI) places
    report.results.extend(results)
    report.total_credit = sum((r.credit for r in report.results), Decimal("0.00"))
    report.comment, report.filed_at, report.filed_by_id = (comment or "").strip(), now_utc(), actor.id
    transition(report, KpiReportState.submitted, actor=actor, action="kpi_report.refiled",
               credit=str(report.total_credit))
    db.session.flush()
    return report


# --- the annual performance report --------------------------------------------------------------

def request_performance_report(contract: Contract, *, actor: User, year: int,
                               language: str = "en") -> PerformanceReport:
    """An officer asks for the annual performance report of a contract year that has begun; the document task
    renders, signs and hashes it (the contractor downloads it too). Raises ContractRefused for a draft contract or
    a year outside the term, or not begun."""
    _officer(actor)
    if contract.state == ContractState.draft:
        raise ContractRefused(_l("A performance report follows a signed contract."), field="year")
    if year not in rules.contract_years(contract.starts_on, contract.ends_on, now_utc().date()):
        raise ContractRefused(_l("Choose a contract year that has begun."), field="year")
    report = PerformanceReport(contract_id=contract.id, year=year, requested_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    doc = queue_document("performance_report", report, language=language, vendor_id=contract.vendor_id, actor=actor)
    report.document_id = doc.id
    db.session.flush()
    record(actor, "contract.performance_report_requested", contract, year=year, language=language,
           document_id=doc.id)
    return report
