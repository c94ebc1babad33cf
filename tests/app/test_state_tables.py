"""Every transition of every state table is accepted by the database (SQLite and PostgreSQL).

The tables are found, not listed: every mapped class with a TRANSITIONS table, and every *_TRANSITIONS dict of a
states module. For each (class, from, to) the object is brought to `from` through the real operations, then moved to
`to` by the operation that performs that transition, and flushed: a check constraint that refuses a state the code
allows fails here (as `(state = 'draft') OR (published_at IS NOT NULL)` did for cancelling a draft).

Adding a state table? Add a SEEDS entry (an object in its first state, built through the operations).
Adding a transition? Add a DRIVERS entry naming the operation that performs it, or list it in BY_TRANSITION_ONLY
while no operation performs it yet (it is then moved by app.states.transition() alone).
"""
from __future__ import annotations

import importlib
import pkgutil
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app import create_app
from app.auth.models import Role, User
from app.extensions import db
from app.states import transition
from tests.factories import OPENING_PASSPHRASE, PASSWORD, create_staff, create_vendor_user

AREAS = ("app", "eoi", "scoring", "contracts")


def _state_tables() -> dict[str, tuple[type, dict]]:
    """Class name -> (mapped class, its TRANSITIONS), for every model the app registers."""
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})  # imports every area's models
    return {m.class_.__name__: (m.class_, m.class_.TRANSITIONS) for m in db.Model.registry.mappers
            if isinstance(getattr(m.class_, "TRANSITIONS", None), dict)}


def _transitions_dicts() -> dict[str, dict]:
    """module.NAME -> table, for every *_TRANSITIONS dict in a states module of an area."""
    found = {}
    for area in AREAS:
        package = importlib.import_module(area)
        names = [f"{area}.states"] + [f"{area}.{m.name}.states" for m in pkgutil.iter_modules(package.__path__) if m.ispkg]
        for name in names:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError:
                continue
            found.update({f"{name}.{k}": v for k, v in vars(module).items()
                          if k.endswith("TRANSITIONS") and isinstance(v, dict)})
    return found


TABLES = _state_tables()
EDGES = sorted(((name, src, dst) for name, (_cls, table) in TABLES.items() for src, targets in table.items()
                for dst in targets), key=lambda e: (e[0], e[1].value, e[2].value))


# --------------------------------------------------------------------------------------------------------------------
# How objects are made and moved: through the operations, at a frozen time that the drivers move on.

@dataclass
class World:
    clock: Any
    officer: User
    second_officer: User
    vendor_user: User
    made: dict = field(default_factory=dict)

    def later(self, delta: timedelta) -> None:
        self.clock.tick(delta)


def _exercise(world: World):
    from eoi import operations as ops
    from eoi.models import ServiceCluster
    from eoi.operations import setup
    from eoi.states import ExerciseKind
    from tests.factories import document_upload
    now = datetime.now(timezone.utc)
    cluster = ServiceCluster(code=f"T{len(world.made)}", name_en="Cluster", name_zh="組別")
    db.session.add(cluster)
    exercise = ops.create_exercise(actor=world.officer, kind=ExerciseKind.eoi, reference=f"STATE/{id(world)}",
                                   title_en="Exercise", title_zh="活動", description_en="What it is about.",
                                   description_zh="活動內容。", clusters=[cluster], publication_at=now,
                                   clarification_deadline=now + timedelta(days=5), closes_at=now + timedelta(days=10))
    setup.add_section(exercise, actor=world.officer, title_en="Approach", title_zh="方案", guidance_en="",
                      guidance_zh="", word_limit=None, answer_required=True, attachment_required=False)
    ops.add_exercise_document(exercise, document_upload(), title="Invitation", actor=world.officer)
    return exercise


def _submission(world: World):
    from eoi import operations as ops
    exercise = _published(world)
    submission = ops.get_or_create_submission(exercise, actor=world.vendor_user)
    ops.save_draft(submission, actor=world.vendor_user, answers={s.id: "Our approach." for s in exercise.sections})
    return submission


