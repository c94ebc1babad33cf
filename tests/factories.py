"""The one factory module: create_<thing>() helpers that build committed test data through the real operations.

Only the base data has no operation and is made directly: service clusters (reference data the deployment
loads). Accounts come from app.auth.operations; exercises, sections, price lines, documents, invitations,
addenda and submissions from eoi.operations; attachments come in through eoi.sealed like a vendor's upload.
An exercise that closed in the past is built at a simulated earlier time (app.db.simulated_time), not edited.
"""
from __future__ import annotations

import io
import itertools
import time
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from app.auth.models import Role, User
from app.auth.operations import (accept_invitation, create_staff_user, invite_vendor_user, mark_email_verified,
                                 register_vendor)
from app.db import now_utc, simulated_time
from app.extensions import db
from app.storage import SavedUpload, save_upload
from eoi import operations as ops
from eoi import sealed
from eoi.models import Exercise, ServiceCluster, Submission
from eoi.operations import setup
from eoi.states import ExerciseKind

PASSWORD = "correct horse battery 42"
#: Every test officer's opening passphrase (issue 9): not its sign-in password.
OPENING_PASSPHRASE = "seven lanterns over the harbour"
PDF_BYTES = b"%PDF-1.4\n% tender document\n%%EOF\n"
SMALL_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
             b"\x1f\x15\xc4\x89" + b"\x00" * 32)
HTML_BYTES = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
_seq = itertools.count(1)


# --- accounts -----------------------------------------------------------------------------------

def create_staff(role: Role = Role.officer, **overrides) -> User:
    n = next(_seq)
    user = create_staff_user(name=overrides.get("name", f"{role.value.title()} {n}"),
                             email=overrides.get("email", f"{role.value}{n}@gov.example"),
                             password=overrides.get("password", PASSWORD), role=role, actor="test")
    if role == Role.officer and overrides.get("opening_passphrase", OPENING_PASSPHRASE):
        ops.set_opening_passphrase(user, overrides.get("opening_passphrase", OPENING_PASSPHRASE))
    db.session.commit()
    return user


def opening_officers(*named: User) -> list[User]:
    """Officers to name at publication: those given and every other active officer with an opening key, topped up
    with new officers to the configured minimum (OPENING_OFFICERS_MIN)."""
    chosen = {u.id: u for u in named}
    for user in db.session.scalars(sa.select(User).where(User.role == Role.officer, User.is_enabled.is_(True))):
        if ops.has_opening_key(user):  # only an officer with an opening key can hold a share
            chosen.setdefault(user.id, user)
    while len(chosen) < current_app.config["OPENING_OFFICERS_MIN"]:
        user = create_staff(Role.officer)
        chosen[user.id] = user
    return list(chosen.values())


def create_vendor_user(*, verified: bool = True, locale: str = "en", **overrides) -> User:
    n = next(_seq)
    user = register_vendor(
        name_en=overrides.get("name_en", f"Vendor {n} Limited"), name_zh=overrides.get("name_zh", f"供應商{n}有限公司"),
        br_number=overrides.get("br_number", f"{31000000 + n:08d}"), address="1 Harbour Road, Wan Chai, Hong Kong",
        contact_name="Chan Tai Man", contact_phone="21234567", name=overrides.get("name", f"Vendor User {n}"),
        email=overrides.get("email", f"user{n}@vendor{n}.example"), password=overrides.get("password", PASSWORD),
        locale=locale)
    if verified:
        mark_email_verified(user, actor=user)  # claims the company's BR number, as the emailed link does
    db.session.commit()
    return user


def create_vendor_with_document() -> User:
    """A vendor user whose email was verified, with its registration confirmation PDF rendered (a Document)."""
    from app.auth.operations import verify_email
    from app.documents.models import Document, DocumentStatus
    user = create_vendor_user(verified=False)
    verify_email(user, user.email)  # queues the registration confirmation PDF
    db.session.commit()
    doc = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.vendor_id == user.vendor_id, Document.status == DocumentStatus.ready)))
    assert doc is not None, "the registration confirmation was never rendered"
    return user


def create_colleague(user: User) -> User:
    """A second user of the same company (through the invitation operation)."""
    n = next(_seq)
    invitation = invite_vendor_user(user.vendor, name=f"Colleague {n}", email=f"colleague{n}@vendor.example", actor=user)
    colleague = accept_invitation(invitation, PASSWORD)
    db.session.commit()
    return colleague


