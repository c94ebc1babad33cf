"""The opening of the tender box (invariant 3) and the deadline rules around it, operations first, then views.

Named opening officers (issue 6 item 8), the opening as explicit states (item 4), the late-addendum floors and
the proposals not re-confirmed after an addendum (item 12), the throttled opening password and the two-officer
re-opening of a closed box (item 13). Each attack is reproduced and refused, next to a positive control.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from freezegun import freeze_time

from app.audit import AuditEvent
from app.auth.models import Role, User
from app.auth.operations import create_staff_user, set_user_enabled
from app.boundary import rollback_refused
from app.extensions import db
from eoi import operations as ops
from eoi import queries
from eoi.documents import build_opening_record
from eoi.models import DeadlineIncident, Exercise, Opening
from eoi.operations import ExerciseError, SubmissionError
from eoi.states import ExerciseState, IncidentState, OpeningState
from tests.factories import (OPENING_PASSPHRASE, PASSWORD, create_draft, create_published, create_staff, create_submission,
                             create_vendor_user, opening_officers)

ATTACKER_PASSWORD = "chosen by the admin 2026"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def named(app):
    """Three officers named at publication of a closed exercise with one standing submission."""
    officers = [create_staff(Role.officer, name=f"Named Officer {n}") for n in range(3)]
    exercise = create_published(officers[0])
    create_submission(exercise, create_vendor_user())
    return exercise, officers


def _after_closing(exercise: Exercise, minutes: int = 1):
    return freeze_time(exercise.closes_at + timedelta(minutes=minutes))


# --- named at publication ---------------------------------------------------------------------------------------

def test_publication_names_the_chosen_officers_and_audits_it(app):
    officers = [create_staff(Role.officer) for _ in range(3)]
    exercise = create_draft(officers[0])
    ops.publish_exercise(exercise, actor=officers[0], opening_officers=officers)
    db.session.commit()
    assert [u.id for u in queries.opening_officers_of(exercise)] == [u.id for u in sorted(officers, key=lambda u: (u.name, u.id))]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exercise.opening_officers_named"))
    assert sorted(o["id"] for o in event.details_dict["officers"]) == sorted(u.id for u in officers)


@pytest.mark.parametrize("case", ["too few", "duplicates", "an administrator", "a disabled officer"])
def test_publication_refuses_a_bad_choice_of_opening_officers(app, case):
    officer, other, third = (create_staff(Role.officer) for _ in range(3))
    exercise = create_draft(officer)
    if case == "too few":
        chosen, message = [officer, other], "Name at least 3 officers"
    elif case == "duplicates":
        chosen, message = [officer, other, other], "Name at least 3 officers"
    elif case == "an administrator":
        chosen, message = [officer, other, create_staff(Role.admin, name="Ada Admin")], "Ada Admin is not an active"
    else:
        set_user_enabled(third, False, actor="test")
        chosen, message = [officer, other, third], f"{third.name} is not an active"
    with pytest.raises(ExerciseError, match=message):
        ops.publish_exercise(exercise, actor=officer, opening_officers=chosen)
    db.session.rollback()
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.draft
    assert queries.opening_officers_of(exercise) == []


def test_the_minimum_comes_from_configuration(app):
    app.config["OPENING_OFFICERS_MIN"] = 4
    officers = [create_staff(Role.officer) for _ in range(3)]
    exercise = create_draft(officers[0])
    with pytest.raises(ExerciseError, match="Name at least 4 officers"):
        ops.publish_exercise(exercise, actor=officers[0], opening_officers=officers)
    db.session.rollback()
    ops.publish_exercise(exercise, actor=officers[0], opening_officers=[*officers, create_staff(Role.officer)])


def test_an_administrator_cannot_open_the_box_with_two_officer_accounts_it_creates(named):
    """The attack of finding 8: an admin creates two officer accounts with passwords it chooses and opens the box."""
    exercise, officers = named
    admin = create_staff(Role.admin)
    puppets = [create_staff_user(name=f"Puppet {n}", email=f"puppet{n}@gov.example", password=ATTACKER_PASSWORD,
                                 role=Role.officer, actor=admin) for n in range(2)]
    db.session.commit()
    with _after_closing(exercise):
        with pytest.raises(ExerciseError, match="Only the officers named when this exercise was published"):
            ops.start_opening(exercise, actor=puppets[0], passphrase=OPENING_PASSPHRASE)
        db.session.rollback()
        ops.start_opening(exercise, actor=officers[0], passphrase=OPENING_PASSPHRASE)  # a named officer starts ...
        with pytest.raises(ExerciseError, match="Only the officers named"):  # ... a puppet cannot confirm
            ops.confirm_opening(exercise, actor=puppets[1], passphrase=ATTACKER_PASSWORD)
        db.session.rollback()
        assert db.session.get(Exercise, exercise.id).opened_at is None
        # Positive control: two named officers open it.
        ops.start_opening(exercise, actor=officers[0], passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=officers[1], passphrase=OPENING_PASSPHRASE)
    assert exercise.state == ExerciseState.opened


def test_the_database_refuses_an_opening_by_an_officer_not_named(named):
    """Even a write that bypasses the operations: the opening's officers must be rows of opening_officers."""
    exercise, officers = named
    outsider = create_staff(Role.officer)
    insert = sa.text("INSERT INTO openings (exercise_id, envelope, state, started_by_id, started_at) "
                     "VALUES (:e, 'technical', 'started', :u, CURRENT_TIMESTAMP)")
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(insert, {"e": exercise.id, "u": outsider.id})
    db.session.rollback()
    db.session.execute(insert, {"e": exercise.id, "u": officers[2].id})  # positive control
    db.session.flush()


