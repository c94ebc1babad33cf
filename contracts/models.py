"""Models of the contracts area: a Contract for one service cluster with its fees, milestones, KPIs, risks and
numbered versions (variations), and the contractor's KPI reports; the decisions (shortlist or award) with their
approval, standstill and challenges (contracts.decisions); a final award leads to contracts.operations.create_contract."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User, Vendor
from app.db import now_utc
from app.documents.models import Document, DocumentStatus
from app.extensions import db
from contracts.states import (CHALLENGE_TRANSITIONS, CONTRACT_TRANSITIONS, DECISION_TRANSITIONS, KPI_REPORT_TRANSITIONS,
                              ChallengeState, ContractState, DecisionKind, DecisionState, KpiReportState)
from eoi.models import Exercise, ServiceCluster, Submission


def _enum(cls, length: int = 20):
    return sa.Enum(cls, native_enum=False, length=length)


class FeeKind(str, enum.Enum):
    fixed = "fixed"
    subscription = "subscription"
    transaction = "transaction"
    revenue_share = "revenue_share"

    @property
    def title(self) -> str:
        return str({FeeKind.fixed: _l("Fixed service fee (HK$ a year)"),
                    FeeKind.subscription: _l("Subscription fee (HK$ a month)"),
                    FeeKind.transaction: _l("Per-transaction fee (HK$ a transaction)"),
                    FeeKind.revenue_share: _l("Revenue sharing with the government (per cent)")}[self])


class RiskBearer(str, enum.Enum):
    government = "government"
    contractor = "contractor"
    shared = "shared"

    @property
    def title(self) -> str:
        return str({RiskBearer.government: _l("Government"), RiskBearer.contractor: _l("Contractor"),
                    RiskBearer.shared: _l("Shared")}[self])


class KpiDirection(str, enum.Enum):
    at_least = "at_least"
    at_most = "at_most"

    @property
    def title(self) -> str:
        return str({KpiDirection.at_least: _l("At least the target"),
                    KpiDirection.at_most: _l("At most the target")}[self])


class ReportingFrequency(str, enum.Enum):
    monthly = "monthly"
    quarterly = "quarterly"

    @property
    def title(self) -> str:
        return str({ReportingFrequency.monthly: _l("Monthly"), ReportingFrequency.quarterly: _l("Quarterly")}[self])


class Contract(db.Model):
    __tablename__ = "contracts"
    __public_content__ = True  # a signed contract is open data (contracts/open_data.py, app.public_cache)
    TRANSITIONS = CONTRACT_TRANSITIONS
    __table_args__ = (
        sa.CheckConstraint("ends_on > starts_on", name="term_positive"),
        sa.CheckConstraint("(state = 'draft') OR (signed_at IS NOT NULL)", name="signed_has_time"),
        sa.CheckConstraint("(state IN ('draft', 'signed', 'terminated')) OR (activated_at IS NOT NULL)",
                           name="active_has_time"),
        sa.CheckConstraint("(state <> 'terminated') OR (termination_reason IS NOT NULL)", name="terminated_has_reason"),
        sa.CheckConstraint("extensions_allowed >= 0 AND extension_months >= 0", name="extension_options"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    reference: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    cluster_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("service_clusters.id"), index=True)
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    state: so.Mapped[ContractState] = so.mapped_column(_enum(ContractState), default=ContractState.draft, index=True)
    starts_on: so.Mapped[date]
    ends_on: so.Mapped[date]
    extension_months: so.Mapped[int] = so.mapped_column(default=0)
    extensions_allowed: so.Mapped[int] = so.mapped_column(default=0)
    extensions_used: so.Mapped[int] = so.mapped_column(default=0)
    cost_avoidance: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2), default=Decimal("0"))
    version: so.Mapped[int] = so.mapped_column(default=1)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    signed_at: so.Mapped[Optional[datetime]]
    activated_at: so.Mapped[Optional[datetime]]
    closed_at: so.Mapped[Optional[datetime]]
    termination_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    exercise: so.Mapped[Exercise] = so.relationship()
    vendor: so.Mapped[Vendor] = so.relationship()
    cluster: so.Mapped[ServiceCluster] = so.relationship()
    fees: so.Mapped[list["ContractFee"]] = so.relationship(order_by="ContractFee.position", cascade="all, delete-orphan",
                                                           back_populates="contract")
    milestones: so.Mapped[list["Milestone"]] = so.relationship(order_by="Milestone.position",
                                                               cascade="all, delete-orphan", back_populates="contract")
    kpis: so.Mapped[list["Kpi"]] = so.relationship(order_by="Kpi.position", cascade="all, delete-orphan",
                                                   back_populates="contract")
    risks: so.Mapped[list["Risk"]] = so.relationship(order_by="Risk.position", cascade="all, delete-orphan",
                                                     back_populates="contract")
    versions: so.Mapped[list["ContractVersion"]] = so.relationship(order_by="ContractVersion.number",
                                                                   cascade="all, delete-orphan",
                                                                   back_populates="contract")

    @property
    def value(self) -> Decimal:
        """The committed value: the sum of the fee lines' committed amounts over the term."""
        return sum((f.committed for f in self.fees), Decimal("0.00"))

    @property
    def paid(self) -> Decimal:
        return sum((m.amount for m in self.milestones if m.paid_on is not None), Decimal("0.00"))

    @property
    def current_version(self) -> "ContractVersion | None":
        return next((v for v in self.versions if v.number == self.version), None)

    def title(self, locale) -> str:
        return self.title_zh if str(locale).startswith("zh") else self.title_en

    def __repr__(self) -> str:
        return f"<Contract {self.reference} v{self.version} {self.state.value}>"