# --- reference data and uploads -----------------------------------------------------------------

def create_cluster(code: str | None = None) -> ServiceCluster:
    n = next(_seq)
    cluster = ServiceCluster(code=code or f"C{n}", name_en=f"Cluster {n}", name_zh=f"組別{n}")
    db.session.add(cluster)
    db.session.commit()
    return cluster


def clusters() -> list[ServiceCluster]:
    """The two named service clusters, BIZ and HEALTH (created once per test database)."""
    named = db.session.query(ServiceCluster).filter(ServiceCluster.code.in_(["BIZ", "HEALTH"])) \
        .order_by(ServiceCluster.code).all()
    if named:
        return named
    made = [ServiceCluster(code="BIZ", name_en="Business and Trade", name_zh="工商業"),
            ServiceCluster(code="HEALTH", name_en="Health", name_zh="醫療衞生")]
    db.session.add_all(made)
    db.session.flush()
    return made


def document_upload(name: str = "tender.pdf", body: bytes = PDF_BYTES) -> SavedUpload:
    """A tender document as an officer uploads it."""
    return save_upload(io.BytesIO(body), name, max_bytes=1024 * 1024)


def attachment_upload(name: str = "document.pdf", body: bytes = SMALL_PDF) -> SavedUpload:
    """A submission attachment as a vendor uploads it (through the sealed door)."""
    return sealed.receive_file(io.BytesIO(body), name, max_bytes=1024 * 1024)


# --- exercises ----------------------------------------------------------------------------------

TITLES_ZH = {"Invitation": "邀請", "Invitation document": "邀請文件"}  # the factories' document titles in Chinese
UNITS_ZH = {"year": "年", "lump sum": "整筆", "month": "月"}


def _build_draft(officer: User, *, kind: ExerciseKind, fields: dict, sections: list[dict], price_lines: list[dict],
                 document: tuple[str, str, bytes] | None) -> Exercise:
    """create_exercise, then its sections, price lines and (title, file name, bytes) document, as an officer."""
    exercise = ops.create_exercise(actor=officer, kind=kind, **fields)
    for section in sections:
        setup.add_section(exercise, actor=officer, **section)
    for line in price_lines:
        setup.add_price_item(exercise, actor=officer, **{"unit_zh": UNITS_ZH.get(line.get("unit", "")), **line})
    if document:
        title, name, body = document
        ops.add_exercise_document(exercise, document_upload(name, body), title=title, actor=officer,
                                  title_zh=TITLES_ZH.get(title))
    return exercise


def create_draft(officer: User | None = None, *, kind: ExerciseKind = ExerciseKind.eoi, complete: bool = True,
                 has_price_envelope: bool = False, **overrides) -> Exercise:
    """A draft exercise; complete=True adds a cluster, a section and a document so that an EOI can be published;
    has_price_envelope adds a one-line price schedule (a five-year operation fee)."""
    officer = officer or create_staff(Role.officer)
    n = next(_seq)
    now = now_utc()
    fields = {"reference": f"TEST/{kind.value.upper()}/{n}", "title_en": f"Exercise {n}",
              "title_zh": f"活動{n}", "description_en": "What the exercise is about.", "description_zh": "活動內容。",
              "clusters": [create_cluster()] if complete else [], "publication_at": now,
              "clarification_deadline": now + timedelta(days=5), "closes_at": now + timedelta(days=10), **overrides}
    sections = [dict(title_en="Approach", title_zh="方案", guidance_en="", guidance_zh="", word_limit=500,
                     answer_required=True, attachment_required=False)] if complete else []
    exercise = _build_draft(officer, kind=kind, fields={"has_price_envelope": has_price_envelope, **fields},
                            sections=sections, price_lines=[],
                            document=("Invitation", "tender.pdf", PDF_BYTES) if complete else None)
    db.session.commit()
    return exercise


def create_published(officer: User | None = None, *, kind: ExerciseKind = ExerciseKind.eoi, vendors=(),
                     price_envelope: bool = False, **overrides) -> Exercise:
    """A published exercise; a tender invites vendors (users' companies) and may have a one-line price schedule."""
    officer = officer or create_staff(Role.officer)
    exercise = create_draft(officer, kind=kind, has_price_envelope=price_envelope, **overrides)
    if price_envelope:
        setup.add_price_item(exercise, actor=officer, description_en="Operation fee", description_zh="營運費",
                             unit="year", unit_zh="年", quantity=5)
    if kind == ExerciseKind.tender:
        ops.invite_vendors(exercise, [u.vendor for u in vendors], actor=officer)
    ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    return exercise