@pytest.mark.parametrize("sql, values", [
    ("UPDATE openings SET state = 'completed', completed_at = CURRENT_TIMESTAMP", {}),  # no second officer
    ("UPDATE openings SET state = 'completed', completed_at = CURRENT_TIMESTAMP, confirmed_by_id = started_by_id", {}),
    ("UPDATE openings SET state = 'cancelled'", {}),  # no time
    ("UPDATE openings SET state = 'opened'", {}),  # unknown state
    ("INSERT INTO openings (exercise_id, envelope, state, started_by_id, started_at) "
     "SELECT exercise_id, envelope, 'started', :other, started_at FROM openings", {}),  # a second live opening
    ("UPDATE exercises SET state = 'opened'", {}),  # opened without a time
    ("UPDATE exercises SET opened_at = CURRENT_TIMESTAMP", {}),  # a time while closed
])
def test_check_constraints_tie_the_opening_state_to_its_columns(named, sql, values):
    exercise, officers = named
    with _after_closing(exercise):
        ops.start_opening(exercise, actor=officers[0], passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.text(sql), {"other": officers[1].id, **values})
        db.session.flush()
    db.session.rollback()
    # Positive control: the consistent completion is accepted.
    db.session.execute(sa.text("UPDATE openings SET state = 'completed', completed_at = CURRENT_TIMESTAMP, "
                               "confirmed_by_id = :second"), {"second": officers[1].id})
    db.session.execute(sa.text("UPDATE exercises SET state = 'opened', opened_at = CURRENT_TIMESTAMP"))
    db.session.flush()


def test_a_disabled_starter_is_replaced_and_a_disabled_officer_cannot_confirm(named):
    exercise, (first, second, third) = named
    with _after_closing(exercise):
        stale = ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        set_user_enabled(first, False, actor="test")
        with pytest.raises(ExerciseError, match="who started the opening can no longer take part"):
            ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        fresh = ops.start_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)  # the stale start is cancelled, not a deadlock
        assert stale.state == OpeningState.cancelled and fresh.started_by_id == second.id
        set_user_enabled(third, False, actor="test")
        with pytest.raises(ExerciseError, match="Only the officers named"):
            ops.confirm_opening(exercise, actor=third, passphrase=OPENING_PASSPHRASE)
        set_user_enabled(third, True, actor="test")
        ops.confirm_opening(exercise, actor=third, passphrase=OPENING_PASSPHRASE)
    assert [o.state for o in db.session.scalars(sa.select(Opening).order_by(Opening.id))] == [
        OpeningState.cancelled, OpeningState.completed]


