"""Score sheets (issue 10 item 4): scores on the scale with a justification, running weighted total, autosave and
the plain form, versions against silent overwrites, submitting a complete sheet; bad input refused at the field in
the user's language with nothing typed lost; every score change audited with before and after."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.extensions import db
from scoring.operations import SheetError, StaleSheet, save_scores, submit_sheet
from scoring.queries import assignment_for, seat_of, technical_criteria_of
from scoring.states import ScoreSheetState
from scoring.views.sheets import weighted_total
from tests.factories import create_opened_exercise, create_panel, declare_all


@pytest.fixture
def sheet_world(app):
    exercise, submissions, officer = create_opened_exercise(vendors=1, criteria=((60, 10), (40, 5)))
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, members[0])
    assignment = assignment_for(seat_of(members[0], panel), submissions[0])
    c1, c2 = technical_criteria_of(exercise)
    return panel, members[0], assignment, c1, c2


def _form(c1, c2, *, s1="", j1="", s2="", j2="", version=0, **extra):
    return {f"s{c1.id}": s1, f"j{c1.id}": j1, f"s{c2.id}": s2, f"j{c2.id}": j2, "version": version, **extra}


def test_save_then_submit_and_every_change_audited_with_before_and_after(sheet_world):
    panel, member, assignment, c1, c2 = sheet_world
    sheet = save_scores(assignment, actor=member, version=0, entries={c1.id: (7, "Clear staffing plan.")})
    assert sheet.version == 1 and sheet.state == ScoreSheetState.draft
    save_scores(assignment, actor=member, version=1, entries={c1.id: (8, "Clear staffing plan."),
                                                               c2.id: (4, "Sound risk register.")})
    submit_sheet(assignment, actor=member)
    db.session.commit()
    assert sheet.state == ScoreSheetState.submitted and sheet.submitted_at is not None
    changes = [json.loads(e.details)["changes"] for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "score.changed").order_by(AuditEvent.id))]
    assert changes == [[{"criterion_id": c1.id, "before": None, "after": 7}],
                       [{"criterion_id": c1.id, "before": 7, "after": 8},
                        {"criterion_id": c2.id, "before": None, "after": 4}]]


def test_weighted_running_total():
    class C:
        def __init__(self, id, weight, max_score):
            self.id, self.weight, self.max_score = id, weight, max_score
    from decimal import Decimal
    criteria = [C(1, Decimal(60), 10), C(2, Decimal(40), 5)]
    assert weighted_total(criteria, {1: 8, 2: 4}) == Decimal("80.00")  # 0.8*60 + 0.8*40
    assert weighted_total(criteria, {1: 5, 2: None}) == Decimal("30.00")


def test_a_score_outside_the_scale_is_refused_at_its_field(sheet_world):
    panel, member, assignment, c1, c2 = sheet_world
    with pytest.raises(SheetError) as refused:
        save_scores(assignment, actor=member, version=0, entries={c2.id: (6, "Too generous.")})
    assert set(refused.value.problems) == {c2.id}


def test_an_incomplete_sheet_is_refused_with_the_reason_per_criterion(sheet_world):
    panel, member, assignment, c1, c2 = sheet_world
    save_scores(assignment, actor=member, version=0, entries={c1.id: (7, "short"), c2.id: (None, "")})
    with pytest.raises(SheetError) as refused:
        submit_sheet(assignment, actor=member)
    assert set(refused.value.problems) == {c1.id, c2.id}
    assert "Justify" in str(refused.value.problems[c1.id]) and "Give a score" in str(refused.value.problems[c2.id])


def test_another_tabs_save_is_never_silently_overwritten(sheet_world):
    panel, member, assignment, c1, c2 = sheet_world
    save_scores(assignment, actor=member, version=0, entries={c1.id: (7, "First tab's view.")})
    db.session.commit()
    with pytest.raises(StaleSheet):
        save_scores(assignment, actor=member, version=0, entries={c1.id: (2, "Second tab, opened earlier.")})
    db.session.rollback()
    assert assignment.sheet.scores[0].value == 7


def test_nobody_else_saves_on_the_sheet(sheet_world):
    panel, member, assignment, c1, c2 = sheet_world
    other = next(m.user for m in panel.members if m.user_id != member.id and m.role.scores)
    with pytest.raises(SheetError):
        save_scores(assignment, actor=other, version=0, entries={c1.id: (7, "Not my sheet at all.")})


def test_plain_form_save_and_submit(sheet_world, login):
    panel, member, assignment, c1, c2 = sheet_world
    client = login(member)
    url = f"/scoring/assignments/{assignment.id}"
    assert client.post(url, data=_form(c1, c2, s1="7", j1="Strong approach.", action="save")).status_code == 302
    response = client.post(url, data=_form(c1, c2, s1="8", j1="Strong approach.", s2="4", j2="Good risk plan.",
                                           version=1, action="submit"))
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Submitted" in page and "The other members" in page


def test_refused_submit_keeps_everything_typed_and_says_why_at_the_field(sheet_world, login):
    panel, member, assignment, c1, c2 = sheet_world
    client = login(member)
    response = client.post(f"/scoring/assignments/{assignment.id}",
                           data=_form(c1, c2, s1="7", j1="Typed-Justification-Kept", s2="", action="submit"))
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Typed-Justification-Kept" in text and 'value="7"' in text
    assert f'id="s{c2.id}-error"' in text and "Give a score from 0 to 5" in text
    assert assignment.sheet is None or assignment.sheet.state != ScoreSheetState.submitted


def test_out_of_scale_in_chinese_at_the_field(sheet_world, login):
    panel, member, assignment, c1, c2 = sheet_world
    client = login(member)
    client.get("/language/zh_Hant")
    response = client.post(f"/scoring/assignments/{assignment.id}",
                           data=_form(c1, c2, s1="11", j1="超出尺度的評分", action="save"))
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "請輸入 0 至 10 的整數" in text and "超出尺度的評分" in text


def test_autosave_answers_json_and_a_stale_tab_gets_409(sheet_world, login):
    panel, member, assignment, c1, c2 = sheet_world
    client = login(member)
    url = f"/scoring/assignments/{assignment.id}"
    headers = {"Accept": "application/json"}
    first = client.post(url, data=_form(c1, c2, s1="6", j1="Autosaved.", autosave="1"), headers=headers)
    assert first.status_code == 200 and first.json["ok"] and first.json["version"] == 1
    assert first.json["total"] == "36.00"
    stale = client.post(url, data=_form(c1, c2, s1="1", j1="From an old tab.", autosave="1"), headers=headers)
    assert stale.status_code == 409 and "another tab" in stale.json["error"]
    db.session.expire_all()
    assert assignment.sheet.scores[0].value == 6


def test_sheet_page_shows_the_proposal_beside_the_form(sheet_world, login):
    panel, member, assignment, c1, c2 = sheet_world
    text = login(member).get(f"/scoring/assignments/{assignment.id}").get_data(as_text=True)
    assert "Our approach." in text and 'id="score-sheet"' in text and "js/scoresheet.js" in text


def test_each_criterion_states_its_weight_scale_and_pass_mark_as_one_phrase_in_chinese(app, login):
    exercise, submissions, officer = create_opened_exercise(vendors=1, criteria=((60, 10, 6), (40, 5)))
    panel, chair, members, _ = create_panel(exercise, officer)
    declare_all(panel, members[0])
    assignment = assignment_for(seat_of(members[0], panel), submissions[0])
    client = login(members[0])
    english = client.get(f"/scoring/assignments/{assignment.id}").get_data(as_text=True)
    assert "weight 60%, scale 0 to 10, pass mark 6" in english and "weight 40%, scale 0 to 5<" in english
    client.get("/language/zh_Hant")
    chinese = client.get(f"/scoring/assignments/{assignment.id}").get_data(as_text=True)
    assert "比重 60%，評分尺度 0 至 10，及格分數 6" in chinese and "比重 40%，評分尺度 0 至 5<" in chinese