def create_published_exercise(*, sections: int = 2, closes_in: timedelta = timedelta(days=3),
                              questions_until: timedelta | None = None, kind: ExerciseKind = ExerciseKind.eoi,
                              price_items: int = 0, invited: tuple[User, ...] = (), cluster_code: str | None = None,
                              reference: str | None = None, title_en: str | None = None, title_zh: str | None = None,
                              word_limit: int | None = None, attachment_required: bool = False,
                              officer: User | None = None, service_levels: tuple = ()) -> Exercise:
    """A published EOI or tender of the pages' tests (named clusters, numbered sections, then a service-level
    question for each (name_en, name_zh, unit, direction) of service_levels), committed.
    A closes_in in the past makes an exercise that closed that long ago: it is built and published at a
    simulated time before its closing."""
    n = next(_seq)
    officer = officer or create_staff(Role.officer)
    now = now_utc()
    closes_at = now + closes_in
    closed = closes_in <= timedelta(0)
    start = closes_at - timedelta(days=2) if closed else now
    all_clusters = clusters()
    chosen = [c for c in all_clusters if c.code == cluster_code] if cluster_code else all_clusters[:1]
    fields = {"reference": reference or f"OSP-{kind.value.upper()}-{n:03d}",
              "title_en": title_en or f"Operation of service cluster {n}", "title_zh": title_zh or f"服務組別{n}的營運",
              "description_en": "Operate the cluster.\n\nSecond paragraph.", "description_zh": "營運服務組別。",
              "clusters": chosen, "publication_at": start, "closes_at": closes_at,
              "has_price_envelope": price_items > 0,
              "clarification_deadline": closes_at - timedelta(days=1) if closed
              else now + (questions_until or closes_in / 2)}
    section_fields = [dict(title_en=f"Section {p} approach", title_zh=f"第{p}部分 方案", guidance_en=f"Describe approach {p}.",
                           guidance_zh=f"說明方案{p}。", word_limit=word_limit, answer_required=True,
                           attachment_required=attachment_required) for p in range(1, sections + 1)]
    section_fields += [dict(title_en=en, title_zh=zh, guidance_en="The level you commit to.", guidance_zh="承諾的水平。",
                            answer_required=True, kind="service_level", kpi_unit=unit, kpi_direction=direction)
                       for en, zh, unit, direction in service_levels]
    price_lines = [dict(description_en=f"Year {p} operation fee", description_zh=f"第{p}年營運費", unit="year", quantity=p)
                   for p in range(1, price_items + 1)]
    with _at(start if closed else None):
        exercise = _build_draft(officer, kind=kind, fields=fields, sections=section_fields, price_lines=price_lines,
                                document=("Invitation document", "invitation.pdf", SMALL_PDF))
        if kind == ExerciseKind.tender:
            ops.invite_vendors(exercise, [u.vendor for u in invited], actor=officer)
        ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    return exercise


def _at(moment: datetime | None):
    """simulated_time(moment), or no change when moment is None."""
    from contextlib import nullcontext
    return simulated_time(moment) if moment is not None else nullcontext()


def issue_test_addendum(exercise: Exercise, *, changes_requirements: bool = False) -> None:
    officer = create_staff(Role.officer)
    ops.issue_addendum(exercise, actor=officer, text_en="Section 2 now asks for a staffing plan.",
                       text_zh="第2部分現須提交人手計劃。", changes_requirements=changes_requirements)
    db.session.commit()


# --- submissions --------------------------------------------------------------------------------