def test_the_same_officer_starting_twice_changes_nothing(named):
    exercise, (first, second, _third) = named
    with _after_closing(exercise):
        opening = ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        assert ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE) is opening
        with pytest.raises(ExerciseError, match="already started by Named Officer 0"):
            ops.start_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)


def test_cancelling_the_exercise_cancels_a_started_opening(named):
    exercise, (first, _second, _third) = named
    with _after_closing(exercise):
        opening = ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        ops.cancel_exercise(exercise, actor=first, reason="Policy changed.")
    assert opening.state == OpeningState.cancelled and opening.cancel_reason == "The exercise was cancelled."


# --- the opening password ---------------------------------------------------------------------------------------

def test_the_opening_password_is_throttled_per_officer_and_every_try_is_audited(named):
    exercise, (first, second, third) = named
    with _after_closing(exercise) as frozen:
        ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
        for _try in range(5):
            with pytest.raises(ExerciseError, match="Your opening passphrase was not correct") as refusal:
                ops.confirm_opening(exercise, actor=second, passphrase="a wrong guess 123")
            rollback_refused(refusal.value)  # as the request boundary does: roll back, then record the refusal
        with pytest.raises(ExerciseError, match="Too many wrong passwords") as refusal:
            ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)  # even the right one, for now
        rollback_refused(refusal.value)
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.actor_id == second.id,
                                                                       AuditEvent.action.like("exercise.opening_%"))).all()
        assert actions.count("exercise.opening_reauth_failed") == 5
        assert actions.count("exercise.opening_reauth_throttled") == 1
        assert exercise.state == ExerciseState.closed
        frozen.tick(timedelta(minutes=15, seconds=1))
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)  # the window has passed
    assert exercise.state == ExerciseState.opened


def test_another_officer_is_not_throttled_by_someone_elses_failures(named):
    exercise, (first, second, third) = named
    with _after_closing(exercise):
        ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        for _try in range(5):
            with pytest.raises(ExerciseError):
                ops.confirm_opening(exercise, actor=second, passphrase="a wrong guess 123")
        ops.confirm_opening(exercise, actor=third, passphrase=OPENING_PASSPHRASE)
    assert exercise.state == ExerciseState.opened


def test_failed_opening_passwords_are_kept_and_throttled_through_the_page(named, login):
    exercise, (first, second, _third) = named
    with _after_closing(exercise):
        login(first).post(f"/manage/exercises/{exercise.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE})
        client = login(second)
        for _try in range(5):
            page = text(client.post(f"/manage/exercises/{exercise.id}/opening/confirm",
                                    data={"passphrase": "a wrong guess 123"}, follow_redirects=True))
            assert "Your opening passphrase was not correct" in page
        page = text(client.post(f"/manage/exercises/{exercise.id}/opening/confirm", data={"passphrase": OPENING_PASSPHRASE},
                                follow_redirects=True))
    assert "Too many wrong passwords" in page
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action == "exercise.opening_reauth_failed", AuditEvent.actor_id == second.id)) == 5
    assert db.session.get(Exercise, exercise.id).state == ExerciseState.closed


# --- deadline incidents that re-open a closed box ---------------------------------------------------------------

def _incident(exercise, officer, hours: int = 4) -> DeadlineIncident:
    return ops.record_deadline_incident(exercise, actor=officer, new_closes_at=exercise.closes_at + timedelta(hours=hours),
                                        reason_en="Portal outage", reason_zh="網站故障", evidence="Monitoring log")


def test_one_officer_alone_cannot_reopen_a_closed_box(named):
    exercise, (first, second, _third) = named
    vendor = create_vendor_user()
    with _after_closing(exercise, minutes=5):
        incident = _incident(exercise, first)
        db.session.commit()
        assert incident.state == IncidentState.pending and exercise.state == ExerciseState.closed
        with pytest.raises(SubmissionError, match="Proposals can no longer be started"):  # shut for a latecomer
            ops.get_or_create_submission(exercise, actor=vendor)
        db.session.rollback()
        with pytest.raises(ExerciseError, match="A second, different officer"):
            ops.confirm_deadline_incident(incident, actor=first)
        db.session.rollback()
        with pytest.raises(ExerciseError, match="awaits a second officer"):
            ops.start_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)  # nor can the box be opened under a pending re-opening
        db.session.rollback()
        ops.confirm_deadline_incident(incident, actor=second)  # positive control
        db.session.commit()
        assert exercise.state == ExerciseState.published
        assert ops.get_or_create_submission(exercise, actor=vendor).id


