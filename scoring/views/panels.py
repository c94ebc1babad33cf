"""Panel pages: the officer forms the panel and assigns proposals; members, the chair and the secretary follow
their work (progress without scores), members declare conflicts, the chair reminds; interests for flags."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.auth.forms import ConfirmForm
from app.auth.models import Role, User
from app.auth.permissions import role_required
from app.boundary import commit, on_refusal
from app.errors import require
from app.extensions import db
from eoi.forms.officer import hk_to_utc
from eoi.models import Exercise
from scoring import bp
from scoring.forms import AddMemberForm, AssignForm, InterestForm, PanelForm, declaration_form
from scoring.models import MEMBER_INTEREST_KINDS, VENDOR_LINK_KINDS, Interest, InterestKind, Panel, PanelMember, PanelRole
from scoring.operations import (add_interest, add_panel_member, assign_proposals, declare_conflicts, form_panel,
                                remove_interest, remove_panel_member, remind_panel)
from scoring.permissions import (can_assign_proposals, can_declare, can_follow_panel, can_form_panel, can_moderate,
                                 can_read_report, can_remind_panel, can_see_results, can_see_vendor_identity,
                                 has_declared_all)
from scoring.queries import (active_members, anonymous_proposal_names, assignments_of, declarations_of, declarations_of_panel,
                             interests_of_user, interests_of_vendor, likely_conflicts, panel_candidates, panel_of, progress_of,
                             proposal_labels, proposals_of, scoring_members, seat_of, seats_of, vendors_of)


def panel_link_panel(exercise: Exercise) -> dict | None:
    """The officer's exercise page links to the panel page once the exercise is published, and for a tender to its
    price opening page once the box is opened."""
    from scoring.permissions import can_follow_price_opening
    panel = panel_of(exercise)
    if not can_form_panel(current_user, exercise) and panel is None:
        return None
    return {"panel": panel, "price_opening": panel is not None and can_follow_price_opening(current_user, panel)}


def proposal_names(panel: Panel, user) -> dict[int, str]:
    """Submission id -> what this user calls the proposal: its vendor, or its letter when identities are hidden."""
    labels = proposal_labels(panel)
    if can_see_vendor_identity(user, panel):
        locale = str(get_locale() or "en")
        return {s.id: f"{labels[s.id]} — {s.vendor.display_name(locale)}" for s in proposals_of(panel)}
    return anonymous_proposal_names(panel)


def _manage_page(exercise: Exercise, panel: Panel | None, *, form=None, add_form=None, assign_form=None, status=200):
    candidates = panel_candidates()
    if panel is None:
        form = form or PanelForm(candidates=candidates)
        return render_template("scoring/panel_form.html", exercise=exercise, form=form), status
    names = proposal_names(panel, current_user)
    seated = {m.user_id for m in active_members(panel)}
    return render_template(
        "scoring/panel_manage.html", exercise=exercise, panel=panel, members=active_members(panel),
        progress=progress_of(panel), names=names, confirm=ConfirmForm(),
        add_form=add_form or AddMemberForm(candidates=[u for u in candidates if u.id not in seated]),
        assign_form=assign_form or AssignForm(members=scoring_members(panel), proposals=names.items()),
        can_assign=can_assign_proposals(current_user, panel), can_remind=can_remind_panel(current_user, panel),
        can_change=can_form_panel(current_user, exercise), declarations=declarations_of_panel(panel),
        flags=likely_conflicts(panel), can_see_results=can_see_results(current_user, panel),
        can_read_report=can_read_report(current_user, panel),
        moderated=[s for s in proposals_of(panel) if can_moderate(current_user, panel, s)]), status


def _managed_exercise(exercise_id: int) -> Exercise:
    exercise = db.get_or_404(Exercise, exercise_id)
    require(can_form_panel(current_user, exercise) or (panel_of(exercise) is not None
                                                       and can_follow_panel(current_user, panel_of(exercise))))
    return exercise


@bp.route("/exercises/<int:exercise_id>/panel", methods=["GET", "POST"])
@role_required(Role.officer)
def panel_manage(exercise_id: int):
    exercise = _managed_exercise(exercise_id)
    panel = panel_of(exercise)
    if panel is not None or request.method == "GET":
        return _manage_page(exercise, panel)
    form = PanelForm(candidates=panel_candidates())
    on_refusal(render=lambda _error: _manage_page(exercise, None, form=form))
    if not form.validate_on_submit():
        return _manage_page(exercise, None, form=form, status=400)
    users = {u.id: u for u in panel_candidates()}
    form_panel(exercise, actor=current_user, chair=users[form.chair.data],
               members=[users[i] for i in form.members.data if i in users],
               secretary=users.get(form.secretary.data), deadline=hk_to_utc(form.deadline.data),
               hide_identities=form.hide_identities.data)
    commit(_("The panel was formed."))
    return redirect(url_for("scoring.panel_manage", exercise_id=exercise.id))


def _officer_panel(panel_id: int) -> Panel:
    panel = db.get_or_404(Panel, panel_id)
    require(can_form_panel(current_user, panel.exercise))
    return panel


@bp.post("/panels/<int:panel_id>/members")
@role_required(Role.officer)
def panel_member_add(panel_id: int):
    panel = _officer_panel(panel_id)
    seated = {m.user_id for m in active_members(panel)}
    form = AddMemberForm(candidates=[u for u in panel_candidates() if u.id not in seated])
    on_refusal(render=lambda _error: _manage_page(panel.exercise, panel, add_form=form))
    if not form.validate_on_submit():
        return _manage_page(panel.exercise, panel, add_form=form, status=400)
    add_panel_member(panel, db.get_or_404(User, form.user.data),
                     actor=current_user, role=PanelRole(form.role.data))
    commit(_("The member was added to the panel."))
    return redirect(url_for("scoring.panel_manage", exercise_id=panel.exercise_id))


@bp.post("/panel-members/<int:member_id>/remove")
@role_required(Role.officer)
def panel_member_remove(member_id: int):
    member = db.get_or_404(PanelMember, member_id)
    require(can_form_panel(current_user, member.panel.exercise))
    target = url_for("scoring.panel_manage", exercise_id=member.panel.exercise_id)
    on_refusal(redirect_to=target)
    if ConfirmForm().validate_on_submit():
        remove_panel_member(member, actor=current_user)
        commit(_("The member was removed from the panel and has lost access."))
    return redirect(target)


@bp.post("/panels/<int:panel_id>/assign")
@role_required(Role.officer)
def panel_assign(panel_id: int):
    panel = _officer_panel(panel_id)
    form = AssignForm(members=scoring_members(panel), proposals=proposal_names(panel, current_user).items())
    on_refusal(render=lambda _error: _manage_page(panel.exercise, panel, assign_form=form))
    if not form.validate_on_submit():
        return _manage_page(panel.exercise, panel, assign_form=form, status=400)
    members = [m for m in scoring_members(panel) if m.id in form.members.data]
    submissions = [s for s in proposals_of(panel) if s.id in form.submissions.data]
    created = assign_proposals(panel, actor=current_user, members=members, submissions=submissions)
    commit(_("%(n)s assignments made; the members were emailed.", n=len(created)))
    return redirect(url_for("scoring.panel_manage", exercise_id=panel.exercise_id))


@bp.post("/panels/<int:panel_id>/remind")
@role_required(Role.officer, Role.panel)
def panel_remind(panel_id: int):
    panel = db.get_or_404(Panel, panel_id)
    require(can_remind_panel(current_user, panel))
    on_refusal(redirect_to=_back(panel))
    if ConfirmForm().validate_on_submit():
        reminded = remind_panel(panel, actor=current_user)
        commit(_("%(n)s members were reminded.", n=len(reminded)))
    return redirect(_back(panel))


def _back(panel: Panel) -> str:
    if can_form_panel(current_user, panel.exercise):
        return url_for("scoring.panel_manage", exercise_id=panel.exercise_id)
    return url_for("scoring.panel_work", panel_id=panel.id)


def _seat(panel_id: int) -> tuple[Panel, PanelMember]:
    panel = db.get_or_404(Panel, panel_id)
    seat = seat_of(current_user, panel)
    if seat is None:
        raise NotFound()  # not on this panel (or removed): not even whether it exists
    return panel, seat


@bp.get("/panels/<int:panel_id>")
@role_required(Role.panel)
def panel_work(panel_id: int):
    panel, seat = _seat(panel_id)
    chair = seat.role == PanelRole.chair
    return render_template(
        "scoring/panel_work.html", panel=panel, exercise=panel.exercise, seat=seat,
        can_declare=can_declare(current_user, panel), declared_all=has_declared_all(seat),
        assignments=assignments_of(seat) if seat.role.scores else [], names=proposal_names(panel, current_user),
        progress=progress_of(panel) if can_follow_panel(current_user, panel) else None,
        can_remind=can_remind_panel(current_user, panel), confirm=ConfirmForm(),
        declarations=declarations_of_panel(panel) if chair else None,
        flags=likely_conflicts(panel) if chair else None,
        moderated=[s for s in proposals_of(panel) if can_moderate(current_user, panel, s)],
        can_see_results=can_see_results(current_user, panel), can_read_report=can_read_report(current_user, panel))


def _declaration_page(panel, seat, form, status=200):
    return render_template("scoring/declarations.html", panel=panel, exercise=panel.exercise, seat=seat, form=form,
                           vendors=vendors_of(panel), declared=declarations_of(seat)), status


@bp.route("/panels/<int:panel_id>/declarations", methods=["GET", "POST"])
@role_required(Role.panel)
def declare(panel_id: int):
    panel, seat = _seat(panel_id)
    require(can_declare(current_user, panel))
    vendors = vendors_of(panel)
    form = declaration_form(vendors, request.form if request.method == "POST" else None, declarations_of(seat))
    on_refusal(render=lambda error: _declaration_page(panel, seat, _with_problems(form, error), 400))
    if not form.validate_on_submit():
        return _declaration_page(panel, seat, form, 400 if form.is_submitted() else 200)
    declare_conflicts(seat, actor=current_user, declarations={
        v.id: (form[f"v{v.id}"].data == "conflict", form[f"d{v.id}"].data or "") for v in vendors})
    commit(_("Your declarations were recorded."))
    return redirect(url_for("scoring.panel_work", panel_id=panel.id))


def _with_problems(form, error):
    for vendor_id, message in getattr(error, "problems", {}).items():
        form[f"d{vendor_id}"].errors = [*form[f"d{vendor_id}"].errors, str(message)]
    return form


# --- interests (for flags of likely conflicts) --------------------------------------------------------------

def _interest_kinds():
    return VENDOR_LINK_KINDS if current_user.role == Role.vendor else MEMBER_INTEREST_KINDS


def _interests():
    if current_user.role == Role.vendor:
        return interests_of_vendor(current_user.vendor_id)
    return interests_of_user(current_user)


def _interests_page(form, status=200):
    return render_template("scoring/interests.html", form=form, interests=_interests(), confirm=ConfirmForm(),
                           for_vendor=current_user.role == Role.vendor), status


@bp.route("/interests", methods=["GET", "POST"])
@role_required(Role.panel, Role.vendor)
def interests():
    form = InterestForm(kinds=_interest_kinds())
    on_refusal(render=lambda _error: _interests_page(form))
    if not form.validate_on_submit():
        return _interests_page(form, 400 if form.is_submitted() else 200)
    add_interest(actor=current_user, kind=InterestKind(form.kind.data), name=form.name.data,
                 vendor_id=current_user.vendor_id if current_user.role == Role.vendor else None)
    commit(_("Recorded."))
    return redirect(url_for("scoring.interests"))


@bp.post("/interests/<int:interest_id>/delete")
@role_required(Role.panel, Role.vendor)
def interest_delete(interest_id: int):
    interest = db.session.get(Interest, interest_id)
    owner = (interest.vendor_id == current_user.vendor_id) if interest and interest.vendor_id else \
        (interest is not None and interest.user_id == current_user.id)
    if not owner:
        raise NotFound()
    on_refusal(redirect_to=url_for("scoring.interests"))
    if ConfirmForm().validate_on_submit():
        remove_interest(interest, actor=current_user)
        commit(_("Removed."))
    return redirect(url_for("scoring.interests"))


def home_queue(user) -> dict | None:
    """The home page's queue for a panel member, chair or secretary (registered in scoring.init_app)."""
    if getattr(user, "role", None) != Role.panel:
        return None
    rows = []
    for seat in seats_of(user):
        panel = seat.panel
        assignments = assignments_of(seat) if seat.role.scores else []
        rows.append({"panel": panel, "seat": seat, "names": proposal_names(panel, user),
                     "must_declare": can_declare(user, panel) and not has_declared_all(seat),
                     "assignments": assignments if has_declared_all(seat) else [],
                     "hidden": len(assignments) if not has_declared_all(seat) else 0,
                     "moderated": [s for s in proposals_of(panel) if can_moderate(user, panel, s)]})
    return {"queue": rows}
