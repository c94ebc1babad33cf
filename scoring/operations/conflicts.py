"""Conflicts of interest (invariant 5): members' declarations per vendor, exclusions, and the interests
(members' companies, directorships, relatives' employers; vendors' directors and group companies) that flag
likely conflicts to the chair."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from app.guards import ActionRefused
from scoring.models import (MEMBER_INTEREST_KINDS, VENDOR_LINK_KINDS, Assignment, ConflictDeclaration, Interest,
                            InterestKind, PanelMember)
from scoring.permissions import can_declare
from scoring.queries import assignments_of, declarations_of, vendors_of

__all__ = ["ConflictError", "declare_conflicts", "exclude_assignment", "add_interest", "remove_interest",
           "MIN_DETAILS"]

MIN_DETAILS = 10


class ConflictError(ActionRefused):
    def __init__(self, message=None, *, problems: dict | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.problems = problems or {}


def declare_conflicts(member: PanelMember, *, actor: User, declarations: dict[int, tuple[bool, str]]) -> None:
    """Record the member's declarations (vendor id -> (has conflict, details)). A declared conflict takes that
    vendor's proposal out of the member's work at once (invariant 5); a declaration of a conflict cannot be
    withdrawn. Raises ConflictError, with the problem per vendor."""
    if member.user_id != actor.id or not can_declare(actor, member.panel):
        raise ConflictError(_l("Only a scoring member of the panel declares, once the box is opened."))
    vendors = {v.id for v in vendors_of(member.panel)}
    existing = declarations_of(member)
    problems = {}
    for vendor_id, (has_conflict, details) in declarations.items():
        details = (details or "").strip()
        if vendor_id not in vendors:
            raise ConflictError(_l("That vendor has no proposal in this exercise."))
        if has_conflict and len(details) < MIN_DETAILS:
            problems[vendor_id] = _l("Describe the conflict (at least %(n)s characters).", n=MIN_DETAILS)
        elif vendor_id in existing and existing[vendor_id].has_conflict and not has_conflict:
            problems[vendor_id] = _l("A declared conflict cannot be withdrawn; ask the chair.")
    if problems:
        raise ConflictError(_l("Some declarations need your attention."), problems=problems)
    for vendor_id, (has_conflict, details) in declarations.items():
        _declare(member, actor, existing.get(vendor_id), vendor_id, has_conflict, (details or "").strip())
    db.session.flush()


def _declare(member, actor, declaration, vendor_id: int, has_conflict: bool, details: str) -> None:
    if declaration is not None and (declaration.has_conflict, declaration.details) == (has_conflict, details):
        return
    if declaration is None:
        declaration = ConflictDeclaration(member=member, vendor_id=vendor_id, has_conflict=has_conflict, details=details)
        db.session.add(declaration)
    else:
        declaration.has_conflict, declaration.details, declaration.declared_at = has_conflict, details, now_utc()
    excluded = []
    if has_conflict:
        for assignment in assignments_of(member):
            if assignment.submission.vendor_id == vendor_id:
                assignment.excluded_at = now_utc()
                excluded.append(assignment.submission_id)
    record(actor, "panel.conflict_declared", member.panel.exercise, panel_id=member.panel_id, vendor_id=vendor_id,
           has_conflict=has_conflict, excluded_submissions=excluded)


def exclude_assignment(assignment: Assignment, *, actor: User, reason: str) -> None:
    """The chair (clear of the vendor) or a managing officer takes a proposal out of a member's work."""
    from scoring.operations.results import require_scores_open
    from scoring.permissions import can_moderate
    require_scores_open(assignment.member.panel, error=ConflictError)
    if not can_moderate(actor, assignment.member.panel, assignment.submission):
        raise ConflictError(_l("Only the chair or the exercise's officers can exclude a member from a proposal."))
    if len(reason.strip()) < MIN_DETAILS:
        raise ConflictError(_l("Give the reason (at least %(n)s characters).", n=MIN_DETAILS))
    if assignment.excluded_at is not None:
        raise ConflictError(_l("This member is already excluded from this proposal."))
    assignment.excluded_at = now_utc()
    record(actor, "panel.assignment_excluded", assignment.member.panel.exercise, assignment_id=assignment.id,
           user_id=assignment.member.user_id, submission_id=assignment.submission_id, reason=reason.strip())


def add_interest(*, actor: User, kind: InterestKind, name: str, vendor_id: int | None = None) -> Interest:
    """A staff user records its own interest; a vendor user records its company's director or group company."""
    name = name.strip()
    if not name:
        raise ConflictError(_l("Give the name."))
    if vendor_id is None:
        if actor.role == Role.vendor or kind not in MEMBER_INTEREST_KINDS:
            raise ConflictError(_l("This kind of interest is not for staff accounts."))
        interest = Interest(user_id=actor.id, kind=kind, name=name)
    else:
        if actor.vendor_id != vendor_id or kind not in VENDOR_LINK_KINDS:
            raise ConflictError(_l("Only the company's own users record its directors and group companies."))
        interest = Interest(vendor_id=vendor_id, kind=kind, name=name)
    db.session.add(interest)
    db.session.flush()
    record(actor, "interest.added", interest, kind=kind.value)
    return interest


def remove_interest(interest: Interest, *, actor: User) -> None:
    if interest.user_id != actor.id and (interest.vendor_id is None or interest.vendor_id != actor.vendor_id):
        raise ConflictError(_l("Only whoever recorded an interest removes it."))
    record(actor, "interest.removed", interest, kind=interest.kind.value)
    db.session.delete(interest)