def test_an_officer_not_named_cannot_record_or_confirm_a_reopening(named):
    exercise, (first, _second, _third) = named
    outsider = create_staff(Role.officer)
    with _after_closing(exercise, minutes=5):
        with pytest.raises(ExerciseError, match="Only the officers named"):
            _incident(exercise, outsider)
        db.session.rollback()
        incident = _incident(exercise, first)
        with pytest.raises(ExerciseError, match="Only the officers named"):
            ops.confirm_deadline_incident(incident, actor=outsider)
        with pytest.raises(ExerciseError, match="Only the officers named"):
            ops.decline_deadline_incident(incident, actor=outsider)
    assert incident.state == IncidentState.pending


def test_a_pending_incident_can_be_declined_or_withdrawn_and_the_box_stays_closed(named):
    exercise, (first, second, _third) = named
    with _after_closing(exercise, minutes=5):
        declined = _incident(exercise, first)
        ops.decline_deadline_incident(declined, actor=second)
        withdrawn = _incident(exercise, second)
        ops.decline_deadline_incident(withdrawn, actor=second)
        db.session.commit()
    assert (declined.state, withdrawn.state, exercise.state) == (
        IncidentState.declined, IncidentState.declined, ExerciseState.closed)
    assert queries.incidents_of(exercise, effective_only=True) == []


def test_a_confirmation_after_the_proposed_closing_time_is_refused(named):
    exercise, (first, second, _third) = named
    with _after_closing(exercise, minutes=5) as frozen:
        incident = _incident(exercise, first, hours=1)
        frozen.tick(timedelta(hours=2))
        with pytest.raises(ExerciseError, match="no longer fits"):
            ops.confirm_deadline_incident(incident, actor=second)


def test_the_database_refuses_an_unconfirmed_reopening_in_effect(named):
    exercise, (first, second, _third) = named
    with _after_closing(exercise, minutes=5):
        incident = _incident(exercise, first)
        db.session.commit()
    update = sa.text("UPDATE deadline_incidents SET state = 'effective', effective_at = CURRENT_TIMESTAMP, "
                     "confirmed_by_id = :confirmer WHERE id = :id")
    for confirmer in (None, first.id):  # nobody, or the recorder itself
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(update, {"confirmer": confirmer, "id": incident.id})
            db.session.flush()
        db.session.rollback()
    db.session.execute(update, {"confirmer": second.id, "id": incident.id})  # positive control
    db.session.flush()


def test_an_incident_before_closing_still_takes_effect_at_once(app):
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    later_officer = create_staff(Role.officer)  # before closing, any officer may extend (nothing is sealed yet)
    incident = _incident(exercise, later_officer, hours=24)
    assert incident.state == IncidentState.effective and not incident.requires_confirmation
    assert exercise.closes_at == incident.new_closes_at


# --- late addenda: floors, and proposals not re-confirmed -------------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("late_addendum_hours", 0, "late-addendum window must be at least 72 hours"),
    ("min_extension_hours", 0, "minimum extension after a late addendum must be at least 48 hours"),
    ("min_extension_hours", 47, "at least 48 hours"),
])
def test_officers_cannot_set_the_late_addendum_rule_below_the_floors(app, field, value, message):
    officer = create_staff(Role.officer)
    with pytest.raises(ExerciseError, match=message):
        create_draft(officer, **{field: value})
    db.session.rollback()
    draft = create_draft(officer, late_addendum_hours=72, min_extension_hours=48)  # positive control: at the floor
    with pytest.raises(ExerciseError, match=message):
        ops.update_exercise(draft, actor=officer, **{field: value})