def _published(world: World):
    exercise = _exercise(world)
    _publish(world, exercise)
    return exercise


def _closed(world: World):
    exercise = _published(world)
    _close(world, exercise)
    return exercise


def _opening(world: World):
    return _ops().start_opening(_closed(world), actor=world.officer, passphrase=OPENING_PASSPHRASE)


def _incident(world: World):
    """A deadline incident recorded after closing: it waits for a second named officer."""
    return _record_incident(world, _closed(world))


def _colleague_invitation(world: World):
    """A vendor user invites a colleague (app.auth): the invitation waits for acceptance."""
    from app.auth.operations import invite_vendor_user
    inviter = world.vendor_user
    return invite_vendor_user(inviter.vendor, name="Colleague", email=f"colleague{inviter.id}@vendor.example",
                              actor=inviter)


def _accept_invitation(world: World, invitation) -> None:
    from app.auth.operations import accept_invitation
    accept_invitation(invitation, PASSWORD)


def _revoke_invitation(world: World, invitation) -> None:
    from app.auth.operations import revoke_invitation
    revoke_invitation(invitation, actor=world.vendor_user, reason="Test.")


def _score_sheet(world: World):
    """A member's complete draft sheet on an opened exercise's proposal (scoring.operations.save_scores)."""
    from scoring.operations import save_scores
    from scoring.queries import assignments_of, seat_of, technical_criteria_of
    from tests.factories import create_opened_exercise, create_panel, declare_all
    exercise, _submissions, _officer = create_opened_exercise(vendors=1)
    panel, _chair, members, _clerk = create_panel(exercise, world.officer, members=1, secretary=False)
    declare_all(panel, members[0])
    assignment = assignments_of(seat_of(members[0], panel))[0]
    save_scores(assignment, actor=members[0], version=0, entries={
        c.id: (c.max_score, "Justified at length.") for c in technical_criteria_of(exercise)})
    world.made["sheet_member"] = members[0]
    return assignment.sheet


def _submit_sheet(world, sheet):
    from scoring.operations import submit_sheet
    submit_sheet(sheet.assignment, actor=world.made["sheet_member"])


def _reopen_sheet(world, sheet):
    from scoring.operations import reopen_sheet
    reopen_sheet(sheet, actor=world.officer, reason="The justification of criterion 1 is thin.")
def _contract(world: World):
    """A draft contract (contracts area) with its fee model, KPIs and risks, for the world's vendor."""
    from tests.factories import create_contract
    return create_contract(world.vendor_user, officer=world.officer)


def _kpi_report(world: World):
    """A KPI report filed by the contractor on an active contract."""
    from datetime import date
    from decimal import Decimal
    from contracts import operations as cops
    from tests.factories import create_contract
    contract = create_contract(world.vendor_user, officer=world.officer, state="active")
    return cops.file_kpi_report(contract, actor=world.vendor_user, period_start=date(contract.starts_on.year, 1, 1),
                                figures={k.id: Decimal("99.9") for k in contract.kpis})


def _scored_panel(world: World):
    """A panel whose chair and member have submitted every sheet: ready for the chair's sign-off."""
    from tests.factories import create_opened_exercise, create_panel, declare_all, score_and_submit
    exercise, submissions, _officer = create_opened_exercise(vendors=1)
    panel, chair, members, _clerk = create_panel(exercise, world.officer, members=1, secretary=False)
    for user in (chair, *members):
        declare_all(panel, user)
        score_and_submit(panel, user, submissions[0])
    world.made["chair"] = chair
    return panel


def _sign_off(panel, *, actor):
    from scoring.operations.results import sign_off_technical
    return sign_off_technical(panel, actor=actor)


def _cops():
    from contracts import operations
    return operations


