"""Exercises (EOI and tenders) with their questionnaire, documents, addenda and clarifications."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.auth.models import User, Vendor
from app.db import now_utc
from app.extensions import db
from app.storage import StoredFile
from eoi.states import EXERCISE_TRANSITIONS, INCIDENT_TRANSITIONS, ExerciseKind, ExerciseState, IncidentState

exercise_clusters = sa.Table(
    "exercise_clusters", db.metadata,
    sa.Column("exercise_id", sa.ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("cluster_id", sa.ForeignKey("service_clusters.id"), primary_key=True),
)


class ServiceCluster(db.Model):
    __tablename__ = "service_clusters"
    __public_content__ = True  # shown on the public pages (app.public_cache)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    code: so.Mapped[str] = so.mapped_column(sa.String(20), unique=True)
    name_en: so.Mapped[str] = so.mapped_column(sa.String(200))
    name_zh: so.Mapped[str] = so.mapped_column(sa.String(200))
    description_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    description_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    priority: so.Mapped[bool] = so.mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_zh if str(locale).startswith("zh") else self.name_en

    def __repr__(self) -> str:
        return f"<ServiceCluster {self.code}>"


class ClusterSubscription(db.Model):
    __tablename__ = "cluster_subscriptions"

    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    cluster_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("service_clusters.id"), primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<ClusterSubscription vendor={self.vendor_id} cluster={self.cluster_id}>"


class Exercise(db.Model):
    __tablename__ = "exercises"
    __public_content__ = True  # shown on the public pages (app.public_cache)
    __table_args__ = (
        sa.CheckConstraint("kind IN ('eoi', 'tender')", name="known_kind"),
        # A draft may be cancelled before it was ever published: only then is there no publication time.
        sa.CheckConstraint("state IN ('draft', 'cancelled') OR (published_at IS NOT NULL)", name="published_has_time"),
        # The box is opened exactly when a two-officer opening completes (eoi.models.opening.Opening).
        sa.CheckConstraint("opened_at IS NOT NULL OR state IN ('draft', 'published', 'closed', 'cancelled')",
                           name="opened_state_has_time"),
        sa.CheckConstraint("opened_at IS NULL OR state NOT IN ('draft', 'published', 'closed')",
                           name="opened_time_has_state"),
    )
    TRANSITIONS = EXERCISE_TRANSITIONS

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[ExerciseKind] = so.mapped_column(sa.Enum(ExerciseKind, native_enum=False, length=10))
    reference: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True)
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    description_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    description_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    state: so.Mapped[ExerciseState] = so.mapped_column(
        sa.Enum(ExerciseState, native_enum=False, length=20), default=ExerciseState.draft, index=True)
    parent_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("exercises.id"))
    publication_at: so.Mapped[Optional[datetime]]
    clarification_deadline: so.Mapped[Optional[datetime]]
    closes_at: so.Mapped[Optional[datetime]] = so.mapped_column(index=True)
    validity_until: so.Mapped[Optional[datetime]]
    # An addendum issued within late_addendum_hours of closing moves closing at least min_extension_hours on;
    # neither goes below the configured floors (see addendum_window_hours, addendum_extension_hours).
    late_addendum_hours: so.Mapped[int] = so.mapped_column(default=72)
    min_extension_hours: so.Mapped[int] = so.mapped_column(default=72)
    has_price_envelope: so.Mapped[bool] = so.mapped_column(default=False)
    created_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    published_at: so.Mapped[Optional[datetime]]
    # Set when an officer confirmed publication for a publication date still ahead: the draft is published at that
    # date by the periodic task (eoi.publish_due_exercises); cleared at publication or when the order is withdrawn.
    publication_ordered_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    closed_at: so.Mapped[Optional[datetime]]
    opened_at: so.Mapped[Optional[datetime]]
    price_opened_at: so.Mapped[Optional[datetime]]
    cancel_reason: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    # The exercise's opening public keys (issue 9, docs/sealing.md): JSON {"technical": .., "price": ..,
    # "generation": n}; their private keys exist only as 2-of-n shares sealed to the named officers.
    seal_public_keys: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)

    clusters: so.Mapped[list[ServiceCluster]] = so.relationship(secondary=exercise_clusters, order_by=ServiceCluster.code)
    sections: so.Mapped[list["Section"]] = so.relationship(back_populates="exercise", order_by="Section.position",
                                                          cascade="all, delete-orphan")
    documents: so.Mapped[list["ExerciseDocument"]] = so.relationship(back_populates="exercise",
                                                                    order_by="ExerciseDocument.id")
    addenda: so.Mapped[list["Addendum"]] = so.relationship(back_populates="exercise", order_by="Addendum.number")
    invitations: so.Mapped[list["Invitation"]] = so.relationship(back_populates="exercise", cascade="all, delete-orphan")
    price_items: so.Mapped[list["PriceItem"]] = so.relationship(back_populates="exercise", order_by="PriceItem.position",
                                                               cascade="all, delete-orphan")
    parent: so.Mapped[Optional["Exercise"]] = so.relationship(remote_side=[id])
    opening_officers: so.Mapped[list["OpeningOfficer"]] = so.relationship(order_by="OpeningOfficer.user_id",
                                                                          cascade="all, delete-orphan")

    def title(self, locale) -> str:
        return self.title_zh if str(locale).startswith("zh") else self.title_en

    def description(self, locale) -> str:
        return self.description_zh if str(locale).startswith("zh") else self.description_en

    def is_closed_at(self, moment: datetime) -> bool:
        """Invariant 2: closing is decided by the server clock against closes_at, whatever the stored state."""
        return self.closes_at is None or moment >= self.closes_at

    @property
    def effective_state(self) -> ExerciseState:
        """What to show: a published exercise past its closing time is closed even before the periodic task runs."""
        if self.state == ExerciseState.published and self.is_closed_at(now_utc()):
            return ExerciseState.closed
        return self.state

    @property
    def is_scheduled(self) -> bool:
        """A draft whose publication is ordered for its publication date (not public yet)."""
        return self.state == ExerciseState.draft and self.publication_ordered_by_id is not None

    @property
    def is_open(self) -> bool:
        """Open for submissions by the server clock (operations check again when acting)."""
        return self.effective_state == ExerciseState.published

    @property
    def is_restricted(self) -> bool:
        return self.kind == ExerciseKind.tender

    @property
    def is_opened(self) -> bool:
        return self.opened_at is not None

    @property
    def addendum_window_hours(self) -> int:
        """The late-addendum window in force: the exercise's own, never below the configured floor."""
        return max(self.late_addendum_hours, current_app.config["ADDENDUM_LATE_WINDOW_MIN_HOURS"])

    @property
    def addendum_extension_hours(self) -> int:
        """The minimum extension after a late addendum in force: the exercise's own, never below the floor."""
        return max(self.min_extension_hours, current_app.config["ADDENDUM_MIN_EXTENSION_MIN_HOURS"])

    def __repr__(self) -> str:
        return f"<Exercise {self.id} {self.reference} {self.state.value}>"


