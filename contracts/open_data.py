"""Open data: every published exercise as an Open Contracting Data Standard (OCDS 1.1) compiled release, in one
release package: the tender (its texts, periods, clusters and public documents), and from the public award notice on
the number of proposals received, the award the notice names and the contracts signed from it with their committed
value in HKD. It publishes what the public pages show: never a draft, never a submission's content or price, no
tenderer's name and no count of proposals before the notice (a restricted tender's invitees would learn whether they
bid alone)."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from app.audit import AuditEvent
from app.db import now_utc
from app.extensions import db
from app.i18n import iso_utc
from app.notifications import external_url
from contracts.decisions import approved_decision, contracts_from
from contracts.letters import award_notice
from contracts.states import ContractState, DecisionKind, DecisionState
from eoi.models import Exercise
from eoi.queries import public_exercises, standing_submissions
from eoi.states import ExerciseKind, ExerciseState

OCDS_VERSION = "1.1"
CHINESE = "zh-Hant"  # OCDS's multilingual fields take a BCP 47 suffix: title_zh-Hant beside the English title
_TENDER_STATUS = {ExerciseState.decided: "complete", ExerciseState.concluded: "complete",
                  ExerciseState.cancelled: "cancelled"}  # otherwise (published to evaluating) "active"
_AWARD_STATUS = {DecisionState.approved: "pending", DecisionState.final: "active"}  # pending: in its standstill
# OCDS "active": signed by all parties and in force (our "signed" waits only for its service start date)
_CONTRACT_STATUS = {ContractState.signed: "active", ContractState.active: "active",
                    ContractState.completed: "terminated", ContractState.terminated: "terminated"}


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # stored UTC (SQLite gives it naive)


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


def _texts(field: str, english: str, chinese: str | None) -> dict:
    """A text field in English, with its Traditional Chinese twin when one was written."""
    return {field: english} | ({f"{field}_{CHINESE}": chinese} if chinese else {})


def _ocid(exercise: Exercise) -> str:
    return f"{current_app.config['OCDS_OCID_PREFIX']}-{exercise.reference.replace('/', '-')}"


def _buyer() -> dict:
    return {"id": "buyer", "name": current_app.config["OCDS_PUBLISHER"]}


def _party(vendor) -> dict:
    return {"id": f"vendor-{vendor.id}", **_texts("name", vendor.name_en, vendor.name_zh), "roles": ["supplier"]}


def _documents(exercise: Exercise) -> list[dict]:
    """The exercise's current documents. A restricted tender's are for its invitees: listed without an address."""
    documents = []
    for d in exercise.documents:
        if d.superseded:
            continue
        published = max(filter(None, (_utc(d.created_at), exercise.published_at and _utc(exercise.published_at))))
        document = {"id": f"document-{d.id}", **_texts("title", d.title, d.title_zh), "datePublished": _when(published),
                    "documentType": "clarifications" if d.addendum_id else "biddingDocuments",
                    "format": d.file.content_type}
        if not exercise.is_restricted:
            document["url"] = external_url("eoi.exercise_document_download", exercise_id=exercise.id,
                                           document_id=d.id)
        documents.append(document)
    return documents


def _tender(exercise: Exercise, notice: dict | None) -> dict:
    tender = {
        "id": exercise.reference,
        **_texts("title", exercise.title_en, exercise.title_zh),
        **_texts("description", exercise.description_en, exercise.description_zh),
        "status": _TENDER_STATUS.get(exercise.state, "active"),
        "procuringEntity": _buyer(),
        "procurementMethod": "open" if exercise.kind == ExerciseKind.eoi else "selective",
        "procurementMethodDetails": ("Expression of Interest" if exercise.kind == ExerciseKind.eoi
                                     else "Restricted tender, by invitation of the shortlisted companies"),
        "mainProcurementCategory": "services",
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": _when(exercise.published_at or exercise.publication_at),
                         "endDate": _when(exercise.closes_at)},
        "items": [{"id": cluster.code, **_texts("description", cluster.name_en, cluster.name_zh)}
                  for cluster in exercise.clusters],
        "documents": _documents(exercise),
    }
    if exercise.clarification_deadline:
        tender["enquiryPeriod"] = {"endDate": _when(exercise.clarification_deadline)}
    if notice is not None:  # the count only, and only with the notice (invariant 1; invitees learn nothing early)
        tender["numberOfTenderers"] = len(standing_submissions(exercise))
    return tender


def _award_and_contracts(exercise: Exercise, notice: dict | None, release: dict) -> list[datetime | None]:
    """Add the award the public notice names (a tender's) and the contracts signed from that award; returns the
    moments they changed."""
    decision = approved_decision(exercise) if notice is not None and exercise.kind == ExerciseKind.tender else None
    if decision is None or decision.kind != DecisionKind.award:
        return []
    award_id = f"award-{decision.id}"
    status = "cancelled" if exercise.state == ExerciseState.cancelled else _AWARD_STATUS[decision.state]
    release["awards"] = [{"id": award_id, **_texts("title", exercise.title_en, exercise.title_zh), "status": status,
                          "date": _when(notice["issued_at"]),
                          # a reference carries no translations in OCDS: the Chinese name is the party's
                          "suppliers": [{"id": f"vendor-{v.id}", "name": v.name_en} for v in notice["vendors"]]}]
    release["parties"].extend(_party(v) for v in notice["vendors"])
    contracts = [c for c in contracts_from(decision) if c.state in _CONTRACT_STATUS]  # signed ones: not drafts
    if contracts:
        release["contracts"] = [{
            "id": contract.reference, "awardID": award_id, **_texts("title", contract.title_en, contract.title_zh),
            "status": _CONTRACT_STATUS[contract.state],
            "period": {"startDate": f"{contract.starts_on.isoformat()}T00:00:00+08:00",  # whole days, Hong Kong time
                       "endDate": f"{contract.ends_on.isoformat()}T23:59:59+08:00"},
            "value": {"amount": _amount(contract.value), "currency": "HKD"},
            "dateSigned": _when(contract.signed_at),
        } for contract in contracts]
    return [decision.final_at, *(moment for c in contracts
                                 for moment in (c.signed_at, c.activated_at, c.closed_at,
                                                *(v.created_at for v in c.versions)))]


def _cancelled_at(exercise: Exercise) -> datetime | None:
    return db.session.scalar(sa.select(sa.func.max(AuditEvent.occurred_at)).where(
        AuditEvent.action == "exercise.cancelled", AuditEvent.object_type == "Exercise",
        AuditEvent.object_id == str(exercise.id)))


def release_of(exercise: Exercise) -> dict:
    """One exercise's compiled release: its current state, dated (and identified) by its latest public change."""
    ocid = _ocid(exercise)
    notice = award_notice(exercise)
    release = {"ocid": ocid, "tag": ["compiled"], "initiationType": "tender", "language": "en",
               "buyer": _buyer(), "parties": [_buyer() | {"roles": ["buyer", "procuringEntity"]}],
               "tender": _tender(exercise, notice)}
    if exercise.parent is not None:  # a restricted tender follows on from its EOI, which chose who is invited
        release["relatedProcesses"] = [{"id": "1", "relationship": ["planning"], "title": exercise.parent.title_en,
                                        "scheme": "ocid", "identifier": _ocid(exercise.parent)}]
    changes = [exercise.published_at, exercise.closed_at, exercise.opened_at,
               *(a.issued_at for a in exercise.addenda), notice["issued_at"] if notice else None,
               _cancelled_at(exercise) if exercise.state == ExerciseState.cancelled else None,
               *_award_and_contracts(exercise, notice, release)]
    latest = max((_utc(moment) for moment in changes if moment is not None), default=_utc(exercise.created_at))
    release["date"] = _when(latest)
    release["id"] = f"{ocid}-{latest:%Y%m%dT%H%M%SZ}"
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