def create_submission(exercise: Exercise, vendor_user: User, *, answer: str = "Our approach.",
                      file_name: str | None = None, file_body: bytes = PDF_BYTES,
                      price: Decimal | None = None, levels: dict[str, str] | None = None) -> Submission:
    """A submitted proposal (answers every section, a service-level question with levels[its English title] or
    "1", optional attachment and price)."""
    submission = ops.get_or_create_submission(exercise, actor=vendor_user)
    ops.save_draft(submission, actor=vendor_user, answers={
        s.id: (levels or {}).get(s.title_en, "1") if s.is_service_level else answer for s in exercise.sections})
    if file_name:
        ops.add_submission_file(submission, attachment_upload(file_name, file_body), actor=vendor_user,
                                section=exercise.sections[0])
    if price is not None:
        ops.save_prices(submission, actor=vendor_user, prices={i.id: price for i in exercise.price_items})
    ops.submit_submission(submission, actor=vendor_user, draft_version=submission.draft_version)
    db.session.commit()
    return submission


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll until predicate() is truthy (a real Celery worker works asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.expire_all()
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        db.session.rollback()
        time.sleep(interval)


# --- panels and scoring (scoring area) ----------------------------------------------------------

def create_opened_exercise(*, vendors: int = 3, criteria=((60, 10), (40, 5)), answer: str = "Our approach.",
                           file_name: str | None = None, file_body: bytes = PDF_BYTES):
    """An EOI with technical criteria ((weight, max score), ...), `vendors` companies' submitted proposals, closed
    and opened by two named officers: (exercise, submissions, officer). Built at simulated earlier times."""
    from scoring.models import Envelope
    from scoring.operations import add_criterion
    officer, second = create_staff(Role.officer), create_staff(Role.officer)
    now = now_utc()
    closes_at = now - timedelta(hours=1)
    start = closes_at - timedelta(days=3)
    n = next(_seq)
    fields = {"reference": f"OSP-PANEL-{n:03d}", "title_en": f"Panel exercise {n}", "title_zh": f"評審活動{n}",
              "description_en": "Operate the cluster.", "description_zh": "營運服務組別。", "clusters": clusters()[:1],
              "publication_at": start, "closes_at": closes_at, "has_price_envelope": False,
              "clarification_deadline": closes_at - timedelta(days=1)}
    section = dict(title_en="Approach", title_zh="方案", guidance_en="", guidance_zh="", word_limit=None,
                   answer_required=True, attachment_required=False)
    users = [create_vendor_user() for _ in range(vendors)]
    with simulated_time(start):
        exercise = _build_draft(officer, kind=ExerciseKind.eoi, fields=fields, sections=[section], price_lines=[],
                                document=("Invitation document", "invitation.pdf", SMALL_PDF))
        for i, (weight, max_score, *pass_mark) in enumerate(criteria, start=1):  # (weight, max[, pass mark])
            add_criterion(exercise, actor=officer, name_en=f"Criterion {i}", name_zh=f"準則{i}", weight=Decimal(weight),
                          max_score=max_score, pass_mark=pass_mark[0] if pass_mark else None,
                          envelope=Envelope.technical)
        ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer, second))
        db.session.commit()
    submissions = []
    with simulated_time(start + timedelta(hours=1)):
        for user in users:
            submissions.append(create_submission(exercise, user, answer=f"{answer} (no. {len(submissions) + 1})",
                                                 file_name=file_name, file_body=file_body))
    ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
    ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    return exercise, submissions, officer


def create_opened_tender(*, prices=(Decimal("100"), Decimal("80"), Decimal("120")), criteria=((60, 10), (40, 10)),
                         pass_mark: int | None = 5, technical_weight: int = 70, price_formula: str = "lowest_pro_rata"):
    """A restricted tender with a price envelope (two price lines: a set-up lump sum and a yearly fee × 5), technical
    criteria ((weight, max score), ...) with pass_mark each, a price criterion, the split and price formula; one
    invited vendor per unit price in prices (every line priced at it), closed and opened (technical envelope) by two
    named officers: (tender, submissions, officer, second_officer). Built at simulated earlier times."""
    from scoring.models import Envelope
    from scoring.operations import add_criterion, set_evaluation_settings
    officer, second = create_staff(Role.officer), create_staff(Role.officer)
    now = now_utc()
    closes_at = now - timedelta(hours=1)
    start = closes_at - timedelta(days=3)
    n = next(_seq)
    fields = {"reference": f"OSP-TENDER-{n:03d}", "title_en": f"Tender {n}", "title_zh": f"招標{n}",
              "description_en": "Operate the cluster.", "description_zh": "營運服務組別。", "clusters": clusters()[:1],
              "publication_at": start, "closes_at": closes_at, "has_price_envelope": True,
              "clarification_deadline": closes_at - timedelta(days=1)}
    section = dict(title_en="Approach", title_zh="方案", guidance_en="", guidance_zh="", word_limit=None,
                   answer_required=True, attachment_required=False)
    lines = [dict(description_en="Set-up", description_zh="設置", unit="lump sum", quantity=1),
             dict(description_en="Operation fee", description_zh="營運費", unit="year", quantity=5)]
    users = [create_vendor_user() for _ in prices]
    with simulated_time(start):
        exercise = _build_draft(officer, kind=ExerciseKind.tender, fields=fields, sections=[section], price_lines=lines,
                                document=("Invitation document", "invitation.pdf", SMALL_PDF))
        for i, (weight, max_score) in enumerate(criteria, start=1):
            add_criterion(exercise, actor=officer, name_en=f"Criterion {i}", name_zh=f"準則{i}", weight=Decimal(weight),
                          max_score=max_score, pass_mark=pass_mark, envelope=Envelope.technical)
        add_criterion(exercise, actor=officer, name_en="Price", name_zh="價格", weight=Decimal(100), max_score=10,
                      pass_mark=None, envelope=Envelope.price)
        set_evaluation_settings(exercise, actor=officer, overall_pass_mark=None, technical_weight=technical_weight,
                                price_formula=price_formula)
        ops.invite_vendors(exercise, [u.vendor for u in users], actor=officer)
        ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer, second))
        db.session.commit()
    submissions = []
    with simulated_time(start + timedelta(hours=1)):
        for user, price in zip(users, prices):
            submissions.append(create_submission(exercise, user, answer=f"Our approach (no. {len(submissions) + 1})",
                                                 price=price))
    ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
    ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    return exercise, submissions, officer, second