def _decision(world: World):
    """An award recorded on an opened restricted tender (two proposals, the world's vendor's first) after the
    panel's signed-off evaluation, awaiting approval; the world's approver (not on any panel) approves it."""
    from decimal import Decimal

    from contracts import decisions as dec
    from eoi.states import ExerciseKind
    from scoring.models import Envelope
    from scoring.operations import add_criterion
    from tests.factories import evaluate
    exercise = _exercise(world)
    add_criterion(exercise, actor=world.officer, name_en="Plan", name_zh="計劃", weight=Decimal(100), max_score=10,
                  pass_mark=None, envelope=Envelope.technical)
    _publish(world, exercise)
    submissions = []
    for user in (world.vendor_user, create_vendor_user()):
        submission = _ops().get_or_create_submission(exercise, actor=user)
        _ops().save_draft(submission, actor=user, answers={s.id: "Our approach." for s in exercise.sections})
        _ops().submit_submission(submission, actor=user, draft_version=submission.draft_version)
        submissions.append(submission)
    _close(world, exercise)
    _open(world, exercise)
    exercise.kind = ExerciseKind.tender  # the decision's kind follows the exercise's: an award
    evaluate(exercise, world.officer, submissions)
    world.made["approver"] = create_staff(Role.approver)
    return dec.record_decision(exercise, actor=world.officer, submission_ids=[submissions[0].id],
                               justification="The best proposal.")


def _challenge(world: World):
    """A challenge lodged by the unsuccessful company during the award's standstill."""
    from contracts import decisions as dec
    decision = _decision(world)
    dec.approve_decision(decision, actor=world.made["approver"])
    loser = next(s for s in dec.standing_submissions(decision.exercise) if s.vendor_id != world.vendor_user.vendor_id)
    user = db.session.scalar(sa.select(User).where(User.vendor_id == loser.vendor_id))
    return dec.lodge_challenge(decision, actor=user, text="Our proposal was better.")


def _decs():
    from contracts import decisions
    return decisions


def _finalise(world, decision):
    world.later(timedelta(days=decision.standstill_days, minutes=1))
    _decs().finalise_award(decision, actor=world.officer)


def _issue_and_sign(world, contract):
    _cops().issue_contract(contract, actor=world.officer)
    _cops().sign_contract(contract, actor=world.officer)


#: class name -> a new object in its first state, built through the operations.
SEEDS: dict[str, Callable[[World], Any]] = {
    "ColleagueInvitation": _colleague_invitation,
    "Exercise": _exercise,
    "Submission": _submission,
    "Opening": _opening,
    "DeadlineIncident": _incident,
    "ScoreSheet": _score_sheet,
    "Panel": _scored_panel,
    "Contract": _contract,
    "KpiReport": _kpi_report,
    "Decision": _decision,
    "Challenge": _challenge,
}


def _ops():
    from eoi import operations
    return operations


def _publish(world, exercise):
    from tests.factories import opening_officers
    _ops().publish_exercise(exercise, actor=world.officer,
                            opening_officers=opening_officers(world.officer, world.second_officer))


def _close(world, exercise):
    world.later(exercise.closes_at - datetime.now(timezone.utc) + timedelta(minutes=1))
    assert _ops().close_exercise(exercise, actor=world.officer)


def _open(world, exercise):
    _ops().start_opening(exercise, actor=world.officer, passphrase=OPENING_PASSPHRASE)
    _ops().confirm_opening(exercise, actor=world.second_officer, passphrase=OPENING_PASSPHRASE)


def _record_incident(world, exercise):
    return _ops().record_deadline_incident(
        exercise, actor=world.officer, new_closes_at=datetime.now(timezone.utc) + timedelta(days=1),
        reason_en="Outage", reason_zh="故障", evidence="Monitoring log")


def _reopen_by_incident(world, exercise):
    _ops().confirm_deadline_incident(_record_incident(world, exercise), actor=world.second_officer)


def _cancel(world, exercise):
    _ops().cancel_exercise(exercise, actor=world.officer, reason="The service is no longer needed.")


def _submit(world, submission):
    _ops().submit_submission(submission, actor=world.vendor_user, draft_version=submission.draft_version)


def _withdraw(world, submission):
    _ops().withdraw_submission(submission, actor=world.vendor_user)