class ContractFee(db.Model):
    """One part of the fee model: a fixed fee, a subscription, a per-transaction fee or a revenue share (a mix is
    several lines). `rate` is in the kind's unit; `committed` is what the line commits over the term (HK$)."""
    __tablename__ = "contract_fees"
    __public_content__ = True  # a signed contract's value is open data (contracts/open_data.py, app.public_cache)
    __table_args__ = (sa.UniqueConstraint("contract_id", "position"),
                      sa.CheckConstraint("rate >= 0 AND committed >= 0", name="not_negative"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    kind: so.Mapped[FeeKind] = so.mapped_column(_enum(FeeKind))
    description_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    description_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 4))
    committed: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    added_in_version: so.Mapped[int] = so.mapped_column(default=1)

    contract: so.Mapped[Contract] = so.relationship(back_populates="fees")

    @property
    def from_variation(self) -> bool:
        """A variation adds its value as a sum committed, with no rate (contracts.operations.vary_contract)."""
        return self.added_in_version > 1

    def __repr__(self) -> str:
        return f"<ContractFee {self.contract_id}.{self.position} {self.kind.value}>"


class Milestone(db.Model):
    __tablename__ = "contract_milestones"
    __table_args__ = (sa.UniqueConstraint("contract_id", "position"),
                      sa.CheckConstraint("amount >= 0", name="amount_not_negative"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    due_on: so.Mapped[date]
    amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    paid_on: so.Mapped[Optional[date]]

    contract: so.Mapped[Contract] = so.relationship(back_populates="milestones")

    def __repr__(self) -> str:
        return f"<Milestone {self.contract_id}.{self.position}>"


class Kpi(db.Model):
    """A service level: target in a unit, met when the figure is at least (or at most) the target, reported
    monthly or quarterly; a miss costs `credit_amount` for every started `credit_step` of shortfall, up to
    `credit_cap` a period (contracts.rules.service_credit)."""
    __tablename__ = "contract_kpis"
    __table_args__ = (sa.UniqueConstraint("contract_id", "position"),
                      sa.CheckConstraint("credit_step > 0 AND credit_amount >= 0 AND credit_cap >= 0",
                                         name="credit_rule"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    name_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    unit: so.Mapped[str] = so.mapped_column(sa.String(30))
    target: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 4))
    direction: so.Mapped[KpiDirection] = so.mapped_column(_enum(KpiDirection))
    frequency: so.Mapped[ReportingFrequency] = so.mapped_column(_enum(ReportingFrequency))
    credit_step: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 4))
    credit_amount: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    credit_cap: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    #: the level the vendor committed to in its proposal (a service-level question of the exercise), when the KPI
    #: was pre-filled from it; the officer may have changed the target since
    committed_level: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(14, 4))

    contract: so.Mapped[Contract] = so.relationship(back_populates="kpis")

    def name(self, locale) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en

    def __repr__(self) -> str:
        return f"<Kpi {self.contract_id}.{self.position} {self.name_en}>"


