"""Evaluation criteria of an exercise (weights, scales, pass marks), its assessment panel, conflict declarations,
score sheets and consensus scores."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from app.auth.models import User, Vendor
from app.db import now_utc
from app.extensions import db
from eoi.models import Exercise, Submission
from scoring.states import PANEL_TRANSITIONS, SCORE_SHEET_TRANSITIONS, PanelState, ScoreSheetState


class Envelope(str, enum.Enum):
    technical = "technical"
    price = "price"

    @property
    def title(self) -> str:
        return str({Envelope.technical: _l("Technical"), Envelope.price: _l("Price")}[self])


class Criterion(db.Model):
    __tablename__ = "criteria"
    __public_content__ = True  # shown on the public exercise page (app.public_cache)
    __table_args__ = (
        sa.UniqueConstraint("exercise_id", "position"),
        sa.CheckConstraint("weight > 0 AND weight <= 100", name="weight_in_range"),
        sa.CheckConstraint("max_score > 0", name="positive_scale"),
        sa.CheckConstraint("pass_mark IS NULL OR (pass_mark >= 0 AND pass_mark <= max_score)", name="pass_mark_on_scale"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    name_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    weight: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2))
    max_score: so.Mapped[int] = so.mapped_column(default=10)
    pass_mark: so.Mapped[Optional[int]]
    envelope: so.Mapped[Envelope] = so.mapped_column(sa.Enum(Envelope, native_enum=False, length=20),
                                                     default=Envelope.technical)
    group_en: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    group_zh: so.Mapped[str] = so.mapped_column(sa.String(200), default="", server_default="")
    guidance_en: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    guidance_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    # What the levels of the scale mean, one "score: meaning" per line (e.g. "0: no evidence")
    descriptors_en: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")
    descriptors_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="", server_default="")

    exercise: so.Mapped[Exercise] = so.relationship()

    def name(self, locale) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en

    def group(self, locale) -> str:
        return (self.group_zh or self.group_en) if str(locale).startswith("zh") else self.group_en

    def guidance(self, locale) -> str:
        return (self.guidance_zh or self.guidance_en) if str(locale).startswith("zh") else self.guidance_en

    def descriptors(self, locale) -> list[str]:
        text = (self.descriptors_zh or self.descriptors_en) if str(locale).startswith("zh") else self.descriptors_en
        return [line.strip() for line in text.splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<Criterion {self.exercise_id}.{self.position} {self.weight}%>"


class EvaluationSettings(db.Model):
    """How an exercise's scores are combined, told to vendors at publication: the overall technical pass mark,
    and for an exercise with a price envelope the technical/price split and the price formula."""
    __tablename__ = "evaluation_settings"
    __public_content__ = True
    __table_args__ = (sa.CheckConstraint("technical_weight > 0 AND technical_weight <= 100", name="split_in_range"),
                      sa.CheckConstraint("overall_pass_mark IS NULL OR (overall_pass_mark >= 0 AND overall_pass_mark <= 100)",
                                         name="overall_pass_mark_in_range"))

    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True)
    overall_pass_mark: so.Mapped[Optional[Decimal]] = so.mapped_column(sa.Numeric(5, 2))
    technical_weight: so.Mapped[int] = so.mapped_column(default=70)
    price_formula: so.Mapped[str] = so.mapped_column(sa.String(40), default="lowest_pro_rata")

    @property
    def price_weight(self) -> int:
        return 100 - self.technical_weight

    def __repr__(self) -> str:
        return f"<EvaluationSettings {self.exercise_id} {self.technical_weight}/{self.price_weight}>"


# --- panels, conflicts, score sheets, moderation (issue 10) -------------------------------------------------

class PanelRole(str, enum.Enum):
    chair = "chair"
    member = "member"
    secretary = "secretary"

    @property
    def title(self) -> str:
        return str({PanelRole.chair: _l("Chair"), PanelRole.member: _l("Member"),
                    PanelRole.secretary: _l("Secretary (does not score)")}[self])

    @property
    def scores(self) -> bool:
        return self != PanelRole.secretary


class Panel(db.Model):
    """The assessment panel of one exercise."""
    __tablename__ = "panels"
    __table_args__ = (sa.CheckConstraint("outlier_threshold > 0", name="positive_outlier_threshold"),
                      sa.CheckConstraint("(state = 'signed_off') = (signed_off_at IS NOT NULL AND signed_off_by_id IS NOT NULL)",
                                         name="signed_off_has_time"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), unique=True)
    deadline: so.Mapped[Optional[datetime]]
    hide_identities: so.Mapped[bool] = so.mapped_column(default=False)
    outlier_threshold: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(5, 2), default=Decimal("2.5"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    last_reminded_at: so.Mapped[Optional[datetime]]
    # The chair's sign-off of the technical evaluation (issue 10, item 6): scores frozen from then on.
    state: so.Mapped[PanelState] = so.mapped_column(sa.Enum(PanelState, native_enum=False, length=20),
                                                    default=PanelState.scoring, server_default="scoring")
    signed_off_at: so.Mapped[Optional[datetime]]
    signed_off_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    # JSON list of the submission ids that passed every pass mark at the sign-off, in rank order: the technically
    # compliant tenders, the only ones whose price envelopes are opened.
    compliant_ids: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    exercise: so.Mapped[Exercise] = so.relationship()
    members: so.Mapped[list["PanelMember"]] = so.relationship(back_populates="panel", order_by="PanelMember.id")
    signed_off_by: so.Mapped[Optional[User]] = so.relationship(foreign_keys=[signed_off_by_id])

    TRANSITIONS = PANEL_TRANSITIONS

    @property
    def is_signed_off(self) -> bool:
        return self.state == PanelState.signed_off

    @property
    def compliant(self) -> list[int]:
        """The submission ids that passed the technical evaluation at its sign-off, in rank order ([] before)."""
        import json
        return [int(i) for i in json.loads(self.compliant_ids or "[]")]

    def __repr__(self) -> str:
        return f"<Panel {self.id} of exercise {self.exercise_id}>"


class PanelMember(db.Model):
    """A user's seat on a panel; a removed member (removed_at) loses access at once but its record stays."""
    __tablename__ = "panel_members"
    __table_args__ = (sa.UniqueConstraint("panel_id", "user_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    panel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    role: so.Mapped[PanelRole] = so.mapped_column(sa.Enum(PanelRole, native_enum=False, length=20))
    added_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    removed_at: so.Mapped[Optional[datetime]]

    panel: so.Mapped[Panel] = so.relationship(back_populates="members")
    user: so.Mapped[User] = so.relationship()

    @property
    def active(self) -> bool:
        return self.removed_at is None

    @property
    def is_chair(self) -> bool:
        return self.role == PanelRole.chair

    def __repr__(self) -> str:
        return f"<PanelMember {self.user_id} {self.role.value} of panel {self.panel_id}>"


class Assignment(db.Model):
    """A proposal given to a member to score; excluded_at when a declared conflict (or the chair) took it away."""
    __tablename__ = "panel_assignments"
    __table_args__ = (sa.UniqueConstraint("member_id", "submission_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    member_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("panel_members.id", ondelete="CASCADE"), index=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    assigned_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    excluded_at: so.Mapped[Optional[datetime]]

    member: so.Mapped[PanelMember] = so.relationship()
    submission: so.Mapped[Submission] = so.relationship()
    sheet: so.Mapped[Optional["ScoreSheet"]] = so.relationship(back_populates="assignment", uselist=False)

    def __repr__(self) -> str:
        return f"<Assignment {self.id} member {self.member_id} submission {self.submission_id}>"


class ConflictDeclaration(db.Model):
    """A member's declaration about one vendor of the exercise: no conflict, or a conflict with details."""
    __tablename__ = "conflict_declarations"
    __table_args__ = (sa.UniqueConstraint("member_id", "vendor_id"),
                      sa.CheckConstraint("NOT has_conflict OR length(details) > 0", name="conflict_has_details"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    member_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("panel_members.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"))
    has_conflict: so.Mapped[bool]
    details: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    declared_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    member: so.Mapped[PanelMember] = so.relationship()
    vendor: so.Mapped[Vendor] = so.relationship()

    def __repr__(self) -> str:
        return f"<ConflictDeclaration member {self.member_id} vendor {self.vendor_id} {self.has_conflict}>"


class InterestKind(str, enum.Enum):
    company = "company"
    directorship = "directorship"
    relative_employer = "relative_employer"
    director = "director"            # a vendor's director
    group_company = "group_company"  # a vendor's group company

    @property
    def title(self) -> str:
        return str({InterestKind.company: _l("Company I work for or hold shares in"),
                    InterestKind.directorship: _l("Directorship"),
                    InterestKind.relative_employer: _l("Employer of a close relative"),
                    InterestKind.director: _l("Director"),
                    InterestKind.group_company: _l("Group company")}[self])


MEMBER_INTEREST_KINDS = (InterestKind.company, InterestKind.directorship, InterestKind.relative_employer)
VENDOR_LINK_KINDS = (InterestKind.director, InterestKind.group_company)


class Interest(db.Model):
    """A declared link used to flag likely conflicts: a staff user's interest, or a vendor's director or group company."""
    __tablename__ = "interests"
    __table_args__ = (sa.CheckConstraint("(user_id IS NULL) <> (vendor_id IS NULL)", name="one_owner"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("vendors.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[InterestKind] = so.mapped_column(sa.Enum(InterestKind, native_enum=False, length=30))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<Interest {self.kind.value} {self.name!r}>"


class ScoreSheet(db.Model):
    """One member's scores for one proposal. `version` grows with every save: a save carrying an older version
    (another tab) is refused instead of overwriting."""
    __tablename__ = "score_sheets"
    __table_args__ = (sa.CheckConstraint("(state = 'submitted') = (submitted_at IS NOT NULL)",
                                         name="submitted_has_time"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    assignment_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("panel_assignments.id", ondelete="CASCADE"),
                                                     unique=True)
    state: so.Mapped[ScoreSheetState] = so.mapped_column(sa.Enum(ScoreSheetState, native_enum=False, length=20),
                                                         default=ScoreSheetState.draft)
    version: so.Mapped[int] = so.mapped_column(default=0)
    updated_at: so.Mapped[Optional[datetime]]
    submitted_at: so.Mapped[Optional[datetime]]
    reopen_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    assignment: so.Mapped[Assignment] = so.relationship(back_populates="sheet")
    scores: so.Mapped[list["Score"]] = so.relationship(back_populates="sheet", order_by="Score.criterion_id")

    TRANSITIONS = SCORE_SHEET_TRANSITIONS

    def __repr__(self) -> str:
        return f"<ScoreSheet {self.id} {self.state.value} v{self.version}>"


class Score(db.Model):
    __tablename__ = "scores"
    __table_args__ = (sa.UniqueConstraint("sheet_id", "criterion_id"),
                      sa.CheckConstraint("value IS NULL OR value >= 0", name="not_negative"))

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sheet_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("score_sheets.id", ondelete="CASCADE"), index=True)
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id", ondelete="CASCADE"))
    value: so.Mapped[Optional[int]]
    justification: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    sheet: so.Mapped[ScoreSheet] = so.relationship(back_populates="scores")
    criterion: so.Mapped[Criterion] = so.relationship()

    def __repr__(self) -> str:
        return f"<Score sheet {self.sheet_id} criterion {self.criterion_id} = {self.value}>"


class ConsensusScore(db.Model):
    """The panel's agreed score for one criterion of one proposal, with its rationale (or the accepted mean)."""
    __tablename__ = "consensus_scores"
    __table_args__ = (sa.UniqueConstraint("submission_id", "criterion_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    panel_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("panels.id", ondelete="CASCADE"), index=True)
    submission_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("submissions.id", ondelete="CASCADE"))
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criteria.id", ondelete="CASCADE"))
    value: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(6, 2))
    rationale: so.Mapped[str] = so.mapped_column(sa.Text)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<ConsensusScore submission {self.submission_id} criterion {self.criterion_id} = {self.value}>"