def test_a_last_minute_addendum_moves_closing_even_for_a_rule_stored_below_the_floor(app):
    """The attack of finding 12: window and extension 0, an addendum a minute before closing, closing unchanged."""
    officer = create_staff(Role.officer)
    exercise = create_published(officer)
    db.session.execute(sa.text("UPDATE exercises SET late_addendum_hours = 0, min_extension_hours = 0 WHERE id = :id"),
                       {"id": exercise.id})
    db.session.commit()
    db.session.refresh(exercise)
    issued = exercise.closes_at - timedelta(minutes=1)
    with freeze_time(issued):
        ops.issue_addendum(exercise, actor=officer, text_en="Changed.", text_zh="已更改。", changes_requirements=True)
    assert exercise.closes_at == issued + timedelta(hours=48)
    app.config["ADDENDUM_MIN_EXTENSION_MIN_HOURS"] = 96  # the floor is read when the addendum is issued
    assert exercise.addendum_extension_hours == 96


def test_a_proposal_not_reconfirmed_is_listed_on_the_opening_record_never_dropped(named):
    exercise, (first, second, _third) = named
    stale_vendor, fresh_vendor = create_vendor_user(name_en="Stale Bidder Limited"), create_vendor_user()
    stale = create_submission(exercise, stale_vendor)
    fresh = create_submission(exercise, fresh_vendor)
    with freeze_time(exercise.closes_at - timedelta(days=5)):
        ops.issue_addendum(exercise, actor=first, text_en="New staffing plan.", text_zh="新人手計劃。",
                           changes_requirements=True)
        for addendum in ops.unacknowledged_addenda(exercise, fresh_vendor.vendor_id):
            ops.acknowledge_addendum(addendum, actor=fresh_vendor)
        ops.reconfirm_submission(fresh, actor=fresh_vendor)
        db.session.commit()
    with _after_closing(exercise):
        ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    standing = queries.standing_submissions(exercise)
    assert stale not in standing and fresh in standing
    unconfirmed = {s.id: a.number for s, a in queries.unconfirmed_submissions(exercise)}
    assert unconfirmed[stale.id] == 1 and fresh.id not in unconfirmed
    spec = build_opening_record(type("Doc", (), {"subject_id": exercise.id})())
    assert stale.id in {s.id for s, _a in spec.context["unconfirmed"]}
    assert stale.id not in {s.id for s in spec.context["submissions"]}
    assert fresh.id in {s.id for s in spec.context["submissions"]}


# --- views --------------------------------------------------------------------------------------------------