class Risk(db.Model):
    __tablename__ = "contract_risks"
    __table_args__ = (sa.UniqueConstraint("contract_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    risk_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    risk_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    bearer: so.Mapped[RiskBearer] = so.mapped_column(_enum(RiskBearer))
    mitigation_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    mitigation_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    contract: so.Mapped[Contract] = so.relationship(back_populates="risks")

    def __repr__(self) -> str:
        return f"<Risk {self.contract_id}.{self.position} {self.bearer.value}>"


class ContractVersion(db.Model):
    """Version 1 is the contract as drafted; each variation adds the next number with its reason. The issued PDF
    of a version (signed, hashed) is `document`; `content_sha256` is the hash of the terms it was rendered from."""
    __tablename__ = "contract_versions"
    __table_args__ = (sa.UniqueConstraint("contract_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int]
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    value: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    ends_on: so.Mapped[date]
    template_version: so.Mapped[str] = so.mapped_column(sa.String(20))
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    document_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("documents.id"), unique=True)
    issued_at: so.Mapped[Optional[datetime]]
    content_sha256: so.Mapped[Optional[str]] = so.mapped_column(sa.String(64))

    contract: so.Mapped[Contract] = so.relationship(back_populates="versions")
    created_by: so.Mapped[Optional[User]] = so.relationship()
    document: so.Mapped[Optional[Document]] = so.relationship()

    @property
    def reference(self) -> str:
        return f"{self.contract.reference}/v{self.number}"

    def __repr__(self) -> str:
        return f"<ContractVersion {self.contract_id} v{self.number}>"


class KpiReport(db.Model):
    """The contractor's report for one monthly period: a figure per KPI due, with met/missed and the credit."""
    __tablename__ = "kpi_reports"
    TRANSITIONS = KPI_REPORT_TRANSITIONS
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "period_start"),
        sa.CheckConstraint("(state = 'submitted') OR (reviewed_at IS NOT NULL)", name="reviewed_has_time"),
        sa.CheckConstraint("(state <> 'queried') OR (query_note IS NOT NULL)", name="queried_has_note"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    period_start: so.Mapped[date]
    state: so.Mapped[KpiReportState] = so.mapped_column(_enum(KpiReportState), default=KpiReportState.submitted)
    comment: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    filed_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    filed_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    reviewed_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: so.Mapped[Optional[datetime]]
    query_note: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    total_credit: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2), default=Decimal("0.00"))

    contract: so.Mapped[Contract] = so.relationship()
    filed_by: so.Mapped[User] = so.relationship(foreign_keys=[filed_by_id])
    results: so.Mapped[list["KpiResult"]] = so.relationship(order_by="KpiResult.kpi_id", cascade="all, delete-orphan",
                                                            back_populates="report")

    def __repr__(self) -> str:
        return f"<KpiReport {self.contract_id} {self.period_start} {self.state.value}>"


class KpiResult(db.Model):
    __tablename__ = "kpi_results"
    __table_args__ = (sa.UniqueConstraint("report_id", "kpi_id"),
                      sa.CheckConstraint("credit >= 0", name="credit_not_negative"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    report_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("kpi_reports.id", ondelete="CASCADE"), index=True)
    kpi_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contract_kpis.id", ondelete="CASCADE"), index=True)
    value: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 4))
    met: so.Mapped[bool]
    credit: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))

    report: so.Mapped[KpiReport] = so.relationship(back_populates="results")
    kpi: so.Mapped[Kpi] = so.relationship()

    def __repr__(self) -> str:
        return f"<KpiResult {self.report_id} kpi {self.kpi_id} {'met' if self.met else 'missed'}>"