def create_panel(exercise: Exercise, officer: User, *, members: int = 2, secretary: bool = True, assign: bool = True,
                 hide_identities: bool = False):
    """A panel (a chair, members, optionally a secretary) with every proposal assigned to every scoring member:
    (panel, chair_user, [member users], secretary_user or None)."""
    from scoring.operations import assign_proposals, form_panel
    chair = create_staff(Role.panel)
    people = [create_staff(Role.panel) for _ in range(members)]
    clerk = create_staff(Role.panel) if secretary else None
    panel = form_panel(exercise, actor=officer, chair=chair, members=people, secretary=clerk,
                       hide_identities=hide_identities)
    if assign:
        assign_proposals(panel, actor=officer)
    db.session.commit()
    return panel, chair, people, clerk


def declare_all(panel, user: User, *, conflicts: dict[int, str] | None = None) -> None:
    """user declares for every vendor of the panel: no conflict, except vendor id -> details in conflicts."""
    from scoring.operations import declare_conflicts
    from scoring.queries import seat_of, vendors_of
    conflicts = conflicts or {}
    declare_conflicts(seat_of(user, panel), actor=user,
                      declarations={v.id: (v.id in conflicts, conflicts.get(v.id, "")) for v in vendors_of(panel)})
    db.session.commit()