def test_two_officer_accounts_created_by_an_administrator_cannot_open_the_box_through_the_pages(named, login):
    exercise, officers = named
    admin = create_staff(Role.admin)
    admin_client = login(admin)
    for n in range(2):
        response = admin_client.post("/admin/users/new", data={
            "name": f"Puppet {n}", "email": f"puppet{n}@gov.example", "role": "officer",
            "password": ATTACKER_PASSWORD, "confirm": ATTACKER_PASSWORD})
        assert response.status_code == 302, text(response)[:400]
    with _after_closing(exercise):
        first, second = (login(db.session.scalar(sa.select(User).where(User.email == f"puppet{n}@gov.example")),
                               ATTACKER_PASSWORD) for n in range(2))
        page = text(first.get(f"/manage/exercises/{exercise.id}/opening"))
        assert "You are not one of the officers named" in page and "Start the opening" not in page
        refused = text(first.post(f"/manage/exercises/{exercise.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE}, follow_redirects=True))
        assert "Only the officers named when this exercise was published can open its box" in refused
        login(officers[0]).post(f"/manage/exercises/{exercise.id}/opening/start", data={"passphrase": OPENING_PASSPHRASE})
        refused = text(second.post(f"/manage/exercises/{exercise.id}/opening/confirm",
                                   data={"passphrase": ATTACKER_PASSWORD}, follow_redirects=True))
        assert "Only the officers named" in refused
        db.session.rollback()
        assert db.session.get(Exercise, exercise.id).state == ExerciseState.closed
        # Positive control: a named second officer opens it through the same page.
        page = text(login(officers[1]).post(f"/manage/exercises/{exercise.id}/opening/confirm",
                                            data={"passphrase": OPENING_PASSPHRASE}, follow_redirects=True))
    assert "The tender box is opened." in page


def test_the_officer_page_warns_early_when_fewer_than_two_named_officers_can_open(named, login):
    exercise, (first, second, third) = named
    client = login(first)
    warning = "Fewer than two of the officers named at publication can still take part"
    assert warning not in text(client.get(f"/manage/exercises/{exercise.id}"))
    set_user_enabled(second, False, actor="test")
    db.session.commit()
    page = text(client.get(f"/manage/exercises/{exercise.id}"))
    assert warning not in page and "Cannot take part" in page  # two can still open: no alarm yet
    set_user_enabled(third, False, actor="test")
    db.session.commit()
    assert warning in text(client.get(f"/manage/exercises/{exercise.id}"))
    assert warning in text(client.get(f"/manage/exercises/{exercise.id}/opening"))


def test_the_exercise_form_refuses_a_rule_below_the_floor_at_the_field(login):
    officer = create_staff(Role.officer)
    draft = create_draft(officer)
    response = login(officer).post(f"/manage/exercises/{draft.id}/edit", data={
        "kind": "eoi", "reference": draft.reference, "title_en": "T", "title_zh": "T", "parent_id": "0",
        "late_addendum_hours": "0", "min_extension_hours": "1"})
    page = text(response)
    assert response.status_code == 200
    assert "At least 72 hours: a shorter window" in page and "At least 48 hours, so that vendors" in page
    db.session.rollback()
    assert db.session.get(Exercise, draft.id).late_addendum_hours == 72


def test_vendors_see_the_late_addendum_rule_on_the_exercise_page(client):
    officer = create_staff(Role.officer)
    exercise = create_published(officer, late_addendum_hours=96, min_extension_hours=60)
    page = text(client.get(f"/exercises/{exercise.id}"))
    assert "An addendum issued within 96 hours of the closing time moves closing to at least 60 hours" in page
    assert "not re-confirmed is listed on the opening record" in page


def test_the_opening_page_lists_a_proposal_not_reconfirmed(named, login):
    exercise, (first, _second, _third) = named
    stale = create_submission(exercise, create_vendor_user(name_en="Stale Bidder Limited"))
    ops.issue_addendum(exercise, actor=first, text_en="New plan.", text_zh="新計劃。", changes_requirements=True)
    db.session.commit()
    with _after_closing(exercise):
        page = text(login(first).get(f"/manage/exercises/{exercise.id}/opening"))
    assert "Submitted before an addendum and not re-confirmed" in page
    assert "Stale Bidder Limited" in page and stale.current_version.receipt_number in page
    assert "Addendum no. 1" in page


def test_the_opening_record_pdf_lists_a_proposal_not_reconfirmed_as_such(named, login, tmp_path):
    import shutil
    import subprocess

    from app.documents.models import Document, DocumentStatus
    from tests.factories import wait_for
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext not installed (poppler-utils)")
    exercise, (first, second, _third) = named
    stale = create_submission(exercise, create_vendor_user(name_en="Stale Bidder Limited"))
    ops.issue_addendum(exercise, actor=first, text_en="New plan.", text_zh="新計劃。", changes_requirements=True)
    db.session.commit()
    with _after_closing(exercise):
        ops.start_opening(exercise, actor=first, passphrase=OPENING_PASSPHRASE)
        ops.confirm_opening(exercise, actor=second, passphrase=OPENING_PASSPHRASE)
        db.session.commit()
    record = wait_for(lambda: db.session.scalar(sa.select(Document).where(
        Document.kind == "opening_record", Document.status == DocumentStatus.ready)))
    client = login(first)
    pdf = tmp_path / "record.pdf"
    pdf.write_bytes(client.get(f"/documents/{record.id}").data)
    # Opened, the officer's list does not link a proposal it may not read (positive control: the two-officer
    # opening test in test_officer_views follows the link of a standing one).
    assert f"/manage/submissions/{stale.id}" not in text(client.get(f"/manage/exercises/{exercise.id}"))
    content = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(content.split())
    unconfirmed = flat.index("Submitted before an addendum and not re-confirmed")
    assert flat.index("Stale Bidder Limited") > unconfirmed > flat.index("Submissions received")
    assert stale.current_version.receipt_number in flat[unconfirmed:]
    assert "Not re-confirmed after addendum no. 1" in flat
    assert "Named Officer 2" in flat  # the officers named at publication are on the record