class PerformanceReport(db.Model):
    """The annual performance report of one contract year (year 1 starts on the contract's start date), requested
    by an officer and rendered, signed and hashed by the document task: each KPI's target against the figures
    reported, met/missed, service credits, trends and charts (contracts/performance.py)."""
    __tablename__ = "performance_reports"
    __table_args__ = (sa.CheckConstraint("year >= 1", name="year_positive"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    contract_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    year: so.Mapped[int]
    requested_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    requested_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    document_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("documents.id"), unique=True)

    contract: so.Mapped[Contract] = so.relationship()
    document: so.Mapped[Optional[Document]] = so.relationship()

    @property
    def reference(self) -> str:
        return f"{self.contract.reference}/PR{self.year}"

    @property
    def ready(self) -> bool:
        return self.document is not None and self.document.status == DocumentStatus.ready

    def __repr__(self) -> str:
        return f"<PerformanceReport {self.contract_id} year {self.year}>"


class Decision(db.Model):
    """An officer's decision on an exercise from its panel's recommendation: the shortlist of an EOI (its entries
    are invited to the restricted tender at approval) or the award of a tender (one entry), with the justification.
    An approver who took no part in the evaluation approves or returns it; an approved award stands still for
    `standstill_days` (vendors may challenge it) before it becomes final. `previous` is the declined decision this
    one replaces with the next-ranked tenderer."""
    __tablename__ = "decisions"
    __public_content__ = True  # a declined award leaves the public award notice (contracts.letters.award_notice)
    TRANSITIONS = DECISION_TRANSITIONS
    __table_args__ = (
        sa.CheckConstraint("state NOT IN ('approved', 'final', 'declined') OR "
                           "(approved_at IS NOT NULL AND approved_by_id IS NOT NULL)", name="approved_has_approver"),
        sa.CheckConstraint("state <> 'returned' OR return_reason IS NOT NULL", name="returned_has_reason"),
        sa.CheckConstraint("state <> 'final' OR final_at IS NOT NULL", name="final_has_time"),
        sa.CheckConstraint("state <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"),
        sa.CheckConstraint("standstill_days >= 0", name="standstill_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id"), index=True)
    kind: so.Mapped[DecisionKind] = so.mapped_column(_enum(DecisionKind))
    state: so.Mapped[DecisionState] = so.mapped_column(_enum(DecisionState), default=DecisionState.submitted,
                                                       index=True)
    justification: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    approved_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    approved_at: so.Mapped[Optional[datetime]]
    return_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    standstill_days: so.Mapped[int] = so.mapped_column(default=0)
    standstill_ends_at: so.Mapped[Optional[datetime]]
    final_at: so.Mapped[Optional[datetime]]
    decline_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    previous_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("decisions.id"))

    exercise: so.Mapped[Exercise] = so.relationship()
    recorded_by: so.Mapped[User] = so.relationship(foreign_keys=[recorded_by_id])
    approved_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[approved_by_id])
    previous: so.Mapped[Optional["Decision"]] = so.relationship(remote_side=[id])
    entries: so.Mapped[list["DecisionEntry"]] = so.relationship(order_by="DecisionEntry.position",
                                                                cascade="all, delete-orphan", back_populates="decision")
    challenges: so.Mapped[list["Challenge"]] = so.relationship(order_by="Challenge.id", back_populates="decision")

    @property
    def submissions(self) -> list[Submission]:
        return [e.submission for e in self.entries]

    @property
    def vendor_ids(self) -> list[int]:
        return [e.submission.vendor_id for e in self.entries]

    @property
    def is_award(self) -> bool:
        return self.kind == DecisionKind.award

    @property
    def in_standstill(self) -> bool:
        """An approved award not final yet (challenges may be lodged until standstill_ends_at)."""
        return self.is_award and self.state == DecisionState.approved

    @property
    def is_final_shortlist(self) -> bool:
        return self.kind == DecisionKind.shortlist and self.state == DecisionState.final

    @property
    def open_challenges(self) -> list["Challenge"]:
        return [c for c in self.challenges if c.state == ChallengeState.open]

    def __repr__(self) -> str:
        return f"<Decision {self.id} {self.kind.value} of exercise {self.exercise_id} {self.state.value}>"


class DecisionEntry(db.Model):
    """One submission a decision selects: the shortlist in rank order, or the award's one tenderer."""
    __tablename__ = "decision_entries"
    __table_args__ = (sa.UniqueConstraint("decision_id", "submission_id"),
                      sa.UniqueConstraint("decision_id", "position"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    decision_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id"), index=True)
    position: so.Mapped[int]

    decision: so.Mapped[Decision] = so.relationship(back_populates="entries")
    submission: so.Mapped[Submission] = so.relationship()

    def __repr__(self) -> str:
        return f"<DecisionEntry {self.decision_id}.{self.position} submission {self.submission_id}>"


class Challenge(db.Model):
    """An unsuccessful vendor's challenge to an award, lodged during the standstill period, and the officer's
    recorded answer; the award becomes final only when every challenge is answered."""
    __tablename__ = "decision_challenges"
    TRANSITIONS = CHALLENGE_TRANSITIONS
    __table_args__ = (sa.CheckConstraint("state <> 'answered' OR (answer IS NOT NULL AND answered_at IS NOT NULL)",
                                         name="answered_has_answer"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    decision_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    state: so.Mapped[ChallengeState] = so.mapped_column(_enum(ChallengeState), default=ChallengeState.open)
    text: so.Mapped[str] = so.mapped_column(sa.Text)
    lodged_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    lodged_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    answer: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answered_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    answered_at: so.Mapped[Optional[datetime]]

    decision: so.Mapped[Decision] = so.relationship(back_populates="challenges")
    vendor: so.Mapped[Vendor] = so.relationship()
    lodged_by: so.Mapped[User] = so.relationship(foreign_keys=[lodged_by_id])
    answered_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[answered_by_id])

    def __repr__(self) -> str:
        return f"<Challenge {self.id} on decision {self.decision_id} {self.state.value}>"