def score_and_submit(panel, user: User, submission: Submission, values: dict[int, int] | None = None,
                     justification: str = "Well argued and evidenced."):
    """user scores every technical criterion of submission (values: criterion id -> score, default max//2) and
    submits the sheet; returns the sheet."""
    from scoring.operations import save_scores, submit_sheet
    from scoring.queries import assignment_for, seat_of, technical_criteria_of
    assignment = assignment_for(seat_of(user, panel), submission)
    criteria = technical_criteria_of(panel.exercise)
    values = values or {c.id: c.max_score // 2 for c in criteria}
    save_scores(assignment, actor=user, version=assignment.sheet.version if assignment.sheet else 0,
                entries={c.id: (values[c.id], justification) for c in criteria})
    sheet = submit_sheet(assignment, actor=user)
    db.session.commit()
    return sheet


def sign_off(panel, chair: User):
    """The chair signs the panel's technical evaluation off (every sheet submitted); returns the panel."""
    from scoring.operations import sign_off_technical
    sign_off_technical(panel, actor=chair)
    db.session.commit()
    return panel


def evaluate(exercise: Exercise, officer: User, submissions, values=None):
    """A panel (a chair and one member) that scored every proposal (values: per submission, criterion id -> score;
    default half marks) and whose chair signed the technical evaluation off: what a decision follows.
    Returns (panel, chair)."""
    panel, chair, members, _clerk = create_panel(exercise, officer, members=1, secretary=False)
    for user in (chair, *members):
        declare_all(panel, user)
        for i, submission in enumerate(submissions):
            score_and_submit(panel, user, submission, values=values[i] if values else None)
    return sign_off(panel, chair), chair


# --- contracts ----------------------------------------------------------------------------------

def create_opened_exercise_for(vendor_users: tuple[User, ...], officer: User | None = None) -> Exercise:
    """An EOI that closed an hour ago with a submission from each of vendor_users, opened by two named officers."""
    officer = officer or create_staff(Role.officer)
    exercise = create_published_exercise(closes_in=timedelta(hours=-1), officer=officer)
    with simulated_time(exercise.closes_at - timedelta(hours=3)):
        for user in vendor_users:
            create_submission(exercise, user)
    ops.close_exercise(exercise, actor=officer)
    second = next(o.user for o in exercise.opening_officers if o.user_id != officer.id)
    ops.start_opening(exercise, actor=officer, passphrase=OPENING_PASSPHRASE)
    ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
    db.session.commit()
    return exercise


def create_contract(vendor_user: User | None = None, *, officer: User | None = None, state: str = "draft",
                    committed: Decimal = Decimal("48000000"), starts_on=None, months: int = 36):
    """A contract with a fixed fee, a subscription, a per-transaction fee and a revenue share, two KPIs
    (availability monthly, satisfaction quarterly), a milestone and two risks, brought to `state`
    (draft, issued, signed, active) through the operations."""
    from datetime import date
    from contracts import operations as cops
    from contracts.models import FeeKind, KpiDirection, ReportingFrequency, RiskBearer
    vendor_user = vendor_user or create_vendor_user()
    officer = officer or create_staff(Role.officer)
    exercise = create_opened_exercise_for((vendor_user,), officer=officer)
    starts_on = starts_on or date(now_utc().year - 1, 1, 1)
    ends_on = date(starts_on.year + months // 12, starts_on.month, 1) - timedelta(days=1)
    contract = cops.create_contract(exercise, vendor_user.vendor, actor=officer, cluster=exercise.clusters[0],
                                    title_en="Operation and management of the cluster", title_zh="營運及管理服務組別",
                                    starts_on=starts_on, ends_on=ends_on, extension_months=12, extensions_allowed=1,
                                    cost_avoidance=Decimal("24000000"))
    cops.add_fee(contract, actor=officer, kind=FeeKind.fixed, description_en="Annual service fee",
                 description_zh="年度服務費", rate=Decimal("12000000"), committed=committed)
    cops.add_fee(contract, actor=officer, kind=FeeKind.subscription, description_en="Content subscription",
                 description_zh="內容訂閱費", rate=Decimal("50000"), committed=Decimal("1800000"))
    cops.add_fee(contract, actor=officer, kind=FeeKind.transaction, description_en="Licence renewals",
                 description_zh="牌照續期", rate=Decimal("2.50"), committed=Decimal("900000"))
    cops.add_fee(contract, actor=officer, kind=FeeKind.revenue_share, description_en="Advertising revenue",
                 description_zh="廣告收入", rate=Decimal("15"), committed=Decimal("0"))
    cops.add_kpi(contract, actor=officer, name_en="Availability", name_zh="系統可用率", unit="%",
                 target=Decimal("99.5"), direction=KpiDirection.at_least, frequency=ReportingFrequency.monthly,
                 credit_step=Decimal("0.5"), credit_amount=Decimal("20000"), credit_cap=Decimal("100000"))
    cops.add_kpi(contract, actor=officer, name_en="Average response time", name_zh="平均回應時間", unit="s",
                 target=Decimal("2"), direction=KpiDirection.at_most, frequency=ReportingFrequency.quarterly,
                 credit_step=Decimal("0.5"), credit_amount=Decimal("10000"), credit_cap=Decimal("50000"))
    cops.add_milestone(contract, actor=officer, title_en="Cluster live on the portal", title_zh="服務組別於入門網站啟用",
                       due_on=starts_on + timedelta(days=90), amount=Decimal("2000000"))
    cops.add_risk(contract, actor=officer, risk_en="Take-up below forecast", risk_zh="使用率低於預測",
                  bearer=RiskBearer.contractor, mitigation_en="Marketing plan", mitigation_zh="推廣計劃")
    cops.add_risk(contract, actor=officer, risk_en="Change in law", risk_zh="法例修改", bearer=RiskBearer.government,
                  mitigation_en="Variation", mitigation_zh="更改合約")
    steps = ["issued", "signed", "active"]
    if state in steps:
        cops.issue_contract(contract, actor=officer)
    if state in steps[1:]:
        cops.sign_contract(contract, actor=officer)
    if state == "active":
        cops.activate_contract(contract, actor=officer)
    db.session.commit()
    return contract