SECTION_TEXT, SECTION_SERVICE_LEVEL = "text", "service_level"
KPI_DIRECTION_TITLES = {"at_least": _l("At least the target"), "at_most": _l("At most the target")}
KPI_DIRECTION_HINTS = {"at_least": _l("A minimum: the service meets it at this level or higher."),
                       "at_most": _l("A maximum: the service meets it at this level or lower.")}


class Section(db.Model):
    """A question of the questionnaire: a text answer, or (kind "service_level") a service level the vendor commits
    to, answered with a number in `kpi_unit`; a contract from the tender pre-fills its KPIs from the awarded
    vendor's committed levels (contracts.operations.create_contract)."""
    __tablename__ = "sections"
    __table_args__ = (
        sa.UniqueConstraint("exercise_id", "position"),
        sa.CheckConstraint("kind IN ('text', 'service_level')", name="known_kind"),
        sa.CheckConstraint("(kind = 'service_level') = (kpi_direction IS NOT NULL AND kpi_unit IS NOT NULL)",
                           name="service_level_has_unit"),
        sa.CheckConstraint("kpi_direction IS NULL OR kpi_direction IN ('at_least', 'at_most')",
                           name="known_kpi_direction"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    title_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    title_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    guidance_en: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    guidance_zh: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    word_limit: so.Mapped[Optional[int]]
    answer_required: so.Mapped[bool] = so.mapped_column(default=True)
    attachment_required: so.Mapped[bool] = so.mapped_column(default=False)
    kind: so.Mapped[str] = so.mapped_column(sa.String(20), default=SECTION_TEXT, server_default=SECTION_TEXT)
    kpi_unit: so.Mapped[Optional[str]] = so.mapped_column(sa.String(30))
    kpi_direction: so.Mapped[Optional[str]] = so.mapped_column(sa.String(10))  # at_least | at_most

    exercise: so.Mapped[Exercise] = so.relationship(back_populates="sections")

    @property
    def is_service_level(self) -> bool:
        return self.kind == SECTION_SERVICE_LEVEL

    @property
    def direction_title(self) -> str:
        return str(KPI_DIRECTION_TITLES.get(self.kpi_direction, ""))

    @property
    def direction_hint(self) -> str:
        """What the committed level means, for the vendor answering."""
        return str(KPI_DIRECTION_HINTS.get(self.kpi_direction, ""))

    def title(self, locale) -> str:
        return self.title_zh if str(locale).startswith("zh") else self.title_en

    def guidance(self, locale) -> str:
        return self.guidance_zh if str(locale).startswith("zh") else self.guidance_en

    def __repr__(self) -> str:
        return f"<Section {self.exercise_id}.{self.position}>"


class PriceItem(db.Model):
    """A line of a tender's price schedule; vendors price each line in the sealed price envelope."""
    __tablename__ = "price_items"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    position: so.Mapped[int]
    description_en: so.Mapped[str] = so.mapped_column(sa.String(300))
    description_zh: so.Mapped[str] = so.mapped_column(sa.String(300))
    unit: so.Mapped[str] = so.mapped_column(sa.String(40), default="lump sum")  # English
    unit_zh: so.Mapped[Optional[str]] = so.mapped_column(sa.String(40))
    quantity: so.Mapped[int] = so.mapped_column(default=1)

    exercise: so.Mapped[Exercise] = so.relationship(back_populates="price_items")

    def unit_in(self, locale) -> str:
        """The unit in the reader's language (English when no Chinese was given)."""
        return (self.unit_zh if str(locale).startswith("zh") and self.unit_zh else self.unit) or ""

    def description(self, locale) -> str:
        return self.description_zh if str(locale).startswith("zh") else self.description_en

    def __repr__(self) -> str:
        return f"<PriceItem {self.exercise_id}.{self.position}>"


class Invitation(db.Model):
    """A vendor invited to a restricted tender."""
    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("exercise_id", "vendor_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    exercise: so.Mapped[Exercise] = so.relationship(back_populates="invitations")
    vendor: so.Mapped[Vendor] = so.relationship()

    def __repr__(self) -> str:
        return f"<Invitation exercise={self.exercise_id} vendor={self.vendor_id}>"


class ExerciseDocument(db.Model):
    __tablename__ = "exercise_documents"
    __public_content__ = True  # shown on the public pages (app.public_cache)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(300))  # English; versions follow it
    title_zh: so.Mapped[Optional[str]] = so.mapped_column(sa.String(300))
    version: so.Mapped[int] = so.mapped_column(default=1)
    file_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("stored_files.id"))
    addendum_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("addenda.id"))
    superseded: so.Mapped[bool] = so.mapped_column(default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    exercise: so.Mapped[Exercise] = so.relationship(back_populates="documents")
    # The exercise page lists every document with its file's size and hash: one query, not one per document.
    file: so.Mapped[StoredFile] = so.relationship(lazy="joined", innerjoin=True)
    addendum: so.Mapped[Optional["Addendum"]] = so.relationship()

    def title_in(self, locale) -> str:
        """The title in the reader's language (English when no Chinese was given)."""
        return (self.title_zh if str(locale).startswith("zh") and self.title_zh else self.title) or ""

    def __repr__(self) -> str:
        return f"<ExerciseDocument {self.id} v{self.version}>"


class Addendum(db.Model):
    __tablename__ = "addenda"
    __public_content__ = True  # shown on the public pages (app.public_cache)
    __table_args__ = (sa.UniqueConstraint("exercise_id", "number"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int]
    text_en: so.Mapped[str] = so.mapped_column(sa.Text)
    text_zh: so.Mapped[str] = so.mapped_column(sa.Text)
    changes_requirements: so.Mapped[bool] = so.mapped_column(default=False)
    previous_closes_at: so.Mapped[Optional[datetime]]
    new_closes_at: so.Mapped[Optional[datetime]]
    issued_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    issued_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    exercise: so.Mapped[Exercise] = so.relationship(back_populates="addenda")

    def text(self, locale) -> str:
        return self.text_zh if str(locale).startswith("zh") else self.text_en

    def __repr__(self) -> str:
        return f"<Addendum {self.exercise_id}#{self.number}>"


class InterestRegistration(db.Model):
    """A vendor that registered interest in an exercise (it is then told of, and must acknowledge, addenda)."""
    __tablename__ = "interest_registrations"

    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), primary_key=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    registered_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<InterestRegistration exercise={self.exercise_id} vendor={self.vendor_id}>"


class Acknowledgement(db.Model):
    __tablename__ = "acknowledgements"

    addendum_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("addenda.id", ondelete="CASCADE"), primary_key=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)

    def __repr__(self) -> str:
        return f"<Acknowledgement addendum={self.addendum_id} vendor={self.vendor_id}>"


class Clarification(db.Model):
    """A vendor's question: private to it and the officers until published, anonymised, with the answer."""
    __tablename__ = "clarifications"
    __public_content__ = True  # shown on the public pages (app.public_cache)
    __table_args__ = (
        sa.CheckConstraint("(published_at IS NULL) OR (answer_en IS NOT NULL AND answer_zh IS NOT NULL)",
                           name="published_has_answer"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("vendors.id"), index=True)
    asked_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    question: so.Mapped[str] = so.mapped_column(sa.Text)
    asked_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    # The published wording, edited by the officer so it names no vendor.
    public_question_en: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    public_question_zh: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answer_en: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answer_zh: so.Mapped[Optional[str]] = so.mapped_column(sa.Text)
    answered_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    answered_at: so.Mapped[Optional[datetime]]
    published_at: so.Mapped[Optional[datetime]]
    number: so.Mapped[Optional[int]]

    exercise: so.Mapped[Exercise] = so.relationship()

    def public_question(self, locale) -> str:
        return (self.public_question_zh if str(locale).startswith("zh") else self.public_question_en) or ""

    def answer(self, locale) -> str:
        return (self.answer_zh if str(locale).startswith("zh") else self.answer_en) or ""

    def __repr__(self) -> str:
        return f"<Clarification {self.id}>"


class DeadlineIncident(db.Model):
    """A platform failure near closing, recorded with evidence; the closing time is extended for everyone.
    Recorded before closing, it takes effect at once. One that would re-open a closed box waits (pending) until a
    second named opening officer confirms it, or is declined."""
    __tablename__ = "deadline_incidents"
    __public_content__ = True  # shown on the public pages (app.public_cache)
    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'effective', 'declined')", name="known_state"),
        sa.CheckConstraint("(state = 'effective') = (effective_at IS NOT NULL)", name="effective_has_time"),
        sa.CheckConstraint("(state = 'declined') = (declined_at IS NOT NULL AND declined_by_id IS NOT NULL)",
                           name="declined_has_time_and_officer"),
        sa.CheckConstraint("NOT requires_confirmation OR state <> 'effective' OR confirmed_by_id IS NOT NULL",
                           name="reopening_confirmed"),
        sa.CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id", name="two_different_officers"),
        sa.ForeignKeyConstraint(["exercise_id", "confirmed_by_id"],
                                ["opening_officers.exercise_id", "opening_officers.user_id"],
                                name="fk_deadline_incidents_confirmed_by_named_officer"),
    )
    TRANSITIONS = INCIDENT_TRANSITIONS

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    state: so.Mapped[IncidentState] = so.mapped_column(
        sa.Enum(IncidentState, native_enum=False, length=20), default=IncidentState.effective)
    # Set when recorded after the closing time: re-opening the box needs a second named officer.
    requires_confirmation: so.Mapped[bool] = so.mapped_column(default=False)
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    reason_en: so.Mapped[str] = so.mapped_column(sa.Text)
    reason_zh: so.Mapped[str] = so.mapped_column(sa.Text)
    evidence: so.Mapped[str] = so.mapped_column(sa.Text)
    previous_closes_at: so.Mapped[datetime]
    new_closes_at: so.Mapped[datetime]
    recorded_at: so.Mapped[datetime] = so.mapped_column(default=now_utc)
    confirmed_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    effective_at: so.Mapped[Optional[datetime]]
    declined_by_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    declined_at: so.Mapped[Optional[datetime]]

    exercise: so.Mapped[Exercise] = so.relationship()
    recorded_by: so.Mapped["User"] = so.relationship(foreign_keys=[recorded_by_id])
    confirmed_by: so.Mapped[Optional["User"]] = so.relationship(foreign_keys=[confirmed_by_id])

    def reason(self, locale) -> str:
        return self.reason_zh if str(locale).startswith("zh") else self.reason_en

    def __repr__(self) -> str:
        return f"<DeadlineIncident {self.id} {self.state.value}>"