def _save(world, submission):
    _ops().save_draft(submission, actor=world.vendor_user, answers={s.id: "Changed." for s in submission.exercise.sections})


#: (class name, from, to) -> the operation that performs the transition. `None` as `from` means any state.
DRIVERS: dict[tuple[str, str | None, str], Callable[[World, Any], None]] = {
    ("Exercise", "draft", "published"): _publish,
    ("Exercise", "published", "closed"): _close,
    ("Exercise", "closed", "opened"): _open,
    ("Exercise", "closed", "published"): _reopen_by_incident,
    ("Exercise", None, "cancelled"): _cancel,
    ("Submission", "draft", "submitted"): _submit,
    ("Submission", "withdrawn", "submitted"): _submit,
    ("Submission", "submitted", "withdrawn"): _withdraw,
    ("Submission", "withdrawn", "draft"): _save,
    ("Opening", "started", "completed"): lambda w, o: _ops().confirm_opening(o.exercise, actor=w.second_officer,
                                                                             passphrase=OPENING_PASSPHRASE),
    ("Opening", "started", "cancelled"): lambda w, o: _ops().cancel_started_opening(o.exercise, actor=w.officer,
                                                                                    reason="Test."),
    ("DeadlineIncident", "pending", "effective"): lambda w, i: _ops().confirm_deadline_incident(i, actor=w.second_officer),
    ("DeadlineIncident", "pending", "declined"): lambda w, i: _ops().decline_deadline_incident(i, actor=w.officer),
    ("ColleagueInvitation", "pending", "accepted"): lambda w, i: _accept_invitation(w, i),
    ("ColleagueInvitation", "pending", "revoked"): lambda w, i: _revoke_invitation(w, i),
    ("ScoreSheet", "draft", "submitted"): _submit_sheet,
    ("ScoreSheet", "reopened", "submitted"): _submit_sheet,
    ("ScoreSheet", "submitted", "reopened"): _reopen_sheet,
    ("Panel", "scoring", "signed_off"): lambda w, p: _sign_off(p, actor=w.made["chair"]),
    ("Contract", "draft", "signed"): _issue_and_sign,
    ("Contract", "signed", "active"): lambda w, c: _cops().activate_contract(c, actor=w.officer),
    ("Contract", "active", "completed"): lambda w, c: _cops().complete_contract(c, actor=w.officer),
    ("Contract", None, "terminated"): lambda w, c: _cops().terminate_contract(c, actor=w.officer, reason="Test."),
    ("KpiReport", "submitted", "accepted"): lambda w, r: _cops().accept_kpi_report(r, actor=w.officer),
    ("KpiReport", "submitted", "queried"): lambda w, r: _cops().query_kpi_report(r, actor=w.officer, note="Check."),
    ("KpiReport", "queried", "submitted"): lambda w, r: _cops().refile_kpi_report(
        r, actor=w.vendor_user, figures={res.kpi_id: res.value for res in r.results}),
    ("Decision", "submitted", "approved"): lambda w, d: _decs().approve_decision(d, actor=w.made["approver"]),
    ("Decision", "submitted", "returned"): lambda w, d: _decs().return_decision(d, actor=w.made["approver"],
                                                                                reason="Explain more."),
    ("Decision", "returned", "submitted"): lambda w, d: _decs().resubmit_decision(
        d, actor=w.officer, submission_ids=[e.submission_id for e in d.entries], justification="Explained."),
    ("Decision", "approved", "final"): _finalise,
    ("Decision", None, "declined"): lambda w, d: _decs().decline_award(d, actor=w.officer, reason="Withdrew."),
    ("Challenge", "open", "answered"): lambda w, c: _decs().answer_challenge(c, actor=w.officer, answer="Scores."),
}

#: transitions no operation performs yet (the areas that will are still to come): moved by transition() alone.
BY_TRANSITION_ONLY: set[tuple[str, str, str]] = {
    ("Exercise", "opened", "evaluating"),
    ("Exercise", "evaluating", "decided"),
    ("Exercise", "decided", "concluded"),
}


