"""Published exercises, colleagues and uploads for the public and vendor page tests, built with the real operations."""
from __future__ import annotations

import io
import itertools
from datetime import timedelta

from app.auth.models import Role, User
from app.auth.operations import accept_invitation, invite_vendor_user
from app.db import now_utc
from app.extensions import db
from app.storage import SavedUpload, save_upload
from eoi.models import Exercise, PriceItem, Section, ServiceCluster
from eoi.operations import add_exercise_document, create_exercise, invite_vendors, issue_addendum, publish_exercise
from eoi.states import ExerciseKind
from tests.factories import PASSWORD, create_staff, opening_officers

SMALL_PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
             b"\x1f\x15\xc4\x89" + b"\x00" * 32)
HTML_BYTES = b"<!doctype html><html><body><script>alert(1)</script></body></html>\n"
_seq = itertools.count(1)

def clusters() -> list[ServiceCluster]:
    """Two service clusters (created once per test database)."""
    existing = db.session.query(ServiceCluster).order_by(ServiceCluster.code).all()
    if existing:
        return existing
    made = [ServiceCluster(code="BIZ", name_en="Business and Trade", name_zh="工商業"),
            ServiceCluster(code="HEALTH", name_en="Health", name_zh="醫療衞生")]
    db.session.add_all(made)
    db.session.flush()
    return made


def saved_upload(data: bytes = SMALL_PDF, name: str = "document.pdf") -> SavedUpload:
    return save_upload(io.BytesIO(data), name, max_bytes=1024 * 1024)


def create_published_exercise(*, sections: int = 2, closes_in: timedelta = timedelta(days=3),
                              questions_until: timedelta | None = None, kind: ExerciseKind = ExerciseKind.eoi,
                              price_items: int = 0, invited: tuple[User, ...] = (), cluster_code: str | None = None,
                              reference: str | None = None, title_en: str | None = None, title_zh: str | None = None,
                              word_limit: int | None = None, attachment_required: bool = False,
                              officer: User | None = None) -> Exercise:
    """A published EOI or tender, committed. A closes_in in the past makes an exercise that closed that long ago."""
    n = next(_seq)
    officer = officer or create_staff(Role.officer)
    now = now_utc()
    future_close = closes_in if closes_in > timedelta(0) else timedelta(days=3)
    all_clusters = clusters()
    chosen = [c for c in all_clusters if c.code == cluster_code] if cluster_code else all_clusters[:1]
    exercise = create_exercise(
        actor=officer, kind=kind, reference=reference or f"OSP-{kind.value.upper()}-{n:03d}",
        title_en=title_en or f"Operation of service cluster {n}", title_zh=title_zh or f"服務組別{n}的營運",
        description_en="Operate the cluster.\n\nSecond paragraph.", description_zh="營運服務組別。",
        clusters=chosen, publication_at=now, clarification_deadline=now + (questions_until or future_close / 2),
        closes_at=now + future_close, has_price_envelope=price_items > 0)
    for position in range(1, sections + 1):
        exercise.sections.append(Section(
            position=position, title_en=f"Section {position} approach", title_zh=f"第{position}部分 方案",
            guidance_en=f"Describe approach {position}.", guidance_zh=f"說明方案{position}。", word_limit=word_limit,
            attachment_required=attachment_required))
    for position in range(1, price_items + 1):
        exercise.price_items.append(PriceItem(position=position, description_en=f"Year {position} operation fee",
                                              description_zh=f"第{position}年營運費", unit="year", quantity=position))
    add_exercise_document(exercise, saved_upload(name="invitation.pdf"), title="Invitation document", actor=officer)
    if kind == ExerciseKind.tender:
        invite_vendors(exercise, [u.vendor for u in invited], actor=officer)
    publish_exercise(exercise, actor=officer, opening_officers=opening_officers(officer))
    if closes_in <= timedelta(0):
        exercise.closes_at = now + closes_in
        exercise.clarification_deadline = exercise.closes_at - timedelta(days=1)
    db.session.commit()
    return exercise


def issue_test_addendum(exercise: Exercise, *, changes_requirements: bool = False) -> None:
    officer = create_staff(Role.officer)
    issue_addendum(exercise, actor=officer, text_en="Section 2 now asks for a staffing plan.",
                   text_zh="第2部分現須提交人手計劃。", changes_requirements=changes_requirements)
    db.session.commit()


def create_colleague(user: User) -> User:
    """A second user of the same company (through the invitation operation)."""
    n = next(_seq)
    invitation = invite_vendor_user(user.vendor, name=f"Colleague {n}", email=f"colleague{n}@vendor.example", actor=user)
    colleague = accept_invitation(invitation, PASSWORD)
    db.session.commit()
    return colleague