#: A refused late action (LateAttempt.action) as a label.
LATE_ACTION_LABELS = {
    "submit": _l("Submit"),
    "withdraw": _l("Withdraw"),
    "reconfirm": _l("Re-confirm"),
    "start": _l("Start a proposal"),
    "save": _l("Save draft"),
    "upload": _l("Upload"),
    "remove_file": _l("Remove a file"),
    "price": _l("Save prices"),
}



class LateAttempt(db.Model):
    """Every refused late action, with the server's time of receipt, for incident review."""
    __tablename__ = "late_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exercise_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exercises.id", ondelete="CASCADE"), index=True)
    vendor_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("vendors.id"))
    user_id: so.Mapped[Optional[int]] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    received_at: so.Mapped[datetime]
    closes_at: so.Mapped[datetime]

    vendor: so.Mapped[Optional[Vendor]] = so.relationship()

    @property
    def action_title(self) -> str:
        return str(LATE_ACTION_LABELS.get(self.action, self.action))

    def __repr__(self) -> str:
        return f"<LateAttempt {self.id} {self.action}>"


def minimum_closing_after_addendum(exercise: Exercise, issued_at: datetime) -> datetime | None:
    """The earliest closing time allowed after an addendum issued at issued_at (None if no extension is forced)."""
    if exercise.closes_at is None:
        return None
    if exercise.closes_at - issued_at <= timedelta(hours=exercise.addendum_window_hours):
        return issued_at + timedelta(hours=exercise.addendum_extension_hours)
    return None
