"""Open data: every published exercise as an Open Contracting Data Standard (OCDS 1.1) compiled release, in one
release package: the tender (its texts, periods, clusters and public documents, the number of tenderers once the box
is opened), the award that the public award notice names, and the contracts signed from it with their committed
value in HKD. It publishes only what the public pages already show: never a draft, never a submission's content or
price, no tenderer's name before the award notice."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from app.db import now_utc
from app.extensions import db
from app.i18n import iso_utc
from app.notifications import external_url
from contracts.decisions import approved_decision
from contracts.letters import award_notice
from contracts.models import Contract
from contracts.states import ContractState, DecisionKind, DecisionState
from eoi.models import Exercise
from eoi.queries import public_exercises, standing_submissions
from eoi.states import ExerciseKind, ExerciseState

OCDS_VERSION = "1.1"
_TENDER_STATUS = {ExerciseState.decided: "complete", ExerciseState.concluded: "complete",
                  ExerciseState.cancelled: "cancelled"}  # otherwise (published to evaluating) "active"
_AWARD_STATUS = {DecisionState.approved: "pending", DecisionState.final: "active"}  # pending: in its standstill
_CONTRACT_STATUS = {ContractState.signed: "pending", ContractState.active: "active",
                    ContractState.completed: "terminated", ContractState.terminated: "terminated"}
PUBLISHED_CONTRACT_STATES = tuple(_CONTRACT_STATUS)


def _when(moment: datetime | None) -> str | None:
    """An OCDS date-time: the instant in UTC, to the second."""
    return iso_utc(moment.replace(microsecond=0)) if moment is not None else None


def _amount(value: Decimal) -> int | float:
    """OCDS wants a JSON number. Amounts are exact Decimals here; cents-precise HKD amounts of up to 15 digits print
    exactly as a float's shortest form, and anything that would not is refused rather than rounded."""
    number = int(value) if value == value.to_integral_value() else float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{value} cannot be published as an exact JSON number")
    return number


def _ocid(exercise: Exercise) -> str:
    return f"{current_app.config['OCDS_OCID_PREFIX']}-{exercise.reference.replace('/', '-')}"


def _buyer() -> dict:
    return {"id": "buyer", "name": current_app.config["OCDS_PUBLISHER"]}


def _party(vendor) -> dict:
    return {"id": f"vendor-{vendor.id}", "name": vendor.name_en, "roles": ["supplier"]}


def _tender(exercise: Exercise) -> dict:
    tender = {
        "id": exercise.reference,
        "title": exercise.title_en,
        "description": exercise.description_en,
        "status": _TENDER_STATUS.get(exercise.state, "active"),
        "procurementMethod": "open" if exercise.kind == ExerciseKind.eoi else "selective",
        "procurementMethodDetails": ("Expression of Interest" if exercise.kind == ExerciseKind.eoi
                                     else "Restricted tender, by invitation of the shortlisted companies"),
        "mainProcurementCategory": "services",
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": _when(exercise.published_at or exercise.publication_at),
                         "endDate": _when(exercise.closes_at)},
        "items": [{"id": cluster.code, "description": cluster.name_en} for cluster in exercise.clusters],
        "documents": [{"id": f"document-{d.id}", "documentType": "biddingDocuments", "title": d.title,
                       "url": external_url("eoi.exercise_document_download", exercise_id=exercise.id, document_id=d.id),
                       "datePublished": _when(d.created_at), "format": d.file.content_type}
                      for d in exercise.documents if not d.superseded],
    }
    if exercise.clarification_deadline:
        tender["enquiryPeriod"] = {"endDate": _when(exercise.clarification_deadline)}
    if exercise.opened_at is not None:  # the count only, once the box is open (invariant 1)
        tender["numberOfTenderers"] = len(standing_submissions(exercise))
    return tender


def _award_and_contracts(exercise: Exercise, decision, release: dict) -> list[datetime | None]:
    """Add the award the public notice names (a tender's, once its letters are issued) and the contracts signed from
    it; returns the moments they changed."""
    notice = award_notice(exercise) if decision is not None and decision.kind == DecisionKind.award else None
    if notice is None:
        return []
    award_id = f"award-{decision.id}"
    release["awards"] = [{"id": award_id, "title": exercise.title_en, "status": _AWARD_STATUS[decision.state],
                          "date": _when(decision.approved_at),
                          "suppliers": [{"id": f"vendor-{v.id}", "name": v.name_en} for v in notice["vendors"]]}]
    release["parties"].extend(_party(v) for v in notice["vendors"])
    contracts = db.session.scalars(sa.select(Contract).where(
        Contract.exercise_id == exercise.id, Contract.state.in_(PUBLISHED_CONTRACT_STATES))
        .order_by(Contract.id)).all()
    if contracts:
        release["contracts"] = [{
            "id": contract.reference, "awardID": award_id, "title": contract.title_en,
            "status": _CONTRACT_STATUS[contract.state],
            "period": {"startDate": f"{contract.starts_on.isoformat()}T00:00:00+08:00",  # whole days, Hong Kong time
                       "endDate": f"{contract.ends_on.isoformat()}T23:59:59+08:00"},
            "value": {"amount": _amount(contract.value), "currency": "HKD"},
            "dateSigned": _when(contract.signed_at),
        } for contract in contracts]
    return [*(moment for c in contracts for moment in (c.signed_at, c.activated_at, c.closed_at))]


def release_of(exercise: Exercise) -> dict:
    """One exercise's compiled release: its current state, dated by its latest public change."""
    ocid = _ocid(exercise)
    release = {"ocid": ocid, "tag": ["compiled"], "initiationType": "tender", "language": "en",
               "buyer": _buyer(), "parties": [_buyer() | {"roles": ["buyer", "procuringEntity"]}],
               "tender": _tender(exercise)}
    if exercise.parent is not None:  # a restricted tender follows its EOI's shortlist
        release["relatedProcesses"] = [{"id": "1", "relationship": ["prior"], "title": exercise.parent.title_en,
                                        "scheme": "ocid", "identifier": _ocid(exercise.parent)}]
    decision = approved_decision(exercise)  # the shortlist or award the exercise ended in (its tender is complete)
    changes = [exercise.published_at, exercise.closed_at, exercise.opened_at,
               *((decision.approved_at, decision.final_at) if decision else ()),
               *_award_and_contracts(exercise, decision, release)]
    # (an exercise cancelled before its publication has no public change but its creation)
    release["date"] = max((_when(moment) for moment in changes if moment is not None), default=_when(exercise.created_at))
    release["id"] = f"{ocid}-{re.sub(r'[^0-9T]', '', release['date'][:19])}Z"  # e.g. ...-20080102T010000Z
    return release


def release_package() -> dict:
    """Every published exercise's compiled release, by reference."""
    now = now_utc()
    exercises = db.session.scalars(public_exercises({"sort": "reference"}, now)).all()
    package = {"uri": external_url("contracts.open_data"), "version": OCDS_VERSION, "publishedDate": _when(now),
               "publisher": {"name": current_app.config["OCDS_PUBLISHER"]},
               "releases": [release_of(exercise) for exercise in exercises]}
    if current_app.config.get("OCDS_LICENSE"):
        package["license"] = current_app.config["OCDS_LICENSE"]
    return package
