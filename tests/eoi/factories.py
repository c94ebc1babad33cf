"""create_<thing>() helpers for eoi tests: exercises and submissions built through the real operations."""
from __future__ import annotations

import io
import itertools
from datetime import timedelta
from decimal import Decimal

from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from app.storage import save_upload
from eoi import operations as ops
from eoi.models import Exercise, ServiceCluster, Submission
from eoi.operations import setup
from eoi.states import ExerciseKind
from tests.factories import create_staff, opening_officers

PDF_BYTES = b"%PDF-1.4\n% tender document\n%%EOF\n"
_seq = itertools.count(1)


def create_cluster(code: str | None = None) -> ServiceCluster:
    n = next(_seq)
    cluster = ServiceCluster(code=code or f"C{n}", name_en=f"Cluster {n}", name_zh=f"組別{n}")
    db.session.add(cluster)
    db.session.commit()
    return cluster


def pdf_upload(name: str = "tender.pdf", body: bytes = PDF_BYTES):
    return save_upload(io.BytesIO(body), name, max_bytes=10**6)


def create_draft(officer: User | None = None, *, kind: ExerciseKind = ExerciseKind.eoi, complete: bool = True,
                 **overrides) -> Exercise:
    """A draft exercise; complete=True adds a cluster, a section and a document so that an EOI can be published."""
    officer = officer or create_staff(Role.officer)
    n = next(_seq)
    now = now_utc()
    fields = {"kind": kind, "reference": f"TEST/{kind.value.upper()}/{n}", "title_en": f"Exercise {n}",
              "title_zh": f"活動{n}", "description_en": "What the exercise is about.", "description_zh": "活動內容。",
              "clusters": [create_cluster()] if complete else [], "publication_at": now,
              "clarification_deadline": now + timedelta(days=5), "closes_at": now + timedelta(days=10), **overrides}
    exercise = ops.create_exercise(actor=officer, **fields)
    if complete:
        setup.add_section(exercise, actor=officer, title_en="Approach", title_zh="方案", guidance_en="", guidance_zh="",
                          word_limit=500, answer_required=True, attachment_required=False)
        ops.add_exercise_document(exercise, pdf_upload(), title="Invitation", actor=officer)
    db.session.commit()
    return exercise


def create_published(officer: User | None = None, *, kind: ExerciseKind = ExerciseKind.eoi, vendors=(),
                     price_envelope: bool = False, **overrides) -> Exercise:
    """A published exercise; a tender invites vendors (users' companies) and may have a one-line price schedule."""
    officer = officer or create_staff(Role.officer)
    exercise = create_draft(officer, kind=kind, has_price_envelope=price_envelope, **overrides)
    if price_envelope:
        setup.add_price_item(exercise, actor=officer, description_en="Operation fee", description_zh="營運費",
                             unit="year", quantity=5)
    if kind == ExerciseKind.tender:
        ops.invite_vendors(exercise, [u.vendor for u in vendors], actor=officer)
    ops.publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    db.session.commit()
    return exercise


def create_submission(exercise: Exercise, vendor_user: User, *, answer: str = "Our approach.",
                      file_name: str | None = None, file_body: bytes = PDF_BYTES,
                      price: Decimal | None = None) -> Submission:
    """A submitted proposal (answers every section, optional attachment and price)."""
    submission = ops.get_or_create_submission(exercise, actor=vendor_user)
    ops.save_draft(submission, actor=vendor_user, answers={s.id: answer for s in exercise.sections})
    if file_name:
        ops.add_submission_file(submission, pdf_upload(file_name, file_body), actor=vendor_user,
                                section=exercise.sections[0])
    if price is not None:
        ops.save_prices(submission, actor=vendor_user, prices={i.id: price for i in exercise.price_items})
    ops.submit_submission(submission, actor=vendor_user, draft_version=submission.draft_version)
    db.session.commit()
    return submission