def _driver(name: str, src, dst) -> Callable[[World, Any], None] | None:
    for key in ((name, src.value, dst.value), (name, None, dst.value)):
        if key in DRIVERS:
            return DRIVERS[key]
    if (name, src.value, dst.value) in BY_TRANSITION_ONLY:
        return lambda world, obj: transition(obj, dst, actor=world.officer, action="test.transition")
    return None


def _path_to(name: str, start, goal) -> list:
    """The shortest list of transitions from start to goal, in the class's own table."""
    table = TABLES[name][1]
    previous, queue = {start: None}, deque([start])
    while queue:
        state = queue.popleft()
        for nxt in sorted(table.get(state, ()), key=lambda s: s.value):
            if nxt not in previous:
                previous[nxt] = state
                queue.append(nxt)
    assert goal in previous, f"{name}: state {goal.value} cannot be reached from {start.value}"
    path, state = [], goal
    while previous[state] is not None:
        path.append((previous[state], state))
        state = previous[state]
    return path[::-1]


def _move(world: World, name: str, obj, src, dst) -> None:
    driver = _driver(name, src, dst)
    assert driver is not None, (
        f"no driver for {name} {src.value} -> {dst.value}: add the operation that performs it to DRIVERS in "
        f"tests/app/test_state_tables.py (or list it in BY_TRANSITION_ONLY while no operation performs it)")
    driver(world, obj)
    db.session.flush()  # the database checks its constraints here
    assert obj.state == dst, f"the driver for {name} {src.value} -> {dst.value} left it {obj.state.value}"


@pytest.fixture
def world(app):
    with freeze_time(datetime.now(timezone.utc)) as clock:
        yield World(clock, create_staff(Role.officer), create_staff(Role.officer), create_vendor_user())


def _edge_id(edge) -> str:
    return f"{edge[0]}:{edge[1].value}->{edge[2].value}"


# --------------------------------------------------------------------------------------------------------------------

def test_there_are_state_tables_to_check():
    assert {"Exercise", "Submission", "Opening", "DeadlineIncident"} <= set(TABLES) and len(EDGES) >= 20, sorted(TABLES)


def test_every_transitions_dict_belongs_to_a_model(app):
    """A *_TRANSITIONS table no model uses would escape the check below."""
    used = {id(table) for _cls, table in TABLES.values()}
    orphans = sorted(name for name, table in _transitions_dicts().items() if id(table) not in used)
    assert not orphans, f"transition tables that no mapped class uses as TRANSITIONS: {orphans}"


def test_every_state_table_has_a_seed():
    missing = sorted(set(TABLES) - set(SEEDS))
    assert not missing, f"state tables with no SEEDS entry in tests/app/test_state_tables.py: {missing}"


@pytest.mark.parametrize("edge", EDGES, ids=_edge_id)
def test_the_database_accepts_every_transition(world, edge):
    name, src, dst = edge
    obj = SEEDS[name](world)
    db.session.flush()
    for a, b in _path_to(name, obj.state, src):
        _move(world, name, obj, a, b)
    _move(world, name, obj, src, dst)
    db.session.expire_all()
    stored = db.session.scalar(sa.select(TABLES[name][0].state).where(TABLES[name][0].id == obj.id))
    assert stored == dst


def test_a_transition_the_database_refuses_fails_the_check(world):
    """Positive control: a state the database refuses makes _move fail, with the constraint's error."""
    from eoi.states import ExerciseState
    exercise = SEEDS["Exercise"](world)
    db.session.flush()
    _move(world, "Exercise", exercise, ExerciseState.draft, ExerciseState.published)  # fine
    exercise.published_at = None  # as if the operation forgot the time
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_transition_with_no_driver_is_reported(world, monkeypatch):
    from eoi.states import ExerciseState
    monkeypatch.delitem(DRIVERS, ("Exercise", "draft", "published"))
    exercise = SEEDS["Exercise"](world)
    with pytest.raises(AssertionError, match="no driver for Exercise draft -> published"):
        _move(world, "Exercise", exercise, ExerciseState.draft, ExerciseState.published)
