"""Forming an exercise's assessment panel, assigning proposals, removing members and reminding them."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from app.audit import record
from app.auth.models import Role, User
from app.db import now_utc
from app.extensions import db
from app.guards import ActionRefused
from app.notifications import external_url, notify
from app.states import transition
from eoi.models import Exercise, Submission
from eoi.states import ExerciseState
from scoring.models import Assignment, Panel, PanelMember, PanelRole
from scoring.permissions import can_assign_proposals, can_form_panel, can_remind_panel
from scoring.queries import assignment_for, members_yet_to_submit, panel_of, proposals_of, scoring_members

__all__ = ["PanelError", "form_panel", "add_panel_member", "remove_panel_member", "assign_proposals",
           "remind_panel"]


class PanelError(ActionRefused):
    pass


def _require_panel_user(user: User) -> None:
    if user.role != Role.panel or not user.is_enabled:
        raise PanelError(_l("%(name)s does not hold an enabled panel member account.", name=user.name))


def _seat(panel: Panel, user: User, role: PanelRole) -> PanelMember:
    _require_panel_user(user)
    existing = next((m for m in panel.members if m.user_id == user.id), None)
    if existing is not None and existing.active:
        raise PanelError(_l("%(name)s is already on the panel.", name=user.name))
    if existing is not None:  # seated again after removal: same row, access back
        existing.removed_at, existing.role = None, role
        return existing
    member = PanelMember(panel=panel, user_id=user.id, role=role)
    db.session.add(member)
    return member


def form_panel(exercise: Exercise, *, actor: User, chair: User, members: list[User], secretary: User | None = None,
               deadline: datetime | None = None, hide_identities: bool = False) -> Panel:
    """Form the exercise's panel: a chair (who scores), members, an optional secretary who does not score.
    Raises PanelError (not an officer of the exercise, a panel exists, someone named twice or not a panel member)."""
    if not can_form_panel(actor, exercise):
        raise PanelError(_l("Only the exercise's officers can form its panel, after publication."))
    if panel_of(exercise) is not None:
        raise PanelError(_l("This exercise already has a panel."))
    people = [chair, *members] + ([secretary] if secretary else [])
    if len({u.id for u in people}) != len(people):
        raise PanelError(_l("Name each person once: the chair, the members and the secretary must be different people."))
    panel = Panel(exercise_id=exercise.id, created_by_id=actor.id, deadline=deadline, hide_identities=hide_identities)
    db.session.add(panel)
    _seat(panel, chair, PanelRole.chair)
    for user in members:
        _seat(panel, user, PanelRole.member)
    if secretary:
        _seat(panel, secretary, PanelRole.secretary)
    db.session.flush()
    record(actor, "panel.formed", exercise, panel_id=panel.id, chair_id=chair.id, member_ids=[u.id for u in members],
           secretary_id=secretary.id if secretary else None, hide_identities=hide_identities,
           deadline=deadline.isoformat() if deadline else None)
    return panel


def add_panel_member(panel: Panel, user: User, *, actor: User, role: PanelRole = PanelRole.member) -> PanelMember:
    """Seat one more member (or a secretary); raises PanelError."""
    if not can_form_panel(actor, panel.exercise):
        raise PanelError(_l("Only the exercise's officers can change its panel."))
    if role == PanelRole.chair:
        raise PanelError(_l("The panel has its chair."))
    member = _seat(panel, user, role)
    db.session.flush()
    record(actor, "panel.member_added", panel.exercise, panel_id=panel.id, user_id=user.id, role=role.value)
    return member


def remove_panel_member(member: PanelMember, *, actor: User) -> None:
    """Remove a member: it loses access at once (every permission checks removed_at); its record stays.
    The chair cannot be removed. Raises PanelError."""
    if not can_form_panel(actor, member.panel.exercise):
        raise PanelError(_l("Only the exercise's officers can change its panel."))
    if member.role == PanelRole.chair:
        raise PanelError(_l("The chair cannot be removed from the panel."))
    if not member.active:
        raise PanelError(_l("This member was already removed."))
    member.removed_at = now_utc()
    record(actor, "panel.member_removed", member.panel.exercise, panel_id=member.panel_id, user_id=member.user_id)


def assign_proposals(panel: Panel, *, actor: User, members: list[PanelMember] | None = None,
                     submissions: list[Submission] | None = None) -> list[Assignment]:
    """Assign proposals (all standing ones by default) to scoring members (all by default); existing
    assignments are kept. Emails each member who got new work. The exercise moves to evaluation on the
    first assignment. Raises PanelError."""
    if not can_assign_proposals(actor, panel):
        raise PanelError(_l("Proposals can be assigned only by the exercise's officers, once the box is opened."))
    if panel.is_signed_off:
        raise PanelError(_l("The technical evaluation is signed off: no proposal can be assigned any more."))
    standing = {s.id: s for s in proposals_of(panel)}
    chosen = submissions if submissions is not None else list(standing.values())
    if any(s.id not in standing for s in chosen):
        raise PanelError(_l("Only proposals that stand after the opening can be assigned."))
    seats = members if members is not None else scoring_members(panel)
    if any(m.panel_id != panel.id or not m.active or not m.role.scores for m in seats):
        raise PanelError(_l("Proposals can be assigned only to the panel's scoring members."))
    created = []
    for member in seats:
        new = [Assignment(member=member, submission=s) for s in chosen if assignment_for(member, s) is None]
        db.session.add_all(new)
        created += new
        if new:
            _notify(member.user, "panel_assigned", panel, count=len(new))
    db.session.flush()
    if created and panel.exercise.state == ExerciseState.opened:
        transition(panel.exercise, ExerciseState.evaluating, actor=actor, action="exercise.evaluation_started")
    record(actor, "panel.assigned", panel.exercise, panel_id=panel.id,
           assignments=[[a.member.user_id, a.submission_id] for a in created])
    return created


def _notify(user: User, template: str, panel: Panel, **context) -> None:
    locale = user.locale or "en"
    notify(to_email=user.email, template=template, locale=locale, user=user,
           link=external_url("scoring.panel_work", panel_id=panel.id), reference=panel.exercise.reference,
           title=panel.exercise.title(locale), deadline=panel.deadline, **context)


def remind_panel(panel: Panel, *, actor: User) -> list[PanelMember]:
    """One action (audited): email every scoring member who has an unsubmitted sheet. Raises PanelError."""
    if not can_remind_panel(actor, panel):
        raise PanelError(_l("Only the chair or the exercise's officers can remind the panel."))
    late = members_yet_to_submit(panel)
    if not late:
        raise PanelError(_l("Every member has submitted every assigned sheet: nobody to remind."))
    for member in late:
        _notify(member.user, "panel_reminder", panel)
    panel.last_reminded_at = now_utc()
    record(actor, "panel.reminded", panel.exercise, panel_id=panel.id, user_ids=[m.user_id for m in late])
    return late
